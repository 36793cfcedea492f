//! Winograd F(4x4, 3x3) convolution on host `f32` buffers.
//!
//! Computes the 3x3, stride-1, padding-1 ("SAME") cross-correlation of an NCHW batch, as
//! `conv2d` does, with 36 small matrix products per tile of 4x4 outputs instead of a direct
//! (im2col) product: 4x fewer multiplications in the part that dominates the cost (Lavin &
//! Gray, "Fast Algorithms for Convolutional Neural Networks", 2016; interpolation points
//! 0, +-1, +-2, infinity).
//!
//! Work is split into chunks of tiles. Each chunk is handled start to finish by one thread: the
//! input transform into a thread-local buffer, 36 single-threaded GEMMs against the transformed
//! weights, and the output transform into the tiles' own, disjoint, output pixels. The
//! transforms run on [`LANES`] tiles at once so that they compile to vector instructions.
//!
//! The backward pass with respect to the input of such a convolution is the same convolution
//! of the output gradient with the kernel rotated by 180 degrees and its channel axes swapped
//! ([`flip_kernel`]), so one kernel serves both directions.

// Index loops mirror the matrix formulas of the transforms.
#![allow(clippy::needless_range_loop)]

use rayon::prelude::*;

use crate::cpu_features::with_avx2;
use crate::matmul::matmul;

/// Output tile edge.
const M: usize = 4;
/// Kernel edge.
const R: usize = 3;
/// Input tile edge (`M + R - 1`).
const A: usize = M + R - 1;
/// Points of the Winograd domain per tile.
const POINTS: usize = A * A;
/// Tiles transformed together (one vector register of `f32` on AVX2).
const LANES: usize = 8;

/// Input transform `B^T` (6x6).
const BT: [[f32; A]; A] = [
    [4.0, 0.0, -5.0, 0.0, 1.0, 0.0],
    [0.0, -4.0, -4.0, 1.0, 1.0, 0.0],
    [0.0, 4.0, -4.0, -1.0, 1.0, 0.0],
    [0.0, -2.0, -1.0, 2.0, 1.0, 0.0],
    [0.0, 2.0, -1.0, -2.0, 1.0, 0.0],
    [0.0, 4.0, 0.0, -5.0, 0.0, 1.0],
];

/// Kernel transform `G` (6x3).
const G: [[f32; R]; A] = [
    [1.0 / 4.0, 0.0, 0.0],
    [-1.0 / 6.0, -1.0 / 6.0, -1.0 / 6.0],
    [-1.0 / 6.0, 1.0 / 6.0, -1.0 / 6.0],
    [1.0 / 24.0, 1.0 / 12.0, 1.0 / 6.0],
    [1.0 / 24.0, -1.0 / 12.0, 1.0 / 6.0],
    [0.0, 0.0, 1.0],
];

/// Output transform `A^T` (4x6).
const AT: [[f32; A]; M] = [
    [1.0, 1.0, 1.0, 1.0, 1.0, 0.0],
    [0.0, 1.0, -1.0, 2.0, -2.0, 0.0],
    [0.0, 1.0, 1.0, 4.0, 4.0, 0.0],
    [0.0, 1.0, -1.0, 8.0, -8.0, 1.0],
];

type Lane = [f32; LANES];

/// Shape of an NCHW batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Nchw {
    /// Batch size.
    pub batch: usize,
    /// Channels.
    pub channels: usize,
    /// Height.
    pub height: usize,
    /// Width.
    pub width: usize,
}

impl Nchw {
    /// Number of elements.
    pub fn len(&self) -> usize {
        self.batch * self.channels * self.height * self.width
    }

