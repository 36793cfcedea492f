//! Swish `x * sigmoid(x)` and its derivative on host `f32` slices, in one pass each, with a
//! vectorisable exponential (Cephes `expf` polynomial, relative error about 1e-7) compiled for
//! AVX-512 or AVX2 + FMA where the CPU has them.

use std::mem::MaybeUninit;

use rayon::prelude::*;

use crate::cpu_features::with_simd;

/// Elements per parallel task.
const CHUNK: usize = 1 << 15;

#[inline(always)]
fn exp_approx(x: f32) -> f32 {
    // Inside +-87 every result and its reciprocal are normal floats (no slow denormals).
    let x = x.clamp(-87.0, 87.0);
    let n = (x * std::f32::consts::LOG2_E + 0.5).floor();
    let r = x - n * 0.693_359_4 + n * 2.121_944_4e-4;
    let mut p = 1.987_569_1e-4f32;
    p = p * r + 1.398_199_9e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 1.666_666_5e-1;
    p = p * r + 0.5;
    let y = p * r * r + r + 1.0;
    // 2^n without a float-to-int conversion (Rust's saturating `as i32` does not vectorise):
    // adding 1.5 * 2^23 puts the integer n + 127 (1..=253 here) in the low mantissa bits, and
    // the shift moves it into the exponent field, dropping the bits above.
    let biased = (n + (MANTISSA_MAGIC + 127.0)).to_bits();
    y * f32::from_bits(biased << 23)
}

/// 1.5 * 2^23: integers added to it land in the low bits of its mantissa.
const MANTISSA_MAGIC: f32 = 12_582_912.0;

#[inline(always)]
fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + exp_approx(-x))
}

#[inline(always)]
fn forward_scalar(x: &[f32], y: &mut [MaybeUninit<f32>]) {
    for (y, &x) in y.iter_mut().zip(x) {
        y.write(x * sigmoid(x));
    }
}

#[inline(always)]
fn backward_scalar(x: &[f32], g: &mut [f32]) {
    for (g, &x) in g.iter_mut().zip(x) {
        let s = sigmoid(x);
        *g *= s * (1.0 + x * (1.0 - s));
    }
}

#[inline(always)]
fn in_place_scalar(x: &mut [f32]) {
    for x in x.iter_mut() {
        *x *= sigmoid(*x);
    }
}

/// [`swish`] overwriting `x` with the result.
pub fn swish_in_place(x: &mut [f32]) {
    x.par_chunks_mut(CHUNK).for_each(|x| {
        with_simd(
            #[inline(always)]
            || in_place_scalar(x),
        )
    });
}

/// `x * sigmoid(x)` elementwise, written into fresh memory without zeroing it first.
pub fn swish(x: &[f32]) -> Vec<f32> {
    let n = x.len();
    let mut y = Vec::with_capacity(n);
    y.spare_capacity_mut()[..n]
        .par_chunks_mut(CHUNK)
        .zip(x.par_chunks(CHUNK))
        .for_each(|(y, x)| {
            with_simd(
                #[inline(always)]
                || forward_scalar(x, y),
            )
        });
    // SAFETY: the chunks cover all `n` elements and `forward_scalar` wrote every one.
    unsafe { y.set_len(n) };
    y
}

/// Turns the output gradient `grad` into the input gradient in place:
/// `grad * (s + x s (1 - s))`, `s = sigmoid(x)`.
pub fn swish_backward(x: &[f32], grad: &mut [f32]) {
    assert_eq!(
        x.len(),
        grad.len(),
        "swish backward: x and grad differ in length"
    );
    grad.par_chunks_mut(CHUNK)
        .zip(x.par_chunks(CHUNK))
        .for_each(|(g, x)| {
            with_simd(
                #[inline(always)]
                || backward_scalar(x, g),
            )
        });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_is_accurate_over_the_range() {
        let mut worst = 0.0f64;
        for i in -8700..=8700 {
            let x = i as f32 * 0.01;
            let e = (x as f64).exp();
            worst = worst.max(((exp_approx(x) as f64 - e) / e).abs());
        }
        assert!(worst < 5e-7, "worst relative error {worst}");
    }

    #[test]
    fn swish_and_derivative_match_the_definition() {
        let xs: Vec<f32> = (-2000..2000).map(|i| i as f32 * 0.01).collect();
        let y = swish(&xs);
        let mut g = vec![1.0f32; xs.len()];
        swish_backward(&xs, &mut g);
        for ((&x, &y), &g) in xs.iter().zip(&y).zip(&g) {
            let s = 1.0 / (1.0 + (-x as f64).exp());
            let want = x as f64 * s;
            assert!(
                (y as f64 - want).abs() <= 1e-6 * want.abs().max(1.0),
                "swish({x})"
            );
            let dwant = s * (1.0 + x as f64 * (1.0 - s));
            assert!(
                (g as f64 - dwant).abs() <= 1e-6,
                "swish'({x}) = {g} vs {dwant}"
            );
        }
        // The in-place form gives the same values.
        let mut y4 = xs.clone();
        swish_in_place(&mut y4);
        assert_eq!(y4, y);
        // Far tails: no NaN or infinity.
        let tails = swish(&[-1e4, 1e4]);
        assert!(tails[0].abs() < 1e-30 && tails[1] == 1e4, "{tails:?}");
    }
}
