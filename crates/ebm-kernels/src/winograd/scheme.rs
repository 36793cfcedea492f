//! The Winograd schemes as constant transform matrices.

/// A Winograd algorithm F(M x M, R x R), input tiles `A = M + R - 1` wide: its three
/// transforms as constants, so that the transform loops unroll with the zeros skipped.
pub trait Scheme<const M: usize, const R: usize, const A: usize>: Send + Sync + 'static {
    /// Input transform `B^T` (A x A).
    const BT: [[f32; A]; A];
    /// Kernel transform `G` (A x R).
    const G: [[f32; R]; A];
    /// Output transform `A^T` (M x A).
    const AT: [[f32; A]; M];
}

/// F(4x4, 3x3), points 0, +-1, +-2, infinity.
pub struct F43;

impl Scheme<4, 3, 6> for F43 {
    const BT: [[f32; 6]; 6] = [
        [4.0, 0.0, -5.0, 0.0, 1.0, 0.0],
        [0.0, -4.0, -4.0, 1.0, 1.0, 0.0],
        [0.0, 4.0, -4.0, -1.0, 1.0, 0.0],
        [0.0, -2.0, -1.0, 2.0, 1.0, 0.0],
        [0.0, 2.0, -1.0, -2.0, 1.0, 0.0],
        [0.0, 4.0, 0.0, -5.0, 0.0, 1.0],
    ];
    const G: [[f32; 3]; 6] = [
        [1.0 / 4.0, 0.0, 0.0],
        [-1.0 / 6.0, -1.0 / 6.0, -1.0 / 6.0],
        [-1.0 / 6.0, 1.0 / 6.0, -1.0 / 6.0],
        [1.0 / 24.0, 1.0 / 12.0, 1.0 / 6.0],
        [1.0 / 24.0, -1.0 / 12.0, 1.0 / 6.0],
        [0.0, 0.0, 1.0],
    ];
    const AT: [[f32; 6]; 4] = [
        [1.0, 1.0, 1.0, 1.0, 1.0, 0.0],
        [0.0, 1.0, -1.0, 2.0, -2.0, 0.0],
        [0.0, 1.0, 1.0, 4.0, 4.0, 0.0],
        [0.0, 1.0, -1.0, 8.0, -8.0, 1.0],
    ];
}

/// F(2x2, 2x2), points 0, 1, infinity: `y0 = (d0 - d1) g0 + d1 (g0 + g1)`,
/// `y1 = d1 (g0 + g1) + (d2 - d1) g1`.
pub struct F22;

impl Scheme<2, 2, 3> for F22 {
    const BT: [[f32; 3]; 3] = [[1.0, -1.0, 0.0], [0.0, 1.0, 0.0], [0.0, -1.0, 1.0]];
    const G: [[f32; 2]; 3] = [[1.0, 0.0], [1.0, 1.0], [0.0, 1.0]];
    const AT: [[f32; 3]; 2] = [[1.0, 1.0, 0.0], [0.0, 1.0, 1.0]];
}
