//! Kernels in the Winograd domain, and the flipped kernel and padding of the input gradient.

// Index loops mirror the matrix formulas of the transforms.
#![allow(clippy::needless_range_loop)]

use rayon::prelude::*;

use super::{F22, F43, Scheme, tile_sizes};

/// An `r x r` kernel `[c_out, c_in, r, r]` in the Winograd domain, stored `[c_out][points][c_in]`:
/// the matrix of point `p` is `c_out x c_in` with row stride `points * c_in`.
#[derive(Clone, Debug)]
pub struct TransformedKernel {
    pub(super) data: Vec<f32>,
    pub(super) c_out: usize,
    pub(super) c_in: usize,
    pub(super) r: usize,
}

impl TransformedKernel {
    /// Transforms a row-major `[c_out, c_in, r, r]` kernel (`U = G g G^T` per channel pair),
    /// output channels in parallel.
    ///
    /// # Panics
    /// If `kernel.len() != c_out * c_in * r * r` or there is no scheme for `r` ([`has_scheme`]).
    pub fn new(kernel: &[f32], c_out: usize, c_in: usize, r: usize) -> Self {
        assert_eq!(
            kernel.len(),
            c_out * c_in * r * r,
            "kernel is not [c_out, c_in, {r}, {r}]"
        );
        let (_, a) =
            tile_sizes(r).unwrap_or_else(|| panic!("no Winograd scheme for {r}x{r} kernels"));
        let mut data = vec![0.0f32; c_out * a * a * c_in];
        if !data.is_empty() {
            match r {
                2 => transform_kernel::<F22, 2, 2, 3>(kernel, c_in, &mut data),
                _ => transform_kernel::<F43, 4, 3, 6>(kernel, c_in, &mut data),
            }
        }
        Self {
            data,
            c_out,
            c_in,
            r,
        }
    }

    /// Output channels.
    pub fn c_out(&self) -> usize {
        self.c_out
    }

    /// Input channels.
    pub fn c_in(&self) -> usize {
        self.c_in
    }

    /// Kernel edge.
    pub fn r(&self) -> usize {
        self.r
    }
}

fn transform_kernel<S: Scheme<M, R, A>, const M: usize, const R: usize, const A: usize>(
    kernel: &[f32],
    c_in: usize,
    data: &mut [f32],
) {
    data.par_chunks_mut(A * A * c_in)
        .zip(kernel.par_chunks(c_in * R * R))
        .for_each(|(dst, src)| {
            for (ci, g) in src.chunks_exact(R * R).enumerate() {
                // tmp = G g (A x R), u = tmp G^T (A x A).
                let mut tmp = [[0.0f32; R]; A];
                for i in 0..A {
                    for k in 0..R {
                        for j in 0..R {
                            tmp[i][j] += S::G[i][k] * g[k * R + j];
                        }
                    }
                }
                for i in 0..A {
                    for j in 0..A {
                        let mut u = 0.0f32;
                        for k in 0..R {
                            u += tmp[i][k] * S::G[j][k];
                        }
                        dst[(i * A + j) * c_in + ci] = u;
                    }
                }
            }
        });
}

/// The kernel of the input-gradient correlation: `w'[i][o][y][x] = w[o][i][r-1-y][r-1-x]`.
pub fn flip_kernel(kernel: &[f32], c_out: usize, c_in: usize, r: usize) -> Vec<f32> {
    let rr = r * r;
    assert_eq!(
        kernel.len(),
        c_out * c_in * rr,
        "kernel is not [c_out, c_in, {r}, {r}]"
    );
    let mut out = vec![0.0f32; kernel.len()];
    for o in 0..c_out {
        for i in 0..c_in {
            let src = &kernel[(o * c_in + i) * rr..][..rr];
            let dst = &mut out[(i * c_out + o) * rr..][..rr];
            for (k, v) in dst.iter_mut().enumerate() {
                *v = src[rr - 1 - k];
            }
        }
    }
    out
}

/// Padding of the input-gradient correlation of a correlation with `r x r` kernels and `pad`:
/// run over the forward input's grid, it is the adjoint of the forward pass.
pub fn adjoint_padding(r: usize, pad: usize) -> usize {
    assert!(pad < r, "padding {pad} is not below the kernel edge {r}");
    r - 1 - pad
}
