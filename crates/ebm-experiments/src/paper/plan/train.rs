//! Training on transitions: the transition energy by contrastive divergence with a replay
//! buffer (the reference's `train`), the inverse-dynamics MLP beside it, and the feed-forward
//! baseline by regression.

use burn::module::Module;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Tensor, TensorData};
use ebm_data::plan::Trajectories;
use ebm_model::{EnergyModel, MlpEnergy, MlpEnergyConfig, MlpRegressor, MlpRegressorConfig};
use ebm_sampler::SplitMix64;

use super::config::PlanConfig;
use super::negatives::negatives;
use super::replay::RowBuffer;
use crate::run::optim::OptimizerConfig;

/// Host rows to a `[rows, width]` tensor.
pub fn rows(values: Vec<f32>, width: usize, device: &Device) -> Tensor<2> {
    let n = values.len() / width;
    Tensor::from_data(TensorData::new(values, [n, width]), device)
}

/// A tensor's values on the host.
pub fn host<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .expect("f32 tensor data")
}

/// A batch of `n` transitions drawn uniformly: `([s_t, s_t+1] [n, 2D], a_t [n, A],
/// [s_t, a_t] [n, D + A], s_t+1 [n, D])`, on the host.
pub struct Batch {
    /// Pairs `[s_t, s_t+1]`.
    pub pairs: Vec<f32>,
    /// Actions.
    pub actions: Vec<f32>,
}

/// Draws `n` transitions uniformly with replacement.
pub fn draw(data: &Trajectories, n: usize, rng: &mut SplitMix64) -> Batch {
    let mut pairs = Vec::with_capacity(n * 2 * data.state_dim);
    let mut actions = Vec::with_capacity(n * data.action_dim);
    for _ in 0..n {
        let (s, a, next) = data.transition(rng.below(data.transitions()));
        pairs.extend_from_slice(s);
        pairs.extend_from_slice(next);
        actions.extend_from_slice(a);
    }
    Batch { pairs, actions }
}

/// What training measured.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct TrainLog {
    /// Mean energy of the positives over the last 100 iterations.
    pub e_pos: f64,
    /// Mean energy of the negatives over the last 100 iterations.
    pub e_neg: f64,
    /// Mean squared error of the inverse model (or the baseline) on held-out transitions.
    pub test_mse: f64,
    /// Mean energy of held-out transitions, and of the same first states paired with the
    /// next state of another held-out transition (mostly impossible jumps).
    pub e_test: [f64; 2],
    /// The planner's energy floor taken from the held-out energies (`floor_quantile`).
    pub e_floor: Option<f64>,
    /// The search planner's largest energy of a possible move (`search.quantile` of the same).
    pub e_search: Option<f64>,
    /// Seconds of training.
    pub seconds: f64,
}

/// One contrastive-divergence step of `model` on positives `pos` and negatives `neg`
/// (`L = mean E+ - mean E- + l2 (mean E+^2 + mean E-^2)`); returns the model and `(E+, E-)`.
pub fn cd_step(
    model: MlpEnergy,
    optim: &mut ModuleOptimizer,
    lr: f64,
    l2: f64,
    pos: Tensor<2>,
    neg: Tensor<2>,
) -> (MlpEnergy, f64, f64) {
    let b = pos.dims()[0];
    let nb = neg.dims()[0];
    let e = model.energy(Tensor::cat(vec![pos, neg], 0).autodiff(), None);
    let (ep, en) = (e.clone().slice(0..b), e.slice(b..b + nb));
    let loss = ep.clone().mean() - en.clone().mean()
        + (ep.clone().powi_scalar(2).mean() + en.clone().powi_scalar(2).mean()) * l2;
    let (mp, mn) = (
        ep.mean().into_scalar::<f64>(),
        en.mean().into_scalar::<f64>(),
    );
    let grads = GradientsParams::from_grads(loss.backward(), &model);
    (optim.step(lr, model, grads), mp, mn)
}

/// One regression step of `net` (`mean (net(x) - y)^2`); returns the net and the loss.
pub fn mse_step(
    net: MlpRegressor,
    optim: &mut ModuleOptimizer,
    lr: f64,
    x: Tensor<2>,
    y: Tensor<2>,
) -> (MlpRegressor, f64) {
    let loss = (net.forward(x.autodiff()) - y.autodiff())
        .powi_scalar(2)
        .mean();
    let v = loss.clone().into_scalar::<f64>();
    let grads = GradientsParams::from_grads(loss.backward(), &net);
    (optim.step(lr, net, grads), v)
}

