//! `ebm plan` on the point mass: the model-predictive loop reaches the goal under a known
//! (zero) transition energy, an episode's return is the sum of its rewards, a briefly trained
//! transition energy plans to the goal, maze plans stay inside its border, the planner keeps
//! the cheapest of several plans, an energy floor raises the cost of well-liked transitions,
//! negatives sharing the positives' first states price the same move alike wherever the data
//! lie (negatives at uniform first states do not),
//! the search planner runs the best path where the energy allows every move and learns a
//! maze's walls from its failed moves where it knows none, and bad environment names and
//! planners are errors.
//!
//! The device RNG is process-wide and training seeds it: the tests take one lock so that no
//! other test draws from it while one trains or plans (otherwise results follow thread timing).

use burn::module::Param;
use burn::tensor::{Device, Tensor};
use ebm_data::plan::{Environment, Maze, Particle, Reacher, Trajectories, maze_valid};
use ebm_experiments::cli::plan::{PlanArgs, PlannerArg, run_plan};
use ebm_experiments::paper::plan::config::{PlanConfig, PlannerConfig, PlannerKind, Sampler};
use ebm_experiments::paper::plan::episode::{Agent, EpisodeLog, goal_values, run_episode};
use ebm_experiments::paper::plan::planner::{Goal, cheapest, plan_cost};
use ebm_experiments::paper::plan::train::train_energy;
use ebm_experiments::paper::plan::{make_env, train_offline};
use ebm_experiments::testing::device_rng_lock;
use ebm_model::{EnergyModel, MlpEnergy, MlpEnergyConfig, MlpRegressorConfig};
use ebm_sampler::SplitMix64;

/// The L1 distance of `s` to the goal (the particle's per-step cost).
fn l1(s: &[f32], goal: &[f32]) -> f64 {
    s.iter().zip(goal).map(|(a, b)| (a - b).abs() as f64).sum()
}

/// The reference's transition energy with its output weight zeroed: `E = 0` everywhere, so
/// plans follow the goal and smoothness costs alone.
fn zero_energy(device: &Device) -> MlpEnergy {
    let mut e = MlpEnergyConfig::ebm_plan(2).with_hidden(16).init(device);
    let dims = e.out.weight.dims();
    e.out.weight = Param::from_tensor(Tensor::zeros(dims, device));
    e
}

/// One episode of the agent planning under the zero energy (inverse model untrained: the
/// point's ground-truth inverse acts).
fn zero_energy_episode(
    env: &mut dyn Environment,
    cfg: &PlannerConfig,
    kind: PlannerKind,
    seed: u64,
) -> EpisodeLog {
    let device = Device::flex();
    let energy = zero_energy(&device);
    let inverse = MlpRegressorConfig::ebm_plan_inverse(2, 2).init(&device);
    let agent = Agent::Ebm {
        energy: &energy,
        inverse: &inverse,
    };
    run_episode(&agent, env, cfg, kind, seed, &device)
}

#[test]
fn zero_energy_plans_reach_the_goal_and_the_return_is_the_sum_of_rewards() {
    let _rng = device_rng_lock();
    let mut cfg = PlanConfig::preset("particle").unwrap();
    // The reference's goal weight (the preset's 1000 is for MPPI against a trained energy;
    // Langevin's step of 1.0 on it would overshoot).
    cfg.planner.g_coeff = 1.0;
    let mut env = Particle::benchmark();
    let goal = env.goal();
    for kind in [PlannerKind::Mppi, PlannerKind::Langevin] {
        let log = zero_energy_episode(&mut env, &cfg.planner, kind, 7);
        // Start (0, 0), goal (0.5, 0.5): at most 0.05 per axis per step, so at least 10 steps.
        assert_eq!(log.executed[0], vec![0.0, 0.0]);
        assert!(
            log.final_distance < 0.1 && log.steps >= 10 && log.steps <= 60,
            "{kind:?}: {} steps, final distance {}",
            log.steps,
            log.final_distance
        );
        // Bookkeeping: one executed state per step after the reset state, the return is minus
        // the summed L1 distances after each move, the final distance is the last of them.
        assert_eq!(log.executed.len(), log.steps + 1);
        let summed: f64 = log.executed[1..].iter().map(|s| -l1(s, &goal)).sum();
        assert!(
            (log.return_ - summed).abs() < 1e-4,
            "{} vs {summed}",
            log.return_
        );
        let last = l1(log.executed.last().unwrap(), &goal);
        assert!((log.final_distance - last).abs() < 1e-5);
        assert!(
            log.plans >= 1
                && log
                    .planned
                    .iter()
                    .all(|p| p.len() == cfg.planner.horizon + 1)
        );
        // Every plan starts at the state it was made from.
        assert!(log.executed.contains(&log.planned[0][0]));
        // A straight run costs 0.9 + 0.8 + ... + 0 = 4.5; standing still for 60 steps, 60.
        eprintln!("{kind:?}: return {:.2} in {} steps", log.return_, log.steps);
        assert!(log.return_ > -20.0, "{kind:?}: return {}", log.return_);
    }
    // Random restarts beside the usual start: plans keep their shape and still reach the goal.
    cfg.planner.restarts = 4;
    let log = zero_energy_episode(&mut env, &cfg.planner, PlannerKind::Mppi, 7);
    assert!(
        log.planned
            .iter()
            .all(|p| p.len() == cfg.planner.horizon + 1 && p[0].len() == 2),
        "plan shapes"
    );
    assert!(
        log.final_distance < 0.1,
        "restarts: final distance {}",
        log.final_distance
    );
}

