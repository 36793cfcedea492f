//! Strided convolutions whose kernel is a multiple of the stride (MnistNet's 4x4 stride-2
//! convs) rewritten as stride-1 convolutions, so that they run as Winograd products.
//!
//! With stride `s` and kernel `k = s * r`, split the (zero-padded) input into its `s x s`
//! phases and stack them as channels ("space to depth"):
//! `z[(py * s + px) * c_in + c][i][j] = x[c][s * i + py - pad_top][s * j + px - pad_left]`.
//! Writing each kernel offset as `ky = s * a + py`, `kx = s * e + px` turns the convolution into
//! an `r x r`, stride-1, unpadded correlation of `z` (`s * s * c_in` channels) with the
//! rearranged kernel `w'[o][(py * s + px) * c_in + c][a][e] = w[o][c][s * a + py][s * e + px]`,
//! which [`crate::winograd`] computes with F(2x2, 2x2) (r = 2) or F(4x4, 3x3) (r = 3): for the
//! 4x4 stride-2 case, per input channel and 2x2 outputs, 9 multiplications for each of the 4
//! phases (36) where the direct form does 64, and the im2col gathers are gone.
//!
//! The input gradient is the adjoint of each step in reverse: the correlation of the output
//! gradient with the flipped kernel over `z`'s grid ([`crate::winograd::adjoint_padding`]),
//! then "depth to space", a gather in which every input pixel reads exactly one element.

use rayon::prelude::*;

use crate::cpu_features::with_simd;
use crate::geometry::{ConvGeometry, check};
use crate::winograd::{Nchw, TransformedKernel, adjoint_padding, correlate, flip_kernel};

/// True when `g` can be rewritten: stride at least 2, kernel `r` times the stride for a kernel
/// edge `r` with a Winograd scheme ([`crate::winograd::has_scheme`]).
pub fn applies(g: &ConvGeometry) -> bool {
    g.stride >= 2
        && g.kernel.is_multiple_of(g.stride)
        && crate::winograd::has_scheme(g.kernel / g.stride)
}

/// Which product a cost estimate is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pass {
    /// The convolution itself (over the `out_h x out_w` grid).
    Forward,
    /// Its input gradient (over the phase grid, one row and column larger per extra kernel
    /// row).
    InputGradient,
}

/// Multiplications of the Winograd form relative to im2col's for `pass` (per input and output
/// channel pair): below 1 it does less arithmetic. Tiles that overhang the grid are counted, so
/// small grids can lose: a 9 -> 5 conv does 0.81 of im2col's work for its input gradient, whose
/// 5x5 phase grid takes 3x3 tiles of 2x2.
pub fn work_ratio(g: &ConvGeometry, pass: Pass) -> f64 {
    let (m, a) = crate::winograd::tile_sizes(r(g)).expect("work_ratio of a conv that applies");
    let (h, w) = match pass {
        Pass::Forward => (g.out_h, g.out_w),
        Pass::InputGradient => {
            let gs = grad_shape(1, g);
            (gs.height, gs.width)
        }
    };
    let winograd = h.div_ceil(m) * w.div_ceil(m) * a * a * g.stride * g.stride;
    let im2col = g.out_h * g.out_w * g.kernel * g.kernel;
    winograd as f64 / im2col.max(1) as f64
}

/// Edge of the rewritten kernel.
fn r(g: &ConvGeometry) -> usize {
    g.kernel / g.stride
}

/// Shape of the phase-stacked input: `s * s * c_in` channels on the grid the `r x r`
/// correlation reads for the `out_h x out_w` outputs.
fn z_shape(batch: usize, g: &ConvGeometry) -> Nchw {
    Nchw {
        batch,
        channels: g.stride * g.stride * g.c_in,
        height: g.out_h + r(g) - 1,
        width: g.out_w + r(g) - 1,
    }
}

/// Shape of the gradient of the phase-stacked input that the input gradient reads: `z`'s
/// channels on the part of its grid that holds image pixels (rows and columns past the image
/// hold only padding; MnistNet's 7 -> 4 conv has one such row and column).
fn grad_shape(batch: usize, g: &ConvGeometry) -> Nchw {
    let zs = z_shape(batch, g);
    Nchw {
        height: ((g.in_h + g.pad_top - 1) / g.stride + 1).min(zs.height),
        width: ((g.in_w + g.pad_left - 1) / g.stride + 1).min(zs.width),
        ..zs
    }
}

/// Input pixel of phase `p` at phase-grid position `i`, if inside the image.
#[inline]
fn source(i: usize, p: usize, s: usize, pad: usize, size: usize) -> Option<usize> {
    (s * i + p).checked_sub(pad).filter(|&v| v < size)
}

