//! The last Langevin step as a function of the weights: the KL term of Du et al. 2021
//! ("Improved Contrastive Divergence Training of Energy-Based Models").
//!
//! Contrastive divergence treats its negatives as constants, but they depend on the weights
//! `θ` through the sampler. Du et al. keep that dependence for the last step,
//! `x_K = clamp(x' - s * clip(∇_x E_θ(x')) + ξ)`, and add `L_KL = E_θ̄(x_K(θ))` to the loss,
//! where `θ̄` is the same weights held fixed: the weights learn to make one sampler step land
//! lower. Its gradient is a mixed second derivative,
//!
//! ```text
//! ∂L_KL/∂θ = -s · uᵀ ∂∇_x E_θ(x')/∂θ,   u = J_clampᵀ J_clipᵀ ∇_x E_θ̄(x_K),
//! ```
//!
//! which Burn 0.22 cannot take (no double backward). But `uᵀ ∇_x E_θ(x')` is the derivative of
//! `E_θ` at `x'` along `u`, and a central difference gives it from two energies,
//! `(E_θ(x' + εu) - E_θ(x' - εu)) / 2ε` (error `O(ε²)`), whose gradient in `θ` is first order.
//! [`last_step_probe`] builds the two points and [`LastStepProbe::term`] turns their energies
//! under the trained network into a term whose value is the outer loss and whose parameter
//! gradient is the outer loss's through the last step. The outer loss is any function of the
//! samples given by its value and gradient ([`Outer`]): `E_θ̄(x_K)` ([`Outer::energy`]), and
//! the entropy term beside it in Du et al. ([`crate::nearest`]).

use burn::tensor::Tensor;

use crate::grad::energy_and_grad;
use crate::langevin::{GradClip, LangevinConfig, LastStep};

/// A loss on the chain's samples `x_K`, per sample: its value `[n]` and its gradient with
/// respect to each sample (the shape of `x_K`), both on the plain device.
#[derive(Clone, Debug)]
pub struct Outer<const D: usize> {
    /// The loss of each sample.
    pub value: Tensor<1>,
    /// Its gradient with respect to that sample.
    pub grad: Tensor<D>,
}

impl<const D: usize> Outer<D> {
    /// `E(x_K)` under `energy` (the network the chain ran under, on the plain device).
    pub fn energy<F>(energy: &F, x_k: Tensor<D>) -> Self
    where
        F: Fn(Tensor<D>) -> Tensor<1> + ?Sized,
    {
        let (value, grad) = energy_and_grad(energy, x_k);
        Self { value, grad }
    }

    /// The loss times `w`.
    pub fn scaled(self, w: f64) -> Self {
        Self {
            value: self.value * w,
            grad: self.grad * w,
        }
    }

    /// The sum of two losses.
    pub fn plus(self, other: Self) -> Self {
        Self {
            value: self.value + other.value,
            grad: self.grad + other.grad,
        }
    }
}

/// The probe points of one batch's last step (see the module documentation).
#[derive(Clone, Debug)]
pub struct LastStepProbe<const D: usize> {
    /// `x' + ε u` for every sample, then `x' - ε u`: `2n` inputs for the trained network.
    pub points: Tensor<D>,
    /// `-s / 2ε` per sample `[n]`.
    scale: Tensor<1>,
    /// The outer loss per sample `[n]`, detached.
    pub value: Tensor<1>,
}

impl<const D: usize> LastStepProbe<D> {
    /// The per-sample term `[n]` from the trained network's energies of [`Self::points`]
    /// (`[2n]`, in the same order): its value is the outer loss of each sample, its gradient
    /// that loss's gradient in the weights through the last step.
    ///
    /// # Panics
    ///
    /// If `energies` does not hold one energy per point.
    pub fn term(&self, energies: Tensor<1>) -> Tensor<1> {
        let n = self.scale.dims()[0];
        assert_eq!(energies.dims(), [2 * n], "one energy per probe point");
        let (scale, value) = if energies.is_autodiff() {
            (self.scale.clone().autodiff(), self.value.clone().autodiff())
        } else {
            (self.scale.clone(), self.value.clone())
        };
        let directional = (energies.clone().slice(0..n) - energies.slice(n..2 * n)) * scale;
        directional.clone() - directional.detach() + value
    }
}

