//! Plans by graph search over what a learned model allows, for 2-D states (`--planner
//! search`): a lattice of states around the observation (by default one action's reach
//! apart), an edge between nodes one move apart wherever the model takes the move to be
//! possible, and the least-cost path
//! (each step costing its destination's L1 distance to the goal, the environment's per-step
//! cost) to the reachable node nearest the goal.
//!
//! For the transition energy a move is possible when `E(s, s')` is at most the `quantile` of
//! the energies of held-out real transitions; for the feed-forward baseline, when the model
//! predicts that the move's action lands on the neighbour. Unlike MPPI's local refinement of
//! one sequence, the search sees every way round a wall, so it tests what the model knows of
//! the walls rather than how well a sampler finds the way. Not in the paper (which plans with
//! MPPI or Langevin); a lattice of a 4-D state (the arm) is out of reach, so 2-D only.

use std::collections::HashSet;

use burn::config::Config;
use burn::tensor::Device;
use ebm_data::plan::lattice::{Lattice, least_costs, moves_within, path_to};
use ebm_model::{EnergyModel, MlpEnergy, MlpRegressor};

use super::train::{host, rows};

/// Settings of the search planner.
#[derive(Config, Debug)]
pub struct SearchConfig {
    /// Lattice spacing. `step * reach` is one action's largest displacement along an axis
    /// (the point's 0.05).
    #[config(default = 0.05)]
    pub step: f64,
    /// Moves reach this many lattice steps along each axis at most (1: the eight neighbours).
    #[config(default = 1)]
    pub reach: usize,
    /// A move is possible when its energy is at most this quantile of held-out real
    /// transitions' energies.
    #[config(default = 0.99)]
    pub quantile: f64,
    /// That energy, set after training (`None` before: every move possible).
    #[config(default = "None")]
    pub max_energy: Option<f64>,
}

/// A plan the search found: its states (the observation first) and the lattice moves taken.
pub struct Searched {
    /// States, `len` of them.
    pub states: Vec<Vec<f32>>,
    /// Moves `(di, dj)` in lattice steps (`(0, 0)` where the plan waits), `len - 1` of them.
    pub moves: Vec<(i64, i64)>,
}

/// The lattice around `obs` within `range` (widened to hold `obs`).
fn lattice_at(obs: &[f32], step: f64, range: (f64, f64)) -> Lattice {
    assert_eq!(obs.len(), 2, "the search planner needs 2-D states");
    let p = [obs[0] as f64, obs[1] as f64];
    let lo = range.0.min(p[0]).min(p[1]);
    let hi = range.1.max(p[0]).max(p[1]);
    Lattice::around(p, step, lo, hi)
}

/// A lattice edge: from node, to node (the move is [`Lattice::offset`] of the two).
type Edge = (usize, usize);

/// Every lattice edge of `moves`, with the pairs of states it joins `[n, 4]`.
fn edges(lattice: &Lattice, moves: &[(i64, i64)]) -> (Vec<Edge>, Vec<f32>) {
    let (mut list, mut pairs) = (Vec::new(), Vec::new());
    for u in 0..lattice.len() {
        for &m in moves {
            if let Some(v) = lattice.neighbour(u, m) {
                list.push((u, v));
                let (a, b) = (lattice.point(u), lattice.point(v));
                pairs.extend([a[0], a[1], b[0], b[1]].map(|x| x as f32));
            }
        }
    }
    (list, pairs)
}

/// A move the agent tried in this episode that did not take it where the plan said: from a
/// state, the planned next state.
pub type Failed = (Vec<f32>, Vec<f32>);

/// The lattice edge of a failed move, if both its states are nodes.
fn failed_edge(lattice: &Lattice, (from, to): &Failed) -> Option<(usize, usize)> {
    let node = |s: &[f32]| {
        let p = [s[0] as f64, s[1] as f64];
        let v = lattice.nearest(p)?;
        let q = lattice.point(v);
        ((q[0] - p[0]).abs() < 1e-4 && (q[1] - p[1]).abs() < 1e-4).then_some(v)
    };
    Some((node(from)?, node(to)?))
}