    /// True for a batch with no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A 3x3 kernel `[c_out, c_in, 3, 3]` in the Winograd domain, stored `[c_out][36][c_in]`: the
/// matrix of point `p` is `c_out x c_in` with row stride `36 * c_in`.
#[derive(Clone, Debug)]
pub struct TransformedKernel {
    data: Vec<f32>,
    c_out: usize,
    c_in: usize,
}

impl TransformedKernel {
    /// Transforms a row-major `[c_out, c_in, 3, 3]` kernel (`U = G g G^T` per channel pair),
    /// output channels in parallel.
    ///
    /// # Panics
    /// If `kernel.len() != c_out * c_in * 9`.
    pub fn new(kernel: &[f32], c_out: usize, c_in: usize) -> Self {
        assert_eq!(
            kernel.len(),
            c_out * c_in * R * R,
            "kernel is not [c_out, c_in, 3, 3]"
        );
        let mut data = vec![0.0f32; c_out * POINTS * c_in];
        if data.is_empty() {
            return Self { data, c_out, c_in };
        }
        data.par_chunks_mut(POINTS * c_in)
            .zip(kernel.par_chunks(c_in * R * R))
            .for_each(|(dst, src)| {
                for (ci, g) in src.chunks_exact(R * R).enumerate() {
                    // tmp = G g (6x3), u = tmp G^T (6x6).
                    let mut tmp = [[0.0f32; R]; A];
                    for i in 0..A {
                        for k in 0..R {
                            for j in 0..R {
                                tmp[i][j] += G[i][k] * g[k * R + j];
                            }
                        }
                    }
                    for i in 0..A {
                        for j in 0..A {
                            let mut u = 0.0f32;
                            for k in 0..R {
                                u += tmp[i][k] * G[j][k];
                            }
                            dst[(i * A + j) * c_in + ci] = u;
                        }
                    }
                }
            });
        Self { data, c_out, c_in }
    }

    /// Output channels.
    pub fn c_out(&self) -> usize {
        self.c_out
    }

