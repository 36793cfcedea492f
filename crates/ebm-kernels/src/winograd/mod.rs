//! Winograd convolution on host `f32` buffers: F(4x4, 3x3) for 3x3 kernels and F(2x2, 2x2)
//! for 2x2 kernels.
//!
//! Computes the stride-1 cross-correlation `out[y][x] = sum k[ky][kx] in[y + ky - pad][x + kx - pad]`
//! (zero outside the input) of an NCHW batch over an output grid of any size, with `A x A`
//! small matrix products per tile of `M x M` outputs instead of a direct (im2col) product:
//! F(4x4, 3x3) does 36 multiplications where the direct form does 144 (4x fewer), F(2x2, 2x2)
//! 9 where it does 16 (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks",
//! 2016; interpolation points 0, +-1, +-2, infinity and 0, 1, infinity). With `pad = 1` and the
//! output the size of the input, a 3x3 kernel gives the SAME convolution of `conv2d`
//! ([`conv3x3`]); 2x2 kernels serve strided convolutions rewritten by [`crate::space_to_depth`].
//!
//! Work is split into chunks of tiles. Each chunk is handled start to finish by one thread: the
//! input transform into a thread-local buffer, `A x A` single-threaded GEMMs against the
//! transformed weights, and the output transform into the tiles' own, disjoint, output pixels.
//! The transforms run on [`LANES`] tiles at once so that they compile to vector instructions.
//!
//! The backward pass with respect to the input of such a correlation is the correlation of the
//! output gradient with the kernel rotated by 180 degrees and its channel axes swapped
//! ([`flip_kernel`]), with padding `r - 1 - pad` over the input's grid ([`adjoint_padding`]), so
//! one kernel serves both directions.

// Index loops mirror the matrix formulas of the transforms.
#![allow(clippy::needless_range_loop)]

mod chunk;
mod kernel;
mod scheme;
pub mod simd;
#[cfg(test)]
mod tests;

use rayon::prelude::*;

use chunk::Scratch;
pub use kernel::{TransformedKernel, adjoint_padding, flip_kernel};
pub use scheme::{F22, F43, Scheme};
use simd::LANES;

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

/// Output and input tile edges `(M, A)` of the scheme for `r x r` kernels, `None` where there
/// is none.
pub fn tile_sizes(r: usize) -> Option<(usize, usize)> {
    match r {
        2 => Some((2, 3)),
        3 => Some((4, 6)),
        _ => None,
    }
}

/// Kernel edges with a Winograd scheme here.
pub fn has_scheme(r: usize) -> bool {
    tile_sizes(r).is_some()
}

/// Where one tile sits: image, top row and left column of its outputs.
#[derive(Clone, Copy)]
struct Tile {
    pub(super) image: usize,
    pub(super) y: usize,
    pub(super) x: usize,
}

/// Tiles per chunk, a multiple of [`LANES`]: about 2 MiB of transformed input and output per
/// chunk, so that a chunk stays in the core's caches between the three phases.
fn chunk_tiles(points: usize, c_in: usize, c_out: usize, tiles: usize) -> usize {
    let bytes_per_tile = points * (c_in + c_out) * 4;
    let target = (2 << 20) / bytes_per_tile.max(1);
    let tc = target.clamp(16, 256) / LANES * LANES;
    tc.min(tiles.div_ceil(LANES) * LANES).max(LANES)
}

/// Raw output pointer shared by the chunk workers; each writes only its own tiles' pixels.
#[derive(Clone, Copy)]
struct OutPtr(pub(super) *mut f32);
// SAFETY: workers write disjoint elements (distinct tiles own distinct output pixels).
unsafe impl Send for OutPtr {}
unsafe impl Sync for OutPtr {}

/// 3x3 SAME convolution of `input` (`shape`) with a transformed 3x3 kernel; returns the NCHW
/// output `[batch, c_out, height, width]`.
pub fn conv3x3(input: &[f32], shape: Nchw, kernel: &TransformedKernel) -> Vec<f32> {
    assert_eq!(kernel.r, 3, "conv3x3 needs a 3x3 kernel");
    correlate(input, shape, kernel, (shape.height, shape.width), 1)
}

/// Stride-1 correlation of `input` (`shape`) with a transformed kernel, `pad` zero rows and
/// columns before the input (and as many after as the output grid needs); returns the NCHW
/// output `[batch, c_out, out_h, out_w]`.
///
/// # Panics
/// If `input.len() != shape.len()` or the kernel's `c_in` differs from `shape.channels`.
pub fn correlate(
    input: &[f32],
    shape: Nchw,
    kernel: &TransformedKernel,
    (out_h, out_w): (usize, usize),
    pad: usize,
) -> Vec<f32> {
    assert_eq!(
        input.len(),
        shape.len(),
        "input length does not match its shape"
    );
    assert_eq!(
        kernel.c_in, shape.channels,
        "kernel input channels do not match the input"
    );
    let out = OutShape {
        c: kernel.c_out,
        h: out_h,
        w: out_w,
    };
    match kernel.r {
        2 => run::<F22, 2, 2, 3>(input, shape, kernel, out, pad),
        _ => run::<F43, 4, 3, 6>(input, shape, kernel, out, pad),
    }
}

/// Channels and grid of an output.
#[derive(Clone, Copy)]
struct OutShape {
    pub(super) c: usize,
    pub(super) h: usize,
    pub(super) w: usize,
}

fn run<S: Scheme<M, R, A>, const M: usize, const R: usize, const A: usize>(
    input: &[f32],
    shape: Nchw,
    kernel: &TransformedKernel,
    out: OutShape,
    pad: usize,
) -> Vec<f32> {
    let mut output = vec![0.0f32; shape.batch * out.c * out.h * out.w];
    if output.is_empty() {
        return output;
    }
    let (tiles_y, tiles_x) = (out.h.div_ceil(M), out.w.div_ceil(M));
    let tiles: Vec<Tile> = (0..shape.batch)
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
    let tc = chunk_tiles(A * A, shape.channels, out.c, tiles.len());
    let ptr = OutPtr(output.as_mut_ptr());
    tiles.par_chunks(tc).for_each(|chunk| {
        SCRATCH.with_borrow_mut(|scratch| {
            scratch.reserve(A * A, shape.channels, out.c, tc);
            scratch.transform_input::<S, M, R, A>(input, shape, pad, chunk, tc);
            scratch.multiply(A * A, shape.channels, kernel, tc);
            // SAFETY: `ptr` points to `output`, alive until `for_each` returns; this chunk
            // writes only the pixels of its own tiles.
            unsafe { scratch.write_output::<S, M, R, A>(ptr, out, chunk, tc) };
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
