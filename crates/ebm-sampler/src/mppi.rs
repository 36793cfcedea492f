//! Model-predictive path integral (MPPI) sampling as EBM-plan runs it: perturb each sequence
//! into many candidates, weight them by `softmax(-temperature * cost)`, keep the weighted mean.
//!
//! Derivative-free: only costs are evaluated, never gradients, so it serves any energy whose
//! gradient is useless (piecewise-constant networks) or expensive. With the official
//! temperatures (10 000 for plans, 50 000 for training negatives) a cost difference of 1e-3
//! already gives one candidate almost all the weight, and MPPI is close to "keep the best of
//! the candidates".

use burn::config::Config;
use burn::tensor::{Distribution, Tensor, TensorData};

/// How MPPI perturbs a sequence `[len, dim]`.
#[derive(Config, Debug, Copy, PartialEq)]
pub enum MppiNoise {
    /// Independent `N(0, std^2)` on every element (EBM-plan's training sampler, std 0.01).
    Gaussian {
        /// Standard deviation.
        std: f64,
    },
    /// Smooth along the sequence: every `[len]` column (one per state dimension) is drawn from
    /// `N(0, variance (A^T A)^-1)`, with `A` the second-difference operator of EBM-plan's
    /// `smooth_trajectory_tf` (see [`smooth_precision`]). Perturbations are tiny at the start
    /// of the sequence and grow along it, like twice-integrated white noise.
    Smooth {
        /// Scale of the covariance (EBM-plan: `1e-5 * traj_scale`).
        variance: f64,
    },
}

/// Configuration of an MPPI run.
#[derive(Config, Debug)]
pub struct MppiConfig {
    /// Update rounds (EBM-plan: `num_plan_steps` for plans, `num_steps` for negatives).
    #[config(default = 10)]
    pub iterations: usize,
    /// Candidates per sequence and round (EBM-plan's `noise_sim`).
    #[config(default = 40)]
    pub samples: usize,
    /// Inverse temperature: candidate weights are `softmax(-temperature * cost)`.
    #[config(default = 10000.0)]
    pub temperature: f64,
    /// The perturbation.
    #[config(default = "MppiNoise::Smooth { variance: 1e-5 }")]
    pub noise: MppiNoise,
    /// Range the free elements are clamped to after each round (`None`: unbounded).
    #[config(default = "Some((-1.0, 1.0))")]
    pub clamp: Option<(f64, f64)>,
}

impl MppiConfig {
    /// EBM-plan's planner (`construct_plan_model`, flag defaults): 10 rounds of 40 smooth
    /// candidates, temperature 10 000, states clamped to `[-1, 1]`.
    pub fn ebm_plan() -> Self {
        Self::new()
    }

    /// EBM-plan's training sampler (`construct_model` with `--mppi`): 40 candidates with
    /// `N(0, 0.01^2)` on every element, temperature 50 000, no clamp.
    pub fn ebm_plan_negatives(iterations: usize) -> Self {
        Self::new()
            .with_iterations(iterations)
            .with_temperature(50000.0)
            .with_noise(MppiNoise::Gaussian { std: 0.01 })
            .with_clamp(None)
    }

