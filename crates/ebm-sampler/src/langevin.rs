//! Langevin dynamics as the official IGEBM code runs it.

use burn::config::Config;
use burn::tensor::{Distribution, Tensor};

use crate::grad::energy_and_grad;
use crate::observer::{Observer, StepStats};

/// How the input gradient is bounded before the step.
#[derive(Config, Debug, Copy, PartialEq)]
pub enum GradClip {
    /// Clip every element to `[-c, c]` (the official `--proj_norm` with `proj_norm_type='li'`).
    Elementwise(f64),
    /// Rescale each sample's gradient to L2 norm at most `c` (`proj_norm_type='l2'`).
    L2Norm(f64),
}

/// Configuration of a Langevin chain:
/// `x <- x + N(0, noise_std^2)`, `g = clip(dE/dx)`, `x <- clamp(x - step_size * g)`.
#[derive(Config, Debug)]
pub struct LangevinConfig {
    /// Number of steps K.
    #[config(default = 60)]
    pub steps: usize,
    /// Multiplier of the (clipped) gradient, the official `step_lr`.
    #[config(default = 10.0)]
    pub step_size: f64,
    /// Standard deviation of the Gaussian noise added each step.
    ///
    /// Decoupled from `step_size` on purpose: textbook Langevin (ULA) with step `l` moves by
    /// `l/2 * grad` and adds noise of std `sqrt(l)`, but IGEBM uses step 10 with noise 0.005, about
    /// 1000x less than `sqrt(2 * 10)`. The chains are then closer to noisy gradient descent, which
    /// is what makes short-run sampling of images work; the set of samples is not an exact draw
    /// from `exp(-E)`. Set `noise_std = sqrt(2 * step_size)` for textbook coupling.
    #[config(default = 0.005)]
    pub noise_std: f64,
    /// Gradient bound applied before each step (`None`: raw gradient).
    #[config(default = "None")]
    pub grad_clip: Option<GradClip>,
    /// Range every element is clamped to after each step (`None`: unbounded).
    #[config(default = "None")]
    pub clamp: Option<(f64, f64)>,
    /// Add the noise before the gradient is taken, as the official code does (the gradient is
    /// then evaluated at the noised point). `false` takes the gradient first (textbook order).
    #[config(default = true)]
    pub noise_first: bool,
}

impl LangevinConfig {
    /// Official CIFAR-10 training settings (README `cifar10_cond`/`cifar10_uncond`:
    /// `--num_steps=60 --step_lr=10.0 --proj_norm=0.01`, noise 0.005, images clamped to [0, 1]).
    pub fn cifar10() -> Self {
        Self::new()
            .with_steps(60)
            .with_step_size(10.0)
            .with_noise_std(0.005)
            .with_grad_clip(Some(GradClip::Elementwise(0.01)))
            .with_clamp(Some((0.0, 1.0)))
    }

    /// Official MNIST settings (`train.py` defaults: `--num_steps=20 --step_lr=1.0`, no gradient
    /// clip, noise 0.005, clamp to [0, 1]).
    pub fn mnist() -> Self {
        Self::new()
            .with_steps(20)
            .with_step_size(1.0)
            .with_noise_std(0.005)
            .with_grad_clip(None)
            .with_clamp(Some((0.0, 1.0)))
    }

    /// Textbook unadjusted Langevin with step `eps`: `x <- x - eps * grad + N(0, 2 eps)`,
    /// gradient first, no clip, no clamp. Samples `exp(-E)` as `eps -> 0`.
    pub fn textbook(steps: usize, eps: f64) -> Self {
        Self::new()
            .with_steps(steps)
            .with_step_size(eps)
            .with_noise_std((2.0 * eps).sqrt())
            .with_grad_clip(None)
            .with_clamp(None)
            .with_noise_first(false)
    }

