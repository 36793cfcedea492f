//! Random starting routes for plans: a global move beside MPPI's local refinement, so a planner
//! whose straight line to the goal runs into a wall can still find the way round it.

use ebm_sampler::SplitMix64;

/// `count` routes of `t + 1` states `[count * (t + 1) * d]`, row-major: each runs in straight
/// segments from `from` through `waypoints` points drawn uniformly from `range` in every
/// dimension to an end point whose first `goal.len()` dimensions are the goal (the others
/// drawn like a waypoint's). Segments get equal numbers of steps, so state `0` is `from` and
/// state `t` the end.
///
/// # Panics
///
/// If `goal` has more dimensions than `from`, or `t` is 0.
pub fn random_routes(
    from: &[f32],
    goal: &[f32],
    t: usize,
    waypoints: usize,
    count: usize,
    range: (f64, f64),
    rng: &mut SplitMix64,
) -> Vec<f32> {
    let d = from.len();
    assert!(
        goal.len() <= d,
        "goal of {} dims for {d}-D states",
        goal.len()
    );
    assert!(t > 0, "a route needs at least one step");
    let (lo, hi) = range;
    let mut out = Vec::with_capacity(count * (t + 1) * d);
    for _ in 0..count {
        let mut points = vec![from.to_vec()];
        for p in 0..=waypoints {
            let mut q: Vec<f32> = (0..d)
                .map(|_| (lo + (hi - lo) * rng.next_f64()) as f32)
                .collect();
            if p == waypoints {
                q[..goal.len()].copy_from_slice(goal);
            }
            points.push(q);
        }
        let segments = (points.len() - 1) as f64;
        for s in 0..=t {
            let u = s as f64 / t as f64 * segments;
            let i = u.floor() as usize;
            if i + 1 >= points.len() {
                out.extend_from_slice(&points[points.len() - 1]);
                continue;
            }
            let f = (u - i as f64) as f32;
            out.extend(
                points[i]
                    .iter()
                    .zip(&points[i + 1])
                    .map(|(a, b)| a + f * (b - a)),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_start_at_the_observation_and_end_at_the_goal() {
        let mut rng = SplitMix64::new(3);
        let (t, d) = (12, 3);
        let r = random_routes(
            &[0.1, -0.2, 0.3],
            &[0.7, -0.8],
            t,
            2,
            5,
            (-0.5, 0.5),
            &mut rng,
        );
        assert_eq!(r.len(), 5 * (t + 1) * d);
        for route in r.chunks_exact((t + 1) * d) {
            assert_eq!(&route[..d], &[0.1, -0.2, 0.3]);
            let end = &route[t * d..];
            assert_eq!(&end[..2], &[0.7, -0.8]);
            assert!(
                (-0.5..=0.5).contains(&end[2]),
                "free end dimension {}",
                end[2]
            );
            // Straight segments of four steps: state 2 lies halfway between the start and the
            // first waypoint, state 4.
            let (a, b, m) = (&route[..d], &route[4 * d..5 * d], &route[2 * d..3 * d]);
            for k in 0..d {
                assert!((m[k] - (a[k] + b[k]) / 2.0).abs() < 1e-6);
            }
        }
        let first = &r[4 * d..5 * d];
        let second = &r[(t + 1) * d + 4 * d..(t + 1) * d + 5 * d];
        assert_ne!(first, second, "waypoints are drawn afresh for every route");
    }
}
