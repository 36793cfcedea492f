//! What the arm's plan cost prefers: trains the `reacher` preset's transition energy (with
//! `--set` changes, as `ebm plan` takes them) and prints, as a markdown table, the cost of
//! plans from the rest pose under the planner's cost (summed transition energies, goal and
//! smoothness terms): staying at rest, three proportional-derivative controllers' paths to
//! the goal under the true dynamics, each also with its velocities zeroed or a step late
//! (paths the arm cannot follow), and the plans MPPI finds with 10 rounds of 40 candidates
//! (the reference's) and with the preset's rounds.
//!
//! ```sh
//! cargo run --release -p ebm-experiments --example arm_plan_costs -- \
//!     --set negatives.conditional=false
//! ```

use anyhow::{Context, Result};
use burn::tensor::{Device, Tensor, TensorData};
use clap::Parser;
use ebm_experiments::paper::plan::config::{PlanConfig, PlannerConfig, Sampler};
use ebm_experiments::paper::plan::planner::{Goal, plan, plan_cost};
use ebm_experiments::paper::plan::train::host;
use ebm_experiments::paper::plan::{make_env, train_offline};
use ebm_experiments::run::config::apply_overrides;

/// `[1, T + 1, D]` from a list of states.
fn sequence(states: &[Vec<f32>], device: &Device) -> Tensor<3> {
    let d = states[0].len();
    Tensor::from_data(
        TensorData::new(states.concat(), [1, states.len(), d]),
        device,
    )
}

/// The path of `t` steps from rest under `a = clip(kp (goal - angle) - kd velocity)`.
fn controller_path(kp: f32, kd: f32, t: usize) -> Result<Vec<Vec<f32>>> {
    let mut env = make_env("reacher", false)?;
    let goal = env.goal();
    let mut s = env.reset(&mut || 0.5);
    let mut path = vec![s.clone()];
    for _ in 0..t {
        let a: Vec<f32> = (0..2)
            .map(|j| (kp * (goal[j] - s[j]) - kd * s[2 + j]).clamp(-1.0, 1.0))
            .collect();
        s = env.step(&a).state;
        path.push(s.clone());
    }
    Ok(path)
}

/// What the arm's plan cost prefers from rest.
#[derive(Parser)]
struct Args {
    /// Override a setting of the `reacher` preset, as `ebm plan --set` (repeatable).
    #[arg(long)]
    set: Vec<String>,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let device = Device::flex();
    let cfg = PlanConfig::preset("reacher").context("the reacher preset")?;
    let cfg: PlanConfig = apply_overrides(cfg, &args.set, "--set")?;
    let mut env = make_env("reacher", false)?;
    let trained = train_offline(&cfg, env.as_ref(), &device, &mut |s| eprintln!("{s}"));
    let t = cfg.planner.horizon;
    let goal = Goal::new(&env.goal(), &device);
    let rest = env.reset(&mut || 0.5);
    let mut paths: Vec<(String, Vec<Vec<f32>>)> = vec![("rest".into(), vec![rest.clone(); t + 1])];
    for (kp, kd) in [(3.0, 1.0), (10.0, 3.0)] {
        let path = controller_path(kp, kd, t)?;
        let zeroed = path.iter().map(|s| vec![s[0], s[1], 0.0, 0.0]).collect();
        let late = (0..=t)
            .map(|i| [&path[i][..2], &path[i.saturating_sub(1)][2..]].concat())
            .collect();
        let name = format!("controller kp {kp} kd {kd}");
        paths.push((name.clone(), path));
        paths.push((format!("{name}, velocities zeroed"), zeroed));
        paths.push((format!("{name}, velocities a step late"), late));
    }
    let rounds = |iterations, samples| {
        let mut p = cfg.planner.clone();
        p.mppi.iterations = iterations;
        p.mppi.samples = samples;
        p
    };
    let budgets = [
        rounds(10, 40),
        rounds(cfg.planner.mppi.iterations, cfg.planner.mppi.samples),
    ];
    let from_rest = sequence(&vec![rest; t + 1], &device);
    for p in &budgets {
        for seed in 0..2 {
            device.seed(seed);
            let x = plan(
                &trained.energy,
                from_rest.clone(),
                &goal,
                p,
                Sampler::Mppi,
                1.0,
            );
            let states = host(x).chunks(4).map(<[f32]>::to_vec).collect();
            let name = format!(
                "MPPI {} rounds of {} (seed {seed})",
                p.mppi.iterations, p.mppi.samples
            );
            paths.push((name, states));
        }
    }
    let only = |g: bool, a: bool| PlannerConfig {
        g_coeff: if g { cfg.planner.g_coeff } else { 0.0 },
        a_coeff: if a { cfg.planner.a_coeff } else { 0.0 },
        ..cfg.planner.clone()
    };
    let (energy_only, goal_only, smooth_only) =
        (only(false, false), only(true, false), only(false, true));
    println!("| plan of {t} steps from rest | cost | energies | goal | smoothness |");
    println!("|---|---|---|---|---|");
    for (name, states) in &paths {
        let x = sequence(states, &device);
        let cost = |p: &PlannerConfig, with_energy: bool| {
            let energy = with_energy.then_some(&trained.energy);
            plan_cost(energy, x.clone(), &goal, p, Sampler::Mppi, 1.0).into_scalar::<f64>()
        };
        println!(
            "| {name} | {:.3} | {:.3} | {:.3} | {:.3} |",
            cost(&cfg.planner, true),
            cost(&energy_only, true),
            cost(&goal_only, false),
            cost(&smooth_only, false)
        );
    }
    Ok(())
}
