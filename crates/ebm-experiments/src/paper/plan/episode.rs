//! Model-predictive execution: plan from the observation, act through inverse dynamics (or the
//! baseline's own actions), replan when the observed state leaves the plan or the executed
//! part runs out (the reference's `get_avg_step_num`).

use burn::tensor::{Device, Distribution, Tensor};
use ebm_data::plan::Environment;
use ebm_model::{MlpEnergy, MlpRegressor};
use ebm_sampler::SplitMix64;

use super::config::{InverseKind, PlannerConfig, PlannerKind};
use super::planner::{Goal, cheapest, plan, plan_actions, rollout};
use super::routes::random_routes;
use super::search::{Failed, MoveModel, move_action, search_plan};
use super::train::{host, rows};

/// Who plans.
pub enum Agent<'a> {
    /// The transition energy, planning states; actions by inverse dynamics (`inverse` is the
    /// learned model, used when the config asks for it).
    Ebm {
        /// Transition energy.
        energy: &'a MlpEnergy,
        /// Learned inverse dynamics.
        inverse: &'a MlpRegressor,
    },
    /// The feed-forward baseline, planning actions.
    FeedForward {
        /// Dynamics model `[s, a] -> s'`.
        model: &'a MlpRegressor,
    },
}

/// One plan: `T + 1` states (the first is the observation it started from) and, for the
/// baseline, the `T` actions it will execute.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Planned {
    /// Planned (or, for the baseline, predicted) states.
    pub states: Vec<Vec<f32>>,
    /// The baseline's actions.
    #[serde(skip)]
    pub actions: Option<Vec<Vec<f32>>>,
}

fn split(values: Vec<f32>, width: usize) -> Vec<Vec<f32>> {
    values.chunks_exact(width).map(<[f32]>::to_vec).collect()
}

/// `prev` advanced by `k` steps: its unexecuted rest, the last entry repeated to the length.
fn shifted(prev: &[Vec<f32>], k: usize) -> Vec<Vec<f32>> {
    let last = prev.last().expect("a plan is never empty").clone();
    let mut out: Vec<Vec<f32>> = prev[k.min(prev.len())..].to_vec();
    out.resize(prev.len(), last);
    out
}

impl Agent<'_> {
    /// Plans from `obs`; `warm` is the previous plan and how many of its steps were executed;
    /// `failed` the moves of this episode that did not happen (the search leaves them out);
    /// `rng` draws the random routes of `cfg.restarts`.
    #[allow(clippy::too_many_arguments)]
    pub fn plan(
        &self,
        obs: &[f32],
        warm: Option<(&Planned, usize)>,
        failed: &[Failed],
        goal: &Goal,
        cfg: &PlannerConfig,
        kind: PlannerKind,
        rng: &mut SplitMix64,
        device: &Device,
    ) -> Planned {
        let (d, t) = (obs.len(), cfg.horizon);
        let Some(sampler) = kind.sampler() else {
            let model = match self {
                Agent::Ebm { energy, .. } => MoveModel::Energy(energy),
                Agent::FeedForward { model } => MoveModel::FeedForward(model),
            };
            let range = cfg.mppi.clamp.unwrap_or((-1.0, 1.0));
            let s = search_plan(
                model,
                obs,
                failed,
                &goal.target,
                &cfg.search,
                range,
                t + 1,
                device,
            );
            // The baseline executes its own moves; the energy's are acted by inverse dynamics.
            let actions = matches!(self, Agent::FeedForward { .. }).then(|| {
                s.moves
                    .into_iter()
                    .map(|m| move_action(m, cfg.search.reach))
                    .collect()
            });
            return Planned {
                states: s.states,
                actions,
            };
        };
        match self {
            Agent::Ebm { energy, .. } => {
                let mut init: Vec<f32> = Vec::with_capacity((t + 1) * d);
                let mut candidates = 1;
                match warm {
                    Some((prev, k)) if cfg.warm_start => {
                        init.extend_from_slice(obs);
                        for s in &shifted(&prev.states, k)[1..] {
                            init.extend_from_slice(s);
                        }
                    }
                    _ => {
                        (0..=t).for_each(|_| init.extend_from_slice(obs));
                        candidates = cfg.restarts.max(1);
                    }
                }
                if candidates > 1 {
                    let range = cfg.mppi.clamp.unwrap_or((-1.0, 1.0));
                    init.extend(random_routes(
                        obs,
                        &goal.target,
                        t,
                        cfg.waypoints,
                        candidates - 1,
                        range,
                        rng,
                    ));
                }
                let x = rows(init, d, device).reshape([candidates, t + 1, d]);
                let x = plan(energy, x, goal, cfg, sampler, 1.0);
                let x = cheapest(energy, x, goal, cfg, sampler);
                Planned {
                    states: split(host(x), d),
                    actions: None,
                }
            }
            Agent::FeedForward { model } => {
                let act_dim = model.layers[0].weight.dims()[0] - d;
                let init = match warm {
                    Some((prev, k)) if cfg.warm_start => {
                        let acts = prev.actions.as_ref().expect("baseline plans carry actions");
                        let v: Vec<f32> = shifted(acts, k).concat();
                        rows(v, act_dim, device).reshape([1, t, act_dim])
                    }
                    _ => Tensor::random([1, t, act_dim], Distribution::Uniform(-0.1, 0.1), device),
                };
                let s0 = rows(obs.to_vec(), d, device);
                let acts = plan_actions(model, s0.clone(), init, goal, cfg, sampler);
                let states = rollout(model, s0, acts.clone());
                Planned {
                    states: split(host(states), d),
                    actions: Some(split(host(acts), act_dim)),
                }
            }
        }
    }

    /// The action for step `t` of `plan`, taken from the observation `obs`.
    pub fn act(
        &self,
        env: &dyn Environment,
        obs: &[f32],
        plan: &Planned,
        t: usize,
        cfg: &PlannerConfig,
        device: &Device,
    ) -> Vec<f32> {
        if let Some(acts) = &plan.actions {
            return acts[t].clone();
        }
        let from = if cfg.track { obs } else { &plan.states[t] };
        let next = &plan.states[t + 1];
        match (self, cfg.inverse) {
            (Agent::Ebm { inverse, .. }, InverseKind::Learned) => {
                let x = rows([from, next.as_slice()].concat(), 2 * obs.len(), device);
                host(inverse.forward(x).clamp(-1.0, 1.0))
            }
            _ => env.inverse_dynamics(from, next).expect(
                "this environment has no ground-truth inverse dynamics; use the learned one",
            ),
        }
    }
}

