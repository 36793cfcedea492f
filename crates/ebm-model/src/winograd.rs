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

use rayon::prelude::*;

use crate::matmul::matmul;
use crate::winograd_simd::{self, LANES, Lane};

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

/// An `r x r` kernel `[c_out, c_in, r, r]` in the Winograd domain, stored `[c_out][points][c_in]`:
/// the matrix of point `p` is `c_out x c_in` with row stride `points * c_in`.
#[derive(Clone, Debug)]
pub struct TransformedKernel {
    data: Vec<f32>,
    c_out: usize,
    c_in: usize,
    r: usize,
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

/// Where one tile sits: image, top row and left column of its outputs.
#[derive(Clone, Copy)]
struct Tile {
    image: usize,
    y: usize,
    x: usize,
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
struct OutPtr(*mut f32);
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
    c: usize,
    h: usize,
    w: usize,
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

/// Per-thread buffers: transformed input `[points][c_in][tc]` and products `[points][c_out][tc]`.
struct Scratch {
    v: Vec<f32>,
    m: Vec<f32>,
}

impl Scratch {
    /// Grows the buffers to hold a chunk of `tc` tiles.
    fn reserve(&mut self, points: usize, c_in: usize, c_out: usize, tc: usize) {
        let (nv, nm) = (points * c_in * tc, points * c_out * tc);
        if self.v.len() < nv {
            self.v.resize(nv, 0.0);
        }
        if self.m.len() < nm {
            self.m.resize(nm, 0.0);
        }
    }

    /// Input transform of one chunk.
    fn transform_input<S: Scheme<M, R, A>, const M: usize, const R: usize, const A: usize>(
        &mut self,
        input: &[f32],
        shape: Nchw,
        pad: usize,
        chunk: &[Tile],
        tc: usize,
    ) {
        let at = InputAt { input, shape, pad };
        #[cfg(target_arch = "x86_64")]
        if winograd_simd::available() {
            // SAFETY: the CPU has AVX2 and FMA.
            return unsafe { transform_input_avx2::<S, M, R, A>(&mut self.v, &at, chunk, tc) };
        }
        transform_input_portable::<S, M, R, A>(&mut self.v, &at, chunk, tc)
    }