/// The phase-grid positions `j` whose input pixel `s * j + p - pad` lies inside `[0, size)`,
/// and the pixel of the first: `(j_lo, j_hi, first)`.
#[inline]
fn phase_range(p: usize, s: usize, pad: usize, size: usize, grid: usize) -> (usize, usize, usize) {
    // s * j + p >= pad  <=>  j >= ceil((pad - p) / s).
    let lo = pad.saturating_sub(p).div_ceil(s);
    // s * j + p - pad <= size - 1  <=>  j <= (size - 1 + pad - p) / s.
    let hi = match (size + pad).checked_sub(p + 1) {
        Some(top) => (top / s + 1).min(grid),
        None => 0,
    };
    let lo = lo.min(hi);
    (lo, hi, (s * lo + p).saturating_sub(pad))
}

/// Copies `dst[j] = src[j * s]`, the loop form that vectorises for small `s`.
#[inline(always)]
fn gather_strided(dst: &mut [f32], src: &[f32], s: usize) {
    if dst.is_empty() {
        return;
    }
    let src = &src[..(dst.len() - 1) * s + 1];
    for (j, v) in dst.iter_mut().enumerate() {
        *v = src[j * s];
    }
}

/// Copies `dst[j * s] = src[j]`.
#[inline(always)]
fn scatter_strided(dst: &mut [f32], src: &[f32], s: usize) {
    if src.is_empty() {
        return;
    }
    let dst = &mut dst[..(src.len() - 1) * s + 1];
    for (j, v) in src.iter().enumerate() {
        dst[j * s] = *v;
    }
}

/// The phase-stacked input `z` of `x` `[batch, c_in, in_h, in_w]`, images in parallel.
pub fn space_to_depth(x: &[f32], batch: usize, g: &ConvGeometry) -> Vec<f32> {
    check(x.len(), g.in_plane(), batch, "input");
    let zs = z_shape(batch, g);
    let (s, plane) = (g.stride, g.in_h * g.in_w);
    let z_image = zs.channels * zs.height * zs.width;
    let mut z = vec![0.0f32; zs.len()];
    if z.is_empty() {
        return z;
    }
    z.par_chunks_mut(z_image)
        .zip(x.par_chunks(g.c_in * plane))
        .for_each(|(z, x)| {
            with_simd(
                #[inline(always)]
                || {
                    for (q, zc) in z.chunks_exact_mut(zs.height * zs.width).enumerate() {
                        let (phase, c) = (q / g.c_in, q % g.c_in);
                        let (py, px) = (phase / s, phase % s);
                        let xc = &x[c * plane..][..plane];
                        let (j_lo, j_hi, first) = phase_range(px, s, g.pad_left, g.in_w, zs.width);
                        for (i, row) in zc.chunks_exact_mut(zs.width).enumerate() {
                            if let Some(y) = source(i, py, s, g.pad_top, g.in_h) {
                                let src = &xc[y * g.in_w + first..(y + 1) * g.in_w];
                                gather_strided(&mut row[j_lo..j_hi], src, s);
                            }
                        }
                    }
                },
            )
        });
    z
}

/// The adjoint of [`space_to_depth`]: the input gradient `[batch, c_in, in_h, in_w]` from the
/// gradient `dz` of the phase-stacked input over the grid of [`grad_shape`] (each input pixel
/// is one element of `z` there).
pub fn depth_to_space(dz: &[f32], batch: usize, g: &ConvGeometry) -> Vec<f32> {
    let zs = grad_shape(batch, g);
    check(dz.len(), zs.len(), 1, "gradient");
    let (s, plane, zplane) = (g.stride, g.in_h * g.in_w, zs.height * zs.width);
    let mut dx = vec![0.0f32; batch * g.c_in * plane];
    if dx.is_empty() {
        return dx;
    }
    dx.par_chunks_mut(g.c_in * plane)
        .zip(dz.par_chunks(zs.channels * zplane))
        .for_each(|(dx, dz)| {
            with_simd(
                #[inline(always)]
                || {
                    for (q, dzc) in dz.chunks_exact(zplane).enumerate() {
                        let (phase, c) = (q / g.c_in, q % g.c_in);
                        let (py, px) = (phase / s, phase % s);
                        let dxc = &mut dx[c * plane..][..plane];
                        let (j_lo, j_hi, first) = phase_range(px, s, g.pad_left, g.in_w, zs.width);
                        for (i, row) in dzc.chunks_exact(zs.width).enumerate() {
                            if let Some(y) = source(i, py, s, g.pad_top, g.in_h) {
                                let dst = &mut dxc[y * g.in_w + first..(y + 1) * g.in_w];
                                scatter_strided(dst, &row[j_lo..j_hi], s);
                            }
                        }
                    }
                },
            )
        });
    dx
}