/// Adam for the inverse model (the reference: its own Adam, lr 1e-3, beta1 0.9).
pub fn inverse_optimizer() -> OptimizerConfig {
    OptimizerConfig::new().with_lr(1e-3).with_beta1(0.9)
}

/// The transition energy and the inverse-dynamics model, fresh on the autodiff device (the
/// device seeded with `cfg.seed` first), with their optimisers.
pub struct Learners {
    /// Transition energy `E(s_t, s_t+1)`.
    pub model: MlpEnergy,
    /// Inverse dynamics `(s_t, s_t+1) -> a_t`.
    pub inverse: MlpRegressor,
    /// The energy's optimiser.
    pub optim: ModuleOptimizer,
    /// The inverse model's optimiser.
    pub inv_optim: ModuleOptimizer,
}

impl Learners {
    /// Both models for `d`-dimensional states and `a`-dimensional actions.
    pub fn new(cfg: &PlanConfig, d: usize, a: usize, device: &Device) -> Self {
        let train_device = device.clone().autodiff();
        device.seed(cfg.seed);
        Self {
            model: MlpEnergyConfig::ebm_plan(d)
                .with_hidden(cfg.hidden)
                .init(&train_device),
            inverse: MlpRegressorConfig::ebm_plan_inverse(d, a).init(&train_device),
            optim: cfg.optimizer.init(),
            inv_optim: inverse_optimizer().init(),
        }
    }
}

/// Trains the transition energy and the inverse model on `data`; both come back on the plain
/// device. `say` receives progress lines.
pub fn train_energy(
    cfg: &PlanConfig,
    data: &Trajectories,
    test: &Trajectories,
    device: &Device,
    say: &mut dyn FnMut(&str),
) -> (MlpEnergy, MlpRegressor, TrainLog) {
    let started = std::time::Instant::now();
    let (d, a) = (data.state_dim, data.action_dim);
    let Learners {
        mut model,
        mut inverse,
        mut optim,
        mut inv_optim,
    } = Learners::new(cfg, d, a, device);
    let mut buffer = RowBuffer::new(2 * d, cfg.negatives.capacity);
    let mut rng = SplitMix64::new(cfg.seed ^ 0x7a11);
    let (mut sum_p, mut sum_n, mut count) = (0.0, 0.0, 0usize);
    for it in 0..cfg.iterations {
        let batch = draw(data, cfg.batch, &mut rng);
        let neg = negatives(
            &cfg.negatives,
            &model.valid(),
            &batch.pairs,
            d,
            &mut buffer,
            &mut rng,
            device,
        );
        let pos = rows(batch.pairs, 2 * d, device);
        let (m, ep, en) = cd_step(
            model,
            &mut optim,
            cfg.optimizer.lr,
            cfg.l2_coeff,
            pos.clone(),
            neg,
        );
        model = m;
        let acts = rows(batch.actions, a, device);
        inverse = mse_step(inverse, &mut inv_optim, inverse_optimizer().lr, pos, acts).0;
        if it + 100 >= cfg.iterations {
            (sum_p, sum_n, count) = (sum_p + ep, sum_n + en, count + 1);
        }
        if (it + 1) % 500 == 0 {
            say(&format!(
                "energy {}/{}: E+ {ep:.4} E- {en:.4} ({:.0} s)",
                it + 1,
                cfg.iterations,
                started.elapsed().as_secs_f64()
            ));
        }
    }
    let inverse = inverse.valid();
    let held = draw(test, 4096, &mut rng);
    let e_test = held_out_energies(&model.valid(), &held.pairs, d, device);
    let held_energies = host(
        model
            .valid()
            .energy(rows(held.pairs.clone(), 2 * d, device), None),
    );
    let e_floor = cfg
        .planner
        .floor_quantile
        .map(|q| quantile(held_energies.clone(), q));
    let e_search = Some(quantile(held_energies, cfg.planner.search.quantile));
    let pred = inverse.forward(rows(held.pairs, 2 * d, device));
    let test_mse = (pred - rows(held.actions, a, device))
        .powi_scalar(2)
        .mean()
        .into_scalar::<f64>();
    say(&format!(
        "held-out transitions: E {:.4}, mismatched pairs E {:.4}",
        e_test[0], e_test[1]
    ));
    let log = TrainLog {
        e_pos: sum_p / count.max(1) as f64,
        e_neg: sum_n / count.max(1) as f64,
        test_mse,
        e_test,
        e_floor,
        e_search,
        seconds: started.elapsed().as_secs_f64(),
    };
    if let Some(f) = e_floor {
        say(&format!("planner energy floor {f:.4}"));
    }
    (model.valid(), inverse, log)
}

