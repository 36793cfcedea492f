//! `ebm plan`: flags, then the planning experiment (`paper::plan`), its pictures and JSON.

use std::path::PathBuf;

use anyhow::{Context, Result, anyhow};
use clap::{Args, ValueEnum};
use ebm_data::plan::ENVIRONMENTS;
use plotters::style::RGBColor;

use crate::device::select_device;
use crate::paper::plan::config::{PlanConfig, PlannerKind};
use crate::paper::plan::report::{merge_into, table};
use crate::paper::plan::{PlanOptions, make_env, run};
use crate::plot::trajectories::{Panel, write_trajectories};
use crate::run::config::apply_overrides;

/// The planner flag.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum PlannerArg {
    /// MPPI over states (the reference's default).
    Mppi,
    /// Langevin dynamics over states.
    Langevin,
    /// Graph search over a lattice of 2-D states (particle, maze; not in the paper).
    Search,
}

/// Flags of `ebm plan`.
#[derive(Args, Debug)]
pub struct PlanArgs {
    /// Environment: particle, maze or reacher.
    pub env: String,
    /// Evaluation episodes (both agents meet the same starts).
    #[arg(long, default_value_t = 10)]
    pub episodes: usize,
    /// Planner of states (the baseline uses the same one over actions).
    #[arg(long, value_enum, default_value_t = PlannerArg::Mppi)]
    pub planner: PlannerArg,
    /// Train online from the agent's own executed transitions instead of random-action data.
    #[arg(long)]
    pub online: bool,
    /// Particle only: put the reference's obstacle [0.1, 0.5]^2 in the way (the planner does
    /// not know it; recorded as env `particle-obstacle`).
    #[arg(long)]
    pub obstacle: bool,
    /// Output folder: plan.json (merged with the entries of other environments, planners and
    /// modes), <env>[-online][-langevin].png and -episodes.json.
    #[arg(long, default_value = "runs/plan")]
    pub out: PathBuf,
    /// Seed of everything random.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Override a setting: `--set planner.horizon=20`, `--set iterations=500` (repeatable).
    #[arg(long = "set")]
    pub set: Vec<String>,
    /// Device, as for train.
    #[arg(long)]
    pub device: Option<String>,
}

/// Runs `ebm plan`.
pub fn run_plan(args: PlanArgs) -> Result<()> {
    let preset = PlanConfig::preset(&args.env).ok_or_else(|| {
        anyhow!(
            "unknown environment {:?}; known: {}",
            args.env,
            ENVIRONMENTS.join(", ")
        )
    })?;
    let mut config = apply_overrides(preset, &args.set, "--set")?;
    if let Some(seed) = args.seed {
        config.seed = seed;
    }
    let (spec, device) = select_device(args.device.as_deref())?;
    let env = make_env(&args.env, args.obstacle)?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    eprintln!("ebm plan {} on {spec}", args.env);
    let opts = PlanOptions {
        config,
        episodes: args.episodes,
        planner: match args.planner {
            PlannerArg::Mppi => PlannerKind::Mppi,
            PlannerArg::Langevin => PlannerKind::Langevin,
            PlannerArg::Search => PlannerKind::Search,
        },
        online: args.online,
        obstacle: args.obstacle,
    };
    let outcome = run(&opts, &device, &mut |line: &str| eprintln!("{line}"))?;
    // File stem: the environment, then what differs from the default run.
    let name = format!(
        "{}{}{}",
        outcome.entry.env,
        if args.online { "-online" } else { "" },
        match opts.planner {
            PlannerKind::Mppi => String::new(),
            other => format!("-{}", other.name()),
        }
    );
    let png = args.out.join(format!("{name}.png"));
    let walls: Vec<_> = env
        .walls()
        .iter()
        .map(|r| (r.x0, r.y0, r.x1, r.y1))
        .collect();
    let e = env.extent();
    let g = env.goal();
    // The first three episodes of each agent: executed paths and every plan made on the way.
    let shown = |logs: &[crate::paper::plan::episode::EpisodeLog]| {
        let logs = &logs[..logs.len().min(3)];
        let exec: Vec<_> = logs.iter().map(|l| l.executed.clone()).collect();
        let plans: Vec<_> = logs.iter().flat_map(|l| l.planned.clone()).collect();
        (exec, plans)
    };
    let (oe, op) = shown(&outcome.ours);
    let (be, bp) = shown(&outcome.baseline);
    write_trajectories(
        &png,
        &[
            Panel {
                executed: &oe,
                planned: &op,
                colour: RGBColor(20, 60, 200),
            },
            Panel {
                executed: &be,
                planned: &bp,
                colour: RGBColor(200, 60, 20),
            },
        ],
        (e.x0, e.y0, e.x1, e.y1),
        &walls,
        (g[0] as f64, g[1] as f64),
    )?;
    let episodes = args.out.join(format!("{name}-episodes.json"));
    let json = serde_json::json!({ "ours": outcome.ours, "baseline": outcome.baseline });
    std::fs::write(&episodes, serde_json::to_string(&json)?)
        .with_context(|| format!("writing {}", episodes.display()))?;
    let plan_json = args.out.join("plan.json");
    merge_into(&plan_json, &outcome.entry)?;
    println!("{}", table(std::slice::from_ref(&outcome.entry)));
    eprintln!(
        "wrote {}, {} (left: energy planner, right: feed-forward baseline) and {}",
        plan_json.display(),
        png.display(),
        episodes.display()
    );
    Ok(())
}
