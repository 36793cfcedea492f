//! The point mass in a maze (EBM-plan's `envs.Maze` and `utils.is_maze_valid`).

use super::lattice::best_return;
use super::{Environment, Rect, Step, Trajectories, Uniform, point_displacement, point_inverse};

/// Whether a point lies in the maze's free space.
///
/// The reference splits `x` into four columns of width 0.5 (`c = floor((x + 1) * 2)`): columns
/// 0 (`x < -0.5`) and 2 (`0 <= x < 0.5`) are free corridors, column 1 (`-0.5 <= x < 0`) is a
/// wall with an opening at `y > 0.25`, column 3 (`x >= 0.5`) a wall with an opening at
/// `y < -0.25`. So there are two walls, not four. Any coordinate at or beyond `±0.99` is out
/// of bounds.
pub fn maze_valid(x: f64, y: f64) -> bool {
    if x <= -0.99 || x >= 0.99 || y <= -0.99 || y >= 0.99 {
        return false;
    }
    let c = ((x + 1.0) * 2.0) as i64;
    c % 2 == 0 || (c % 4 == 1 && y > 0.25) || (c % 4 == 3 && y < -0.25)
}

/// The maze: point-mass actions; a move whose destination is not free is rejected; the
/// episode ends at the goal or when a move aims out of bounds. No time limit of its own.
#[derive(Clone, Debug)]
pub struct Maze {
    /// Start of every episode.
    pub start: [f64; 2],
    /// The goal.
    pub goal: [f64; 2],
    /// The episode ends when the L1 distance to the goal falls below `eps`.
    pub eps: f64,
    position: [f64; 2],
}

impl Maze {
    /// The benchmark of the reference's logged runs: start `(-0.85, -0.85)`, goal
    /// `(0.7, -0.8)` (through both openings), `eps` 0.01.
    pub fn benchmark() -> Self {
        Self::new([-0.85, -0.85], [0.7, -0.8], 0.01)
    }

    /// A maze episode from `start` to `goal`.
    pub fn new(start: [f64; 2], goal: [f64; 2], eps: f64) -> Self {
        Self {
            start,
            goal,
            eps,
            position: start,
        }
    }
}

impl Environment for Maze {
    fn name(&self) -> &'static str {
        "maze"
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

    fn reset(&mut self, _uniform: Uniform) -> Vec<f32> {
        self.position = self.start;
        self.position.iter().map(|&p| p as f32).collect()
    }

    fn step(&mut self, action: &[f32]) -> Step {
        let d = point_displacement(action);
        let to = [self.position[0] + d[0], self.position[1] + d[1]];
        if maze_valid(to[0], to[1]) {
            self.position = to;
        }
        let dist =
            (self.position[0] - self.goal[0]).abs() + (self.position[1] - self.goal[1]).abs();
        let out = to.iter().any(|&v| v <= -0.99 || v >= 0.99);
        Step {
            state: self.position.iter().map(|&p| p as f32).collect(),
            reward: -dist,
            done: dist < self.eps || out,
        }
    }

    fn inverse_dynamics(&self, state: &[f32], next: &[f32]) -> Option<Vec<f32>> {
        Some(point_inverse(state, next))
    }

    /// The reference's `gen_maze`: a start uniform over the free space, then actions
    /// `U(-1, 1)^2` moving the point by `a / 20` where the destination is free (rejected moves
    /// leave it in place).
    fn random_trajectories(&self, count: usize, len: usize, uniform: Uniform) -> Trajectories {
        let mut out = Trajectories::new(2, 2, len);
        let (mut states, mut actions) = (Vec::new(), Vec::new());
        for _ in 0..count {
            states.clear();
            actions.clear();
            let mut p = loop {
                let p = [2.0 * uniform() - 1.0, 2.0 * uniform() - 1.0];
                if maze_valid(p[0], p[1]) {
                    break p;
                }
            };
            states.extend(p.iter().map(|&v| v as f32));
            for _ in 1..len {
                let a = [2.0 * uniform() - 1.0, 2.0 * uniform() - 1.0];
                let to = [p[0] + a[0] / 20.0, p[1] + a[1] / 20.0];
                if maze_valid(to[0], to[1]) {
                    p = to;
                }
                actions.extend(a.iter().map(|&v| v as f32));
                states.extend(p.iter().map(|&v| v as f32));
            }
            out.push(&states, &actions);
        }
        out
    }

