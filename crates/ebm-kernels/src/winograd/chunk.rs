//! One chunk of tiles, start to finish on one thread: input transform into per-thread
//! buffers, the per-point products against the transformed kernel, and the output transform
//! into the tiles' own pixels.

// Index loops mirror the matrix formulas of the transforms.
#![allow(clippy::needless_range_loop)]

use super::simd::{self as winograd_simd, LANES, Lane};
use super::{Nchw, OutPtr, OutShape, Scheme, Tile, TransformedKernel};
use crate::matmul::matmul;
/// Per-thread buffers: transformed input `[points][c_in][tc]` and products `[points][c_out][tc]`.
pub(super) struct Scratch {
    pub(super) v: Vec<f32>,
    pub(super) m: Vec<f32>,
}

impl Scratch {
    /// Grows the buffers to hold a chunk of `tc` tiles.
    pub(super) fn reserve(&mut self, points: usize, c_in: usize, c_out: usize, tc: usize) {
        let (nv, nm) = (points * c_in * tc, points * c_out * tc);
        if self.v.len() < nv {
            self.v.resize(nv, 0.0);
        }
        if self.m.len() < nm {
            self.m.resize(nm, 0.0);
        }
    }

    /// Input transform of one chunk.
    pub(super) fn transform_input<
        S: Scheme<M, R, A>,
        const M: usize,
        const R: usize,
        const A: usize,
    >(
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
    pub(super) fn multiply(
        &mut self,
        points: usize,
        c_in: usize,
        kernel: &TransformedKernel,
        tc: usize,
    ) {
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
    pub(super) unsafe fn write_output<
        S: Scheme<M, R, A>,
        const M: usize,
        const R: usize,
        const A: usize,
    >(
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
