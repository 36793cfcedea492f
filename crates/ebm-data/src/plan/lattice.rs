//! Least-cost paths over a square lattice of 2-D states (Dijkstra): the best return an agent
//! can score in a point-mass environment ([`best_return`]), and the graph search a planner runs
//! over a learned model's transitions.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// The nodes `anchor + step * ((i, j) - at)` for `i < size[0]`, `j < size[1]`; node `(i, j)`
/// has index `i * size[1] + j`. Coordinates are counted from the anchor, so a path of whole
/// steps from it lands on nodes exactly as an agent stepping from it would.
#[derive(Clone, Debug, PartialEq)]
pub struct Lattice {
    /// The state the lattice was built around.
    pub anchor: [f64; 2],
    /// The anchor's node `(i, j)`.
    pub at: [usize; 2],
    /// Spacing of the nodes along both axes.
    pub step: f64,
    /// Nodes along each axis.
    pub size: [usize; 2],
}

impl Lattice {
    /// The lattice of spacing `step` that has `point` as a node and covers as much of
    /// `[lo, hi]^2` as such nodes can without leaving it.
    ///
    /// # Panics
    ///
    /// If `step` is not positive or `point` lies outside `[lo, hi]^2`.
    pub fn around(point: [f64; 2], step: f64, lo: f64, hi: f64) -> Self {
        assert!(step > 0.0, "lattice step {step}");
        assert!(
            point.iter().all(|p| (lo..=hi).contains(p)),
            "{point:?} outside [{lo}, {hi}]^2"
        );
        let below = point.map(|p| ((p - lo) / step + 1e-9).floor() as usize);
        let above = point.map(|p| ((hi - p) / step + 1e-9).floor() as usize);
        Self {
            anchor: point,
            at: below,
            step,
            size: [below[0] + above[0] + 1, below[1] + above[1] + 1],
        }
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.size[0] * self.size[1]
    }

    /// Whether the lattice has no node.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The state of node `index`.
    pub fn point(&self, index: usize) -> [f64; 2] {
        let ij = [index / self.size[1], index % self.size[1]];
        [0, 1].map(|a| self.anchor[a] + (ij[a] as f64 - self.at[a] as f64) * self.step)
    }

    /// The node nearest to `p`, if `p` lies within half a step of the lattice.
    pub fn nearest(&self, p: [f64; 2]) -> Option<usize> {
        let mut ij = [0usize; 2];
        for a in 0..2 {
            let k = ((p[a] - self.anchor[a]) / self.step).round() + self.at[a] as f64;
            if k < 0.0 || k >= self.size[a] as f64 {
                return None;
            }
            ij[a] = k as usize;
        }
        Some(ij[0] * self.size[1] + ij[1])
    }

    /// The move `(di, dj)` from node `from` to node `to`.
    pub fn offset(&self, from: usize, to: usize) -> (i64, i64) {
        let ij = |v: usize| ((v / self.size[1]) as i64, (v % self.size[1]) as i64);
        let ((i0, j0), (i1, j1)) = (ij(from), ij(to));
        (i1 - i0, j1 - j0)
    }

    /// The node `(di, dj)` away from node `index`, if it is on the lattice.
    pub fn neighbour(&self, index: usize, (di, dj): (i64, i64)) -> Option<usize> {
        let i = (index / self.size[1]) as i64 + di;
        let j = (index % self.size[1]) as i64 + dj;
        let inside = (0..self.size[0] as i64).contains(&i) && (0..self.size[1] as i64).contains(&j);
        inside.then(|| i as usize * self.size[1] + j as usize)
    }
}

/// The eight moves of one lattice step (diagonals included): a point mass moves at most one
/// step along each axis at once.
pub const KING_MOVES: [(i64, i64); 8] = [
    (-1, -1),
    (-1, 0),
    (-1, 1),
    (0, -1),
    (0, 1),
    (1, -1),
    (1, 0),
    (1, 1),
];

/// Every move of at most `reach` lattice steps along each axis, except standing still.
pub fn moves_within(reach: i64) -> Vec<(i64, i64)> {
    (-reach..=reach)
        .flat_map(|di| (-reach..=reach).map(move |dj| (di, dj)))
        .filter(|&m| m != (0, 0))
        .collect()
}

#[derive(PartialEq)]
struct Open(f64, usize);

impl Eq for Open {}

impl Ord for Open {
    fn cmp(&self, other: &Self) -> Ordering {
        // The cheapest first in std's max-heap.
        other.0.total_cmp(&self.0).then(other.1.cmp(&self.1))
    }
}

