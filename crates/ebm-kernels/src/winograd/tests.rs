//! The Winograd correlation against its definition.

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
        simd::FORCE_PORTABLE.store(true, std::sync::atomic::Ordering::Relaxed);
        let portable = correlate(&x, s, &k, (25, 26), 1);
        simd::FORCE_PORTABLE.store(false, std::sync::atomic::Ordering::Relaxed);
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
