//! Planning with transition energies (Du, Lin & Mordatch 2019, "Model Based Planning with
//! Energy Based Models"): train `E(s_t, s_t+1)` on random-action transitions (or online from the
//! agent's own), plan state sequences under the energy plus smoothness and goal costs (MPPI or
//! Langevin), act through inverse dynamics with re-planning, and compare with a feed-forward
//! dynamics model planned the same way.

pub mod config;
pub mod episode;
pub mod negatives;
pub mod online;
pub mod planner;
pub mod replay;
pub mod report;
pub mod routes;
pub mod search;
pub mod train;

use anyhow::{Result, bail};
use burn::tensor::Device;
use ebm_data::plan::{Environment, Particle, environment};
use ebm_model::{MlpEnergy, MlpRegressor};
use ebm_sampler::SplitMix64;

use config::{PlanConfig, PlannerKind};
use episode::{Agent, EpisodeLog, run_episode};
use report::{PlanEntry, mean_std, paper_return};
use train::{TrainLog, train_energy, train_ff};

/// What `ebm plan` was asked.
pub struct PlanOptions {
    /// The resolved settings.
    pub config: PlanConfig,
    /// Evaluation episodes.
    pub episodes: usize,
    /// Planner.
    pub planner: PlannerKind,
    /// Train online instead of on random-action data.
    pub online: bool,
    /// Particle only: add the reference's obstacle (the planner does not know it).
    pub obstacle: bool,
}

/// The result of one environment.
pub struct PlanOutcome {
    /// The JSON entry.
    pub entry: PlanEntry,
    /// Our episodes.
    pub ours: Vec<EpisodeLog>,
    /// The baseline's episodes.
    pub baseline: Vec<EpisodeLog>,
}

/// The benchmark environment `name`, with the reference's obstacle when asked (particle only).
pub fn make_env(name: &str, obstacle: bool) -> Result<Box<dyn Environment>> {
    let env = environment(name)?;
    if !obstacle {
        return Ok(env);
    }
    if name != "particle" {
        bail!("--obstacle applies to the particle environment only, not {name}");
    }
    let mut p = Particle::benchmark();
    p.obstacle = Some(Particle::REFERENCE_OBSTACLE);
    Ok(Box::new(p))
}

/// The trained models and how their training went.
pub struct Trained {
    /// Transition energy.
    pub energy: MlpEnergy,
    /// Learned inverse dynamics.
    pub inverse: MlpRegressor,
    /// Feed-forward baseline.
    pub ff: MlpRegressor,
    /// Energy (and inverse) training.
    pub energy_log: TrainLog,
    /// Baseline training.
    pub ff_log: TrainLog,
}

/// Trains the energy, the inverse model and the baseline on random-action data.
pub fn train_offline(
    cfg: &PlanConfig,
    env: &dyn Environment,
    device: &Device,
    say: &mut dyn FnMut(&str),
) -> Trained {
    let mut rng = SplitMix64::new(cfg.seed ^ 0xda7a);
    let data =
        env.random_trajectories(cfg.trajectories, cfg.trajectory_len, &mut || rng.next_f64());
    let (data, test) = data.split(0.1);
    say(&format!(
        "{}: {} random-action transitions",
        env.name(),
        data.transitions()
    ));
    let (energy, inverse, energy_log) = train_energy(cfg, &data, &test, device, say);
    let (ff, ff_log) = train_ff(cfg, &data, &test, device, say);
    Trained {
        energy,
        inverse,
        ff,
        energy_log,
        ff_log,
    }
}

/// Runs `episodes` episodes of `agent`; episode `i` is seeded with `seed + i` for every agent,
/// so both agents meet the same starts.
pub fn evaluate(
    agent: &Agent,
    env: &mut dyn Environment,
    opts: &PlanOptions,
    device: &Device,
    say: &mut dyn FnMut(&str),
    label: &str,
) -> Vec<EpisodeLog> {
    (0..opts.episodes)
        .map(|i| {
            let seed = opts.config.seed.wrapping_add(1000 + i as u64);
            let log = run_episode(agent, env, &opts.config.planner, opts.planner, seed, device);
            say(&format!(
                "{label} episode {}/{}: return {:.2}, {} steps, {} plans, final distance {:.3}, plan gap {:.4}",
                i + 1,
                opts.episodes,
                log.return_,
                log.steps,
                log.plans,
                log.final_distance,
                log.plan_gap
            ));
            log
        })
        .collect()
}

