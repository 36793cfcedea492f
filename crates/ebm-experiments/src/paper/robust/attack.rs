//! Projected gradient descent on the loss (Madry et al. 2018): a random start in the ball,
//! `steps` ascent steps of `2.5 eps / steps`, each projected back into the ball around the
//! input and into [0, 1]. L-infinity steps follow the gradient's sign; L2 steps its direction,
//! and the ball is a true L2 ball around the input (the official code clipped each step's
//! change instead, reference section 6.3).

use anyhow::{Result, bail};
use burn::tensor::{Distribution, Tensor};
use serde::Serialize;

/// The norm of the threat model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Norm {
    /// Every pixel moves at most `eps`.
    Linf,
    /// The perturbation has Euclidean norm at most `eps`.
    L2,
}

impl Norm {
    /// Parses `linf` or `l2`.
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "linf" => Ok(Norm::Linf),
            "l2" => Ok(Norm::L2),
            other => bail!("unknown norm {other:?}: expected linf or l2"),
        }
    }

    /// `linf` or `l2`.
    pub fn name(self) -> &'static str {
        match self {
            Norm::Linf => "linf",
            Norm::L2 => "l2",
        }
    }
}

/// Per-sample Euclidean norms, `[n, 1, 1, 1]`.
fn norms(t: Tensor<4>) -> Tensor<4> {
    t.powi_scalar(2).sum_dim(1).sum_dim(2).sum_dim(3).sqrt()
}

/// `x` moved back into the `eps`-ball around `x0` and into [0, 1].
pub fn project(x: Tensor<4>, x0: &Tensor<4>, norm: Norm, eps: f64) -> Tensor<4> {
    let x = match norm {
        Norm::Linf => x.max_pair(x0.clone() - eps).min_pair(x0.clone() + eps),
        Norm::L2 => {
            let d = x - x0.clone();
            let scale = (norms(d.clone()) + 1e-12)
                .recip()
                .mul_scalar(eps)
                .clamp_max(1.0);
            x0.clone() + d * scale
        }
    };
    // Clamping towards x0 (itself in [0, 1]) only shrinks each coordinate of the change, so the
    // result stays in the ball.
    x.clamp(0.0, 1.0)
}

/// PGD from `x0` with `steps` steps in the `eps`-ball of `norm`, ascending the loss whose input
/// gradient `grad` returns. Random draws come from the device RNG (seed it first).
pub fn pgd(
    x0: &Tensor<4>,
    norm: Norm,
    eps: f64,
    steps: usize,
    grad: &mut dyn FnMut(Tensor<4>) -> Tensor<4>,
) -> Tensor<4> {
    // A ball of radius 0 holds only the input (and an empty uniform range is invalid).
    if eps == 0.0 {
        return x0.clone();
    }
    let shape = x0.shape();
    let device = x0.device();
    let alpha = 2.5 * eps / steps.max(1) as f64;
    let start = match norm {
        Norm::Linf => Tensor::random(shape, Distribution::Uniform(-eps, eps), &device),
        Norm::L2 => {
            let d = Tensor::<4>::random(shape, Distribution::Normal(0.0, 1.0), &device);
            let n = d.dims()[0];
            let radius =
                Tensor::<4>::random([n, 1, 1, 1], Distribution::Uniform(0.0, eps), &device);
            d.clone() * (norms(d) + 1e-12).recip() * radius
        }
    };
    let mut x = project(x0.clone() + start, x0, norm, eps);
    for _ in 0..steps {
        let g = grad(x.clone());
        let step = match norm {
            Norm::Linf => g.sign(),
            Norm::L2 => g.clone() * (norms(g) + 1e-12).recip(),
        };
        x = project(x + step * alpha, x0, norm, eps);
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Device;

    fn max_abs(t: Tensor<4>) -> f32 {
        t.abs().max().into_scalar::<f32>()
    }

    #[test]
    fn projections_stay_in_the_ball_and_zero_eps_is_the_input() {
        let device = Device::flex();
        device.seed(3);
        let x0 = Tensor::<4>::random([4, 1, 6, 6], Distribution::Default, &device);
        // Ascend |x - 1|^2 / 2: every step wants to push pixels down and out of the ball.
        let mut grad = |x: Tensor<4>| x - 1.0;
        for norm in [Norm::Linf, Norm::L2] {
            let x = pgd(&x0, norm, 0.0, 5, &mut grad);
            assert_eq!(max_abs(x - x0.clone()), 0.0, "{norm:?}: eps 0 is the input");
            let x = pgd(&x0, norm, 0.3, 5, &mut grad);
            let d = x.clone() - x0.clone();
            let size = match norm {
                Norm::Linf => max_abs(d),
                Norm::L2 => norms(d).max().into_scalar::<f32>(),
            };
            assert!(size <= 0.3 + 1e-5, "{norm:?}: left the ball ({size})");
            assert!(
                size > 0.2,
                "{norm:?}: the attack should reach the boundary ({size})"
            );
            let v = x.into_data().try_to_vec::<f32>().unwrap();
            assert!(v.iter().all(|p| (0.0..=1.0).contains(p)));
        }
    }
}