/// The probe of a chain's last step under `config`: `last` is that step as
/// [`LangevinConfig::run_keeping_last`] returns it and `to` the sample it gave, `mask` the
/// chain's inpainting mask (elements it keeps fixed have no gradient), `outer` the loss on
/// `to`. `h` sets the difference's reach: each sample's `ε` moves it by an RMS of `h` per
/// element.
pub fn last_step_probe<const D: usize>(
    config: &LangevinConfig,
    last: LastStep<D>,
    to: Tensor<D>,
    mask: Option<&Tensor<D>>,
    outer: Outer<D>,
    h: f64,
) -> LastStepProbe<D> {
    let from = last.from.without_autodiff();
    let to = to.without_autodiff();
    let n = from.dims()[0];
    let mut u = outer.grad.without_autodiff();
    if let Some(m) = mask {
        u = u * m.clone().without_autodiff();
    }
    // Elements the clamp holds at a bound do not move with the weights.
    if let Some((lo, hi)) = config.clamp {
        let inside = to.clone().greater_elem(lo).float() * to.lower_elem(hi).float();
        u = u * inside;
    }
    if let Some(bound) = config.grad_clip {
        u = clip_transpose(u, last.grad.without_autodiff(), bound);
    }
    let rms = flat(u.clone()).powi_scalar(2).mean_dim(1).sqrt(); // [n, 1]
    let eps = rms.clamp_min(1e-12).recip() * h; // [n, 1]
    let mut shape = [1usize; D];
    shape[0] = n;
    let step = u * eps.clone().reshape(shape);
    let points = Tensor::cat(vec![from.clone() + step.clone(), from - step], 0);
    let scale = eps.recip().reshape([n]) * (-config.step_size / 2.0);
    LastStepProbe {
        points,
        scale,
        value: outer.value.without_autodiff(),
    }
}

/// `Jᵀ u` for the Jacobian `J` of the gradient bound at `g`.
fn clip_transpose<const D: usize>(u: Tensor<D>, g: Tensor<D>, bound: GradClip) -> Tensor<D> {
    match bound {
        // Clipped elements are constants.
        GradClip::Elementwise(c) => u * g.abs().lower_elem(c).float(),
        // Beyond the bound, `clip(g) = c g / |g|`, whose Jacobian is `c/|g| (I - ĝ ĝᵀ)`.
        GradClip::L2Norm(c) => {
            let dims = u.dims();
            let (u, g) = (flat(u), flat(g));
            let norm = g.clone().powi_scalar(2).sum_dim(1).sqrt(); // [n, 1]
            let over = norm.clone().greater_elem(c).float();
            let unit = g / norm.clone().clamp_min(1e-30);
            let along = (unit.clone() * u.clone()).sum_dim(1);
            let scale = (norm.clamp_min(1e-30).recip() * c).clamp_max(1.0);
            ((u - unit * along * over) * scale).reshape(dims)
        }
    }
}

/// `[n, ...]` as `[n, rest]`.
fn flat<const D: usize>(x: Tensor<D>) -> Tensor<2> {
    let n = x.dims()[0];
    x.reshape([n as i64, -1])
}

#[cfg(test)]
mod tests {
    use burn::tensor::{Device, Tensor, TensorData};

    use super::*;
    use crate::observer::NoObserver;

    /// `E_θ(x) = Σ_j θ_j x_j² / 2 + θ_j² x_j³ / 3`, per row: `∇_x E = θ x + θ² x²`, so the
    /// input gradient depends on `θ` non-linearly.
    fn energy(theta: Tensor<1>) -> impl Fn(Tensor<2>) -> Tensor<1> {
        move |x: Tensor<2>| {
            let [n, d] = x.dims();
            let t = theta.clone().reshape([1, d]);
            let e = x.clone().powi_scalar(2) * t.clone() * 0.5
                + x.powi_scalar(3) * t.powi_scalar(2) / 3.0;
            e.sum_dim(1).reshape([n])
        }
    }

    fn tensor<const D: usize>(v: &[f32], shape: [usize; D], device: &Device) -> Tensor<D> {
        Tensor::from_data(TensorData::new(v.to_vec(), shape), device)
    }

    fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
        t.into_data().convert::<f32>().try_to_vec::<f32>().unwrap()
    }

    /// `L(θ) = Σ_i E_θ̄(x_K,i(θ))`, with one noiseless step of `config` from `x0`.
    fn kl(config: &LangevinConfig, theta: &[f32], theta_bar: &[f32], x0: &Tensor<2>) -> f64 {
        let device = x0.device();
        let d = theta.len();
        let x_k = config.run(
            &energy(tensor(theta, [d], &device)),
            x0.clone(),
            None,
            &mut NoObserver,
        );
        let e = energy(tensor(theta_bar, [d], &device))(x_k);
        e.sum().into_scalar::<f64>()
    }

    /// The parameter gradient of the probe's KL term against central differences of the true
    /// `L_KL` in each weight, for a sampler `config` (one noiseless step).
    fn check(config: LangevinConfig, x0: &[f32]) {
        let device = Device::flex();
        let config = config.with_steps(1).with_noise_std(0.0);
        let theta = [0.8f32, -0.5, 1.3, 0.6];
        let x0 = tensor(x0, [3, 4], &device);
        let plain = energy(tensor(&theta, [4], &device));
        let (to, last) = config.run_keeping_last(&plain, x0.clone(), None, &mut NoObserver);
        let last = last.expect("one step");
        assert_eq!(values(last.from.clone()), values(x0.clone()));
        let outer = Outer::energy(&plain, to.clone());
        let probe = last_step_probe(&config, last, to.clone(), None, outer, 1e-3);

        let theta_ad = tensor(&theta, [4], &device).autodiff().require_grad();
        let points = probe.points.clone().autodiff();
        let term = probe.term(energy(theta_ad.clone())(points));
        // The value is the energy of the samples under the fixed weights.
        let value = term.clone().sum().into_scalar::<f64>();
        let expected = plain(to).sum().into_scalar::<f64>();
        assert!((value - expected).abs() < 1e-5, "{value} vs {expected}");
        let grads = term.sum().backward();
        let got = values(theta_ad.grad(&grads).expect("θ reaches the term"));

        let delta = 1e-2f32;
        for j in 0..4 {
            let (mut up, mut down) = (theta, theta);
            up[j] += delta;
            down[j] -= delta;
            let numeric = (kl(&config, &up, &theta, &x0) - kl(&config, &down, &theta, &x0))
                / (2.0 * delta as f64);
            let tol = 2e-3 * numeric.abs().max(1.0);
            assert!(
                (got[j] as f64 - numeric).abs() < tol,
                "weight {j}: probe {} vs finite difference {numeric}",
                got[j]
            );
        }
    }

    const X0: [f32; 12] = [
        0.2, 0.5, 0.7, 0.1, //
        0.9, 0.3, 0.4, 0.6, //
        0.5, 0.8, 0.2, 0.35,
    ];

    #[test]
    fn the_probe_gives_the_gradient_of_the_last_step_without_bounds() {
        check(LangevinConfig::new().with_step_size(0.3), &X0);
    }

    #[test]
    fn the_probe_gives_the_gradient_through_clamp_and_elementwise_clip() {
        // Step 1 with a clip of 0.5: some elements' gradients clip, some samples leave [0, 1].
        let config = LangevinConfig::new()
            .with_step_size(1.0)
            .with_clamp(Some((0.0, 1.0)))
            .with_grad_clip(Some(GradClip::Elementwise(0.5)));
        check(config, &X0);
    }

    #[test]
    fn the_probe_gives_the_gradient_through_an_l2_clip() {
        let config = LangevinConfig::new()
            .with_step_size(0.3)
            .with_grad_clip(Some(GradClip::L2Norm(0.6)));
        check(config, &X0);
    }

    #[test]
    fn a_clamped_element_gives_no_gradient() {
        let device = Device::flex();
        // Every element starts at 0 and is pushed to 2: the clamp holds them all at 1.
        let config = LangevinConfig::new()
            .with_steps(1)
            .with_noise_std(0.0)
            .with_step_size(1.0)
            .with_clamp(Some((0.0, 1.0)));
        let push_up = |x: Tensor<2>| x.sum_dim(1).reshape([2]) * -2.0;
        let x0 = Tensor::<2>::zeros([2, 3], &device);
        let (to, last) = config.run_keeping_last(&push_up, x0, None, &mut NoObserver);
        let outer = Outer::energy(&push_up, to.clone());
        let probe = last_step_probe(&config, last.unwrap(), to, None, outer, 1e-3);
        let (plus, minus) = (probe.points.clone().slice(0..2), probe.points.slice(2..4));
        assert_eq!(values(plus), values(minus), "no direction left to probe");
    }
}
