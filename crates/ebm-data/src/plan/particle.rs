//! The point mass in `[-1, 1]^2` (EBM-plan's `envs.Point`).

use super::lattice::best_return;
use super::{Environment, Rect, Step, Trajectories, Uniform, point_displacement, point_inverse};

/// A point mass: the state is its position, an action moves it by `a / max(|a|_inf, 1) / 20`;
/// the position is clipped to `[-1, 1]^2`.
#[derive(Clone, Debug)]
pub struct Particle {
    /// Start of every episode (unless `random_starts`).
    pub start: [f64; 2],
    /// The goal.
    pub goal: [f64; 2],
    /// The episode ends when the L1 distance to the goal falls below `eps`.
    pub eps: f64,
    /// A rectangle the point may not touch: a move whose bounding box overlaps it (edges
    /// included) is rejected and the point stays.
    pub obstacle: Option<Rect>,
    /// Start anywhere in `U(-1, 1)^2` (the reference's online training).
    pub random_starts: bool,
    position: [f64; 2],
    counter: usize,
    limit: usize,
}

impl Particle {
    /// The obstacle of the reference's benchmark flags (`--obstacle=[0.5, 0.1, 0.1, 0.5]`, top,
    /// left, bottom, right): the box `[0.1, 0.5]^2`, whose corner is the goal.
    pub const REFERENCE_OBSTACLE: Rect = Rect {
        x0: 0.1,
        y0: 0.1,
        x1: 0.5,
        y1: 0.5,
    };

    /// The benchmark: start `(0, 0)`, goal `(0.5, 0.5)`, `eps` 0.01 (flag defaults of the
    /// reference's `train.py`), no obstacle (see [`Particle::REFERENCE_OBSTACLE`]).
    pub fn benchmark() -> Self {
        Self::new([0.0, 0.0], [0.5, 0.5], 0.01, None)
    }

    /// A point mass with the given start, goal, tolerance and obstacle.
    pub fn new(start: [f64; 2], goal: [f64; 2], eps: f64, obstacle: Option<Rect>) -> Self {
        Self {
            start,
            goal,
            eps,
            obstacle,
            random_starts: false,
            position: start,
            counter: 0,
            limit: 100,
        }
    }

    fn blocked(&self, from: [f64; 2], to: [f64; 2]) -> bool {
        let Some(o) = self.obstacle else {
            return false;
        };
        let dx = o.x1.min(from[0].max(to[0])) - o.x0.max(from[0].min(to[0]));
        let dy = o.y1.min(from[1].max(to[1])) - o.y0.max(from[1].min(to[1]));
        dx >= 0.0 && dy >= 0.0
    }
}

