//! Chains that start at real images of another class: negatives that teach a conditional
//! model's label to reject the other classes' images, which contrastive divergence on its own
//! samples only teaches once those samples drift to another class.

use std::ops::Range;

use burn::tensor::{Device, Int, Tensor, TensorData};

/// For each row in `rows`, the image of the next positive (cyclically) with another label
/// (the next positive at all when the whole batch has one label).
pub fn other_class_images(
    x_pos: &Tensor<4>,
    labels: &[usize],
    rows: Range<usize>,
    device: &Device,
) -> Tensor<4> {
    let b = labels.len();
    let picks: Vec<i64> = rows
        .map(|i| {
            (1..b)
                .map(|d| (i + d) % b)
                .find(|&j| labels[j] != labels[i])
                .unwrap_or((i + 1) % b) as i64
        })
        .collect();
    let m = picks.len();
    let idx = Tensor::<1, Int>::from_data(TensorData::new(picks, [m]), device);
    x_pos.clone().select(0, idx)
}

/// The extra chain starts of `TrainConfig::data_starts`: the last `fraction` of the batch
/// (rounded, at most all rows but one) starts at another class's image (see
/// [`other_class_images`]) under its own positive's label. `None` when that is no row.
pub fn data_start_chains(
    x_pos: &Tensor<4>,
    labels: &[usize],
    fraction: f64,
    device: &Device,
) -> Option<(Tensor<4>, Vec<usize>)> {
    let b = labels.len();
    let m = ((fraction * b as f64).round() as usize).min(b.saturating_sub(1));
    if m == 0 {
        return None;
    }
    Some(rows_from_other_classes(x_pos, labels, b - m..b, device))
}

/// The chain starts of `rows`: each at another class's image (see [`other_class_images`]),
/// under the row's own label.
pub fn rows_from_other_classes(
    x_pos: &Tensor<4>,
    labels: &[usize],
    rows: Range<usize>,
    device: &Device,
) -> (Tensor<4>, Vec<usize>) {
    (
        other_class_images(x_pos, labels, rows.clone(), device),
        labels[rows].to_vec(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Image `i` of the batch is filled with the value `i`.
    fn batch(b: usize, device: &Device) -> Tensor<4> {
        let data: Vec<f32> = (0..b).flat_map(|i| vec![i as f32; 4]).collect();
        Tensor::from_data(TensorData::new(data, [b, 1, 2, 2]), device)
    }

    fn firsts(x: Tensor<4>) -> Vec<f32> {
        let n = x.dims()[0];
        let v: Vec<f32> = x.into_data().try_to_vec::<f32>().unwrap();
        (0..n).map(|i| v[i * 4]).collect()
    }

    #[test]
    fn starts_take_another_class_image_under_their_own_label() {
        let device = Device::flex();
        let labels = [0, 0, 1, 2, 2, 0, 1, 1];
        let x = batch(8, &device);
        let (starts, start_labels) = data_start_chains(&x, &labels, 0.5, &device).unwrap();
        // Rows 4..8 (labels 2, 0, 1, 1) take the next image with another label, cyclically.
        assert_eq!(start_labels, vec![2, 0, 1, 1]);
        assert_eq!(firsts(starts), vec![5.0, 6.0, 0.0, 0.0]);
    }

    #[test]
    fn counts_are_rounded_and_leave_one_buffer_chain() {
        let device = Device::flex();
        let labels = [0, 1, 0, 1];
        let x = batch(4, &device);
        assert!(data_start_chains(&x, &labels, 0.1, &device).is_none());
        assert_eq!(
            data_start_chains(&x, &labels, 0.99, &device)
                .unwrap()
                .1
                .len(),
            3
        );
    }

    #[test]
    fn one_label_batch_falls_back_to_the_next_image() {
        let device = Device::flex();
        let x = batch(3, &device);
        let got = other_class_images(&x, &[4, 4, 4], 0..3, &device);
        assert_eq!(firsts(got), vec![1.0, 2.0, 0.0]);
    }
}
