//! Plans: state sequences sampled under transition energies plus smoothness and goal costs
//! (MPPI or Langevin, the reference's `construct_plan_model`), and the feed-forward
//! baseline's action sequences (`construct_ff_plan_model`).

use burn::tensor::{Device, Distribution, Tensor, TensorData};
use ebm_model::{EnergyModel, MlpEnergy, MlpRegressor};
use ebm_sampler::{MppiConfig, MppiNoise, NoObserver, energy_and_grad};

use super::config::{PlannerConfig, Sampler};

/// The goal cost's target: values of the first `goal.len()` state dimensions.
pub struct Goal {
    values: Tensor<3>,
    dims: usize,
    /// The same values on the host.
    pub target: Vec<f32>,
}

impl Goal {
    /// A goal on `device`.
    pub fn new(goal: &[f32], device: &Device) -> Self {
        let dims = goal.len();
        let values = Tensor::from_data(TensorData::new(goal.to_vec(), [1, 1, dims]), device);
        Self {
            values,
            dims,
            target: goal.to_vec(),
        }
    }
}

/// The cost of state sequences `x` `[n, T + 1, D]`, one per sequence `[n]` (without an
/// energy: the goal and smoothness terms alone, the baseline's MPPI cost):
/// `sum_t c_t E(s_t, s_t+1) + w v mean(ds^2) + w a mean(dds^2) + w g mean((r_t (s_t - g))^2)`,
/// each `E` raised to `cfg.energy_floor` when one is set.
///
/// MPPI (the reference's `mppi_step`): `c_t = 1`, `r_t = w (t/T)^2` (the goal pulls the end of
/// the plan, not its start). Langevin (`mcmc_step`): `c_t = T - t` (early transitions weigh
/// more), `r_t = 1`, and no `w` on the goal term.
pub fn plan_cost(
    energy: Option<&MlpEnergy>,
    x: Tensor<3>,
    goal: &Goal,
    cfg: &PlannerConfig,
    sampler: Sampler,
    w: f64,
) -> Tensor<1> {
    let [n, len, d] = x.dims();
    let t = len - 1;
    let device = x.device();
    let from = x.clone().slice([0..n, 0..t]);
    let to = x.clone().slice([0..n, 1..len]);
    let mut cost = Tensor::<1>::zeros([n], &device);
    if let Some(energy) = energy {
        let pairs = Tensor::cat(vec![from.clone(), to.clone()], 2).reshape([n * t, 2 * d]);
        let e = energy.energy(pairs, None).reshape([n, t]);
        let e = match cfg.energy_floor {
            Some(floor) => e.clamp_min(floor),
            None => e,
        };
        let e = match sampler {
            Sampler::Mppi => e,
            Sampler::Langevin => {
                let c: Vec<f32> = (0..t).map(|i| (t - i) as f32).collect();
                e * Tensor::<2>::from_data(TensorData::new(c, [1, t]), &device)
            }
        };
        cost = cost + e.sum_dim(1).reshape([n]);
    }
    let per_seq = |v: Tensor<3>| {
        let [n, a, b] = v.dims();
        v.powi_scalar(2)
            .reshape([n, a * b])
            .mean_dim(1)
            .reshape([n])
    };
    let vel = to - from;
    if cfg.v_coeff != 0.0 {
        cost = cost + per_seq(vel.clone()) * (w * cfg.v_coeff);
    }
    if cfg.a_coeff != 0.0 && t >= 2 {
        let acc = vel.clone().slice([0..n, 1..t]) - vel.slice([0..n, 0..t - 1]);
        cost = cost + per_seq(acc) * (w * cfg.a_coeff);
    }
    if cfg.g_coeff != 0.0 {
        let gap = x.slice([0..n, 0..len, 0..goal.dims]) - goal.values.clone();
        let goal_cost = match sampler {
            Sampler::Mppi => {
                let r: Vec<f32> = (0..len)
                    .map(|i| (w * (i as f64 / t as f64).powi(2)) as f32)
                    .collect();
                let r = Tensor::<3>::from_data(TensorData::new(r, [1, len, 1]), &device);
                per_seq(gap * r) * (w * cfg.g_coeff)
            }
            Sampler::Langevin => per_seq(gap) * cfg.g_coeff,
        };
        cost = cost + goal_cost;
    }
    cost
}