#[test]
fn a_briefly_trained_transition_energy_plans_to_the_goal() {
    let _rng = device_rng_lock();
    let device = Device::flex();
    let mut cfg = PlanConfig::preset("particle").unwrap();
    cfg.trajectories = 1000;
    cfg.iterations = 600;
    cfg.batch = 128;
    cfg.hidden = 64;
    let env = Particle::benchmark();
    let trained = train_offline(&cfg, &env, &device, &mut |_| {});
    // Real transitions are less energetic than pairs of unrelated states.
    let [e_real, e_jump] = trained.energy_log.e_test;
    assert!(
        e_real < 0.5 * e_jump,
        "E(real) {e_real} vs E(jump) {e_jump}"
    );
    // Actions lie in [-1, 1] (variance about 1/3): the inverse model and the feed-forward
    // dynamics (steps of at most 0.05) must be far better than guessing.
    let (inv, ff) = (trained.energy_log.test_mse, trained.ff_log.test_mse);
    assert!(inv < 0.05, "inverse-model held-out MSE {inv}");
    assert!(ff < 1e-3, "feed-forward held-out MSE {ff}");
    let agent = Agent::Ebm {
        energy: &trained.energy,
        inverse: &trained.inverse,
    };
    let mut env: Box<dyn Environment> = Box::new(env);
    let reached = (0..3)
        .map(|i| {
            run_episode(
                &agent,
                env.as_mut(),
                &cfg.planner,
                PlannerKind::Mppi,
                i,
                &device,
            )
        })
        .inspect(|log| {
            eprintln!(
                "return {:.2}, {} steps, final distance {:.3}",
                log.return_, log.steps, log.final_distance
            )
        })
        .filter(|log| log.final_distance <= 0.01 && log.steps <= 60 && log.return_ > -12.0)
        .count();
    assert!(
        reached >= 2,
        "{reached} of 3 episodes reached the goal within 60 steps"
    );
}

/// Random-walk transitions of the point (steps of up to 0.05 per coordinate): `crowded`
/// trajectories start near (-0.5, -0.5), `rare` ones near (0.5, 0.5).
fn two_crowds(crowded: usize, rare: usize, rng: &mut SplitMix64) -> Trajectories {
    let len = 11;
    let mut data = Trajectories::new(2, 2, len);
    for i in 0..crowded + rare {
        let c = if i < crowded { -0.5 } else { 0.5 };
        let mut s = [
            c + 0.1 * (rng.next_f64() - 0.5),
            c + 0.1 * (rng.next_f64() - 0.5),
        ];
        let (mut states, mut actions) = (s.map(|v| v as f32).to_vec(), Vec::new());
        for _ in 1..len {
            let a = [2.0 * rng.next_f64() - 1.0, 2.0 * rng.next_f64() - 1.0];
            s = [s[0] + 0.05 * a[0], s[1] + 0.05 * a[1]];
            states.extend(s.map(|v| v as f32));
            actions.extend(a.map(|v| v as f32));
        }
        data.push(&states, &actions);
    }
    data
}

/// Mean energy of the moves `(s, s + m)` from `centre` for a few real moves `m`, and of a
/// jump no step can make.
fn moves_and_jump(energy: &MlpEnergy, centre: f32, device: &Device) -> (f64, f64) {
    let e = |pairs: Vec<f32>| {
        let n = pairs.len() / 4;
        energy
            .energy(
                Tensor::<1>::from_floats(pairs.as_slice(), device).reshape([n, 4]),
                None,
            )
            .mean()
            .into_scalar::<f64>()
    };
    let moves = [
        [0.03, 0.0],
        [-0.03, 0.0],
        [0.0, 0.03],
        [0.0, -0.03],
        [0.02, 0.02],
    ];
    let pairs = moves
        .iter()
        .flat_map(|m| [centre, centre, centre + m[0], centre + m[1]])
        .collect();
    (
        e(pairs),
        e(vec![centre, centre, centre + 0.3, centre - 0.3]),
    )
}