/// The `[c_out, s * s * c_in, r, r]` kernel of the rewritten correlation.
pub fn rearrange_kernel(w: &[f32], g: &ConvGeometry) -> Vec<f32> {
    let (s, k, r) = (g.stride, g.kernel, r(g));
    check(w.len(), g.c_out * g.c_in * k * k, 1, "weight");
    let c2 = s * s * g.c_in;
    let mut out = vec![0.0f32; g.c_out * c2 * r * r];
    out.par_chunks_mut(c2 * r * r)
        .zip(w.par_chunks(g.c_in * k * k))
        .for_each(|(out, w)| {
            for (c, src) in w.chunks_exact(k * k).enumerate() {
                for (py, px) in (0..s).flat_map(|py| (0..s).map(move |px| (py, px))) {
                    let q = (py * s + px) * g.c_in + c;
                    let dst = &mut out[q * r * r..][..r * r];
                    for a in 0..r {
                        for e in 0..r {
                            dst[a * r + e] = src[(s * a + py) * k + s * e + px];
                        }
                    }
                }
            }
        });
    out
}

/// Convolution of `x` `[batch, c_in, in_h, in_w]` with `w` `[c_out, c_in, k, k]`; same result
/// as [`crate::im2col::forward`].
///
/// # Panics
/// If `g` does not qualify ([`applies`]) or the buffers do not match it.
pub fn forward(x: &[f32], batch: usize, g: &ConvGeometry, w: &[f32]) -> Vec<f32> {
    assert!(applies(g), "no stride-1 rewrite for {g:?}");
    check(x.len(), g.in_plane(), batch, "input");
    let zs = z_shape(1, g);
    let kernel = TransformedKernel::new(&rearrange_kernel(w, g), g.c_out, zs.channels, r(g));
    in_slices(x, batch, g.in_plane(), g.out_plane(), |x, n| {
        let z = space_to_depth(x, n, g);
        correlate(&z, z_shape(n, g), &kernel, (g.out_h, g.out_w), 0)
    })
}

/// Input gradient from the output gradient `dy` `[batch, c_out, out_h, out_w]`; same result as
/// [`crate::im2col::backward_input`].
///
/// # Panics
/// If `g` does not qualify ([`applies`]) or the buffers do not match it.
pub fn backward_input(dy: &[f32], batch: usize, g: &ConvGeometry, w: &[f32]) -> Vec<f32> {
    assert!(applies(g), "no stride-1 rewrite for {g:?}");
    check(dy.len(), g.out_plane(), batch, "gradient");
    let zs = grad_shape(1, g);
    let r = r(g);
    let flipped = flip_kernel(&rearrange_kernel(w, g), g.c_out, zs.channels, r);
    let kernel = TransformedKernel::new(&flipped, zs.channels, g.c_out, r);
    in_slices(dy, batch, g.out_plane(), g.in_plane(), |dy, n| {
        let dy_shape = Nchw {
            batch: n,
            channels: g.c_out,
            height: g.out_h,
            width: g.out_w,
        };
        let grid = (zs.height, zs.width);
        let dz = correlate(dy, dy_shape, &kernel, grid, adjoint_padding(r, 0));
        depth_to_space(&dz, n, g)
    })
}

/// Images per slice of [`in_slices`]: the phase-stacked buffers of a whole training batch (256
/// images of MnistNet's first strided conv: 59 MB) would add about 100 MiB to the peak memory
/// of a training run; 32 images keep them near 7 MB, in the last-level cache.
const SLICE_IMAGES: usize = 32;