/// Samples plans from `init` `[batch, T + 1, D]` (its first state, the observation, stays
/// fixed) and returns them with the same shape. `w` scales the goal and smoothness terms (1
/// when evaluating; ramped in when training online).
pub fn plan(
    energy: &MlpEnergy,
    init: Tensor<3>,
    goal: &Goal,
    cfg: &PlannerConfig,
    sampler: Sampler,
    w: f64,
) -> Tensor<3> {
    let cost = |x: Tensor<3>| plan_cost(Some(energy), x, goal, cfg, sampler, w);
    match sampler {
        Sampler::Mppi => cfg.mppi.run(&cost, init, 1),
        Sampler::Langevin => {
            let [b, len, d] = init.dims();
            let device = init.device();
            let mask = Tensor::<3>::ones([b, len, d], &device)
                .slice_assign([0..b, 0..1, 0..d], Tensor::zeros([b, 1, d], &device));
            let x = cfg.langevin.run(&cost, init, Some(&mask), &mut NoObserver);
            match cfg.mppi.clamp {
                Some((lo, hi)) => x.clamp(lo, hi),
                None => x,
            }
        }
    }
}

/// The cheapest of the plans `x` `[k, T + 1, D]` under the planner's cost (goal and
/// smoothness terms at full weight), as `[1, T + 1, D]`.
pub fn cheapest(
    energy: &MlpEnergy,
    x: Tensor<3>,
    goal: &Goal,
    cfg: &PlannerConfig,
    sampler: Sampler,
) -> Tensor<3> {
    let [k, len, d] = x.dims();
    if k == 1 {
        return x;
    }
    let cost = plan_cost(Some(energy), x.clone(), goal, cfg, sampler, 1.0);
    let best = cost.argmin(0).into_scalar::<i64>() as usize;
    x.slice([best..best + 1, 0..len, 0..d])
}

/// The feed-forward rollout `s_k+1 = f(s_k, a_k)` from `s0` `[b, D]` under actions
/// `[b, T, A]`: states `[b, T + 1, D]`.
pub fn rollout(ff: &MlpRegressor, s0: Tensor<2>, actions: Tensor<3>) -> Tensor<3> {
    let [b, t, a] = actions.dims();
    let mut s = s0;
    let mut states = vec![s.clone().unsqueeze_dim::<3>(1)];
    for k in 0..t {
        let act = actions
            .clone()
            .slice([0..b, k..k + 1, 0..a])
            .reshape([b, a]);
        s = ff.forward(Tensor::cat(vec![s, act], 1));
        states.push(s.clone().unsqueeze_dim::<3>(1));
    }
    Tensor::cat(states, 1)
}

/// The baseline's plan: actions `[b, T, A]` optimised so the model's rollout from `s0` ends at
/// the goal. Langevin: the reference's gradient steps on `sum_d (s_T - g)^2` with noise 0.01
/// and the actions clipped to `[-1, 1]`; MPPI: the same MPPI as the energy planner over the
/// actions, with Gaussian noise of `ff_action_noise` and the same cost as the energy
/// planner's goal and smoothness terms on the rolled-out states.
pub fn plan_actions(
    ff: &MlpRegressor,
    s0: Tensor<2>,
    init: Tensor<3>,
    goal: &Goal,
    cfg: &PlannerConfig,
    sampler: Sampler,
) -> Tensor<3> {
    let [b, t, a] = init.dims();
    match sampler {
        Sampler::Langevin => {
            let cost = |acts: Tensor<3>| {
                let s = rollout(ff, s0.clone(), acts);
                let last = s.slice([0..b, t..t + 1, 0..goal.dims]) - goal.values.clone();
                last.powi_scalar(2)
                    .reshape([b, goal.dims])
                    .sum_dim(1)
                    .reshape([b])
            };
            let mut x = init;
            for _ in 0..cfg.ff_steps {
                let noise = Tensor::random([b, t, a], Distribution::Normal(0.0, 0.01), &x.device());
                let noisy = x + noise;
                let (_, g) = energy_and_grad(&cost, noisy.clone());
                x = (noisy - g * cfg.ff_step_lr).clamp(-1.0, 1.0);
            }
            x
        }
        Sampler::Mppi => {
            let d = s0.dims()[1];
            let k = cfg.mppi.samples;
            let s0_all = s0
                .clone()
                .unsqueeze_dim::<3>(1)
                .repeat_dim(1, k)
                .reshape([b * k, d]);
            let cost = |acts: Tensor<3>| {
                let s = rollout(ff, s0_all.clone(), acts);
                plan_cost(None, s, goal, cfg, Sampler::Mppi, 1.0)
            };
            let mppi: MppiConfig = cfg.mppi.clone().with_noise(MppiNoise::Gaussian {
                std: cfg.ff_action_noise,
            });
            mppi.run(&cost, init, 0)
        }
    }
}
