//! The thin adapter from byte images to NCHW float tensors, and seeded batching.

use burn::tensor::{Device, Distribution, Tensor, TensorData};

use crate::dataset::ImageSet;

/// How pixels become floats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dequantize {
    /// `q / 255`: exact pixel values in [0, 1] (evaluation).
    None,
    /// `q / 256 + U(0, 1/256)`, i.e. `x * 255/256 + U(0, 1/256)` for `x = q / 255`: IGEBM's
    /// uniform dequantisation for training (reference section 4), values in [0, 1). The noise
    /// comes from the device's RNG: seed the device for reproducible batches.
    Uniform,
}

/// Images `indices` of `set` as a `[n, C, H, W]` tensor in [0, 1] on `device`, with their
/// labels.
///
/// # Panics
///
/// If an index is out of range.
pub fn images_to_tensor(
    set: &ImageSet,
    indices: &[usize],
    dequantize: Dequantize,
    device: &Device,
) -> (Tensor<4>, Vec<usize>) {
    let [c, h, w] = set.image_shape();
    let n = indices.len();
    let scale = match dequantize {
        Dequantize::None => 1.0 / 255.0,
        Dequantize::Uniform => 1.0 / 256.0,
    };
    let mut values = Vec::with_capacity(n * set.image_len());
    for &i in indices {
        values.extend(set.image(i).iter().map(|&q| f32::from(q) * scale));
    }
    let x = Tensor::<4>::from_data(TensorData::new(values, [n, c, h, w]), device);
    let x = match dequantize {
        Dequantize::None => x,
        Dequantize::Uniform => {
            x + Tensor::random(
                [n, c, h, w],
                Distribution::Uniform(0.0, 1.0 / 256.0),
                device,
            )
        }
    };
    let labels = indices
        .iter()
        .map(|&i| usize::from(set.labels[i]))
        .collect();
    (x, labels)
}

/// Stateless mixing function (SplitMix64's finaliser) used for seeded permutations.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A permutation of `0..n` determined by `seed` (Fisher-Yates).
pub fn shuffled_indices(n: usize, seed: u64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let r = mix(seed ^ mix(i as u64 + 0x632b_e59b_d9b4_e019));
        let j = ((u128::from(r) * (i as u128 + 1)) >> 64) as usize;
        order.swap(i, j);
    }
    order
}

/// Indices of batch `step` of size `batch` over `n` items: epoch `e = step * batch / n` visits a
/// fresh permutation seeded by `(seed, e)`. A pure function of `step`, so a resumed run sees
/// the same batches as an uninterrupted one.
///
/// # Panics
///
/// If `n` or `batch` is 0.
pub fn batch_indices(n: usize, batch: usize, seed: u64, step: u64) -> Vec<usize> {
    assert!(
        n > 0 && batch > 0,
        "batching needs items and a positive batch size"
    );
    let start = step as u128 * batch as u128;
    let mut out = Vec::with_capacity(batch);
    let mut epoch = u64::MAX;
    let mut order = Vec::new();
    for k in 0..batch as u128 {
        let pos = start + k;
        let e = (pos / n as u128) as u64;
        if e != epoch {
            epoch = e;
            order = shuffled_indices(n, mix(seed) ^ e);
        }
        out.push(order[(pos % n as u128) as usize]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epochs_visit_every_item_once() {
        let n = 10;
        let mut seen: Vec<usize> = (0..5).flat_map(|s| batch_indices(n, 2, 7, s)).collect();
        seen.sort();
        assert_eq!(seen, (0..10).collect::<Vec<_>>());
        assert_ne!(
            batch_indices(n, 10, 7, 0),
            batch_indices(n, 10, 7, 1),
            "epochs reshuffle"
        );
        assert_eq!(
            batch_indices(n, 3, 7, 4),
            batch_indices(n, 3, 7, 4),
            "pure in step"
        );
    }

    #[test]
    fn tensors_are_in_unit_range() {
        let device = Device::flex();
        let set = ImageSet::new("t", vec![0, 255, 128, 1], vec![0, 1], [1, 1, 2], 2).unwrap();
        let (x, y) = images_to_tensor(&set, &[1, 0], Dequantize::None, &device);
        assert_eq!(y, vec![1, 0]);
        let v = x.into_data().try_to_vec::<f32>().unwrap();
        assert_eq!(v, vec![128.0 / 255.0, 1.0 / 255.0, 0.0, 1.0]);
        let (x, _) = images_to_tensor(&set, &[0], Dequantize::Uniform, &device);
        let v = x.into_data().try_to_vec::<f32>().unwrap();
        assert!(
            v[0] >= 0.0 && v[0] < 1.0 / 256.0 && v[1] >= 255.0 / 256.0 && v[1] < 1.0,
            "{v:?}"
        );
    }
}