impl PartialOrd for Open {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Least costs from `start` to every node: `cost(from, to)` is the cost of the edge between
/// two nodes (`None`: no edge; costs must not be negative). Returns each node's least cost
/// (`f64::INFINITY` where unreachable) and its predecessor on a least-cost path.
pub fn least_costs(
    lattice: &Lattice,
    start: usize,
    moves: &[(i64, i64)],
    mut cost: impl FnMut(usize, usize) -> Option<f64>,
) -> (Vec<f64>, Vec<Option<usize>>) {
    let n = lattice.len();
    let (mut best, mut prev) = (vec![f64::INFINITY; n], vec![None; n]);
    best[start] = 0.0;
    let mut open = BinaryHeap::from([Open(0.0, start)]);
    while let Some(Open(c, u)) = open.pop() {
        if c > best[u] {
            continue;
        }
        for &m in moves {
            let Some(v) = lattice.neighbour(u, m) else {
                continue;
            };
            let Some(e) = cost(u, v) else {
                continue;
            };
            debug_assert!(e >= 0.0, "negative edge cost {e}");
            if c + e < best[v] {
                best[v] = c + e;
                prev[v] = Some(u);
                open.push(Open(c + e, v));
            }
        }
    }
    (best, prev)
}

/// The nodes from the search's start to `to` (both included), following `prev`.
pub fn path_to(prev: &[Option<usize>], to: usize) -> Vec<usize> {
    let mut path = vec![to];
    while let Some(p) = prev[*path.last().expect("never empty")] {
        path.push(p);
    }
    path.reverse();
    path
}

/// The highest return a point mass can score from `start`: each step moves it by at most
/// `reach` along each axis (to wherever `allowed(from, to)` says it may go), earns minus the
/// L1 distance to `goal` after the move, and the episode ends once that distance is below
/// `eps`. Searched on a lattice of spacing `resolution` over `[-1, 1]^2` (a lower bound on the
/// continuous optimum, tight as the resolution shrinks); `None` when the goal is unreachable.
/// Leaving the episode early by other means (a maze's out-of-bounds end) is not counted.
pub fn best_return(
    start: [f64; 2],
    goal: [f64; 2],
    eps: f64,
    reach: f64,
    resolution: f64,
    allowed: impl Fn([f64; 2], [f64; 2]) -> bool,
) -> Option<f64> {
    let lattice = Lattice::around(start, resolution, -1.0, 1.0);
    let moves = moves_within((reach / resolution + 1e-9).floor() as i64);
    let dist = |p: [f64; 2]| (p[0] - goal[0]).abs() + (p[1] - goal[1]).abs();
    let from = lattice.nearest(start).expect("the start is a node");
    let (best, _) = least_costs(&lattice, from, &moves, |u, v| {
        let (a, b) = (lattice.point(u), lattice.point(v));
        // Nothing continues from the goal: the episode has ended there.
        (dist(a) >= eps && allowed(a, b)).then(|| dist(b))
    });
    (0..lattice.len())
        .filter(|&v| v != from && dist(lattice.point(v)) < eps)
        .map(|v| best[v])
        .filter(|c| c.is_finite())
        .min_by(f64::total_cmp)
        .map(|c| -c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lattice_holds_its_point_and_stays_in_range() {
        let l = Lattice::around([-0.85, 0.3], 0.05, -0.98, 0.98);
        let p = l.point(l.nearest([-0.85, 0.3]).unwrap());
        assert!((p[0] + 0.85).abs() < 1e-9 && (p[1] - 0.3).abs() < 1e-9);
        let last = l.point(l.len() - 1);
        let first = l.point(0);
        assert!(first.iter().chain(&last).all(|v| v.abs() <= 0.98 + 1e-9));
        assert!(first[0] < -0.93 && last[0] > 0.93, "{first:?} {last:?}");
        assert_eq!(l.neighbour(0, (-1, 0)), None);
        assert_eq!(l.neighbour(0, (1, 1)), Some(l.size[1] + 1));
        assert_eq!(l.offset(l.size[1] + 1, 0), (-1, -1));
        assert_eq!(moves_within(1), KING_MOVES.to_vec());
        assert_eq!(moves_within(2).len(), 24);
    }

    #[test]
    fn least_cost_paths_go_round_what_blocks_them() {
        // A 5 x 5 lattice with a wall at i = 2 except at j = 4.
        let l = Lattice::around([0.0, 0.0], 1.0, 0.0, 4.0);
        let wall = |v: usize| v / 5 == 2 && v % 5 != 4;
        let moves = [(1, 0), (-1, 0), (0, 1), (0, -1)];
        let (best, prev) = least_costs(&l, 0, &moves, |_, v| (!wall(v)).then_some(1.0));
        let goal = 4 * 5;
        let path = path_to(&prev, goal);
        assert_eq!(best[goal], 12.0, "up 4, across 4, down 4");
        assert_eq!(path.len(), 13);
        assert!(path.contains(&(2 * 5 + 4)) && !path.iter().any(|&v| wall(v)));
        assert!(best[2 * 5].is_infinite());
    }

    #[test]
    fn the_best_return_in_the_open_is_the_straight_run() {
        // (0, 0) to (0.5, 0.5) by diagonal steps of 0.05: distances 0.9, 0.8, ..., 0.
        let r = best_return([0.0, 0.0], [0.5, 0.5], 0.01, 0.05, 0.05, |_, _| true).unwrap();
        assert!((r + 4.5).abs() < 1e-9, "{r}");
        // Finer lattices do no better in the open, and nothing reaches a walled-in goal.
        let fine = best_return([0.0, 0.0], [0.5, 0.5], 0.01, 0.05, 0.01, |_, _| true).unwrap();
        assert!((fine - r).abs() < 1e-9, "{fine}");
        let walled = best_return([0.0, 0.0], [0.5, 0.5], 0.01, 0.05, 0.05, |_, b| b[0] < 0.3);
        assert_eq!(walled, None);
    }
}