#[test]
fn a_conditional_energy_prices_moves_alike_where_the_data_crowd_and_where_they_are_rare() {
    let _rng = device_rng_lock();
    let device = Device::flex();
    let mut rng = SplitMix64::new(11);
    let data = two_crowds(900, 100, &mut rng);
    let test = two_crowds(90, 10, &mut rng);
    let gap = |conditional: bool| {
        let mut cfg = PlanConfig::preset("particle").unwrap();
        cfg.iterations = 400;
        cfg.batch = 128;
        cfg.hidden = 32;
        cfg.negatives.conditional = conditional;
        let (energy, _, _) = train_energy(&cfg, &data, &test, &device, &mut |_| {});
        let (crowded, crowded_jump) = moves_and_jump(&energy, -0.5, &device);
        let (rare, rare_jump) = moves_and_jump(&energy, 0.5, &device);
        eprintln!(
            "conditional {conditional}: moves {crowded:.4} (crowded) {rare:.4} (rare), \
             jumps {crowded_jump:.4} {rare_jump:.4}"
        );
        (rare - crowded, rare_jump - rare)
    };
    let (joint_gap, _) = gap(false);
    let (cond_gap, cond_jump) = gap(true);
    // Negatives at uniform first states (the reference) teach where the states lie: the same
    // moves cost more where the data are rare. Negatives sharing the positives' first states
    // teach the moves alone.
    assert!(
        joint_gap > 0.0 && cond_gap.abs() < 0.5 * joint_gap,
        "rare minus crowded: joint {joint_gap}, conditional {cond_gap}"
    );
    assert!(
        cond_jump > 0.0,
        "a jump must cost more than a real move: {cond_jump}"
    );
}

#[test]
fn maze_plans_keep_the_agent_inside_the_border() {
    let _rng = device_rng_lock();
    let mut cfg = PlanConfig::preset("maze").unwrap();
    (cfg.planner.horizon, cfg.planner.max_steps) = (20, 30);
    cfg.planner.mppi.iterations = 20;
    // A goal beyond the left border: with nothing but the goal cost, plans head for it.
    let mut env = Maze::new([-0.85, -0.85], [-1.5, -0.85], 0.01);
    let log = zero_energy_episode(&mut env, &cfg.planner, PlannerKind::Mppi, 3);
    assert_eq!(
        log.steps, 30,
        "the episode ended early: the agent left the maze"
    );
    let last = log.executed.last().unwrap();
    assert!(
        last[0] < -0.9,
        "the agent did not go towards the goal: {last:?}"
    );
    assert!(
        log.executed
            .iter()
            .all(|s| maze_valid(f64::from(s[0]), f64::from(s[1]))),
        "{:?}",
        log.executed
    );
}

#[test]
fn the_cheapest_of_several_plans_is_kept() {
    let device = Device::flex();
    let energy = zero_energy(&device);
    let cfg = PlanConfig::preset("maze").unwrap().planner;
    let goal = Goal::new(&[0.5, 0.5], &device);
    // Three plans of four states from the origin: one stays, one ends at the goal, one ends
    // beyond it. With a zero energy the goal cost decides.
    let stay = [0.0; 8];
    let reach = [0.0, 0.0, 0.2, 0.2, 0.4, 0.4, 0.5, 0.5];
    let past = [0.0, 0.0, 0.3, 0.3, 0.6, 0.6, 0.9, 0.9];
    let x = Tensor::<1>::from_floats([stay, past, reach].concat().as_slice(), &device)
        .reshape([3, 4, 2]);
    let best = cheapest(&energy, x, &goal, &cfg, Sampler::Mppi);
    assert_eq!(best.dims(), [1, 4, 2]);
    assert_eq!(
        best.into_data().try_to_vec::<f32>().unwrap(),
        reach.to_vec()
    );
}

