//! The Winograd transforms on eight tiles at once with AVX2 (lane `l` = tile `l`), written
//! with intrinsics on whole vectors. The portable forms in [`crate::winograd`] compile, under
//! `target_feature`, to scalar and half-vector code that shuttles the lanes through the stack
//! (the nested lane arrays defeat the vectoriser), and they fill the lanes of a patch element
//! by element, so that every vector waits for eight scalar stores (store-to-load forwarding
//! fails): the input transform of the 2x2 kernels cost as much as their products.
//!
//! - [`gather_patches`]: the `A x A` patches of eight tiles, one unaligned load per patch row
//!   and tile, transposed in registers.
//! - [`sandwich`]: `B^T d B` and `A^T m A` on vectors, the scheme's constant coefficients
//!   unrolled (zeros skipped).
//! - [`tile_major`]: the outputs back to one row of values per tile.

// Index loops mirror the matrix formulas of the transforms.
#![allow(clippy::needless_range_loop)]

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

/// Lanes per vector.
pub const LANES: usize = 8;

/// Eight lanes of `f32`.
pub type Lane = [f32; LANES];

/// Elements read per patch row (the row plus what the load reads past it): 4 for `A <= 4`, 8
/// for `A <= 8`.
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
pub const fn row_load(a: usize) -> usize {
    if a <= 4 { 4 } else { 8 }
}

/// Set by tests to run the portable transforms on a CPU that has AVX2.
#[cfg(test)]
pub(crate) static FORCE_PORTABLE: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

/// True when the functions here can run on this CPU (AVX2 and FMA).
pub fn available() -> bool {
    #[cfg(test)]
    if FORCE_PORTABLE.load(std::sync::atomic::Ordering::Relaxed) {
        return false;
    }
    #[cfg(target_arch = "x86_64")]
    return std::arch::is_x86_feature_detected!("avx2")
        && std::arch::is_x86_feature_detected!("fma");
    #[cfg(not(target_arch = "x86_64"))]
    false
}

