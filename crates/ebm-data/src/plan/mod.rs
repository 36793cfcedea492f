//! Environments of EBM-plan (Du, Lin & Mordatch 2019) and their random-action training data:
//! a point mass ([`Particle`]), the point mass in a maze ([`Maze`]) and a two-link planar arm
//! ([`Reacher`]), behind one trait so a user can add an environment.
//!
//! Everything is host-side `f32`/`f64` arithmetic; randomness comes from the caller as a
//! source of uniform numbers in `[0, 1)`, so rollouts are reproducible from a seed.

pub mod lattice;
mod maze;
mod particle;
mod reacher;
mod trajectories;

pub use maze::{Maze, maze_valid};
pub use particle::Particle;
pub use reacher::Reacher;
pub use trajectories::Trajectories;

/// A source of uniform random numbers in `[0, 1)`.
pub type Uniform<'a> = &'a mut dyn FnMut() -> f64;

/// An axis-aligned rectangle `[x0, x1] x [y0, y1]` in state coordinates (obstacles, walls).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rect {
    /// Left edge.
    pub x0: f64,
    /// Bottom edge.
    pub y0: f64,
    /// Right edge.
    pub x1: f64,
    /// Top edge.
    pub y1: f64,
}

/// What one environment step returns.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    /// The observation after the step.
    pub state: Vec<f32>,
    /// The reward of the step (EBM-plan: minus the L1 distance to the goal after the move).
    pub reward: f64,
    /// Whether the episode ended (goal reached, time limit, or out of bounds).
    pub done: bool,
}

/// An environment: states and actions are vectors, actions live in `[-1, 1]^A`.
pub trait Environment {
    /// Its name (`particle`, `maze`, `reacher`).
    fn name(&self) -> &'static str;
    /// State dimension `D`.
    fn state_dim(&self) -> usize;
    /// Action dimension `A`.
    fn action_dim(&self) -> usize;
    /// The goal: values for the first `goal().len()` state dimensions (all of them for the
    /// point mass, the two joint angles for the arm).
    fn goal(&self) -> Vec<f32>;
    /// Starts an episode and returns the first observation.
    fn reset(&mut self, uniform: Uniform) -> Vec<f32>;
    /// Applies an action (clipped or rescaled into the action box as the environment does).
    ///
    /// # Panics
    ///
    /// If `action` does not have `action_dim()` values.
    fn step(&mut self, action: &[f32]) -> Step;
    /// The action that takes `state` to `next`, where the environment has a closed form
    /// (EBM-plan's "ground-truth inverse dynamics"); `None` otherwise.
    fn inverse_dynamics(&self, state: &[f32], next: &[f32]) -> Option<Vec<f32>>;
    /// `count` random-action trajectories of `len` states each, as the reference generates its
    /// training data.
    fn random_trajectories(&self, count: usize, len: usize, uniform: Uniform) -> Trajectories;
    /// The highest return an agent can score in an episode from the benchmark start by
    /// reaching the goal (a search under the true dynamics, see [`lattice::best_return`]);
    /// `None` where no such search is done (the arm).
    fn best_return(&self) -> Option<f64> {
        None
    }
    /// Obstacles and walls to draw, in the first two state coordinates (none by default).
    fn walls(&self) -> Vec<Rect> {
        Vec::new()
    }
    /// The plotting window of the first two state coordinates.
    fn extent(&self) -> Rect {
        Rect {
            x0: -1.0,
            y0: -1.0,
            x1: 1.0,
            y1: 1.0,
        }
    }
}

/// The environments this crate knows, by name.
pub const ENVIRONMENTS: [&str; 3] = ["particle", "maze", "reacher"];

/// An unknown environment name.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("unknown environment {name:?}; known: {}", ENVIRONMENTS.join(", "))]
pub struct UnknownEnvironment {
    /// The name asked for.
    pub name: String,
}

/// The environment called `name`, with the reference's benchmark start, goal and tolerance.
pub fn environment(name: &str) -> Result<Box<dyn Environment>, UnknownEnvironment> {
    match name {
        "particle" => Ok(Box::new(Particle::benchmark())),
        "maze" => Ok(Box::new(Maze::benchmark())),
        "reacher" => Ok(Box::new(Reacher::benchmark())),
        _ => Err(UnknownEnvironment {
            name: name.to_string(),
        }),
    }
}

/// `a / max(|a|_inf, 1) / 20`: the point mass's displacement for an action (EBM-plan's
/// `Point.step` and `Maze.step`), at most 0.05 per coordinate.
pub fn point_displacement(action: &[f32]) -> [f64; 2] {
    assert_eq!(action.len(), 2, "a point-mass action has 2 values");
    let (a0, a1) = (action[0] as f64, action[1] as f64);
    let scale = a0.abs().max(a1.abs()).max(1.0);
    [a0 / scale / 20.0, a1 / scale / 20.0]
}

/// `clip(20 (next - state), -1, 1)`: EBM-plan's ground-truth inverse dynamics of the point.
pub fn point_inverse(state: &[f32], next: &[f32]) -> Vec<f32> {
    state
        .iter()
        .zip(next)
        .map(|(s, n)| (20.0 * (n - s)).clamp(-1.0, 1.0))
        .collect()
}

/// A seeded uniform source (SplitMix64), for tests and searches that must repeat.
pub(crate) fn seeded_uniform(seed: u64) -> impl FnMut() -> f64 {
    let mut state = seed;
    move || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_resolve_and_unknown_names_list_the_known_ones() {
        for name in ENVIRONMENTS {
            assert_eq!(environment(name).unwrap().name(), name);
        }
        let err = environment("cartpole").err().unwrap();
        assert_eq!(
            err.to_string(),
            "unknown environment \"cartpole\"; known: particle, maze, reacher"
        );
    }

    #[test]
    fn point_actions_are_rescaled_then_divided_by_20() {
        assert_eq!(point_displacement(&[0.5, -1.0]), [0.025, -0.05]);
        // |a|_inf = 4: direction kept, the largest component becomes 1.
        assert_eq!(point_displacement(&[4.0, 2.0]), [0.05, 0.025]);
        let inv = point_inverse(&[0.0, 0.0], &[0.01, 0.2]);
        assert!((inv[0] - 0.2).abs() < 1e-6 && inv[1] == 1.0, "{inv:?}");
    }
}