    /// On a 0.01 lattice, through both openings. Aiming out of bounds ends an episode sooner
    /// and scores more (a few steps to the left border, about -5), without reaching the goal.
    fn best_return(&self) -> Option<f64> {
        best_return(self.start, self.goal, self.eps, 0.05, 0.01, |_, b| {
            maze_valid(b[0], b[1])
        })
    }

    /// The two walls (the border at `±0.99` is drawn by the plot's frame).
    fn walls(&self) -> Vec<Rect> {
        vec![
            Rect {
                x0: -0.5,
                y0: -1.0,
                x1: 0.0,
                y1: 0.25,
            },
            Rect {
                x0: 0.5,
                y0: -0.25,
                x1: 1.0,
                y1: 1.0,
            },
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_space_is_two_corridors_and_two_openings() {
        assert!(maze_valid(-0.75, -0.8) && maze_valid(0.25, 0.9));
        assert!(!maze_valid(-0.25, 0.0) && maze_valid(-0.25, 0.3));
        assert!(!maze_valid(0.75, 0.0) && maze_valid(0.75, -0.3));
        assert!(!maze_valid(0.0, 0.995) && !maze_valid(-0.99, 0.0));
        for w in Maze::benchmark().walls() {
            let (cx, cy) = ((w.x0 + w.x1) / 2.0, (w.y0 + w.y1) / 2.0);
            assert!(!maze_valid(cx, cy), "wall centre ({cx}, {cy}) is free");
        }
    }

    #[test]
    fn walls_block_moves_and_openings_let_through() {
        let mut env = Maze::new([-0.52, -0.8], [0.7, -0.8], 0.01);
        env.reset(&mut || 0.5);
        // Into the wall at x = -0.5: rejected, the point stays.
        let s = env.step(&[1.0, 0.0]);
        assert_eq!(s.state, vec![-0.52, -0.8]);
        assert!(!s.done);
        assert!((s.reward + (1.22 + 0.0)).abs() < 1e-6);
        // The same move above y = 0.25 passes the opening.
        let mut env = Maze::new([-0.52, 0.3], [0.7, -0.8], 0.01);
        env.reset(&mut || 0.5);
        assert_eq!(env.step(&[1.0, 0.0]).state, vec![-0.47, 0.3]);
    }

    #[test]
    fn the_best_return_goes_through_both_openings() {
        // The straight run of 31 steps would score about -25; round both walls it takes about
        // 52 steps whose distances add up to about 72 (the paper's -72.07 is that optimum).
        let best = Maze::benchmark().best_return().unwrap();
        assert!((-73.0..-71.0).contains(&best), "{best}");
        // With the upper opening closed, nothing reaches the goal.
        let closed = best_return([-0.85, -0.85], [0.7, -0.8], 0.01, 0.05, 0.05, |_, b| {
            maze_valid(b[0], b[1]) && !(b[0] >= -0.5 && b[0] < 0.0)
        });
        assert_eq!(closed, None);
    }

    #[test]
    fn aiming_out_of_bounds_ends_the_episode() {
        let mut env = Maze::new([-0.96, 0.0], [0.7, -0.8], 0.01);
        env.reset(&mut || 0.5);
        let s = env.step(&[-1.0, 0.0]);
        assert!(s.done);
        assert_eq!(s.state, vec![-0.96, 0.0]);
    }

    #[test]
    fn random_trajectories_stay_in_free_space() {
        let mut u = crate::plan::seeded_uniform(1);
        let data = Maze::benchmark().random_trajectories(20, 30, &mut u);
        let mut still = 0;
        for t in 0..data.transitions() {
            let (s, _, n) = data.transition(t);
            assert!(maze_valid(n[0] as f64, n[1] as f64));
            assert!((n[0] - s[0]).abs() <= 0.05 + 1e-6 && (n[1] - s[1]).abs() <= 0.05 + 1e-6);
            still += (s == n) as usize;
        }
        assert!(still > 0, "some moves hit a wall and were rejected");
    }
}