/// `d[i][j]` lane `l` = `input[offsets[l] + i * w + j]` for `i, j < A`.
///
/// # Panics
/// If `A > 8`, or a lane's last row load `offsets[l] + (A - 1) * w + row_load(A)` would pass
/// the end of `input`.
///
/// # Safety
/// The CPU must have AVX2 and FMA ([`available`]).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[inline]
pub unsafe fn gather_patches<const A: usize>(
    input: &[f32],
    offsets: &[usize; LANES],
    w: usize,
) -> [[__m256; A]; A] {
    assert!(A <= 8, "patches wider than 8 are not supported");
    let reach = (A - 1) * w + row_load(A);
    assert!(
        offsets.iter().all(|&o| o + reach <= input.len()),
        "a patch row load passes the end of the input"
    );
    let p = input.as_ptr();
    let mut d = [[_mm256_setzero_ps(); A]; A];
    // SAFETY: every load reads `row_load(A)` floats starting at `offsets[l] + i * w`, inside
    // `input` by the assert above.
    unsafe {
        for (i, row) in d.iter_mut().enumerate() {
            // Macros rather than closures: the intrinsics must be compiled with this
            // function's target features.
            macro_rules! at {
                ($l:expr) => {
                    p.add(offsets[$l] + i * w)
                };
            }
            if A <= 4 {
                macro_rules! pair {
                    ($a:expr, $b:expr) => {
                        _mm256_insertf128_ps::<1>(
                            _mm256_castps128_ps256(_mm_loadu_ps(at!($a))),
                            _mm_loadu_ps(at!($b)),
                        )
                    };
                }
                // Lanes 0-3 in the low halves, 4-7 in the high halves, then a 4x4 transpose
                // within each half.
                let cols = transpose_halves([pair!(0, 4), pair!(1, 5), pair!(2, 6), pair!(3, 7)]);
                row.copy_from_slice(&cols[..A]);
            } else {
                let r = [
                    _mm256_loadu_ps(at!(0)),
                    _mm256_loadu_ps(at!(1)),
                    _mm256_loadu_ps(at!(2)),
                    _mm256_loadu_ps(at!(3)),
                    _mm256_loadu_ps(at!(4)),
                    _mm256_loadu_ps(at!(5)),
                    _mm256_loadu_ps(at!(6)),
                    _mm256_loadu_ps(at!(7)),
                ];
                // 8x8 transpose: pairs, quads, then halves.
                let t = [
                    _mm256_unpacklo_ps(r[0], r[1]),
                    _mm256_unpackhi_ps(r[0], r[1]),
                    _mm256_unpacklo_ps(r[2], r[3]),
                    _mm256_unpackhi_ps(r[2], r[3]),
                    _mm256_unpacklo_ps(r[4], r[5]),
                    _mm256_unpackhi_ps(r[4], r[5]),
                    _mm256_unpacklo_ps(r[6], r[7]),
                    _mm256_unpackhi_ps(r[6], r[7]),
                ];
                let q = [
                    _mm256_shuffle_ps::<0x44>(t[0], t[2]),
                    _mm256_shuffle_ps::<0xEE>(t[0], t[2]),
                    _mm256_shuffle_ps::<0x44>(t[1], t[3]),
                    _mm256_shuffle_ps::<0xEE>(t[1], t[3]),
                    _mm256_shuffle_ps::<0x44>(t[4], t[6]),
                    _mm256_shuffle_ps::<0xEE>(t[4], t[6]),
                    _mm256_shuffle_ps::<0x44>(t[5], t[7]),
                    _mm256_shuffle_ps::<0xEE>(t[5], t[7]),
                ];
                let cols = [
                    _mm256_permute2f128_ps::<0x20>(q[0], q[4]),
                    _mm256_permute2f128_ps::<0x20>(q[1], q[5]),
                    _mm256_permute2f128_ps::<0x20>(q[2], q[6]),
                    _mm256_permute2f128_ps::<0x20>(q[3], q[7]),
                    _mm256_permute2f128_ps::<0x31>(q[0], q[4]),
                    _mm256_permute2f128_ps::<0x31>(q[1], q[5]),
                    _mm256_permute2f128_ps::<0x31>(q[2], q[6]),
                    _mm256_permute2f128_ps::<0x31>(q[3], q[7]),
                ];
                row.copy_from_slice(&cols[..A]);
            }
        }
    }
    d
}

/// Loads `A x A` lanes.
///
/// # Safety
/// The CPU must have AVX2 and FMA ([`available`]).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[inline]
pub unsafe fn load<const A: usize>(d: &[[Lane; A]; A]) -> [[__m256; A]; A] {
    let mut x = [[_mm256_setzero_ps(); A]; A];
    for (xr, dr) in x.iter_mut().zip(d) {
        for (x, d) in xr.iter_mut().zip(dr) {
            // SAFETY: a lane is 8 floats.
            *x = unsafe { _mm256_loadu_ps(d.as_ptr()) };
        }
    }
    x
}

/// `sum_k c[k] x[k]` over the nonzero constants.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[inline]
fn combine<const K: usize>(c: &[f32; K], x: &[__m256; K]) -> __m256 {
    let mut acc = _mm256_setzero_ps();
    for k in 0..K {
        if c[k] == 1.0 {
            acc = _mm256_add_ps(acc, x[k]);
        } else if c[k] == -1.0 {
            acc = _mm256_sub_ps(acc, x[k]);
        } else if c[k] != 0.0 {
            acc = _mm256_fmadd_ps(_mm256_set1_ps(c[k]), x[k], acc);
        }
    }
    acc
}

