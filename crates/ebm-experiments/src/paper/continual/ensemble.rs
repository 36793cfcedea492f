//! An ensemble of networks trained for one seed (`EbmSettings::members`): each member goes
//! through every task from its own seed, and a test image goes to the class of the lowest
//! summed energy, the product of the members' distributions.

use super::ebm::{EbmOutcome, TaskEnergies};
use super::matrix::task_accuracies;

/// The seed of ensemble member `m` of seed `seed`: `seed` itself for member 0, so that one
/// member is the single network; distinct from every other seed below 2^48 and from the
/// task-indexed seeds derived inside a run.
pub fn member_seed(seed: u64, m: usize) -> u64 {
    seed ^ ((m as u64) << 48)
}

/// What one member leaves after each task.
#[derive(Clone)]
pub(super) struct MemberTask {
    /// `E(x, y) - b_y` of every test image (rows) under every class (columns).
    pub scores: Vec<Vec<f64>>,
    /// The task's record, for this member alone.
    pub energies: TaskEnergies,
}

/// The ensemble's matrix and energies: after each task, every test image goes to the class of
/// the lowest summed score; the energies are the members' means.
pub(super) fn combine(
    members: &[Vec<MemberTask>],
    labels: &[u16],
    tasks: &[Vec<usize>],
) -> EbmOutcome {
    let k = members.len().max(1) as f64;
    let (mut matrix, mut energies) = (Vec::new(), Vec::new());
    for t in 0..members.first().map_or(0, Vec::len) {
        let at: Vec<&MemberTask> = members.iter().map(|m| &m[t]).collect();
        let first = &at[0];
        let summed: Vec<Vec<f64>> = (0..first.scores.len())
            .map(|i| {
                (0..first.scores[i].len())
                    .map(|c| at.iter().map(|m| m.scores[i][c]).sum())
                    .collect()
            })
            .collect();
        matrix.push(accuracies(&summed, labels, tasks));
        let mean =
            |f: &dyn Fn(&TaskEnergies) -> f64| at.iter().map(|m| f(&m.energies)).sum::<f64>() / k;
        let e = &first.energies;
        energies.push(TaskEnergies {
            e_pos: mean(&|e| e.e_pos),
            e_neg: mean(&|e| e.e_neg),
            test_class_energy: (0..e.test_class_energy.len())
                .map(|j| {
                    (0..e.test_class_energy[j].len())
                        .map(|c| mean(&|e| e.test_class_energy[j][c]))
                        .collect()
                })
                .collect(),
            offsets: (0..e.offsets.len())
                .map(|c| mean(&|e| f64::from(e.offsets[c])) as f32)
                .collect(),
        });
    }
    EbmOutcome { matrix, energies }
}

/// Per-task accuracies of classifying each image (a row of `scores`, one column per class) by
/// its lowest score.
pub(super) fn accuracies(scores: &[Vec<f64>], labels: &[u16], tasks: &[Vec<usize>]) -> Vec<f64> {
    let pred: Vec<usize> = scores.iter().map(|row| lowest(row)).collect();
    task_accuracies(&pred, labels, tasks)
}

/// The index of the smallest value, the first of equal ones.
pub(super) fn lowest(row: &[f64]) -> usize {
    let mut best = 0;
    for (i, &v) in row.iter().enumerate() {
        if v < row[best] {
            best = i;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ensemble_classifies_by_the_summed_scores() {
        let task = |scores: Vec<Vec<f64>>, e_pos: f64| MemberTask {
            scores,
            energies: TaskEnergies {
                e_pos,
                e_neg: 0.0,
                test_class_energy: vec![vec![e_pos, 0.0]],
                offsets: vec![0.0, 2.0 * e_pos as f32],
            },
        };
        // Three test images of classes 0, 1, 1 in one task {0, 1}. Member a is sure of image
        // 0 and wrong on image 1 by a little; member b is wrong on image 0 by a little and
        // sure of image 1. Image 2 both get wrong.
        let a = vec![task(
            vec![vec![-5.0, 0.0], vec![-0.5, 0.0], vec![0.0, 1.0]],
            1.0,
        )];
        let b = vec![task(
            vec![vec![0.5, 0.0], vec![0.0, -5.0], vec![0.0, 1.0]],
            3.0,
        )];
        let labels = [0u16, 1, 1];
        let tasks = vec![vec![0, 1]];
        let alone = |m: &[MemberTask]| combine(&[m.to_vec()], &labels, &tasks);
        assert_eq!(alone(&a).matrix, vec![vec![1.0 / 3.0]]);
        assert_eq!(alone(&b).matrix, vec![vec![1.0 / 3.0]]);
        let both = combine(&[a, b], &labels, &tasks);
        assert_eq!(both.matrix, vec![vec![2.0 / 3.0]]);
        // The record is the members' mean.
        let e = &both.energies[0];
        assert_eq!((e.e_pos, e.test_class_energy[0][0]), (2.0, 2.0));
        assert_eq!(e.offsets, vec![0.0, 4.0]);
        // Ties go to the first class, as an argmin.
        assert_eq!(lowest(&[1.0, 0.0, 0.0]), 1);
        assert_eq!(member_seed(7, 0), 7);
        assert_ne!(member_seed(7, 1), member_seed(8, 1));
    }
}