/// `f` on consecutive slices of at most [`SLICE_IMAGES`] images of `input` (`in_per_image`
/// values each), its results (`out_per_image` values per image) concatenated.
fn in_slices(
    input: &[f32],
    batch: usize,
    in_per_image: usize,
    out_per_image: usize,
    f: impl Fn(&[f32], usize) -> Vec<f32>,
) -> Vec<f32> {
    if batch <= SLICE_IMAGES {
        return f(input, batch);
    }
    let mut out = Vec::with_capacity(batch * out_per_image);
    for slice in input.chunks(SLICE_IMAGES * in_per_image.max(1)) {
        out.extend_from_slice(&f(slice, slice.len() / in_per_image.max(1)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::im2col;
    use crate::test_data::{assert_close, dot, pseudo_random};

    fn geometry(
        c_in: usize,
        c_out: usize,
        kernel: usize,
        stride: usize,
        side: usize,
    ) -> ConvGeometry {
        ConvGeometry::same([c_in, c_out], kernel, stride, (side, side))
    }

    #[test]
    fn depth_to_space_is_the_adjoint_of_space_to_depth() {
        // 7 -> 4 with one padding row before and two after: z's last row and column hold only
        // padding, and the gradient grid leaves them out.
        let (g, batch) = (geometry(3, 1, 4, 2, 7), 2);
        let x = pseudo_random(batch * 3 * 49, 1);
        let (zs, gs) = (z_shape(batch, &g), grad_shape(batch, &g));
        assert_eq!((zs.height, gs.height), (5, 4));
        let z = space_to_depth(&x, batch, &g);
        // z on the gradient grid; what is cut off is zero.
        let mut cropped = Vec::new();
        for (plane, q) in z.chunks_exact(zs.height * zs.width).zip(0..) {
            for (row, i) in plane.chunks_exact(zs.width).zip(0..) {
                if i < gs.height {
                    cropped.extend_from_slice(&row[..gs.width]);
                    assert!(
                        row[gs.width..].iter().all(|&v| v == 0.0),
                        "plane {q} row {i}"
                    );
                } else {
                    assert!(row.iter().all(|&v| v == 0.0), "plane {q} row {i}");
                }
            }
        }
        let dz = pseudo_random(cropped.len(), 2);
        let dx = depth_to_space(&dz, batch, &g);
        assert!((dot(&cropped, &dz) - dot(&x, &dx)).abs() < 1e-4);
        // Every input pixel sits in z exactly once: with dz = z, dx gives x back.
        assert_eq!(depth_to_space(&cropped, batch, &g), x);
    }

    #[test]
    fn matches_im2col_in_both_directions() {
        // MnistNet's three strided convs (28 -> 14, 14 -> 7, 7 -> 4 with one padding row
        // before and two after), odd sizes, stride 3, and r = 3 (6x6 stride 2).
        for (g, batch) in [
            (geometry(8, 16, 4, 2, 28), 2),
            (geometry(16, 8, 4, 2, 14), 3),
            (geometry(9, 20, 4, 2, 7), 5),
            (geometry(5, 7, 4, 2, 9), 2),
            (geometry(4, 6, 6, 3, 10), 2),
            (geometry(4, 6, 6, 2, 11), 2),
            // More images than one slice, the last slice partial.
            (geometry(8, 8, 4, 2, 7), 2 * SLICE_IMAGES + 3),
        ] {
            assert!(applies(&g), "{g:?}");
            let x = pseudo_random(batch * g.in_plane(), 3);
            let w = pseudo_random(g.c_out * g.c_in * g.kernel * g.kernel, 4);
            let y = forward(&x, batch, &g, &w);
            assert_close(
                &y,
                &im2col::forward(&x, batch, &g, &w),
                &format!("forward {g:?}"),
            );
            let dy = pseudo_random(y.len(), 5);
            assert_close(
                &backward_input(&dy, batch, &g, &w),
                &im2col::backward_input(&dy, batch, &g, &w),
                &format!("input gradient {g:?}"),
            );
        }
    }

    #[test]
    fn work_ratio_counts_overhanging_tiles() {
        let (conv2, conv4) = (geometry(64, 64, 4, 2, 28), geometry(128, 256, 4, 2, 7));
        // 7x7 tiles of 2x2, 9 points, 4 phases against 14x14 outputs of 16 taps.
        assert_eq!(
            work_ratio(&conv2, Pass::Forward),
            49.0 * 36.0 / (196.0 * 16.0)
        );
        assert_eq!(
            work_ratio(&conv2, Pass::InputGradient),
            64.0 * 36.0 / (196.0 * 16.0)
        );
        assert_eq!(work_ratio(&conv4, Pass::Forward), 4.0 * 36.0 / 256.0);
        // Its input gradient needs 4x4 of the 5x5 phase grid: 2x2 tiles, not 3x3.
        assert_eq!(work_ratio(&conv4, Pass::InputGradient), 4.0 * 36.0 / 256.0);
        // 9 -> 5 (one padding row before, one after) needs all of its 5x5: 3x3 tiles of 2x2.
        let odd = geometry(8, 8, 4, 2, 9);
        assert_eq!(
            work_ratio(&odd, Pass::InputGradient),
            9.0 * 36.0 / (25.0 * 16.0)
        );
    }

    #[test]
    fn only_kernels_that_split_into_a_scheme_apply() {
        assert!(!applies(&geometry(8, 8, 3, 1, 8)));
        assert!(!applies(&geometry(8, 8, 3, 2, 8)));
        assert!(!applies(&geometry(8, 8, 8, 2, 16)));
        assert!(applies(&geometry(8, 8, 4, 2, 8)));
    }
}