    /// The `points` products of one chunk.
    fn multiply(&mut self, points: usize, c_in: usize, kernel: &TransformedKernel, tc: usize) {
        let c_out = kernel.c_out;
        // u's rows are points * c_in apart in the kernel's [c_out][points][c_in] layout.
        let u_rows = (1, (points * c_in) as isize);
        let tc_rows = (1, tc as isize);
        for p in 0..points {
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
    /// `out` must point to a live `[batch, shape.c, shape.h, shape.w]` buffer of which no other
    /// thread writes these tiles' pixels.
    unsafe fn write_output<S: Scheme<M, R, A>, const M: usize, const R: usize, const A: usize>(
        &self,
        out: OutPtr,
        shape: OutShape,
        chunk: &[Tile],
        tc: usize,
    ) {
        #[cfg(target_arch = "x86_64")]
        if winograd_simd::available() {
            // SAFETY: the CPU has AVX2 and FMA; `out` as the caller promises.
            return unsafe { write_output_avx2::<S, M, R, A>(&self.m, out, shape, chunk, tc) };
        }
        // SAFETY: as the caller promises.
        unsafe { write_output_portable::<S, M, R, A>(&self.m, out, shape, chunk, tc) }
    }
}

/// A correlation's input: the buffer, its shape and the zero rows and columns before it.
struct InputAt<'a> {
    input: &'a [f32],
    shape: Nchw,
    pad: usize,
}

/// Scalar form of [`transform_input_avx2`], lanes filled element by element.
fn transform_input_portable<S: Scheme<M, R, A>, const M: usize, const R: usize, const A: usize>(
    v: &mut [f32],
    at: &InputAt,
    chunk: &[Tile],
    tc: usize,
) {
    let c_in = at.shape.channels;
    for c in 0..c_in {
        for (group, tiles) in chunk.chunks(LANES).enumerate() {
            let x = sandwich(&S::BT, &gather_lanes::<A>(at, c, tiles));
            let t0 = group * LANES;
            for (i, row) in x.iter().enumerate() {
                for (j, lanes) in row.iter().enumerate() {
                    v[((i * A + j) * c_in + c) * tc + t0..][..LANES].copy_from_slice(lanes);
                }
            }
        }
    }
}

/// Input transform of one chunk with whole-vector loads, transforms and stores: a group of
/// [`LANES`] tiles whose patches all lie inside their images is loaded row by row
/// ([`winograd_simd::gather_patches`]), other groups element by element.
///
/// # Safety
/// The CPU must have AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn transform_input_avx2<
    S: Scheme<M, R, A>,
    const M: usize,
    const R: usize,
    const A: usize,
>(
    v: &mut [f32],
    at: &InputAt,
    chunk: &[Tile],
    tc: usize,
) {
    use std::arch::x86_64::_mm256_storeu_ps;
    let (c_in, h, w, pad) = (at.shape.channels, at.shape.height, at.shape.width, at.pad);
    let plane = h * w;
    // Per group: the channel-0 offsets of its patches and the largest, when every patch lies
    // inside its image.
    let groups: Vec<Option<([usize; LANES], usize)>> = chunk
        .chunks(LANES)
        .map(|tiles| {
            let inside =
                tiles.len() == LANES && tiles.iter().all(|t| is_interior::<A>(t, h, w, pad));
            inside.then(|| {
                let o: [usize; LANES] = std::array::from_fn(|l| {
                    let t = &tiles[l];
                    t.image * c_in * plane + (t.y - pad) * w + t.x - pad
                });
                (o, o.iter().copied().max().unwrap_or(0))
            })
        })
        .collect();
    let reach = (A - 1) * w + winograd_simd::row_load(A);
    assert!(v.len() >= A * A * c_in * tc, "transform buffer too short");
    for c in 0..c_in {
        for (group, (tiles, offsets)) in chunk.chunks(LANES).zip(&groups).enumerate() {
            let d = match offsets {
                // The last patches of the buffer may leave no room for the wide row loads.
                Some((o, last)) if last + c * plane + reach <= at.input.len() => {
                    let o = o.map(|o| o + c * plane);
                    // SAFETY: the CPU has AVX2 and FMA (this function's contract).
                    unsafe { winograd_simd::gather_patches::<A>(at.input, &o, w) }
                }
                // SAFETY: as above.
                _ => unsafe { winograd_simd::load(&gather_lanes::<A>(at, c, tiles)) },
            };
            // SAFETY: as above.
            let x = unsafe { winograd_simd::sandwich(&S::BT, &d) };
            let t0 = group * LANES;
            for (i, row) in x.iter().enumerate() {
                for (j, lanes) in row.iter().enumerate() {
                    let dst = &mut v[((i * A + j) * c_in + c) * tc + t0..][..LANES];
                    // SAFETY: `dst` holds 8 floats.
                    unsafe { _mm256_storeu_ps(dst.as_mut_ptr(), *lanes) };
                }
            }
        }
    }
}

/// Scalar form of [`write_output_avx2`].
///
/// # Safety
/// As [`Scratch::write_output`].
unsafe fn write_output_portable<
    S: Scheme<M, R, A>,
    const M: usize,
    const R: usize,
    const A: usize,
>(
    m_buf: &[f32],
    out: OutPtr,
    shape: OutShape,
    chunk: &[Tile],
    tc: usize,
) {
    let c_out = shape.c;
    for co in 0..c_out {
        for (group, tiles) in chunk.chunks(LANES).enumerate() {
            let t0 = group * LANES;
            let mut m = [[[0.0f32; LANES]; A]; A];
            for (i, row) in m.iter_mut().enumerate() {
                for (j, lanes) in row.iter_mut().enumerate() {
                    let p = i * A + j;
                    lanes.copy_from_slice(&m_buf[(p * c_out + co) * tc + t0..][..LANES]);
                }
            }
            let y: [[Lane; M]; M] = sandwich(&S::AT, &m);
            let by_tile = std::array::from_fn(|l| y.map(|row| row.map(|lanes| lanes[l])));
            // SAFETY: as the caller promises.
            unsafe { write_tiles(&by_tile, out, shape, co, tiles) };
        }
    }
}

/// Output transform of one chunk with whole-vector loads and transforms.
///
/// # Safety
/// The CPU must have AVX2 and FMA; `out` as [`Scratch::write_output`].
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn write_output_avx2<S: Scheme<M, R, A>, const M: usize, const R: usize, const A: usize>(
    m_buf: &[f32],
    out: OutPtr,
    shape: OutShape,
    chunk: &[Tile],
    tc: usize,
) {
    use std::arch::x86_64::{_mm256_loadu_ps, _mm256_setzero_ps};
    let c_out = shape.c;
    for co in 0..c_out {
        for (group, tiles) in chunk.chunks(LANES).enumerate() {
            let t0 = group * LANES;
            let mut m = [[_mm256_setzero_ps(); A]; A];
            for (i, row) in m.iter_mut().enumerate() {
                for (j, lanes) in row.iter_mut().enumerate() {
                    let src = &m_buf[((i * A + j) * c_out + co) * tc + t0..][..LANES];
                    // SAFETY: `src` holds 8 floats.
                    *lanes = unsafe { _mm256_loadu_ps(src.as_ptr()) };
                }
            }
            // SAFETY: the CPU has AVX2 and FMA (this function's contract).
            let y = unsafe { winograd_simd::tile_major::<M>(&winograd_simd::sandwich(&S::AT, &m)) };
            // SAFETY: as the caller promises.
            unsafe { write_tiles(&y, out, shape, co, tiles) };
        }
    }
}

/// Writes `y[l]`, the `M x M` outputs of tile `l`, to its pixels in channel `co`, clipped to
/// the grid, a row at a time.
///
/// # Safety
/// `out` as [`Scratch::write_output`].
#[inline(always)]
unsafe fn write_tiles<const M: usize>(
    y: &[[[f32; M]; M]; LANES],
    out: OutPtr,
    shape: OutShape,
    co: usize,
    tiles: &[Tile],
) {
    let (h, w) = (shape.h, shape.w);
    for (tile, y) in tiles.iter().zip(y) {
        let base = (tile.image * shape.c + co) * h * w;
        let cols = M.min(w - tile.x);
        for (i, row) in y.iter().enumerate().take(M.min(h - tile.y)) {
            let at = base + (tile.y + i) * w + tile.x;
            // SAFETY: in bounds (clipped to h, w) and owned by this tile, as the caller
            // promises; `[f32; M]` has the alignment of `f32`.
            unsafe {
                if cols == M {
                    out.0.add(at).cast::<[f32; M]>().write(*row);
                } else {
                    for (j, v) in row.iter().enumerate().take(cols) {
                        *out.0.add(at + j) = *v;
                    }
                }
            }
        }
    }
}

/// The patches of channel `c` of `tiles` (one lane each), loaded element by element.
#[inline(always)]
fn gather_lanes<const A: usize>(at: &InputAt, c: usize, tiles: &[Tile]) -> [[Lane; A]; A] {
    let (c_in, h, w) = (at.shape.channels, at.shape.height, at.shape.width);
    let plane = h * w;
    let mut d = [[[0.0f32; LANES]; A]; A];
    for (lane, tile) in tiles.iter().enumerate() {
        let base = &at.input[(tile.image * c_in + c) * plane..][..plane];
        gather(base, h, w, at.pad, tile, lane, &mut d);
    }
    d
}

/// True when the `A x A` patch of `tile` lies inside the `h x w` image.
#[inline(always)]
fn is_interior<const A: usize>(tile: &Tile, h: usize, w: usize, pad: usize) -> bool {
    tile.y >= pad && tile.x >= pad && tile.y + A <= h + pad && tile.x + A <= w + pad
}

/// Copies the `A x A` input patch of `tile` (rows `y-pad..y-pad+A`, columns `x-pad..x-pad+A`,
/// zero outside the image) into lane `lane` of `d`.
#[inline(always)]
fn gather<const A: usize>(
    plane: &[f32],
    h: usize,
    w: usize,
    pad: usize,
    tile: &Tile,
    lane: usize,
    d: &mut [[Lane; A]; A],
) {
    if is_interior::<A>(tile, h, w, pad) {
        for (i, row) in d.iter_mut().enumerate() {
            let src = &plane[(tile.y + i - pad) * w + tile.x - pad..][..A];
            for (j, v) in row.iter_mut().enumerate() {
                v[lane] = src[j];
            }
        }
        return;
    }
    for (i, row) in d.iter_mut().enumerate() {
        let yy = (tile.y + i).wrapping_sub(pad);
        for (j, v) in row.iter_mut().enumerate() {
            let xx = (tile.x + j).wrapping_sub(pad);
            v[lane] = if yy < h && xx < w {
                plane[yy * w + xx]
            } else {
                0.0
            };
        }
    }
}

/// `C x C^T` on every lane for a `P x A` constant matrix `c` (the portable form of
/// [`winograd_simd::sandwich`]): `V = B^T d B` with `c = B^T`, `Y = A^T m A` with `c = A^T`.
#[inline(always)]
fn sandwich<const P: usize, const A: usize>(
    c: &[[f32; A]; P],
    x: &[[Lane; A]; A],
) -> [[Lane; P]; P] {
    let mut t = [[[0.0f32; LANES]; A]; P];
    for i in 0..P {
        for k in 0..A {
            let ck = c[i][k];
            if ck != 0.0 {
                for j in 0..A {
                    axpy(&mut t[i][j], ck, &x[k][j]);
                }
            }
        }
    }
    let mut y = [[[0.0f32; LANES]; P]; P];
    for i in 0..P {
        for j in 0..P {
            for k in 0..A {
                let ck = c[j][k];
                if ck != 0.0 {
                    axpy(&mut y[i][j], ck, &t[i][k]);
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
    use crate::test_data::{assert_close, dot, pseudo_random};

    /// Direct correlation over an `oh x ow` grid, the definition.
    fn direct(
        input: &[f32],
        s: Nchw,
        kernel: &[f32],
        (c_out, r): (usize, usize),
        (oh, ow): (usize, usize),
        pad: usize,
    ) -> Vec<f32> {
        let (h, w) = (s.height, s.width);
        let mut out = vec![0.0f32; s.batch * c_out * oh * ow];
        for b in 0..s.batch {
            for o in 0..c_out {
                for y in 0..oh {
                    for x in 0..ow {
                        let mut acc = 0.0f64;
                        for i in 0..s.channels {
                            for ky in 0..r {
                                for kx in 0..r {
                                    let (yy, xx) =
                                        ((y + ky).wrapping_sub(pad), (x + kx).wrapping_sub(pad));
                                    if yy < h && xx < w {
                                        acc += (input[((b * s.channels + i) * h + yy) * w + xx]
                                            * kernel[((o * s.channels + i) * r + ky) * r + kx])
                                            as f64;
                                    }
                                }
                            }
                        }
                        out[((b * c_out + o) * oh + y) * ow + x] = acc as f32;
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
            // Large enough for whole groups of tiles inside the image (the vector loads).
            (2, 5, 6, 26, 27),
        ] {
            let s = Nchw {
                batch: b,
                channels: ci,
                height: h,
                width: w,
            };
            let x = pseudo_random(s.len(), 1);
            let k = pseudo_random(co * ci * 9, 2);
            let got = conv3x3(&x, s, &TransformedKernel::new(&k, co, ci, 3));
            assert_close(
                &got,
                &direct(&x, s, &k, (co, 3), (h, w), 1),
                &format!("{s:?}"),
            );
        }
    }

    #[test]
    fn portable_transforms_match_the_vector_ones() {
        // Other tests may run the portable path meanwhile: harmless, both are correct.
        let s = Nchw {
            batch: 3,
            channels: 9,
            height: 26,
            width: 27,
        };
        let x = pseudo_random(s.len(), 21);
        for r in [2, 3] {
            let k = TransformedKernel::new(&pseudo_random(10 * 9 * r * r, 22), 10, 9, r);
            let fast = correlate(&x, s, &k, (25, 26), 1);
            winograd_simd::FORCE_PORTABLE.store(true, std::sync::atomic::Ordering::Relaxed);
            let portable = correlate(&x, s, &k, (25, 26), 1);
            winograd_simd::FORCE_PORTABLE.store(false, std::sync::atomic::Ordering::Relaxed);
            assert_close(&portable, &fast, &format!("r {r}"));
            let want = direct(
                &x,
                s,
                &pseudo_random(10 * 9 * r * r, 22),
                (10, r),
                (25, 26),
                1,
            );
            assert_close(&fast, &want, &format!("r {r} against the definition"));
        }
    }

    #[test]
    fn both_schemes_match_the_definition_on_any_grid_and_padding() {
        // (r, pad, output grid): smaller, larger and equal to the input, odd sizes.
        for (r, pad, oh, ow) in [
            (2, 0, 4, 4),
            (2, 0, 7, 6),
            (2, 1, 8, 7),
            (2, 1, 3, 2),
            (3, 0, 5, 5),
            (3, 2, 9, 8),
            (3, 1, 1, 1),
        ] {
            let s = Nchw {
                batch: 3,
                channels: 6,
                height: 7,
                width: 6,
            };
            let co = 20;
            let x = pseudo_random(s.len(), 7);
            let k = pseudo_random(co * s.channels * r * r, 8);
            let got = correlate(
                &x,
                s,
                &TransformedKernel::new(&k, co, s.channels, r),
                (oh, ow),
                pad,
            );
            let want = direct(&x, s, &k, (co, r), (oh, ow), pad);
            assert_close(&got, &want, &format!("r {r} pad {pad} grid {oh}x{ow}"));
        }
    }

    #[test]
    fn flipped_kernel_gives_the_input_gradient() {
        // <corr(x, k), y> = <x, corr(y, flip(k))> for every x, y: the adjoint identity, for
        // the 3x3 SAME case and for 2x2 kernels onto a grid one larger ("full" correlation).
        for (r, pad, (oh, ow)) in [(3, 1, (6, 9)), (2, 0, (5, 8)), (2, 1, (7, 10))] {
            let s = Nchw {
                batch: 2,
                channels: 3,
                height: 6,
                width: 9,
            };
            let co = 4;
            let x = pseudo_random(s.len(), 3);
            let k = pseudo_random(co * 3 * r * r, 4);
            let ys = Nchw {
                channels: co,
                height: oh,
                width: ow,
                ..s
            };
            let y = pseudo_random(ys.len(), 5);
            let fwd = correlate(&x, s, &TransformedKernel::new(&k, co, 3, r), (oh, ow), pad);
            let lhs = dot(&fwd, &y);
            let back = correlate(
                &y,
                ys,
                &TransformedKernel::new(&flip_kernel(&k, co, 3, r), 3, co, r),
                (s.height, s.width),
                adjoint_padding(r, pad),
            );
            let rhs = dot(&back, &x);
            assert!(
                (lhs - rhs).abs() < 1e-4 * lhs.abs().max(1.0),
                "r {r} pad {pad}: {lhs} vs {rhs}"
            );
        }
    }
}