/// The least-cost path over the edges `allowed` keeps, less the moves that `failed` in this
/// episode, from the observation to the reachable node nearest the goal, padded (its last
/// state repeated, no move) or cut to `len` states.
fn search(
    lattice: &Lattice,
    moves: &[(i64, i64)],
    mut allowed: HashSet<Edge>,
    failed: &[Failed],
    goal: &[f32],
    len: usize,
) -> Searched {
    for f in failed {
        if let Some(edge) = failed_edge(lattice, f) {
            allowed.remove(&edge);
        }
    }
    let dist = |v: usize| {
        let p = lattice.point(v);
        (p[0] - goal[0] as f64).abs() + (p[1] - goal[1] as f64).abs()
    };
    let start = lattice
        .nearest(lattice.anchor)
        .expect("the anchor is a node");
    let (best, prev) = least_costs(lattice, start, moves, |u, v| {
        allowed.contains(&(u, v)).then(|| dist(v))
    });
    let target = (0..lattice.len())
        .filter(|&v| best[v].is_finite())
        .min_by(|&a, &b| {
            dist(a)
                .total_cmp(&dist(b))
                .then(best[a].total_cmp(&best[b]))
        })
        .expect("the start is reachable");
    let path = path_to(&prev, target);
    let mut states: Vec<Vec<f32>> = path
        .iter()
        .map(|&v| {
            let p = lattice.point(v);
            vec![p[0] as f32, p[1] as f32]
        })
        .collect();
    states[0] = lattice.anchor.map(|x| x as f32).to_vec();
    let mut moves: Vec<(i64, i64)> = path
        .windows(2)
        .map(|w| lattice.offset(w[0], w[1]))
        .collect();
    let last = states.last().expect("never empty").clone();
    states.resize(len, last);
    moves.resize(len - 1, (0, 0));
    Searched { states, moves }
}

