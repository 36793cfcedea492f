//! Deterministic test inputs and comparisons for the kernels' unit tests.

/// `n` values in [-1, 1) from a linear congruential generator seeded with `seed`.
pub fn pseudo_random(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed;
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        })
        .collect()
}

/// `<a, b>` accumulated in `f64`.
pub fn dot(a: &[f32], b: &[f32]) -> f64 {
    a.iter().zip(b).map(|(a, b)| (a * b) as f64).sum()
}

/// Every value of `got` within `1e-5` of `want`'s largest magnitude (at least 1) of its twin.
pub fn assert_close(got: &[f32], want: &[f32], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    let scale = want.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    for (g, e) in got.iter().zip(want) {
        assert!(
            (g - e).abs() <= 1e-5 * scale.max(1.0),
            "{g} vs {e} in {what}"
        );
    }
}
