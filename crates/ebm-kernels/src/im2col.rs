//! General 2-D convolution (square kernel, any stride, explicit possibly asymmetric zero
//! padding) on host `f32` NCHW buffers, as im2col + GEMM on groups of images (several small
//! images side by side share one GEMM, [`group_size`]), groups in parallel.
//!
//! Three passes, each one GEMM per group `b` (columns of its images side by side):
//! - forward: `y_b (c_out x N) = W (c_out x K) . cols_b (K x N)`;
//! - input gradient: `dcols_b = W^T . dy_b`, then scatter-added back (col2im) into `dx_b`;
//! - weight gradient: `dW = sum_b dy_b . cols_b^T`, summed per thread, then across threads.
//!
//! `K = c_in * k * k` in the weight's own `[c_out, c_in, k, k]` order and `N = out_h * out_w`, so
//! neither the weights nor the activations are ever transposed or converted to another layout.

use rayon::prelude::*;

use crate::cpu_features::with_simd;
use crate::geometry::{ConvGeometry, check};
use crate::matmul::matmul;

thread_local! {
    /// Each worker's column buffer, kept between calls (it only grows).
    static COLS: std::cell::RefCell<Vec<f32>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn with_cols<R>(len: usize, f: impl FnOnce(&mut [f32]) -> R) -> R {
    COLS.with_borrow_mut(|cols| {
        if cols.len() < len {
            cols.resize(len, 0.0);
        }
        f(&mut cols[..len])
    })
}

/// Outputs `o` in `[lo, hi)` read input `o * stride + kk - pad` inside `[0, size)`.
#[inline]
fn valid_range(kk: usize, stride: usize, pad: usize, size: usize, outs: usize) -> (usize, usize) {
    // o * stride + kk >= pad  <=>  o >= ceil((pad - kk) / stride)
    let lo = pad.saturating_sub(kk).div_ceil(stride);
    // o * stride + kk - pad <= size - 1  <=>  o <= (size - 1 + pad - kk) / stride
    let hi = match (size + pad).checked_sub(kk + 1) {
        Some(top) => (top / stride + 1).min(outs),
        None => 0,
    };
    (lo.min(hi), hi)
}

/// Where one image's columns sit in a group's column matrix: row `r` of the image is
/// `cols[r * stride + offset..][..n]`.
#[derive(Clone, Copy)]
struct Place {
    offset: usize,
    stride: usize,
}

/// Columns of one image: `cols[(ci * k + ky) * k + kx][oy * out_w + ox]`, placed at `at`.
#[inline(always)]
fn im2col_body(x: &[f32], g: &ConvGeometry, cols: &mut [f32], at: Place) {
    let (k, n, s) = (g.kernel, g.n(), g.stride);
    for ci in 0..g.c_in {
        let plane = &x[ci * g.in_h * g.in_w..][..g.in_h * g.in_w];
        for ky in 0..k {
            let (y_lo, y_hi) = valid_range(ky, s, g.pad_top, g.in_h, g.out_h);
            for kx in 0..k {
                let (x_lo, x_hi) = valid_range(kx, s, g.pad_left, g.in_w, g.out_w);
                let row = &mut cols[((ci * k + ky) * k + kx) * at.stride + at.offset..][..n];
                row[..y_lo * g.out_w].fill(0.0);
                row[y_hi * g.out_w..].fill(0.0);
                for oy in y_lo..y_hi {
                    let dst = &mut row[oy * g.out_w..][..g.out_w];
                    let src = &plane[(oy * s + ky - g.pad_top) * g.in_w..][..g.in_w];
                    dst[..x_lo].fill(0.0);
                    dst[x_hi..].fill(0.0);
                    let first = x_lo * s + kx - g.pad_left;
                    if s == 1 {
                        dst[x_lo..x_hi].copy_from_slice(&src[first..first + x_hi - x_lo]);
                    } else if x_hi > x_lo {
                        // Index form with the bounds hoisted, so that it vectorises.
                        let len = x_hi - x_lo;
                        let src = &src[first..first + (len - 1) * s + 1];
                        let dst = &mut dst[x_lo..x_hi];
                        for j in 0..len {
                            dst[j] = src[j * s];
                        }
                    }
                }
            }
        }
    }
}

fn im2col(x: &[f32], g: &ConvGeometry, cols: &mut [f32], at: Place) {
    with_simd(
        #[inline(always)]
        || im2col_body(x, g, cols, at),
    )
}

/// Adds columns back onto one image's input gradient (the adjoint of [`im2col`]).
#[inline(always)]
fn col2im_body(cols: &[f32], g: &ConvGeometry, dx: &mut [f32], at: Place) {
    let (k, n, s) = (g.kernel, g.n(), g.stride);
    for ci in 0..g.c_in {
        let plane = &mut dx[ci * g.in_h * g.in_w..][..g.in_h * g.in_w];
        for ky in 0..k {
            let (y_lo, y_hi) = valid_range(ky, s, g.pad_top, g.in_h, g.out_h);
            for kx in 0..k {
                let (x_lo, x_hi) = valid_range(kx, s, g.pad_left, g.in_w, g.out_w);
                let row = &cols[((ci * k + ky) * k + kx) * at.stride + at.offset..][..n];
                for oy in y_lo..y_hi {
                    let src = &row[oy * g.out_w + x_lo..oy * g.out_w + x_hi];
                    let dst = &mut plane[(oy * s + ky - g.pad_top) * g.in_w..][..g.in_w];
                    let first = x_lo * s + kx - g.pad_left;
                    if s == 1 {
                        for (d, v) in dst[first..first + src.len()].iter_mut().zip(src) {
                            *d += v;
                        }
                    } else if !src.is_empty() {
                        let dst = &mut dst[first..first + (src.len() - 1) * s + 1];
                        for (j, v) in src.iter().enumerate() {
                            dst[j * s] += v;
                        }
                    }
                }
            }
        }
    }
}

fn col2im(cols: &[f32], g: &ConvGeometry, dx: &mut [f32], at: Place) {
    with_simd(
        #[inline(always)]
        || col2im_body(cols, g, dx, at),
    )
}

/// Images per GEMM: enough columns (about 256) that packing the weights, which the GEMM does
/// on every call, is amortised, and that small images still give wide products.
fn group_size(n: usize, batch: usize) -> usize {
    (256 / n.max(1)).clamp(1, batch.max(1))
}

/// Copies a group's `[image][channel][n]` block to `[channel][image * n]`.
fn to_channel_major(src: &[f32], channels: usize, n: usize, dst: &mut [f32]) {
    let cols = src.len() / channels;
    for (i, image) in src.chunks_exact(channels * n).enumerate() {
        for (c, row) in image.chunks_exact(n).enumerate() {
            dst[c * cols + i * n..][..n].copy_from_slice(row);
        }
    }
}

/// The inverse of [`to_channel_major`].
fn to_image_major(src: &[f32], channels: usize, n: usize, dst: &mut [f32]) {
    let cols = src.len() / channels;
    for (i, image) in dst.chunks_exact_mut(channels * n).enumerate() {
        for (c, row) in image.chunks_exact_mut(n).enumerate() {
            row.copy_from_slice(&src[c * cols + i * n..][..n]);
        }
    }
}

/// Column places of the images of a group of `images`, `n` columns each.
fn places(images: usize, n: usize) -> impl Iterator<Item = Place> {
    (0..images).map(move |i| Place {
        offset: i * n,
        stride: images * n,
    })
}

/// The columns of a group of images `x`, side by side in `cols` (`k x images * n`).
fn group_im2col(x: &[f32], g: &ConvGeometry, cols: &mut [f32]) {
    let images = x.len() / g.in_plane();
    for (x, at) in x.chunks_exact(g.in_plane()).zip(places(images, g.n())) {
        im2col(x, g, cols, at);
    }
}

/// A group's output gradient `[image][c_out][n]` as the `c_out x images * n` matrix the GEMMs
/// read: `dy` itself for one image, else rearranged into `buf`.
fn group_gradient<'a>(dy: &'a [f32], g: &ConvGeometry, buf: &'a mut [f32]) -> &'a [f32] {
    if dy.len() == g.out_plane() {
        dy
    } else {
        to_channel_major(dy, g.c_out, g.n(), buf);
        buf
    }
}

/// Convolution of `x` `[batch, c_in, in_h, in_w]` with `w` `[c_out, c_in, k, k]`.
pub fn forward(x: &[f32], batch: usize, g: &ConvGeometry, w: &[f32]) -> Vec<f32> {
    check(x.len(), g.in_plane(), batch, "input");
    check(w.len(), g.c_out * g.k(), 1, "weight");
    let mut y = vec![0.0f32; batch * g.out_plane()];
    let (k, n) = (g.k(), g.n());
    if y.is_empty() {
        return y;
    }
    let gs = group_size(n, batch);
    y.par_chunks_mut(gs * g.out_plane())
        .zip(x.par_chunks(gs * g.in_plane()))
        .for_each(|(y, x)| {
            let images = x.len() / g.in_plane();
            let wc = images * n;
            with_cols(k * wc + g.c_out * wc, |buf| {
                let (cols, out) = buf.split_at_mut(k * wc);
                group_im2col(x, g, cols);
                // out (c_out x wc) = w (c_out x k) . cols (k x wc).
                let dst = if images == 1 { &mut *y } else { &mut *out };
                let rows = |rs: usize| (1, rs as isize);
                matmul(
                    (g.c_out, wc, k),
                    dst,
                    rows(wc),
                    false,
                    w,
                    rows(k),
                    cols,
                    rows(wc),
                );
                if images > 1 {
                    to_image_major(out, g.c_out, n, y);
                }
            })
        });
    y
}

/// Input gradient from the output gradient `dy` `[batch, c_out, out_h, out_w]`.
pub fn backward_input(dy: &[f32], batch: usize, g: &ConvGeometry, w: &[f32]) -> Vec<f32> {
    check(dy.len(), g.out_plane(), batch, "gradient");
    check(w.len(), g.c_out * g.k(), 1, "weight");
    let mut dx = vec![0.0f32; batch * g.in_plane()];
    let (k, n) = (g.k(), g.n());
    if dx.is_empty() {
        return dx;
    }
    let gs = group_size(n, batch);
    dx.par_chunks_mut(gs * g.in_plane())
        .zip(dy.par_chunks(gs * g.out_plane()))
        .for_each(|(dx, dy)| {
            let images = dy.len() / g.out_plane();
            let wc = images * n;
            with_cols(k * wc + g.c_out * wc, |buf| {
                let (dcols, dyg) = buf.split_at_mut(k * wc);
                let rhs = group_gradient(dy, g, dyg);
                // dcols (k x wc) = w^T (k x c_out) . dy (c_out x wc); w^T's column stride is k.
                let rows = (1, wc as isize);
                matmul(
                    (k, wc, g.c_out),
                    dcols,
                    rows,
                    false,
                    w,
                    (k as isize, 1),
                    rhs,
                    rows,
                );
                for (dx, at) in dx.chunks_exact_mut(g.in_plane()).zip(places(images, n)) {
                    col2im(dcols, g, dx, at);
                }
            })
        });
    dx
}

/// Weight gradient `[c_out, c_in, k, k]` from the input `x` and the output gradient `dy`.
pub fn backward_weight(x: &[f32], dy: &[f32], batch: usize, g: &ConvGeometry) -> Vec<f32> {
    check(x.len(), g.in_plane(), batch, "input");
    check(dy.len(), g.out_plane(), batch, "gradient");
    let (k, n) = (g.k(), g.n());
    let zero = || vec![0.0f32; g.c_out * k];
    if batch == 0 || g.c_out * k == 0 {
        return zero();
    }
    let gs = group_size(n, batch);
    let groups = batch.div_ceil(gs);
    // A fixed partition of the groups, summed in index order: the order of the additions (and
    // so the float result) depends on the shapes only, never on how rayon's threads happen to
    // split the work.
    let parts = groups.min(WEIGHT_GRADIENT_PARTS);
    let per_part = groups.div_ceil(parts);
    let partials: Vec<Vec<f32>> = (0..parts)
        .into_par_iter()
        .map(|p| {
            let mut dw = zero();
            let first = (p * per_part * gs).min(batch);
            let last = ((p + 1) * per_part * gs).min(batch);
            let x = &x[first * g.in_plane()..last * g.in_plane()];
            let dy = &dy[first * g.out_plane()..last * g.out_plane()];
            for (x, dy) in x
                .chunks(gs * g.in_plane())
                .zip(dy.chunks(gs * g.out_plane()))
            {
                accumulate_weight_gradient(x, dy, g, &mut dw);
            }
            dw
        })
        .collect();
    let mut partials = partials.into_iter();
    let mut dw = partials.next().unwrap_or_else(zero);
    for part in partials {
        dw.iter_mut().zip(&part).for_each(|(a, b)| *a += b);
    }
    dw
}

/// Partial sums of a weight gradient: enough to keep every core of a large machine busy, few
/// enough that their buffers stay small.
const WEIGHT_GRADIENT_PARTS: usize = 16;

/// `dw (c_out x k) += dy_b . cols_b^T` for one group of images.
fn accumulate_weight_gradient(x: &[f32], dy: &[f32], g: &ConvGeometry, dw: &mut [f32]) {
    let (k, n) = (g.k(), g.n());
    let images = x.len() / g.in_plane();
    let wc = images * n;
    with_cols(k * wc + g.c_out * wc, |buf| {
        let (cols, dyg) = buf.split_at_mut(k * wc);
        group_im2col(x, g, cols);
        let lhs = group_gradient(dy, g, dyg);
        // dw (c_out x k) += dy (c_out x wc) . cols^T (wc x k); cols^T's column stride is wc.
        let rows = (1, wc as isize);
        let dw_rows = (1, k as isize);
        matmul(
            (g.c_out, k, wc),
            dw,
            dw_rows,
            true,
            lhs,
            rows,
            cols,
            (wc as isize, 1),
        );
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_data::{dot, pseudo_random};

    fn geometry() -> ConvGeometry {
        // TensorFlow SAME for a 4x4 stride-2 kernel on 7x7: one row/column before, two after.
        ConvGeometry {
            c_in: 3,
            c_out: 5,
            kernel: 4,
            stride: 2,
            pad_top: 1,
            pad_left: 1,
            in_h: 7,
            in_w: 7,
            out_h: 4,
            out_w: 4,
        }
    }

    fn direct(x: &[f32], batch: usize, g: &ConvGeometry, w: &[f32]) -> Vec<f32> {
        let mut y = vec![0.0f32; batch * g.out_plane()];
        for b in 0..batch {
            for o in 0..g.c_out {
                for oy in 0..g.out_h {
                    for ox in 0..g.out_w {
                        let mut acc = 0.0f64;
                        for i in 0..g.c_in {
                            for ky in 0..g.kernel {
                                for kx in 0..g.kernel {
                                    let sy =
                                        ConvGeometry::source(oy, ky, g.stride, g.pad_top, g.in_h);
                                    let sx =
                                        ConvGeometry::source(ox, kx, g.stride, g.pad_left, g.in_w);
                                    if let (Some(iy), Some(ix)) = (sy, sx) {
                                        let xv = x[((b * g.c_in + i) * g.in_h + iy) * g.in_w + ix];
                                        let wv =
                                            w[((o * g.c_in + i) * g.kernel + ky) * g.kernel + kx];
                                        acc += (xv * wv) as f64;
                                    }
                                }
                            }
                        }
                        y[((b * g.c_out + o) * g.out_h + oy) * g.out_w + ox] = acc as f32;
                    }
                }
            }
        }
        y
    }

    #[test]
    fn valid_range_matches_the_bounds_check() {
        for (kk, stride, pad, size, outs) in (0..5).flat_map(|kk| {
            (1..4).flat_map(move |s| {
                (0..4).flat_map(move |p| {
                    (1..9usize).map(move |size| (kk, s, p, size, size.div_ceil(s)))
                })
            })
        }) {
            let want: Vec<usize> = (0..outs)
                .filter(|&o| ConvGeometry::source(o, kk, stride, pad, size).is_some())
                .collect();
            let (lo, hi) = valid_range(kk, stride, pad, size, outs);
            assert_eq!(
                (lo..hi).collect::<Vec<_>>(),
                want,
                "{kk} {stride} {pad} {size}"
            );
        }
    }

    #[test]
    fn forward_matches_the_definition_and_gradients_are_adjoint() {
        // Groups of several images (n = 16: all of them), of 4 images with a partial last
        // group (n = 64, batch 5), and of one image each (n = 256).
        let big = |side: usize, stride: usize| ConvGeometry {
            stride,
            in_h: side,
            in_w: side,
            out_h: side.div_ceil(stride),
            out_w: side.div_ceil(stride),
            ..geometry()
        };
        for (g, batch) in [(geometry(), 3), (big(16, 2), 5), (big(16, 1), 2)] {
            let x = pseudo_random(batch * g.in_plane(), 1);
            let w = pseudo_random(g.c_out * g.k(), 2);
            let y = forward(&x, batch, &g, &w);
            for (a, b) in y.iter().zip(direct(&x, batch, &g, &w)) {
                assert!((a - b).abs() < 1e-5, "{a} vs {b} in {g:?}");
            }
            // <conv(x, w), r> = <x, dx(r)> = <w, dw(x, r)>.
            let r = pseudo_random(y.len(), 3);
            let lhs = dot(&y, &r);
            let dx = backward_input(&r, batch, &g, &w);
            let dw = backward_weight(&x, &r, batch, &g);
            assert!((lhs - dot(&x, &dx)).abs() < 1e-3, "input adjoint {g:?}");
            assert!((lhs - dot(&w, &dw)).abs() < 1e-3, "weight adjoint {g:?}");
        }
    }
}