/// Trains and evaluates one environment.
pub fn run(opts: &PlanOptions, device: &Device, say: &mut dyn FnMut(&str)) -> Result<PlanOutcome> {
    let mut env = make_env(&opts.config.env, opts.obstacle)?;
    if opts.planner == PlannerKind::Search {
        if env.state_dim() != 2 {
            bail!(
                "the search planner works on 2-D states (particle, maze), not {}'s {}",
                env.name(),
                env.state_dim()
            );
        }
        let s = &opts.config.planner.search;
        if s.reach == 0 || s.step.is_nan() || s.step <= 0.0 {
            bail!(
                "planner.search needs step > 0 and reach >= 1 (got step {}, reach {})",
                s.step,
                s.reach
            );
        }
    }
    let trained = if opts.online {
        let Some(sampler) = opts.planner.sampler() else {
            bail!("--online trains on the planner's samples; use mppi or langevin with it");
        };
        online::train_online(&opts.config, sampler, env.as_ref(), device, say)
    } else {
        train_offline(&opts.config, env.as_ref(), device, say)
    };
    // The planner's energy floor, when training measured one, is part of the settings used.
    let mut config = opts.config.clone();
    if let Some(floor) = trained.energy_log.e_floor {
        config.planner.energy_floor = Some(floor);
    }
    if let Some(limit) = trained.energy_log.e_search {
        config.planner.search.max_energy = Some(limit);
    }
    let opts = &PlanOptions {
        config,
        episodes: opts.episodes,
        planner: opts.planner,
        online: opts.online,
        obstacle: opts.obstacle,
    };
    let cfg = &opts.config;
    let t = std::time::Instant::now();
    let ours_agent = Agent::Ebm {
        energy: &trained.energy,
        inverse: &trained.inverse,
    };
    let ours = evaluate(&ours_agent, env.as_mut(), opts, device, say, "ebm");
    let t_ours = t.elapsed().as_secs_f64();
    let t = std::time::Instant::now();
    let ff_agent = Agent::FeedForward { model: &trained.ff };
    let baseline = evaluate(&ff_agent, env.as_mut(), opts, device, say, "baseline");
    let t_ff = t.elapsed().as_secs_f64();
    // The search with every move allowed: what planning scores knowing nothing of the walls.
    let no_model = (opts.planner == PlannerKind::Search).then(|| {
        let mut blind = opts.config.clone();
        blind.planner.search.max_energy = Some(f64::INFINITY);
        let blind = PlanOptions {
            config: blind,
            ..*opts
        };
        let logs = evaluate(&ours_agent, env.as_mut(), &blind, device, say, "no model");
        mean_std(&logs.iter().map(|l| l.return_).collect::<Vec<_>>()).0
    });
    let returns = |logs: &[EpisodeLog]| logs.iter().map(|l| l.return_).collect::<Vec<_>>();
    let avg = |logs: &[EpisodeLog], f: fn(&EpisodeLog) -> f64| {
        logs.iter().map(f).sum::<f64>() / logs.len().max(1) as f64
    };
    let (o, b) = (returns(&ours), returns(&baseline));
    let ((om, os), (bm, bs)) = (mean_std(&o), mean_std(&b));
    let name = if opts.obstacle {
        "particle-obstacle".to_string()
    } else {
        cfg.env.clone()
    };
    let entry = PlanEntry {
        paper: paper_return(&name),
        best: env.best_return(),
        no_model,
        env: name,
        planner: opts.planner.name().into(),
        online: opts.online,
        episodes: opts.episodes,
        ours: om,
        ours_std: os,
        baseline: bm,
        baseline_std: bs,
        ours_returns: o,
        baseline_returns: b,
        steps: [
            avg(&ours, |l| l.steps as f64),
            avg(&baseline, |l| l.steps as f64),
        ],
        final_distance: [
            avg(&ours, |l| l.final_distance),
            avg(&baseline, |l| l.final_distance),
        ],
        plan_gap: Some([avg(&ours, |l| l.plan_gap), avg(&baseline, |l| l.plan_gap)]),
        seconds: [
            trained.energy_log.seconds,
            trained.ff_log.seconds,
            t_ours,
            t_ff,
        ],
        test_mse: [trained.energy_log.test_mse, trained.ff_log.test_mse],
        energies: [trained.energy_log.e_pos, trained.energy_log.e_neg],
        config: serde_json::to_value(cfg)?,
    };
    Ok(PlanOutcome {
        entry,
        ours,
        baseline,
    })
}
