//! The entropy term of Du et al. 2021 ("Improved Contrastive Divergence Training of
//! Energy-Based Models"): each sample's log distance to its nearest neighbour among stored
//! samples, whose mean estimates the samples' entropy up to constants (Kozachenko and
//! Leonenko's nearest-neighbour estimator). Subtracted from the loss through the sampler's last
//! step ([`crate::last_step`]), it pushes the chains' samples apart: the other half of the KL
//! divergence between the sampler and the model, against chains collapsing on a few modes.

use burn::tensor::Tensor;

use crate::last_step::Outer;

/// `log min_j |x_i - c_j|` for each sample `x_i` of `x` (`[n, ...]`) over the `others` `c_j`
/// (`[m, ...]`, the same sample shape), with its gradient `(x_i - c_j*) / |x_i - c_j*|²` at the
/// nearest `c_j*`. Distances are floored at `1e-6`, so a sample equal to one of `others` has a
/// finite value and a zero gradient.
///
/// # Panics
///
/// If `others` is empty or its samples do not have the shape of `x`'s.
pub fn nearest_log_distance<const D: usize>(x: Tensor<D>, others: Tensor<D>) -> Outer<D> {
    let dims = x.dims();
    let (n, m) = (dims[0], others.dims()[0]);
    assert!(m > 0, "no samples to measure distances to");
    assert_eq!(
        x.dims()[1..],
        others.dims()[1..],
        "samples {:?} vs others {:?}",
        x.dims(),
        others.dims()
    );
    let x = x.without_autodiff().reshape([n as i64, -1]);
    let c = others.without_autodiff().reshape([m as i64, -1]);
    // |x - c|² = |x|² + |c|² - 2 x·c, for the choice of the neighbour only.
    let cross = x.clone().matmul(c.clone().transpose());
    let xx = x.clone().powi_scalar(2).sum_dim(1); // [n, 1]
    let cc = c.clone().powi_scalar(2).sum_dim(1).transpose(); // [1, m]
    let nearest = (xx + cc - cross * 2.0).argmin(1).reshape([n]);
    // The distance itself from the difference, without the cancellation above.
    let diff = x - c.select(0, nearest);
    let d2 = diff.clone().powi_scalar(2).sum_dim(1).clamp_min(1e-12); // [n, 1]
    Outer {
        value: d2.clone().log().reshape([n]) * 0.5,
        grad: (diff / d2).reshape(dims),
    }
}

#[cfg(test)]
mod tests {
    use burn::tensor::{Device, Tensor, TensorData};

    use super::*;

    fn tensor(v: &[f32], shape: [usize; 2]) -> Tensor<2> {
        Tensor::from_data(TensorData::new(v.to_vec(), shape), &Device::flex())
    }

    fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
        t.into_data().convert::<f32>().try_to_vec::<f32>().unwrap()
    }

    #[test]
    fn the_value_is_the_log_distance_to_the_nearest_other() {
        let x = tensor(&[0.0, 0.0, 3.0, 3.0], [2, 2]);
        let others = tensor(&[3.0, 4.0, 1.0, 0.0, 3.0, 3.5], [3, 2]);
        let out = nearest_log_distance(x, others);
        let v = values(out.value);
        // (0, 0): nearest (1, 0) at 1; (3, 3): nearest (3, 3.5) at 0.5.
        assert!((v[0] - 0.0).abs() < 1e-6, "{v:?}");
        assert!((v[1] - 0.5f32.ln()).abs() < 1e-6, "{v:?}");
        // Gradients point away from the neighbour, of length 1/d.
        let g = values(out.grad);
        let expected = [-1.0, 0.0, 0.0, -2.0];
        for (a, b) in g.iter().zip(expected) {
            assert!((a - b).abs() < 1e-5, "{g:?}");
        }
    }

    #[test]
    fn the_gradient_matches_central_differences() {
        let x = [0.3f32, 0.7, 0.1, 0.9, 0.4, 0.2];
        let others = tensor(&[0.5, 0.5, 0.5, 0.1, 0.8, 0.3, 0.9, 0.2, 0.1], [3, 3]);
        let out = nearest_log_distance(tensor(&x, [2, 3]), others.clone());
        let g = values(out.grad);
        let h = 1e-3f32;
        for k in 0..6 {
            let (mut up, mut down) = (x, x);
            up[k] += h;
            down[k] -= h;
            let sum = |v: &[f32]| {
                values(nearest_log_distance(tensor(v, [2, 3]), others.clone()).value)
                    .iter()
                    .sum::<f32>()
            };
            let numeric = (sum(&up) - sum(&down)) / (2.0 * h);
            assert!(
                (g[k] - numeric).abs() < 2e-2 * numeric.abs().max(1.0),
                "element {k}: {} vs {numeric}",
                g[k]
            );
        }
    }
}