    /// Input channels.
    pub fn c_in(&self) -> usize {
        self.c_in
    }
}

/// The kernel of the input-gradient convolution: `w'[i][o][y][x] = w[o][i][2-y][2-x]`.
pub fn flip_kernel(kernel: &[f32], c_out: usize, c_in: usize) -> Vec<f32> {
    assert_eq!(
        kernel.len(),
        c_out * c_in * R * R,
        "kernel is not [c_out, c_in, 3, 3]"
    );
    let mut out = vec![0.0f32; kernel.len()];
    for o in 0..c_out {
        for i in 0..c_in {
            let src = &kernel[(o * c_in + i) * R * R..][..R * R];
            let dst = &mut out[(i * c_out + o) * R * R..][..R * R];
            for (k, v) in dst.iter_mut().enumerate() {
                *v = src[R * R - 1 - k];
            }
        }
    }
    out
}

/// Where one tile sits: image, top row and left column of its 4x4 outputs.
#[derive(Clone, Copy)]
struct Tile {
    image: usize,
    y: usize,
    x: usize,
}

/// Tiles per chunk, a multiple of [`LANES`]: about 2 MiB of transformed input and output per
/// chunk, so that a chunk stays in the core's caches between the three phases.
fn chunk_tiles(c_in: usize, c_out: usize, tiles: usize) -> usize {
    let bytes_per_tile = POINTS * (c_in + c_out) * 4;
    let target = (2 << 20) / bytes_per_tile.max(1);
    let tc = target.clamp(16, 256) / LANES * LANES;
    tc.min(tiles.div_ceil(LANES) * LANES).max(LANES)
}

/// Raw output pointer shared by the chunk workers; each writes only its own tiles' pixels.
#[derive(Clone, Copy)]
struct OutPtr(*mut f32);
// SAFETY: workers write disjoint elements (distinct tiles own distinct output pixels).
unsafe impl Send for OutPtr {}
unsafe impl Sync for OutPtr {}

/// 3x3 SAME convolution of `input` (`shape`) with a transformed kernel; returns the NCHW output
/// `[batch, c_out, height, width]`.
///
/// # Panics
/// If `input.len() != shape.len()` or the kernel's `c_in` differs from `shape.channels`.
pub fn conv3x3(input: &[f32], shape: Nchw, kernel: &TransformedKernel) -> Vec<f32> {
    assert_eq!(
        input.len(),
        shape.len(),
        "input length does not match its shape"
    );
    assert_eq!(
        kernel.c_in, shape.channels,
        "kernel input channels do not match the input"
    );
    let Nchw {
        batch,
        height,
        width,
        ..
    } = shape;
    let c_out = kernel.c_out;
    let mut output = vec![0.0f32; batch * c_out * height * width];
    if output.is_empty() {
        return output;
    }
    let (tiles_y, tiles_x) = (height.div_ceil(M), width.div_ceil(M));
    let tiles: Vec<Tile> = (0..batch)
        .flat_map(|image| {
            (0..tiles_y).flat_map(move |ty| {
                (0..tiles_x).map(move |tx| Tile {
                    image,
                    y: ty * M,
                    x: tx * M,
                })
            })
        })
        .collect();
    let tc = chunk_tiles(shape.channels, c_out, tiles.len());
    let out = OutPtr(output.as_mut_ptr());
    tiles.par_chunks(tc).for_each(|chunk| {
        SCRATCH.with_borrow_mut(|scratch| {
            scratch.reserve(shape.channels, c_out, tc);
            with_avx2(|| scratch.transform_input(input, shape, chunk, tc));
            scratch.multiply(shape.channels, kernel, tc);
            // SAFETY: `out` points to `output`, alive until `for_each` returns; this chunk
            // writes only the pixels of its own tiles.
            with_avx2(|| unsafe { scratch.write_output(out, shape, c_out, chunk, tc) });
        })
    });
    output
}

thread_local! {
    /// Each worker's buffers, kept between calls (they only grow).
    static SCRATCH: std::cell::RefCell<Scratch> = const {
        std::cell::RefCell::new(Scratch { v: Vec::new(), m: Vec::new() })
    };
}

/// Per-thread buffers: transformed input `[36][c_in][tc]` and products `[36][c_out][tc]`.
struct Scratch {
    v: Vec<f32>,
    m: Vec<f32>,
}

impl Scratch {
    /// Grows the buffers to hold a chunk of `tc` tiles.
    fn reserve(&mut self, c_in: usize, c_out: usize, tc: usize) {
        let (nv, nm) = (POINTS * c_in * tc, POINTS * c_out * tc);
        if self.v.len() < nv {
            self.v.resize(nv, 0.0);
        }
        if self.m.len() < nm {
            self.m.resize(nm, 0.0);
        }
    }

    /// Input transform of one chunk.
    #[inline(always)]
    fn transform_input(&mut self, input: &[f32], shape: Nchw, chunk: &[Tile], tc: usize) {
        let c_in = shape.channels;
        let plane = shape.height * shape.width;
        for c in 0..c_in {
            for (group, tiles) in chunk.chunks(LANES).enumerate() {
                let mut d = [[[0.0f32; LANES]; A]; A];
                for (lane, tile) in tiles.iter().enumerate() {
                    let base = &input[(tile.image * c_in + c) * plane..][..plane];
                    gather(base, shape.height, shape.width, tile, lane, &mut d);
                }
                let v = input_transform(&d);
                let t0 = group * LANES;
                for (p, lanes) in v.iter().enumerate() {
                    let dst = &mut self.v[(p * c_in + c) * tc + t0..][..LANES];
                    dst.copy_from_slice(lanes);
                }
            }
        }
    }

    /// The 36 products of one chunk.
    fn multiply(&mut self, c_in: usize, kernel: &TransformedKernel, tc: usize) {
        let c_out = kernel.c_out;
        // u's rows are 36 * c_in apart in the kernel's [c_out][36][c_in] layout.
        let u_rows = (1, (POINTS * c_in) as isize);
        let tc_rows = (1, tc as isize);
        for p in 0..POINTS {
            let u = &kernel.data[p * c_in..];
            let v = &self.v[p * c_in * tc..][..c_in * tc];
            let m = &mut self.m[p * c_out * tc..][..c_out * tc];
            if c_out >= 16 {
                // m (c_out x tc) = u (c_out x c_in) . v (c_in x tc).
                matmul((c_out, tc, c_in), m, tc_rows, false, u, u_rows, v, tc_rows);
            } else {
                // With few output channels the transposed product m^T = v^T u^T keeps the
                // GEMM's wide register tile busy.
                let t = |(cs, rs): (isize, isize)| (rs, cs);
                matmul(
                    (tc, c_out, c_in),
                    m,
                    t(tc_rows),
                    false,
                    v,
                    t(tc_rows),
                    u,
                    t(u_rows),
                );
            }
        }
    }