    /// Runs the chain from `x` and returns the detached final samples.
    ///
    /// `energy` maps a batch to per-sample energies; for a conditional model it captures the
    /// labels (`|x| net.energy(x, Some(y.clone()))`), so labels travel with the batch. Give it a
    /// network on the plain device: see [`energy_and_grad`]. With a `mask` (same shape as `x`,
    /// 1 = free, 0 = fixed) only masked elements move (inpainting).
    ///
    /// # Panics
    ///
    /// If `mask` does not have the shape of `x`.
    pub fn run<const D: usize, F>(
        &self,
        energy: &F,
        x: Tensor<D>,
        mask: Option<&Tensor<D>>,
        observer: &mut dyn Observer,
    ) -> Tensor<D>
    where
        F: Fn(Tensor<D>) -> Tensor<1> + ?Sized,
    {
        self.run_keeping_last(energy, x, mask, observer).0
    }

    /// [`run`](Self::run), also returning the last step's [`LastStep`] (`None` when `steps` is
    /// 0): with it the last step can be replayed as a function of the weights
    /// ([`crate::last_step`]).
    ///
    /// # Panics
    ///
    /// If `mask` does not have the shape of `x`.
    pub fn run_keeping_last<const D: usize, F>(
        &self,
        energy: &F,
        x: Tensor<D>,
        mask: Option<&Tensor<D>>,
        observer: &mut dyn Observer,
    ) -> (Tensor<D>, Option<LastStep<D>>)
    where
        F: Fn(Tensor<D>) -> Tensor<1> + ?Sized,
    {
        if let Some(m) = mask {
            assert_eq!(
                m.dims(),
                x.dims(),
                "mask {:?} vs samples {:?}",
                m.dims(),
                x.dims()
            );
        }
        let mut x = x.detach().without_autodiff();
        let masked = |delta: Tensor<D>| match mask {
            Some(m) => delta * m.clone(),
            None => delta,
        };
        let (shape, device) = (x.shape(), x.device());
        let noise = || {
            Tensor::random(
                shape.clone(),
                Distribution::Normal(0.0, self.noise_std),
                &device,
            )
        };
        let mut last = None;
        for step in 0..self.steps {
            let start = observer.wants_stats().then(|| x.clone());
            if self.noise_first && self.noise_std > 0.0 {
                x = x.clone() + masked(noise());
            }
            let (e, g) = energy_and_grad(energy, x.clone());
            if step + 1 == self.steps {
                last = Some(LastStep {
                    from: x.clone(),
                    grad: g.clone(),
                });
            }
            let grad_stats = start
                .is_some()
                .then(|| g.clone().abs().mean().into_scalar::<f64>());
            let g = clip(g, self.grad_clip);
            x = x - masked(g * self.step_size);
            if !self.noise_first && self.noise_std > 0.0 {
                x = x.clone() + masked(noise());
            }
            if let Some((lo, hi)) = self.clamp {
                x = x.clamp(lo, hi);
            }
            if let Some(start) = start {
                observer.on_step(&StepStats {
                    step,
                    mean_energy: e.mean().into_scalar::<f64>(),
                    mean_abs_grad: grad_stats.unwrap_or(0.0),
                    mean_move: (x.clone() - start).abs().mean().into_scalar::<f64>(),
                    acceptance: None,
                });
            }
        }
        (x, last)
    }
}

/// The last step of a chain, as [`LangevinConfig::run_keeping_last`] returns it.
#[derive(Clone, Debug)]
pub struct LastStep<const D: usize> {
    /// The point the step took its gradient at (after that step's noise when `noise_first`).
    pub from: Tensor<D>,
    /// The energy's input gradient there, before the bound.
    pub grad: Tensor<D>,
}