#[test]
fn an_energy_floor_raises_every_transition_below_it() {
    let device = Device::flex();
    let energy = zero_energy(&device);
    let mut cfg = PlanConfig::preset("maze").unwrap().planner;
    let goal = Goal::new(&[0.5, 0.5], &device);
    let x = Tensor::<1>::from_floats([0.0, 0.0, 0.1, 0.2, 0.3, 0.1].as_slice(), &device)
        .reshape([1, 3, 2]);
    let cost = |cfg: &PlannerConfig| {
        plan_cost(Some(&energy), x.clone(), &goal, cfg, Sampler::Mppi, 1.0).into_scalar::<f32>()
    };
    let plain = cost(&cfg);
    cfg.energy_floor = Some(0.25);
    // Two transitions of energy 0, each raised to 0.25.
    assert!((cost(&cfg) - plain - 0.5).abs() < 1e-5);
    cfg.energy_floor = Some(-0.25);
    assert!(
        (cost(&cfg) - plain).abs() < 1e-6,
        "a floor below the energy changes nothing"
    );
}

#[test]
fn the_search_planner_runs_the_best_path_where_every_move_is_allowed() {
    let _rng = device_rng_lock();
    let cfg = PlanConfig::preset("particle").unwrap();
    let mut env = Particle::benchmark();
    let best = env.best_return().unwrap();
    let log = zero_energy_episode(&mut env, &cfg.planner, PlannerKind::Search, 1);
    // Ten diagonal steps: distances 0.9, 0.8, ..., 0.
    assert_eq!(log.steps, 10);
    assert!((best + 4.5).abs() < 1e-9, "best return {best}");
    assert!((log.return_ - best).abs() < 1e-4, "return {}", log.return_);
    assert!(
        log.planned
            .iter()
            .all(|p| p.len() == cfg.planner.horizon + 1)
    );
}

#[test]
fn a_search_that_knows_no_walls_learns_them_from_its_failed_moves() {
    let _rng = device_rng_lock();
    // E = 0 allows every move, walls included: each move into a wall fails, is left out of
    // the episode's later plans, and the agent finds the openings.
    let cfg = PlanConfig::preset("maze").unwrap();
    let mut env = Maze::benchmark();
    let log = zero_energy_episode(&mut env, &cfg.planner, PlannerKind::Search, 1);
    eprintln!(
        "return {:.2}, {} steps, {} plans",
        log.return_, log.steps, log.plans
    );
    assert!(
        log.final_distance < 0.01,
        "final distance {}",
        log.final_distance
    );
    // Bumping costs steps: more than the 52 of the best path, and a plan after each bump.
    let best = env.best_return().unwrap();
    assert!(log.return_ < best && log.steps > 52 && log.plans > 20);
    // It went round the first wall through the upper opening.
    assert!(
        log.executed
            .iter()
            .any(|s| s[0] > -0.5 && s[0] < 0.0 && s[1] > 0.25)
    );
}

#[test]
fn a_goal_at_rest_adds_zero_velocities_to_the_arms_goal() {
    let mut cfg = PlanConfig::preset("reacher").unwrap().planner;
    let arm = Reacher::benchmark();
    assert_eq!(goal_values(&arm, &cfg), vec![-0.3, -0.5]);
    cfg.goal_rest = true;
    assert_eq!(goal_values(&arm, &cfg), vec![-0.3, -0.5, 0.0, 0.0]);
    // The point's goal covers its whole state already.
    assert_eq!(goal_values(&Particle::benchmark(), &cfg), vec![0.5, 0.5]);
}

#[test]
fn the_search_planner_refuses_what_it_cannot_do() {
    let _rng = device_rng_lock();
    let args = |env: &str, online: bool| PlanArgs {
        env: env.into(),
        episodes: 1,
        planner: PlannerArg::Search,
        online,
        obstacle: false,
        out: std::env::temp_dir().join("ebm-plan-unused"),
        seed: None,
        set: Vec::new(),
        device: Some("flex".into()),
    };
    let err = run_plan(args("reacher", false)).unwrap_err();
    assert!(err.to_string().contains("2-D states"), "{err}");
    let err = run_plan(args("particle", true)).unwrap_err();
    assert!(err.to_string().contains("--online"), "{err}");
}

#[test]
fn unknown_environments_are_errors() {
    let _rng = device_rng_lock();
    assert!(PlanConfig::preset("cartpole").is_none());
    assert!(make_env("cartpole", false).is_err());
    assert!(
        make_env("maze", true).is_err(),
        "the obstacle is the particle's only"
    );
    let err = run_plan(PlanArgs {
        env: "cartpole".into(),
        episodes: 1,
        planner: PlannerArg::Mppi,
        online: false,
        obstacle: false,
        out: std::env::temp_dir().join("ebm-plan-unused"),
        seed: None,
        set: Vec::new(),
        device: Some("flex".into()),
    })
    .unwrap_err();
    assert!(err.to_string().contains("unknown environment"), "{err}");
}