/// `C x C^T` on every lane for a `P x A` constant matrix `c`: the input transform with
/// `c = B^T` (`V = B^T d B`), the output transform with `c = A^T` (`Y = A^T m A`). Entry
/// `(i, j)` of the result is `y[i][j]`.
///
/// # Safety
/// The CPU must have AVX2 and FMA ([`available`]).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[inline]
pub unsafe fn sandwich<const P: usize, const A: usize>(
    c: &[[f32; A]; P],
    x: &[[__m256; A]; A],
) -> [[__m256; P]; P] {
    // t = C x (column by column), y = t C^T (row by row).
    let mut t = [[_mm256_setzero_ps(); A]; P];
    for j in 0..A {
        let mut col = [_mm256_setzero_ps(); A];
        for k in 0..A {
            col[k] = x[k][j];
        }
        for i in 0..P {
            t[i][j] = combine(&c[i], &col);
        }
    }
    let mut y = [[_mm256_setzero_ps(); P]; P];
    for i in 0..P {
        for j in 0..P {
            y[i][j] = combine(&c[j], &t[i]);
        }
    }
    y
}

/// A 4x4 transpose within each 128-bit half: element `j` of `r[l]` ends up as element `l` of
/// result `j` (lanes `0-3` from the low halves, `4-7` from the high ones).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[inline]
fn transpose_halves(r: [__m256; 4]) -> [__m256; 4] {
    let (u0, u1) = (
        _mm256_unpacklo_ps(r[0], r[1]),
        _mm256_unpackhi_ps(r[0], r[1]),
    );
    let (u2, u3) = (
        _mm256_unpacklo_ps(r[2], r[3]),
        _mm256_unpackhi_ps(r[2], r[3]),
    );
    [
        _mm256_shuffle_ps::<0x44>(u0, u2),
        _mm256_shuffle_ps::<0xEE>(u0, u2),
        _mm256_shuffle_ps::<0x44>(u1, u3),
        _mm256_shuffle_ps::<0xEE>(u1, u3),
    ]
}

