//! The accuracy matrix: entry (i, j) is the accuracy on task j's test images after training
//! task i, with the prediction chosen among all classes (no task label).

use burn::tensor::{Device, Int, Tensor};
use ebm_data::{Dequantize, ImageSet, images_to_tensor};

/// Predicted classes of every image of `test`, in order, `batch` images per call of
/// `predict` (which maps `[n, C, H, W]` images to `[n]` class indices).
pub fn predict_all(
    test: &ImageSet,
    batch: usize,
    device: &Device,
    predict: &dyn Fn(Tensor<4>) -> Tensor<1, Int>,
) -> Vec<usize> {
    let mut out = Vec::with_capacity(test.len());
    for x in batches(test, batch, device) {
        let pred = predict(x)
            .into_data()
            .convert::<i64>()
            .try_into_vec::<i64>()
            .expect("class indices");
        out.extend(pred.into_iter().map(|p| p as usize));
    }
    out
}

/// The images of `test` in order, `batch` at a time, as `[n, C, H, W]` tensors in [0, 1].
pub fn batches<'a>(
    test: &'a ImageSet,
    batch: usize,
    device: &'a Device,
) -> impl Iterator<Item = Tensor<4>> + 'a {
    let all: Vec<usize> = (0..test.len()).collect();
    let chunks: Vec<Vec<usize>> = all.chunks(batch.max(1)).map(<[usize]>::to_vec).collect();
    chunks
        .into_iter()
        .map(move |chunk| images_to_tensor(test, &chunk, Dequantize::None, device).0)
}

/// Accuracy on each task's images (those whose label is one of the task's classes); a task
/// without test images counts as 0.
pub fn task_accuracies(pred: &[usize], labels: &[u16], tasks: &[Vec<usize>]) -> Vec<f64> {
    tasks
        .iter()
        .map(|classes| {
            let (mut hits, mut n) = (0usize, 0usize);
            for (&p, &y) in pred.iter().zip(labels) {
                if classes.contains(&usize::from(y)) {
                    n += 1;
                    hits += usize::from(p == usize::from(y));
                }
            }
            if n == 0 { 0.0 } else { hits as f64 / n as f64 }
        })
        .collect()
}

/// Mean and sample standard deviation (n - 1; 0 for a single value).
pub fn mean_std(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    if values.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let mean = values.iter().sum::<f64>() / n;
    if values.len() < 2 {
        return (mean, 0.0);
    }
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, var.sqrt())
}

/// The element-wise mean of equally shaped matrices.
pub fn mean_matrix(matrices: &[Vec<Vec<f64>>]) -> Vec<Vec<f64>> {
    let Some(first) = matrices.first() else {
        return Vec::new();
    };
    let n = matrices.len() as f64;
    first
        .iter()
        .enumerate()
        .map(|(i, row)| {
            (0..row.len())
                .map(|j| matrices.iter().map(|m| m[i][j]).sum::<f64>() / n)
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_task_accuracy_counts_only_that_tasks_images() {
        let tasks = vec![vec![0, 1], vec![2, 3]];
        // Labels 0, 1, 2, 3; predictions right, wrong, right, right.
        let acc = task_accuracies(&[0, 2, 2, 3], &[0, 1, 2, 3], &tasks);
        assert_eq!(acc, vec![0.5, 1.0]);
        let (m, s) = mean_std(&[1.0, 3.0]);
        assert!((m - 2.0).abs() < 1e-12 && (s - 2f64.sqrt()).abs() < 1e-12);
    }
}
