//! Metropolis-adjusted samplers: MALA and HMC. Unlike IGEBM's Langevin, these sample
//! `exp(-E)` exactly (asymptotically) at any step size, at the price of rejected proposals.

use burn::config::Config;
use burn::tensor::{Distribution, Tensor};

use crate::grad::energy_and_grad;
use crate::observer::{Observer, StepStats};

/// Sum over every axis but the batch: `[batch, ...] -> [batch]`.
pub fn per_sample_sum<const D: usize>(t: Tensor<D>) -> Tensor<1> {
    let batch = t.dims()[0];
    t.reshape([batch as i64, -1]).sum_dim(1).reshape([batch])
}

/// Per-sample Metropolis decision `[batch]`: `1` where `log U < log_alpha`, else `0`.
fn accept_mask(log_alpha: Tensor<1>) -> Tensor<1> {
    let batch = log_alpha.dims()[0];
    let u = Tensor::<1>::random(
        [batch],
        Distribution::Uniform(0.0, 1.0),
        &log_alpha.device(),
    );
    u.log().lower(log_alpha).float()
}

/// Reshapes a `[batch]` mask to broadcast over `[batch, ...]` tensors of rank `D`.
fn broadcast<const D: usize>(accept: &Tensor<1>) -> Tensor<D> {
    let mut shape = [1usize; D];
    shape[0] = accept.dims()[0];
    accept.clone().reshape(shape)
}

/// `where(accept, new, old)` for a 0/1 mask broadcast over the batch.
fn blend<const D: usize>(old: Tensor<D>, new: Tensor<D>, accept: &Tensor<D>) -> Tensor<D> {
    old.clone() + (new - old) * accept.clone()
}

fn mean_of<const D: usize>(t: Tensor<D>) -> f64 {
    t.mean().into_scalar::<f64>()
}

/// A chain state or proposal: samples, their energies, their input gradients.
type State<const D: usize> = (Tensor<D>, Tensor<1>, Tensor<D>);

/// Accepts each chain's proposal with probability `min(1, exp(log_alpha))`, keeps the current
/// state otherwise, and reports the step (with its acceptance rate) to the observer.
fn metropolis<const D: usize>(
    step: usize,
    log_alpha: Tensor<1>,
    (x, e, g): State<D>,
    (xp, ep, gp): State<D>,
    observer: &mut dyn Observer,
) -> State<D> {
    let accept_b = accept_mask(log_alpha);
    let accept = broadcast(&accept_b);
    let start = observer.wants_stats().then(|| x.clone());
    let x = blend(x, xp, &accept);
    let g = blend(g, gp, &accept);
    let e = blend(e, ep, &accept_b);
    if let Some(start) = start {
        observer.on_step(&StepStats {
            step,
            mean_energy: mean_of(e.clone()),
            mean_abs_grad: mean_of(g.clone().abs()),
            mean_move: mean_of((x.clone() - start).abs()),
            acceptance: Some(mean_of(accept_b)),
        });
    }
    (x, e, g)
}

/// Metropolis-adjusted Langevin (MALA): proposal `x' = x - eps * grad E(x) + N(0, 2 eps)`,
/// accepted with the Metropolis-Hastings ratio of the two Gaussian proposal densities.
#[derive(Config, Debug)]
pub struct MalaConfig {
    /// Number of proposals per chain.
    #[config(default = 100)]
    pub steps: usize,
    /// Step `eps` (the proposal's noise variance is `2 eps`).
    #[config(default = 0.01)]
    pub step_size: f64,
}

impl MalaConfig {
    /// Runs independent chains from each sample of `x`; reports the acceptance rate per step.
    pub fn run<const D: usize, F>(
        &self,
        energy: &F,
        x: Tensor<D>,
        observer: &mut dyn Observer,
    ) -> Tensor<D>
    where
        F: Fn(Tensor<D>) -> Tensor<1> + ?Sized,
    {
        let eps = self.step_size;
        let mut x = x.detach().without_autodiff();
        let (mut e, mut g) = energy_and_grad(energy, x.clone());
        for step in 0..self.steps {
            let noise = Tensor::random(
                x.shape(),
                Distribution::Normal(0.0, (2.0 * eps).sqrt()),
                &x.device(),
            );
            let prop = x.clone() - g.clone() * eps + noise;
            let (e_p, g_p) = energy_and_grad(energy, prop.clone());
            // log q(x | x') - log q(x' | x) for q(b | a) = N(b; a - eps grad E(a), 2 eps).
            let back =
                per_sample_sum((x.clone() - prop.clone() + g_p.clone() * eps).powi_scalar(2));
            let forth = per_sample_sum((prop.clone() - x.clone() + g.clone() * eps).powi_scalar(2));
            let log_alpha = e.clone() - e_p.clone() + (forth - back) / (4.0 * eps);
            (x, e, g) = metropolis(step, log_alpha, (x, e, g), (prop, e_p, g_p), observer);
        }
        x
    }
}

/// Hamiltonian Monte Carlo: Gaussian momentum, `leapfrog_steps` leapfrog steps of size
/// `step_size`, then a Metropolis test on the total energy `E(x) + |p|^2 / 2`.
#[derive(Config, Debug)]
pub struct HmcConfig {
    /// Number of HMC transitions.
    #[config(default = 50)]
    pub steps: usize,
    /// Leapfrog steps per transition (the official `--hmc` uses 10).
    #[config(default = 10)]
    pub leapfrog_steps: usize,
    /// Leapfrog step size.
    #[config(default = 0.1)]
    pub step_size: f64,
}

impl HmcConfig {
    /// Runs independent chains from each sample of `x`; reports the acceptance rate per step.
    ///
    /// # Panics
    ///
    /// If `leapfrog_steps` is 0.
    pub fn run<const D: usize, F>(
        &self,
        energy: &F,
        x: Tensor<D>,
        observer: &mut dyn Observer,
    ) -> Tensor<D>
    where
        F: Fn(Tensor<D>) -> Tensor<1> + ?Sized,
    {
        assert!(
            self.leapfrog_steps > 0,
            "HMC needs at least one leapfrog step"
        );
        let eps = self.step_size;
        let mut x = x.detach().without_autodiff();
        let (mut e, mut g) = energy_and_grad(energy, x.clone());
        for step in 0..self.steps {
            let p0 = Tensor::random(x.shape(), Distribution::Normal(0.0, 1.0), &x.device());
            let mut xn = x.clone();
            let mut p = p0.clone() - g.clone() * (eps / 2.0);
            let (mut en, mut gn) = (e.clone(), g.clone());
            for l in 0..self.leapfrog_steps {
                xn = xn + p.clone() * eps;
                (en, gn) = energy_and_grad(energy, xn.clone());
                let kick = if l + 1 < self.leapfrog_steps {
                    eps
                } else {
                    eps / 2.0
                };
                p = p - gn.clone() * kick;
            }
            let h0 = e.clone() + per_sample_sum(p0.powi_scalar(2)) * 0.5;
            let h1 = en.clone() + per_sample_sum(p.powi_scalar(2)) * 0.5;
            (x, e, g) = metropolis(step, h0 - h1, (x, e, g), (xn, en, gn), observer);
        }
        x
    }
}