/// Whose judgement of which moves are possible the search follows.
#[derive(Clone, Copy)]
pub enum MoveModel<'a> {
    /// A move is possible when its transition energy is at most `SearchConfig::max_energy`.
    Energy(&'a MlpEnergy),
    /// A move is possible when the feed-forward model predicts that its action
    /// (`(di, dj) / reach`) lands on the move's node (the prediction rounds to it).
    FeedForward(&'a MlpRegressor),
}

/// The lattice edges `model` takes to be possible.
fn possible(
    model: MoveModel,
    lattice: &Lattice,
    list: Vec<Edge>,
    pairs: Vec<f32>,
    cfg: &SearchConfig,
    device: &Device,
) -> HashSet<Edge> {
    let keep: Vec<bool> = match model {
        MoveModel::Energy(energy) => {
            let limit = cfg.max_energy.unwrap_or(f64::INFINITY);
            host(energy.energy(rows(pairs, 4, device), None))
                .into_iter()
                .map(|e| f64::from(e) <= limit)
                .collect()
        }
        MoveModel::FeedForward(ff) => {
            let moves: Vec<(i64, i64)> = list.iter().map(|&(u, v)| lattice.offset(u, v)).collect();
            let inputs: Vec<f32> = moves
                .iter()
                .zip(pairs.chunks_exact(4))
                .flat_map(|(&m, p)| [&p[..2], &move_action(m, cfg.reach)[..]].concat())
                .collect();
            let next = host(ff.forward(rows(inputs, 4, device)));
            moves
                .iter()
                .zip(pairs.chunks_exact(4).zip(next.chunks_exact(2)))
                .map(|(&(di, dj), (p, n))| {
                    let lands =
                        |a: usize, d: i64| ((n[a] - p[a]) as f64 / cfg.step).round() as i64 == d;
                    lands(0, di) && lands(1, dj)
                })
                .collect()
        }
    };
    list.into_iter()
        .zip(keep)
        .filter_map(|(edge, k)| k.then_some(edge))
        .collect()
}

/// A plan of `len` states from `obs`, within `range`, over the moves `model` takes to be
/// possible except those that `failed`.
#[allow(clippy::too_many_arguments)]
pub fn search_plan(
    model: MoveModel,
    obs: &[f32],
    failed: &[Failed],
    goal: &[f32],
    cfg: &SearchConfig,
    range: (f64, f64),
    len: usize,
    device: &Device,
) -> Searched {
    let lattice = lattice_at(obs, cfg.step, range);
    let moves = moves_within(cfg.reach as i64);
    let (list, pairs) = edges(&lattice, &moves);
    let allowed = possible(model, &lattice, list, pairs, cfg, device);
    search(&lattice, &moves, allowed, failed, goal, len)
}

/// The lattice move `(di, dj)` as the point's action, for moves of at most `reach` steps.
pub fn move_action(m: (i64, i64), reach: usize) -> Vec<f32> {
    vec![m.0 as f32 / reach as f32, m.1 as f32 / reach as f32]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_search_goes_round_a_wall_and_pads_its_plan() {
        // Lattice of spacing 0.1 from (0, 0) over [0, 0.4]^2; the column x = 0.2 is closed
        // except at y = 0.4, and the goal is (0.4, 0).
        let lattice = lattice_at(&[0.0, 0.0], 0.1, (0.0, 0.4));
        let moves = moves_within(1);
        let (list, _) = edges(&lattice, &moves);
        let wall = |v: usize| {
            let p = lattice.point(v);
            (p[0] - 0.2).abs() < 1e-9 && p[1] < 0.35
        };
        let allowed: HashSet<Edge> = list.into_iter().filter(|&(_, v)| !wall(v)).collect();
        let plan = search(&lattice, &moves, allowed.clone(), &[], &[0.4, 0.0], 12);
        assert_eq!(plan.states.len(), 12);
        assert_eq!(plan.moves.len(), 11);
        assert_eq!(plan.states[0], vec![0.0, 0.0]);
        let end = plan.states.last().unwrap();
        assert!(
            (end[0] - 0.4).abs() < 1e-6 && end[1].abs() < 1e-6,
            "{end:?}"
        );
        assert!(
            plan.states
                .iter()
                .any(|s| (s[0] - 0.2).abs() < 1e-6 && (s[1] - 0.4).abs() < 1e-6),
            "through the opening: {:?}",
            plan.states
        );
        // Moves replay the path, then stand still at its end.
        let mut at = [0i64, 0];
        for (k, &(di, dj)) in plan.moves.iter().enumerate() {
            at = [at[0] + di, at[1] + dj];
            let s = &plan.states[k + 1];
            assert!((s[0] - at[0] as f32 * 0.1).abs() < 1e-6);
            assert!((s[1] - at[1] as f32 * 0.1).abs() < 1e-6);
        }
        assert_eq!(move_action((1, -1), 1), vec![1.0, -1.0]);
        assert_eq!(move_action((2, -1), 2), vec![1.0, -0.5]);
        // A move that failed in the episode is left out: with the opening's way in from
        // (0.1, 0.3) and (0.1, 0.4) both failed, nothing reaches the goal's side, and the plan
        // ends at the reachable node nearest it, waiting there.
        let failed: Vec<Failed> = [[0.1, 0.3], [0.1, 0.4]]
            .iter()
            .map(|f| (f.to_vec(), vec![0.2, 0.4]))
            .collect();
        let stuck = search(&lattice, &moves, allowed, &failed, &[0.4, 0.0], 12);
        let end = stuck.states.last().unwrap();
        assert!(
            (end[0] - 0.1).abs() < 1e-6 && end[1].abs() < 1e-6,
            "{end:?}"
        );
        assert!(stuck.moves.iter().rev().take(3).all(|&m| m == (0, 0)));
    }
}