/// One episode's record.
#[derive(Clone, Debug, serde::Serialize)]
pub struct EpisodeLog {
    /// Sum of the rewards.
    pub return_: f64,
    /// Steps taken.
    pub steps: usize,
    /// Minus the last reward: the distance to the goal at the end.
    pub final_distance: f64,
    /// Plans made.
    pub plans: usize,
    /// Mean over executed steps of the mean absolute gap, per state coordinate, between the
    /// state a plan said the step would reach and the state it reached: how far plans are
    /// from what the agent can do (0 for plans the dynamics follow exactly).
    pub plan_gap: f64,
    /// The executed states, the reset state first.
    pub executed: Vec<Vec<f32>>,
    /// Every plan's states.
    pub planned: Vec<Vec<Vec<f32>>>,
}

/// The values the plans' goal cost pulls towards: the environment's goal, extended with zeros
/// over the remaining state dimensions when `cfg.goal_rest`.
pub fn goal_values(env: &dyn Environment, cfg: &PlannerConfig) -> Vec<f32> {
    let mut target = env.goal();
    if cfg.goal_rest {
        target.resize(env.state_dim(), 0.0);
    }
    target
}

/// Runs one episode of `agent` in `env`, seeded by `seed`.
pub fn run_episode(
    agent: &Agent,
    env: &mut dyn Environment,
    cfg: &PlannerConfig,
    kind: PlannerKind,
    seed: u64,
    device: &Device,
) -> EpisodeLog {
    let mut rng = SplitMix64::new(seed);
    device.seed(seed);
    let goal = Goal::new(&goal_values(env, cfg), device);
    let mut obs = env.reset(&mut || rng.next_f64());
    let mut log = EpisodeLog {
        return_: 0.0,
        steps: 0,
        final_distance: f64::NAN,
        plans: 0,
        plan_gap: 0.0,
        executed: vec![obs.clone()],
        planned: Vec::new(),
    };
    let mut prev: Option<(Planned, usize)> = None;
    let mut failed: Vec<Failed> = Vec::new();
    let mut gap_sum = 0.0;
    loop {
        let p = agent.plan(
            &obs,
            prev.as_ref().map(|(p, k)| (p, *k)),
            &failed,
            &goal,
            cfg,
            kind,
            &mut rng,
            device,
        );
        log.plans += 1;
        log.planned.push(p.states.clone());
        let (mut k, mut left) = (0, false);
        while k < cfg.execute.min(cfg.horizon) {
            let a = agent.act(env, &obs, &p, k, cfg, device);
            let from = obs.clone();
            let step = env.step(&a);
            (log.return_, log.steps, log.final_distance) =
                (log.return_ + step.reward, log.steps + 1, -step.reward);
            obs = step.state;
            log.executed.push(obs.clone());
            k += 1;
            let gap: f32 = p.states[k]
                .iter()
                .zip(&obs)
                .map(|(a, b)| (a - b).abs())
                .sum::<f32>()
                / obs.len() as f32;
            gap_sum += f64::from(gap);
            if step.done || log.steps >= cfg.max_steps {
                log.plan_gap = gap_sum / log.steps as f64;
                return log;
            }
            if gap as f64 > cfg.replan_gap {
                left = true;
                break;
            }
            // The search's moves are exact: one that missed its node failed (a wall the model
            // does not know); it is left out of this episode's later plans, planned afresh.
            if kind == PlannerKind::Search && gap > 1e-4 {
                failed.push((from, p.states[k].clone()));
                break;
            }
        }
        prev = if left && cfg.restart_on_gap {
            None
        } else {
            Some((p, k))
        };
    }
}