/// The `q` quantile (`0..=1`, nearest rank) of `values`.
///
/// # Panics
///
/// If `values` is empty.
pub fn quantile(mut values: Vec<f32>, q: f64) -> f64 {
    assert!(!values.is_empty(), "quantile of nothing");
    values.sort_by(f32::total_cmp);
    let i = (q.clamp(0.0, 1.0) * (values.len() - 1) as f64).round() as usize;
    f64::from(values[i])
}

/// Mean energy of held-out pairs `[n, 2D]` and of the pairs with their next states rotated by
/// one row (each first state with another transition's next state).
pub fn held_out_energies(energy: &MlpEnergy, pairs: &[f32], d: usize, device: &Device) -> [f64; 2] {
    let n = pairs.len() / (2 * d);
    let mut mismatched = pairs.to_vec();
    for i in 0..n {
        let j = (i + 1) % n;
        mismatched[i * 2 * d + d..(i + 1) * 2 * d]
            .copy_from_slice(&pairs[j * 2 * d + d..(j + 1) * 2 * d]);
    }
    let mean = |v: Vec<f32>| {
        energy
            .energy(rows(v, 2 * d, device), None)
            .mean()
            .into_scalar::<f64>()
    };
    [mean(pairs.to_vec()), mean(mismatched)]
}

/// `[s_t, a_t]` and `s_t+1` of a batch, for the feed-forward model.
fn ff_rows(b: &Batch, d: usize, a: usize, device: &Device) -> (Tensor<2>, Tensor<2>) {
    let n = b.actions.len() / a;
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for i in 0..n {
        x.extend_from_slice(&b.pairs[i * 2 * d..i * 2 * d + d]);
        x.extend_from_slice(&b.actions[i * a..(i + 1) * a]);
        y.extend_from_slice(&b.pairs[i * 2 * d + d..(i + 1) * 2 * d]);
    }
    (rows(x, d + a, device), rows(y, d, device))
}

/// Trains the feed-forward baseline `s_t+1 = f(s_t, a_t)` on the same data and iterations
/// (the reference's `construct_ff_model`: MSE, Adam lr 1e-3, beta1 0).
pub fn train_ff(
    cfg: &PlanConfig,
    data: &Trajectories,
    test: &Trajectories,
    device: &Device,
    say: &mut dyn FnMut(&str),
) -> (MlpRegressor, TrainLog) {
    let started = std::time::Instant::now();
    let (d, a) = (data.state_dim, data.action_dim);
    device.seed(cfg.seed ^ 0xff);
    let mut net = MlpRegressorConfig::ebm_plan_dynamics(d, a).init(&device.clone().autodiff());
    let mut optim = cfg.optimizer.init();
    let mut rng = SplitMix64::new(cfg.seed ^ 0xff);
    for it in 0..cfg.iterations {
        let (x, y) = ff_rows(&draw(data, cfg.batch, &mut rng), d, a, device);
        let (n, loss) = mse_step(net, &mut optim, cfg.optimizer.lr, x, y);
        net = n;
        if (it + 1) % 500 == 0 {
            say(&format!(
                "baseline {}/{}: mse {loss:.2e}",
                it + 1,
                cfg.iterations
            ));
        }
    }
    let net = net.valid();
    let (x, y) = ff_rows(&draw(test, 4096, &mut rng), d, a, device);
    let test_mse = (net.forward(x) - y)
        .powi_scalar(2)
        .mean()
        .into_scalar::<f64>();
    let log = TrainLog {
        test_mse,
        seconds: started.elapsed().as_secs_f64(),
        ..TrainLog::default()
    };
    (net, log)
}

#[cfg(test)]
mod tests {
    use super::quantile;

    #[test]
    fn quantiles_by_nearest_rank() {
        let v = vec![3.0, -1.0, 2.0, 0.0, 1.0];
        assert_eq!(quantile(v.clone(), 0.0), -1.0);
        assert_eq!(quantile(v.clone(), 0.5), 1.0);
        assert_eq!(quantile(v.clone(), 0.9), 3.0);
        assert_eq!(quantile(v, 1.0), 3.0);
    }
}