impl Environment for Particle {
    fn name(&self) -> &'static str {
        "particle"
    }

    fn state_dim(&self) -> usize {
        2
    }

    fn action_dim(&self) -> usize {
        2
    }

    fn goal(&self) -> Vec<f32> {
        self.goal.iter().map(|&g| g as f32).collect()
    }

    /// Also draws the episode's length: it ends after `101 + U{0..29}` steps.
    fn reset(&mut self, uniform: Uniform) -> Vec<f32> {
        self.position = if self.random_starts {
            [2.0 * uniform() - 1.0, 2.0 * uniform() - 1.0]
        } else {
            self.start
        };
        self.counter = 0;
        self.limit = 100 + ((uniform() * 30.0) as usize).min(29);
        self.position.iter().map(|&p| p as f32).collect()
    }

    fn step(&mut self, action: &[f32]) -> Step {
        self.counter += 1;
        let d = point_displacement(action);
        let to = [self.position[0] + d[0], self.position[1] + d[1]];
        if !self.blocked(self.position, to) {
            self.position = to;
        }
        self.position = self.position.map(|p| p.clamp(-1.0, 1.0));
        let dist =
            (self.position[0] - self.goal[0]).abs() + (self.position[1] - self.goal[1]).abs();
        Step {
            state: self.position.iter().map(|&p| p as f32).collect(),
            reward: -dist,
            done: dist < self.eps || self.counter > self.limit,
        }
    }

    fn inverse_dynamics(&self, state: &[f32], next: &[f32]) -> Option<Vec<f32>> {
        Some(point_inverse(state, next))
    }

    /// The reference's `gen_simple`: start `U(-1, 1)^2`, then actions `U(-1, 1)^2` moving the
    /// point by `a / 20` with no clipping and no obstacle (states may leave the box).
    fn random_trajectories(&self, count: usize, len: usize, uniform: Uniform) -> Trajectories {
        let mut out = Trajectories::new(2, 2, len);
        let (mut states, mut actions) = (Vec::new(), Vec::new());
        for _ in 0..count {
            states.clear();
            actions.clear();
            let mut p = [2.0 * uniform() - 1.0, 2.0 * uniform() - 1.0];
            states.extend(p.iter().map(|&v| v as f32));
            for _ in 1..len {
                let a = [2.0 * uniform() - 1.0, 2.0 * uniform() - 1.0];
                p = [p[0] + a[0] / 20.0, p[1] + a[1] / 20.0];
                actions.extend(a.iter().map(|&v| v as f32));
                states.extend(p.iter().map(|&v| v as f32));
            }
            out.push(&states, &actions);
        }
        out
    }

    fn walls(&self) -> Vec<Rect> {
        self.obstacle.into_iter().collect()
    }

    /// On a 0.01 lattice; the episode's time limit (over 100 steps) does not bind.
    fn best_return(&self) -> Option<f64> {
        best_return(self.start, self.goal, self.eps, 0.05, 0.01, |a, b| {
            !self.blocked(a, b)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counter() -> impl FnMut() -> f64 {
        crate::plan::seeded_uniform(7)
    }

    #[test]
    fn an_action_moves_the_point_by_a_twentieth_and_rewards_minus_l1() {
        let mut env = Particle::benchmark();
        env.reset(&mut counter());
        let s = env.step(&[1.0, 0.5]);
        assert_eq!(s.state, vec![0.05, 0.025]);
        assert!((s.reward + (0.45 + 0.475)).abs() < 1e-12, "{}", s.reward);
        assert!(!s.done);
        // Rescaled by the largest component: (3, -3) moves like (1, -1).
        let s = env.step(&[3.0, -3.0]);
        assert_eq!(s.state, vec![0.1, -0.025]);
    }

    #[test]
    fn the_box_clips_and_the_goal_ends_the_episode() {
        let mut env = Particle::new([0.99, 0.0], [0.5, 0.5], 0.01, None);
        env.reset(&mut counter());
        assert_eq!(env.step(&[1.0, 0.0]).state, vec![1.0, 0.0]);
        let mut env = Particle::new([0.46, 0.5], [0.5, 0.5], 0.02, None);
        env.reset(&mut counter());
        assert!(env.step(&[1.0, 0.0]).done);
    }

    #[test]
    fn the_obstacle_rejects_moves_that_touch_it() {
        let mut env = Particle::new(
            [0.0, 0.0],
            [0.5, 0.5],
            0.01,
            Some(Particle::REFERENCE_OBSTACLE),
        );
        env.reset(&mut counter());
        env.step(&[1.0, 1.0]);
        // From (0.05, 0.05), (0.1, 0.1) touches the box's corner: rejected.
        let s = env.step(&[1.0, 1.0]);
        assert_eq!(s.state, vec![0.05, 0.05]);
        // Moving up along x = 0.05 is free.
        assert_eq!(env.step(&[0.0, 1.0]).state, vec![0.05, 0.1]);
    }

    #[test]
    fn episodes_last_101_to_130_steps() {
        let mut env = Particle::new([-1.0, -1.0], [1.0, 1.0], 0.01, None);
        let mut u = counter();
        for _ in 0..20 {
            env.reset(&mut u);
            let steps = (1..).find(|_| env.step(&[0.0, 0.0]).done).unwrap();
            assert!((101..=130).contains(&steps), "{steps}");
        }
    }

    #[test]
    fn random_trajectories_follow_the_actions() {
        let data = Particle::benchmark().random_trajectories(3, 5, &mut counter());
        assert_eq!((data.count(), data.transitions()), (3, 12));
        for k in 0..data.transitions() {
            let (s, a, n) = data.transition(k);
            for d in 0..2 {
                assert!((n[d] - s[d] - a[d] / 20.0).abs() < 1e-6);
                assert!(a[d].abs() <= 1.0);
            }
        }
    }
}
