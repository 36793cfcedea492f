//! Statistical tests: many chains on analytic energies must reproduce known moments and mode
//! weights within tolerances derived from standard errors.

use burn::tensor::{Device, Distribution, Tensor};
use ebm_sampler::compose::and;
use ebm_sampler::{HmcConfig, LangevinConfig, MalaConfig, NoObserver, Recorder};

/// `E(x) = |x - mu|^2 / (2 s^2)` per sample of `[batch, dim]`.
fn gaussian(mu: f64, s: f64) -> impl Fn(Tensor<2>) -> Tensor<1> {
    move |x: Tensor<2>| {
        let b = x.dims()[0];
        ((x - mu).powi_scalar(2).sum_dim(1) / (2.0 * s * s)).reshape([b])
    }
}

/// Column 0 of `[n, 2]` samples.
fn first_coordinates(x: Tensor<2>) -> Vec<f64> {
    let v = x.into_data().try_to_vec::<f32>().unwrap();
    v.chunks(2).map(|c| f64::from(c[0])).collect()
}

fn mean_var(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    (
        m,
        v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0),
    )
}

/// Asserts sample mean and variance of `n` independent draws match `(mu, var)` within 4
/// standard errors (SE of the mean sqrt(var / n); of a Gaussian variance var sqrt(2 / n)), plus a
/// known discretisation bias `bias_var` of the sampler.
fn assert_moments(samples: &[f64], mu: f64, var: f64, bias_var: f64, what: &str) {
    let n = samples.len() as f64;
    let (m, v) = mean_var(samples);
    let se_m = (var / n).sqrt();
    let se_v = var * (2.0 / n).sqrt();
    assert!(
        (m - mu).abs() < 4.0 * se_m,
        "{what}: mean {m}, expected {mu} +- {}",
        4.0 * se_m
    );
    assert!(
        (v - var).abs() < 4.0 * se_v + bias_var,
        "{what}: variance {v}, expected {var} +- {}",
        4.0 * se_v + bias_var
    );
}

#[test]
fn textbook_langevin_reaches_a_gaussians_mean_and_variance() {
    let device = Device::flex();
    let (mu, s) = (1.5, 0.8);
    let x0 = Tensor::<2>::random([4000, 2], Distribution::Uniform(-3.0, 3.0), &device);
    let eps = 0.01;
    let x = LangevinConfig::textbook(1500, eps).run(&gaussian(mu, s), x0, None, &mut NoObserver);
    // ULA on a Gaussian is stationary at variance s^2 / (1 - eps / (2 s^2)): a bias of about
    // s^2 * eps / (2 s^2) = eps / 2, allowed on top of the sampling error.
    assert_moments(&first_coordinates(x), mu, s * s, eps / 2.0 + 1e-3, "ULA");
}

#[test]
fn mala_weights_two_modes_as_the_mixture_does() {
    // p = 0.3 N((-1.5, 0), I) + 0.7 N((1.5, 0), I): modes overlap enough for chains to cross.
    let device = Device::flex();
    let (wa, wb, c) = (0.3f64, 0.7f64, 1.5f64);
    let energy = move |x: Tensor<2>| {
        let b = x.dims()[0];
        let offset = Tensor::<2>::from_floats([[c as f32, 0.0]], &x.device());
        let ea = (x.clone() + offset.clone()).powi_scalar(2).sum_dim(1) * 0.5 - wa.ln();
        let eb = (x - offset).powi_scalar(2).sum_dim(1) * 0.5 - wb.ln();
        ebm_sampler::compose::or(vec![ea.reshape([b]), eb.reshape([b])])
    };
    // Every chain starts in the lighter mode.
    let n = 3000;
    let x0 = Tensor::<2>::random([n, 2], Distribution::Normal(0.0, 1.0), &device)
        - Tensor::<2>::from_floats([[c as f32, 0.0]], &device);
    let mut rec = Recorder::default();
    let x = MalaConfig::new()
        .with_steps(400)
        .with_step_size(0.3)
        .run(&energy, x0, &mut rec);
    let right = first_coordinates(x).iter().filter(|&&v| v > 0.0).count() as f64 / n as f64;
    // P(x_0 > 0) = wa * Phi(-c) + wb * Phi(c).
    let phi = |z: f64| 0.5 * (1.0 + erf(z / 2f64.sqrt()));
    let p = wa * phi(-c) + wb * phi(c);
    let tol = 4.0 * (p * (1.0 - p) / n as f64).sqrt();
    assert!(
        (right - p).abs() < tol,
        "share right of 0: {right}, expected {p} +- {tol}"
    );
    let acc = rec.steps.last().unwrap().acceptance.unwrap();
    assert!(acc > 0.5 && acc < 1.0, "MALA acceptance {acc}");
}

#[test]
fn summed_gaussian_energies_sample_the_product_gaussian() {
    let device = Device::flex();
    let (m1, s1, m2, s2) = (-1.0, 1.0, 2.0, 0.5);
    let (e1, e2) = (gaussian(m1, s1), gaussian(m2, s2));
    let product = |x: Tensor<2>| and(vec![(1.0, e1(x.clone())), (1.0, e2(x))]);
    // Precisions add; the mean is the precision-weighted mean.
    let prec = 1.0 / (s1 * s1) + 1.0 / (s2 * s2);
    let mu = (m1 / (s1 * s1) + m2 / (s2 * s2)) / prec;
    let x0 = Tensor::<2>::random([4000, 2], Distribution::Uniform(-2.0, 2.0), &device);
    let x =
        MalaConfig::new()
            .with_steps(300)
            .with_step_size(0.05)
            .run(&product, x0, &mut NoObserver);
    assert_moments(
        &first_coordinates(x),
        mu,
        1.0 / prec,
        0.0,
        "product of experts",
    );
}

#[test]
fn hmc_samples_a_gaussian_and_reports_acceptance() {
    let device = Device::flex();
    let (mu, s) = (-0.5, 1.3);
    let x0 = Tensor::<2>::random([3000, 2], Distribution::Uniform(-3.0, 3.0), &device);
    let mut rec = Recorder::default();
    let x = HmcConfig::new()
        .with_steps(40)
        .with_leapfrog_steps(8)
        .with_step_size(0.3)
        .run(&gaussian(mu, s), x0, &mut rec);
    assert_moments(&first_coordinates(x), mu, s * s, 0.0, "HMC");
    let acc = rec.steps.last().unwrap().acceptance.unwrap();
    assert!(acc > 0.6, "HMC acceptance {acc}");
}

/// Abramowitz-Stegun 7.1.26 (|error| < 1.5e-7).
fn erf(x: f64) -> f64 {
    let t = 1.0 / (1.0 + 0.327_591_1 * x.abs());
    let y = 1.0
        - (((((1.061_405_429 * t - 1.453_152_027) * t) + 1.421_413_741) * t - 0.284_496_736) * t
            + 0.254_829_592)
            * t
            * (-x * x).exp();
    y.copysign(x)
}