    /// Output transform of one chunk into its tiles' pixels.
    ///
    /// # Safety
    /// `out` must point to a live `[batch, c_out, height, width]` buffer of which no other
    /// thread writes these tiles' pixels.
    #[inline(always)]
    unsafe fn write_output(
        &self,
        out: OutPtr,
        shape: Nchw,
        c_out: usize,
        chunk: &[Tile],
        tc: usize,
    ) {
        let (h, w) = (shape.height, shape.width);
        for co in 0..c_out {
            for (group, tiles) in chunk.chunks(LANES).enumerate() {
                let t0 = group * LANES;
                let mut m = [[0.0f32; LANES]; POINTS];
                for (p, lanes) in m.iter_mut().enumerate() {
                    lanes.copy_from_slice(&self.m[(p * c_out + co) * tc + t0..][..LANES]);
                }
                let y = output_transform(&m);
                for (lane, tile) in tiles.iter().enumerate() {
                    let base = (tile.image * c_out + co) * h * w;
                    for i in 0..M.min(h - tile.y) {
                        let row = base + (tile.y + i) * w + tile.x;
                        for j in 0..M.min(w - tile.x) {
                            // SAFETY: in bounds (clipped to h, w) and owned by this tile.
                            unsafe { *out.0.add(row + j) = y[i][j][lane] };
                        }
                    }
                }
            }
        }
    }
}

/// Copies the 6x6 input patch of `tile` (rows `y-1..y+5`, columns `x-1..x+5`, zero outside the
/// image) into lane `lane` of `d`.
#[inline(always)]
fn gather(plane: &[f32], h: usize, w: usize, tile: &Tile, lane: usize, d: &mut [[Lane; A]; A]) {
    let interior = tile.y >= 1 && tile.x >= 1 && tile.y + A - 1 <= h && tile.x + A - 1 <= w;
    if interior {
        for (i, row) in d.iter_mut().enumerate() {
            let src = &plane[(tile.y + i - 1) * w + tile.x - 1..][..A];
            for (j, v) in row.iter_mut().enumerate() {
                v[lane] = src[j];
            }
        }
        return;
    }
    for (i, row) in d.iter_mut().enumerate() {
        let yy = (tile.y + i).wrapping_sub(1);
        for (j, v) in row.iter_mut().enumerate() {
            let xx = (tile.x + j).wrapping_sub(1);
            v[lane] = if yy < h && xx < w {
                plane[yy * w + xx]
            } else {
                0.0
            };
        }
    }
}

/// `V = B^T d B` on every lane; returns the 36 points row-major.
#[inline(always)]
fn input_transform(d: &[[Lane; A]; A]) -> [Lane; POINTS] {
    let mut t = [[[0.0f32; LANES]; A]; A];
    for i in 0..A {
        for k in 0..A {
            let c = BT[i][k];
            if c != 0.0 {
                for j in 0..A {
                    axpy(&mut t[i][j], c, &d[k][j]);
                }
            }
        }
    }
    let mut v = [[0.0f32; LANES]; POINTS];
    for i in 0..A {
        for j in 0..A {
            for k in 0..A {
                let c = BT[j][k];
                if c != 0.0 {
                    axpy(&mut v[i * A + j], c, &t[i][k]);
                }
            }
        }
    }
    v
}

/// `Y = A^T m A` on every lane.
#[inline(always)]
fn output_transform(m: &[Lane; POINTS]) -> [[Lane; M]; M] {
    let mut t = [[[0.0f32; LANES]; A]; M];
    for i in 0..M {
        for k in 0..A {
            let c = AT[i][k];
            if c != 0.0 {
                for j in 0..A {
                    axpy(&mut t[i][j], c, &m[k * A + j]);
                }
            }
        }
    }
    let mut y = [[[0.0f32; LANES]; M]; M];
    for i in 0..M {
        for j in 0..M {
            for k in 0..A {
                let c = AT[j][k];
                if c != 0.0 {
                    axpy(&mut y[i][j], c, &t[i][k]);
                }
            }
        }
    }
    y
}

#[inline(always)]
fn axpy(acc: &mut Lane, c: f32, x: &Lane) {
    for (a, b) in acc.iter_mut().zip(x) {
        *a += c * b;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_data::pseudo_random;

    /// Direct SAME 3x3 cross-correlation, the definition.
    fn direct(input: &[f32], s: Nchw, kernel: &[f32], c_out: usize) -> Vec<f32> {
        let (h, w) = (s.height, s.width);
        let mut out = vec![0.0f32; s.batch * c_out * h * w];
        for b in 0..s.batch {
            for o in 0..c_out {
                for y in 0..h {
                    for x in 0..w {
                        let mut acc = 0.0f64;
                        for i in 0..s.channels {
                            for ky in 0..3 {
                                for kx in 0..3 {
                                    let (yy, xx) =
                                        ((y + ky).wrapping_sub(1), (x + kx).wrapping_sub(1));
                                    if yy < h && xx < w {
                                        acc += (input[((b * s.channels + i) * h + yy) * w + xx]
                                            * kernel[((o * s.channels + i) * 3 + ky) * 3 + kx])
                                            as f64;
                                    }
                                }
                            }
                        }
                        out[((b * c_out + o) * h + y) * w + x] = acc as f32;
                    }
                }
            }
        }
        out
    }

    #[test]
    fn matches_direct_convolution_on_odd_shapes() {
        // Sizes that are not multiples of the tile (7, 5, 1) and tile counts that are not
        // multiples of the lane width.
        for (b, ci, co, h, w) in [
            (2, 3, 5, 7, 5),
            (1, 4, 2, 1, 1),
            (3, 8, 16, 8, 8),
            (2, 17, 9, 14, 13),
        ] {
            let s = Nchw {
                batch: b,
                channels: ci,
                height: h,
                width: w,
            };
            let x = pseudo_random(s.len(), 1);
            let k = pseudo_random(co * ci * 9, 2);
            let got = conv3x3(&x, s, &TransformedKernel::new(&k, co, ci));
            let want = direct(&x, s, &k, co);
            let scale = want.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            for (g, e) in got.iter().zip(&want) {
                assert!(
                    (g - e).abs() <= 1e-5 * scale.max(1.0),
                    "{g} vs {e} in {s:?}"
                );
            }
        }
    }

    #[test]
    fn flipped_kernel_gives_the_input_gradient() {
        // <conv(x, k), y> = <x, conv(y, flip(k))> for every x, y: the adjoint identity.
        let s = Nchw {
            batch: 2,
            channels: 3,
            height: 6,
            width: 9,
        };
        let co = 4;
        let x = pseudo_random(s.len(), 3);
        let k = pseudo_random(co * 3 * 9, 4);
        let ys = Nchw { channels: co, ..s };
        let y = pseudo_random(ys.len(), 5);
        let lhs: f64 = conv3x3(&x, s, &TransformedKernel::new(&k, co, 3))
            .iter()
            .zip(&y)
            .map(|(a, b)| (a * b) as f64)
            .sum();
        let back = conv3x3(
            &y,
            ys,
            &TransformedKernel::new(&flip_kernel(&k, co, 3), 3, co),
        );
        let rhs: f64 = back.iter().zip(&x).map(|(a, b)| (a * b) as f64).sum();
        assert!(
            (lhs - rhs).abs() < 1e-4 * lhs.abs().max(1.0),
            "{lhs} vs {rhs}"
        );
    }
}