    /// Runs MPPI on sequences `x` `[batch, len, dim]` and returns the detached result.
    ///
    /// `cost` maps candidates `[n, len, dim]` to one cost per candidate `[n]`; it is called
    /// once per round on all `batch * samples` candidates at once (candidate `k` of sequence
    /// `b` is row `b * samples + k`). The first `pinned` positions of every sequence (a
    /// plan's current state) are never perturbed.
    ///
    /// # Panics
    ///
    /// If `pinned >= len`, or `cost` does not return one value per candidate.
    pub fn run<F>(&self, cost: &F, x: Tensor<3>, pinned: usize) -> Tensor<3>
    where
        F: Fn(Tensor<3>) -> Tensor<1> + ?Sized,
    {
        let [batch, len, dim] = x.dims();
        assert!(pinned < len, "{pinned} pinned positions of {len}");
        let free = len - pinned;
        let (n, k) = (batch * self.samples, self.samples);
        let device = x.device();
        let shaping = match self.noise {
            MppiNoise::Smooth { variance } => {
                let b = smooth_factor(free, variance);
                Some(Tensor::<2>::from_data(TensorData::new(b, [free, free]), &device).transpose())
            }
            MppiNoise::Gaussian { .. } => None,
        };
        let mut x = x.detach().without_autodiff();
        for _ in 0..self.iterations {
            let noise = match (&shaping, self.noise) {
                (Some(bt), _) => {
                    let z = Tensor::<2>::random(
                        [n * dim, free],
                        Distribution::Normal(0.0, 1.0),
                        &device,
                    );
                    z.matmul(bt.clone()).reshape([n, dim, free]).swap_dims(1, 2)
                }
                (None, MppiNoise::Gaussian { std }) => {
                    Tensor::random([n, free, dim], Distribution::Normal(0.0, std), &device)
                }
                (None, MppiNoise::Smooth { .. }) => unreachable!(),
            };
            let tiled = x
                .clone()
                .unsqueeze_dim::<4>(1)
                .repeat_dim(1, k)
                .reshape([n, len, dim]);
            let cands = if pinned > 0 {
                let head = tiled.clone().slice([0..n, 0..pinned]);
                let tail = tiled.slice([0..n, pinned..len]) + noise;
                Tensor::cat(vec![head, tail], 1)
            } else {
                tiled + noise
            };
            let c = cost(cands.clone());
            assert_eq!(c.dims(), [n], "cost must return one value per candidate");
            let logits = c.reshape([batch, k]) * (-self.temperature);
            let logits = logits.clone() - logits.max_dim(1);
            let w = logits.exp();
            let w = w.clone() / w.sum_dim(1);
            let mean = (cands.reshape([batch, k, len, dim]) * w.reshape([batch, k, 1, 1]))
                .sum_dim(1)
                .reshape([batch, len, dim]);
            let tail = mean.slice([0..batch, pinned..len]);
            let tail = match self.clamp {
                Some((lo, hi)) => tail.clamp(lo, hi),
                None => tail,
            };
            x = if pinned > 0 {
                Tensor::cat(vec![x.slice([0..batch, 0..pinned]), tail], 1)
            } else {
                tail
            };
        }
        x
    }
}

/// `A^T A` for EBM-plan's smoothing operator on `t` free positions, row-major `[t, t]`.
///
/// `A` is `(t + 2) x t`: row `i < t` is the second difference `x_i - 2 x_(i-1) + x_(i-2)`,
/// truncated at the start (so the perturbation is pinned to 0 before the first free position),
/// row `t` is zero, and row `t + 1` is the last velocity `x_(t-2) - x_(t-1)`.
pub fn smooth_precision(t: usize) -> Vec<f64> {
    let mut a = vec![0.0f64; (t + 2) * t];
    for i in 0..t {
        a[i * t + i] = 1.0;
        if i >= 1 {
            a[i * t + i - 1] = -2.0;
        }
        if i >= 2 {
            a[i * t + i - 2] = 1.0;
        }
    }
    if t >= 2 {
        a[(t + 1) * t + t - 2] = 1.0;
        a[(t + 1) * t + t - 1] = -1.0;
    }
    let mut m = vec![0.0f64; t * t];
    for r in 0..t + 2 {
        for i in 0..t {
            for j in 0..t {
                m[i * t + j] += a[r * t + i] * a[r * t + j];
            }
        }
    }
    m
}

/// `B` (row-major `[t, t]`, f32) with `B B^T = variance (A^T A)^-1`: `B = sqrt(variance) L^-T`
/// for the Cholesky factor `A^T A = L L^T`, so `B z` with `z ~ N(0, I)` is one smooth draw.
///
/// # Panics
///
/// If `t` is 0.
pub fn smooth_factor(t: usize, variance: f64) -> Vec<f32> {
    assert!(t > 0, "no free positions");
    let m = smooth_precision(t);
    // Cholesky: m = l l^T (m is positive definite: A has full column rank).
    let mut l = vec![0.0f64; t * t];
    for i in 0..t {
        for j in 0..=i {
            let s: f64 = (0..j).map(|p| l[i * t + p] * l[j * t + p]).sum();
            if i == j {
                l[i * t + i] = (m[i * t + i] - s).sqrt();
            } else {
                l[i * t + j] = (m[i * t + j] - s) / l[j * t + j];
            }
        }
    }
    // Solve l^T b = sqrt(variance) I column by column (back substitution).
    let mut b = vec![0.0f64; t * t];
    for c in 0..t {
        for i in (0..t).rev() {
            let rhs = if i == c { variance.sqrt() } else { 0.0 };
            let s: f64 = (i + 1..t).map(|p| l[p * t + i] * b[p * t + c]).sum();
            b[i * t + c] = (rhs - s) / l[i * t + i];
        }
    }
    b.into_iter().map(|v| v as f32).collect()
}

#[cfg(test)]
mod tests;