/// Applies a gradient bound; per-sample for [`GradClip::L2Norm`].
pub fn clip<const D: usize>(g: Tensor<D>, bound: Option<GradClip>) -> Tensor<D> {
    match bound {
        None => g,
        Some(GradClip::Elementwise(c)) => g.clamp(-c, c),
        Some(GradClip::L2Norm(c)) => {
            let batch = g.dims()[0];
            let norms = g
                .clone()
                .reshape([batch as i64, -1])
                .powi_scalar(2)
                .sum_dim(1)
                .sqrt(); // [batch, 1]
            let scale = (norms.recip() * c).clamp_max(1.0);
            let mut shape = [1usize; D];
            shape[0] = batch;
            g * scale.reshape(shape)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observer::{NoObserver, Recorder};
    use burn::tensor::Device;

    fn half_square(x: Tensor<2>) -> Tensor<1> {
        let b = x.dims()[0];
        x.powi_scalar(2).sum_dim(1).reshape([b]) * 0.5
    }

    fn values(t: Tensor<2>) -> Vec<f32> {
        t.into_data().try_to_vec::<f32>().unwrap()
    }

    #[test]
    fn one_noiseless_step_on_a_quadratic_scales_x() {
        let device = Device::flex();
        let x = Tensor::<2>::from_floats([[1.0, -2.0, 0.5], [4.0, 0.0, -3.0]], &device);
        let cfg = LangevinConfig::new()
            .with_steps(1)
            .with_step_size(0.1)
            .with_noise_std(0.0);
        let out = values(cfg.run(&half_square, x.clone(), None, &mut NoObserver));
        for (o, x) in out.iter().zip(values(x)) {
            assert!((o - 0.9 * x).abs() < 1e-6, "{o} vs {}", 0.9 * x);
        }
    }

    #[test]
    fn clip_bounds_every_move_and_clamp_holds() {
        let device = Device::flex();
        let x = Tensor::<2>::random([64, 10], Distribution::Uniform(-3.0, 3.0), &device);
        let cfg = LangevinConfig::new()
            .with_steps(1)
            .with_step_size(10.0)
            .with_noise_std(0.0)
            .with_grad_clip(Some(GradClip::Elementwise(0.01)));
        let out = values(cfg.run(&half_square, x.clone(), None, &mut NoObserver));
        let max_move = out
            .iter()
            .zip(values(x.clone()))
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max);
        assert!(
            max_move <= 0.1 + 1e-6,
            "moved {max_move} > step x clip = 0.1"
        );
        assert!(
            max_move > 0.099,
            "the clip should bind here, moved {max_move}"
        );

        let cfg = LangevinConfig::cifar10().with_steps(5).with_noise_std(0.5);
        let out = values(cfg.run(&|x: Tensor<2>| -half_square(x), x, None, &mut NoObserver));
        assert!(
            out.iter().all(|v| (0.0..=1.0).contains(v)),
            "clamp to [0, 1] violated"
        );
    }

    #[test]
    fn l2_clip_bounds_each_sample_norm() {
        let device = Device::flex();
        let g = Tensor::<2>::from_floats([[3.0, 4.0], [0.3, 0.4]], &device);
        let out = values(clip(g, Some(GradClip::L2Norm(1.0))));
        assert!(
            (out[0] - 0.6).abs() < 1e-6 && (out[1] - 0.8).abs() < 1e-6,
            "{out:?}"
        );
        assert!(
            (out[2] - 0.3).abs() < 1e-6 && (out[3] - 0.4).abs() < 1e-6,
            "{out:?}"
        );
    }

    #[test]
    fn masked_out_elements_never_move() {
        let device = Device::flex();
        let x = Tensor::<2>::random([16, 6], Distribution::Default, &device);
        let mask =
            Tensor::<2>::from_floats([[1.0, 1.0, 1.0, 0.0, 0.0, 0.0]], &device).repeat_dim(0, 16);
        let cfg = LangevinConfig::new()
            .with_steps(10)
            .with_step_size(0.3)
            .with_noise_std(0.1);
        let mut rec = Recorder::default();
        let out = values(cfg.run(&half_square, x.clone(), Some(&mask), &mut rec));
        let x = values(x);
        for (i, (o, x)) in out.iter().zip(&x).enumerate() {
            if i % 6 >= 3 {
                assert_eq!(o, x, "fixed element {i} moved");
            } else {
                assert_ne!(o, x, "free element {i} did not move");
            }
        }
        assert_eq!(rec.steps.len(), 10);
        assert!(
            rec.steps
                .iter()
                .all(|s| s.mean_move > 0.0 && s.acceptance.is_none())
        );
        assert!(rec.steps[9].mean_energy < rec.steps[0].mean_energy);
    }
}
