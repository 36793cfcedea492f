//! Class conditioning: one-hot labels select per-class biases and gains.

use burn::tensor::{Device, Tensor, TensorData};

/// One-hot encodes `labels` into `[labels.len(), classes]`.
///
/// Conditional networks take labels as a float matrix rather than indices so that the same
/// layers accept soft or continuous codes (the official dSprites models feed positions and
/// angles through the same `y @ g` maps).
///
/// # Panics
///
/// If a label is `>= classes`.
pub fn one_hot(labels: &[usize], classes: usize, device: &Device) -> Tensor<2> {
    let mut data = vec![0f32; labels.len() * classes];
    for (i, &label) in labels.iter().enumerate() {
        assert!(
            label < classes,
            "label {label} out of range for {classes} classes"
        );
        data[i * classes + label] = 1.0;
    }
    Tensor::from_data(TensorData::new(data, [labels.len(), classes]), device)
}

/// Per-sample channel vector `[n, C, 1, 1]` from a parameter table `[K, C]`.
///
/// Unconditional tables have one row (`K == 1`, no labels) and broadcast over the batch
/// (`n == 1`); conditional tables are indexed by the one-hot `labels` `[batch, K]` (`n == batch`).
///
/// # Panics
///
/// If a conditional table gets no labels, an unconditional one gets labels, or the label width
/// differs from `K`.
pub(crate) fn select(table: Tensor<2>, labels: Option<&Tensor<2>>, conditional: bool) -> Tensor<4> {
    let [k, c] = table.dims();
    let rows = match (conditional, labels) {
        (true, Some(y)) => {
            assert_eq!(y.dims()[1], k, "labels {:?} vs {k} classes", y.dims());
            y.clone().matmul(table)
        }
        (true, None) => panic!("a class-conditional network needs labels"),
        (false, None) => table,
        (false, Some(_)) => panic!("an unconditional network takes no labels"),
    };
    let [n, _] = rows.dims();
    rows.reshape([n, c, 1, 1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_hot_rows() {
        let device = Device::flex();
        let y: Vec<f32> = one_hot(&[2, 0], 3, &device)
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        assert_eq!(y, vec![0.0, 0.0, 1.0, 1.0, 0.0, 0.0]);
    }

    #[test]
    fn labels_select_rows_of_the_table() {
        let device = Device::flex();
        let table = Tensor::<2>::from_floats([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], &device);
        let y = one_hot(&[1, 2], 3, &device);
        let out: Vec<f32> = select(table, Some(&y), true)
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        assert_eq!(out, vec![3.0, 4.0, 5.0, 6.0]);
    }
}
