//! Online training (the reference's `rl_train`): parallel environments act on plans of the
//! current energy; their executed transitions are the positives, the planned transitions the
//! negatives; one optimiser step per round of execution.

use burn::module::Module;
use burn::tensor::Device;
use ebm_data::plan::{Environment, Particle, Trajectories};
use ebm_sampler::SplitMix64;

use super::config::{InverseKind, PlanConfig, Sampler};
use super::planner::{Goal, plan};
use super::replay::RowBuffer;
use super::train::{
    Learners, TrainLog, cd_step, host, inverse_optimizer, mse_step, rows, train_ff,
};
use super::{Trained, make_env};

/// A fresh environment for online training: the particle starts anywhere with `eps` 0.05, as
/// the reference's online `Point(random_starts=True)`; the others as in the benchmark.
fn online_env(name: &str) -> Box<dyn Environment> {
    if name == "particle" {
        let mut p = Particle::new([0.0, 0.0], [0.5, 0.5], 0.05, None);
        p.random_starts = true;
        Box::new(p)
    } else {
        make_env(name, false).expect("a known environment")
    }
}

/// Trains the energy and the inverse model online, then the baseline on the transitions the
/// energy's agent collected (the same data).
pub fn train_online(
    cfg: &PlanConfig,
    sampler: Sampler,
    env: &dyn Environment,
    device: &Device,
    say: &mut dyn FnMut(&str),
) -> Trained {
    let started = std::time::Instant::now();
    let (d, a, t) = (env.state_dim(), env.action_dim(), cfg.planner.horizon);
    let n_env = cfg.online.envs;
    let Learners {
        mut model,
        mut inverse,
        mut optim,
        mut inv_optim,
    } = Learners::new(cfg, d, a, device);
    let mut rng = SplitMix64::new(cfg.seed ^ 0x0411);
    let mut envs: Vec<_> = (0..n_env).map(|_| online_env(env.name())).collect();
    let mut obs: Vec<Vec<f32>> = envs
        .iter_mut()
        .map(|e| e.reset(&mut || rng.next_f64()))
        .collect();
    let goal = Goal::new(&env.goal(), device);
    let mut positives = RowBuffer::new(2 * d + a, cfg.online.positive_capacity);
    let mut replay = RowBuffer::new(2 * d, cfg.negatives.capacity);
    let mut plans: Vec<Option<Vec<f32>>> = vec![None; n_env];
    let (mut returns, mut finished, mut running) = (Vec::new(), 0usize, vec![0.0f64; n_env]);
    let (mut steps, mut itr, mut last) = (0usize, 0usize, (0.0, 0.0));
    while steps < cfg.online.steps {
        let w = (itr as f64 / cfg.online.goal_ramp.max(1) as f64).min(1.0);
        let mut init = Vec::with_capacity(n_env * (t + 1) * d);
        for (i, o) in obs.iter().enumerate() {
            match &plans[i] {
                // Warm start: the rest of the last plan, its final state repeated.
                Some(p) => {
                    init.extend_from_slice(o);
                    init.extend_from_slice(&p[d..]);
                }
                None => (0..=t).for_each(|_| init.extend_from_slice(o)),
            }
        }
        let x = rows(init, d, device).reshape([n_env, t + 1, d]);
        let x = host(plan(&model.valid(), x, &goal, &cfg.planner, sampler, w));
        let inv = inverse.valid();
        let (mut executed, mut any_done, mut bp) = (Vec::new(), false, 0);
        let mut reset = vec![false; n_env];
        while bp < t {
            let mut max_gap = 0.0f32;
            for (i, e) in envs.iter_mut().enumerate() {
                let next = &x[(i * (t + 1) + bp + 1) * d..(i * (t + 1) + bp + 2) * d];
                let act = match cfg.planner.inverse {
                    InverseKind::GroundTruth => {
                        e.inverse_dynamics(&obs[i], next).expect("closed form")
                    }
                    InverseKind::Learned => host(
                        inv.forward(rows([obs[i].as_slice(), next].concat(), 2 * d, device))
                            .clamp(-1.0, 1.0),
                    ),
                };
                let step = e.step(&act);
                executed.extend_from_slice(&obs[i]);
                executed.extend_from_slice(&step.state);
                executed.extend_from_slice(&act);
                running[i] += step.reward;
                let gap = next.iter().zip(&step.state).map(|(p, s)| (p - s).abs());
                max_gap = gap.fold(max_gap, f32::max);
                obs[i] = step.state;
                if step.done {
                    any_done = true;
                    returns.push(running[i]);
                    (running[i], finished) = (0.0, finished + 1);
                    obs[i] = e.reset(&mut || rng.next_f64());
                    reset[i] = true;
                }
            }
            steps += 1;
            bp += 1;
            if any_done || max_gap > 0.7 {
                break;
            }
        }
        for (i, p) in plans.iter_mut().enumerate() {
            let row = &x[i * (t + 1) * d..(i + 1) * (t + 1) * d];
            // Shift by the executed steps, repeating the last planned state.
            let mut shifted = row[bp * d..].to_vec();
            while shifted.len() < row.len() {
                shifted.extend_from_slice(&row[t * d..]);
            }
            *p = (!reset[i]).then_some(shifted);
        }
        // Negatives: the planned transitions up to the executed step.
        let n_neg = bp.min(t - 1).max(1);
        let mut neg = Vec::new();
        for i in 0..n_env {
            for j in 0..n_neg {
                let at = (i * (t + 1) + j) * d;
                if replay.len() > n_env * n_neg && rng.next_f64() < cfg.online.reuse_prob {
                    neg.extend_from_slice(replay.draw(&mut rng));
                } else {
                    neg.extend_from_slice(&x[at..at + 2 * d]);
                }
            }
        }
        let neg_t = match &cfg.negatives.langevin {
            Some(l) => {
                let n = neg.len() / (2 * d);
                let mask = burn::tensor::Tensor::<2>::ones([n, 2 * d], device)
                    .slice_assign([0..n, 0..d], burn::tensor::Tensor::zeros([n, d], device));
                let plain = model.valid();
                let e = |v| ebm_model::EnergyModel::energy(&plain, v, None);
                l.run(
                    &e,
                    rows(neg, 2 * d, device),
                    Some(&mask),
                    &mut ebm_sampler::NoObserver,
                )
            }
            None => rows(neg, 2 * d, device),
        };
        replay.push(&host(neg_t.clone()));
        // Positives: this round's executed transitions, and as many replayed ones.
        let fresh = executed.len() / (2 * d + a);
        if positives.len() > fresh {
            for _ in 0..fresh {
                executed.extend_from_slice(positives.draw(&mut rng));
            }
        }
        positives.push(&executed[..fresh * (2 * d + a)]);
        let (pairs, acts): (Vec<f32>, Vec<f32>) = split_rows(&executed, d, a);
        let pos = rows(pairs, 2 * d, device);
        let (m, ep, en) = cd_step(
            model,
            &mut optim,
            cfg.optimizer.lr,
            cfg.l2_coeff,
            pos.clone(),
            neg_t,
        );
        model = m;
        inverse = mse_step(
            inverse,
            &mut inv_optim,
            inverse_optimizer().lr,
            pos,
            rows(acts, a, device),
        )
        .0;
        itr += 1;
        last = (ep, en);
        if itr % 50 == 0 {
            let recent = &returns[returns.len().saturating_sub(32)..];
            let mean = recent.iter().sum::<f64>() / recent.len().max(1) as f64;
            say(&format!(
                "online {steps}/{} steps: {finished} episodes, recent return {mean:.2}, E+ {ep:.3} E- {en:.3} ({:.0} s)",
                cfg.online.steps,
                started.elapsed().as_secs_f64()
            ));
        }
    }
    let energy_log = TrainLog {
        e_pos: last.0,
        e_neg: last.1,
        test_mse: f64::NAN,
        e_test: [f64::NAN; 2],
        e_floor: None,
        e_search: None,
        seconds: started.elapsed().as_secs_f64(),
    };
    // The baseline learns from the same transitions, as two-state trajectories.
    let mut data = Trajectories::new(d, a, 2);
    for i in 0..positives.len() {
        let r = positives.row(i);
        data.push(&r[..2 * d], &r[2 * d..]);
    }
    let (data, test) = data.split(0.1);
    let (ff, ff_log) = train_ff(cfg, &data, &test, device, say);
    Trained {
        energy: model.valid(),
        inverse: inverse.valid(),
        ff,
        energy_log,
        ff_log,
    }
}

/// Rows `[s, s', a]` into pairs `[s, s']` and actions.
fn split_rows(rows: &[f32], d: usize, a: usize) -> (Vec<f32>, Vec<f32>) {
    let (mut pairs, mut acts) = (Vec::new(), Vec::new());
    for r in rows.chunks_exact(2 * d + a) {
        pairs.extend_from_slice(&r[..2 * d]);
        acts.extend_from_slice(&r[2 * d..]);
    }
    (pairs, acts)
}
