use super::*;
use burn::tensor::Device;

fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_to_vec::<f32>().unwrap()
}

#[test]
fn precision_matches_the_official_matrix_for_five_steps() {
    // toeplitz([1, -2, 1, 0..], [1, 0..]) with its last two rows replaced by [0.., 0] and
    // [0.., 1, -1]: A^T A as numpy computes it for plan_steps = 5.
    let expected = [
        6., -4., 1., 0., 0., -4., 6., -4., 1., 0., 1., -4., 6., -4., 1., 0., 1., -4., 6., -3., 0.,
        0., 1., -3., 2.,
    ];
    assert_eq!(smooth_precision(5), expected.to_vec());
}

#[test]
fn factor_reproduces_the_covariance() {
    for t in [1, 2, 5, 20] {
        let var = 1e-5;
        let b: Vec<f64> = smooth_factor(t, var).iter().map(|&v| v as f64).collect();
        let m = smooth_precision(t);
        // (B B^T) M = var I.
        for i in 0..t {
            for j in 0..t {
                let mut s = 0.0;
                for p in 0..t {
                    let bbt: f64 = (0..t).map(|q| b[i * t + q] * b[p * t + q]).sum();
                    s += bbt * m[p * t + j];
                }
                let want = if i == j { var } else { 0.0 };
                // B is stored as f32: agreement to 1e-3 of the variance.
                assert!(
                    (s - want).abs() < 1e-3 * var,
                    "t {t} ({i}, {j}): {s} vs {want}"
                );
            }
        }
    }
    // The official marginal std for 20 steps: 0.0031 at the first step, 0.088 at the last.
    let b = smooth_factor(20, 1e-5);
    let std = |i: usize| {
        (0..20)
            .map(|q| (b[i * 20 + q] as f64).powi(2))
            .sum::<f64>()
            .sqrt()
    };
    assert!((std(0) - 0.0031).abs() < 1e-4, "{}", std(0));
    assert!((std(19) - 0.088).abs() < 1e-3, "{}", std(19));
}

#[test]
fn converges_to_the_minimum_of_a_quadratic_and_keeps_pinned_positions() {
    let device = Device::flex();
    device.seed(3);
    let cost = |x: Tensor<3>| {
        let n = x.dims()[0];
        (x - 0.5)
            .powi_scalar(2)
            .reshape([n as i64, -1])
            .sum_dim(1)
            .reshape([n])
    };
    let x0 = Tensor::<3>::zeros([3, 4, 2], &device);
    let cfg = MppiConfig::new()
        .with_iterations(300)
        .with_samples(32)
        .with_temperature(100.0)
        .with_noise(MppiNoise::Gaussian { std: 0.05 });
    let x = values(cfg.run(&cost, x0, 1));
    for b in 0..3 {
        for t in 0..4 {
            for d in 0..2 {
                let v = x[(b * 4 + t) * 2 + d];
                if t == 0 {
                    assert_eq!(v, 0.0, "a pinned position moved");
                } else {
                    assert!((v - 0.5).abs() < 0.05, "x[{b},{t},{d}] = {v}");
                }
            }
        }
    }
}

#[test]
fn smooth_noise_moves_late_positions_more_and_clamps() {
    let device = Device::flex();
    device.seed(5);
    // Cost pulls every position towards 2, beyond the clamp at 1.
    let cost = |x: Tensor<3>| {
        let n = x.dims()[0];
        (x - 2.0)
            .powi_scalar(2)
            .reshape([n as i64, -1])
            .sum_dim(1)
            .reshape([n])
    };
    let x0 = Tensor::<3>::zeros([1, 11, 1], &device);
    let cfg = MppiConfig::ebm_plan().with_iterations(5);
    let x = values(cfg.run(&cost, x0, 1));
    assert_eq!(x[0], 0.0);
    assert!(x.iter().all(|&v| v <= 1.0));
    // Second differences pinned at the start: the first free step moves far less than the last.
    assert!(x[1].abs() < x[10].abs(), "{x:?}");
    assert!(
        x[10] > 0.0,
        "the last position should move towards the target: {x:?}"
    );
}

#[test]
fn zero_temperature_averages_the_candidates() {
    let device = Device::flex();
    device.seed(11);
    let cost = |x: Tensor<3>| {
        let n = x.dims()[0];
        x.sum_dim(2).sum_dim(1).reshape([n])
    };
    let (k, std) = (400, 0.1);
    let cfg = MppiConfig::new()
        .with_iterations(1)
        .with_samples(k)
        .with_temperature(0.0)
        .with_noise(MppiNoise::Gaussian { std })
        .with_clamp(None);
    let x = values(cfg.run(&cost, Tensor::<3>::ones([8, 1, 1], &device), 0));
    // Equal weights: each result is a mean of k draws, std / sqrt(k) = 0.005 from 1.
    for v in x {
        assert!(
            ((v - 1.0).abs() as f64) < 4.0 * std / (k as f64).sqrt(),
            "{v}"
        );
    }
}