/// The `M x M` outputs of each lane's tile, tile by tile (`out[l][i][j]` = lane `l` of
/// `y[i][j]`), transposed in registers so that each tile's rows can be copied out whole.
///
/// # Safety
/// The CPU must have AVX2 and FMA ([`available`]).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[inline]
pub unsafe fn tile_major<const M: usize>(y: &[[__m256; M]; M]) -> [[[f32; M]; M]; LANES] {
    let mut out = [[[0.0f32; M]; M]; LANES];
    for (i, row) in y.iter().enumerate() {
        // SAFETY (all stores below): each writes 2 or 4 floats into a row of `out` of at
        // least that length (M = 2 or 4 in the respective branch).
        unsafe {
            if M == 4 {
                // A 4x4 transpose within each half: lanes 0-3 low, 4-7 high.
                let r = transpose_halves([row[0], row[1], row[2], row[3]]);
                for (l, v) in r.iter().enumerate() {
                    _mm_storeu_ps(out[l][i].as_mut_ptr(), _mm256_castps256_ps128(*v));
                    _mm_storeu_ps(out[l + 4][i].as_mut_ptr(), _mm256_extractf128_ps::<1>(*v));
                }
            } else if M == 2 {
                // Pairs: lanes 0, 1 | 4, 5 from the low interleave, 2, 3 | 6, 7 from the high.
                let lo = _mm256_unpacklo_ps(row[0], row[1]);
                let hi = _mm256_unpackhi_ps(row[0], row[1]);
                for (v, l) in [(lo, 0), (hi, 2)] {
                    // 64-bit halves, stored as doubles (unaligned stores).
                    let a = _mm_castps_pd(_mm256_castps256_ps128(v));
                    let b = _mm_castps_pd(_mm256_extractf128_ps::<1>(v));
                    _mm_storel_pd(out[l][i].as_mut_ptr().cast(), a);
                    _mm_storeh_pd(out[l + 1][i].as_mut_ptr().cast(), a);
                    _mm_storel_pd(out[l + 4][i].as_mut_ptr().cast(), b);
                    _mm_storeh_pd(out[l + 5][i].as_mut_ptr().cast(), b);
                }
            } else {
                for (j, v) in row.iter().enumerate() {
                    let mut lanes = [0.0f32; LANES];
                    _mm256_storeu_ps(lanes.as_mut_ptr(), *v);
                    for (l, x) in lanes.iter().enumerate() {
                        out[l][i][j] = *x;
                    }
                }
            }
        }
    }
    out
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::*;
    use crate::winograd::{F22, F43, Scheme};

    fn lanes<const A: usize>(x: &[[__m256; A]; A]) -> [[Lane; A]; A] {
        let mut out = [[[0.0f32; LANES]; A]; A];
        for (o, x) in out.iter_mut().zip(x) {
            for (o, x) in o.iter_mut().zip(x) {
                // SAFETY: a lane is 8 floats.
                unsafe { _mm256_storeu_ps(o.as_mut_ptr(), *x) };
            }
        }
        out
    }

    fn check_gather<const A: usize>() {
        let w = 13;
        let input: Vec<f32> = (0..400).map(|i| i as f32).collect();
        let offsets = [0, 5, 17, 40, 41, 99, 150, 200];
        // SAFETY: only run where the CPU has AVX2 and FMA.
        let d = lanes(&unsafe { gather_patches::<A>(&input, &offsets, w) });
        for i in 0..A {
            for j in 0..A {
                for l in 0..LANES {
                    assert_eq!(
                        d[i][j][l],
                        input[offsets[l] + i * w + j],
                        "A {A} ({i},{j}) lane {l}"
                    );
                }
            }
        }
    }

    /// The vector transforms against the definitions, lane by lane.
    fn check_transforms<S: Scheme<M, R, A>, const M: usize, const R: usize, const A: usize>() {
        let mut d = [[[0.0f32; LANES]; A]; A];
        for (k, v) in d.iter_mut().flatten().flatten().enumerate() {
            *v = ((k * 37) % 101) as f32 / 10.0 - 5.0;
        }
        // SAFETY: only run where the CPU has AVX2 and FMA.
        let (v, y) = unsafe {
            let x = load(&d);
            let y = sandwich(&S::AT, &x);
            (lanes(&sandwich(&S::BT, &x)), tile_major::<M>(&y))
        };
        for l in 0..LANES {
            for i in 0..A {
                for j in 0..A {
                    let want: f32 = (0..A)
                        .flat_map(|a| (0..A).map(move |b| (a, b)))
                        .map(|(a, b)| S::BT[i][a] * d[a][b][l] * S::BT[j][b])
                        .sum();
                    assert!((v[i][j][l] - want).abs() < 1e-3, "input ({i},{j}) lane {l}");
                }
            }
            for i in 0..M {
                for j in 0..M {
                    let want: f32 = (0..A)
                        .flat_map(|a| (0..A).map(move |b| (a, b)))
                        .map(|(a, b)| S::AT[i][a] * d[a][b][l] * S::AT[j][b])
                        .sum();
                    assert!(
                        (y[l][i][j] - want).abs() < 1e-2,
                        "output ({i},{j}) lane {l}"
                    );
                }
            }
        }
    }

    #[test]
    fn lanes_hold_the_patches_and_transforms_match_their_definitions() {
        if !available() {
            eprintln!("skipped: this CPU has no AVX2 and FMA");
            return;
        }
        check_gather::<3>();
        check_gather::<4>();
        check_gather::<6>();
        check_gather::<8>();
        check_transforms::<F22, 2, 2, 3>();
        check_transforms::<F43, 4, 3, 6>();
    }

    #[test]
    #[should_panic(expected = "passes the end")]
    fn a_load_past_the_end_is_refused() {
        if !available() {
            panic!("passes the end (no AVX2 here; nothing to check)");
        }
        let input = vec![0.0f32; 40];
        // SAFETY: the CPU has AVX2 and FMA (checked above).
        let _ = unsafe { gather_patches::<3>(&input, &[0, 0, 0, 0, 0, 0, 0, 13], 13) };
    }
}
