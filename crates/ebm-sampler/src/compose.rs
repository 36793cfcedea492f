//! Composing energies: conjunction, negation and disjunction of concepts (Du, Li & Mordatch
//! 2020; Hinton's product of experts).
//!
//! Composition works on the energies of a batch, so any mix of models, or one model under
//! different labels, composes in a closure:
//!
//! ```
//! use burn::tensor::{Device, Tensor};
//! use ebm_sampler::compose::{and, not, or};
//!
//! // Two "experts": Gaussians centred at -1 and +1.
//! let a = |x: Tensor<2>| (x.clone() + 1.0).powi_scalar(2).sum_dim(1).squeeze_dim(1) * 0.5;
//! let b = |x: Tensor<2>| (x.clone() - 1.0).powi_scalar(2).sum_dim(1).squeeze_dim(1) * 0.5;
//! let both = |x: Tensor<2>| and(vec![(1.0, a(x.clone())), (1.0, b(x))]); // p_a * p_b
//! let either = |x: Tensor<2>| or(vec![a(x.clone()), b(x)]);             // p_a + p_b
//! let a_not_b = |x: Tensor<2>| not(a(x.clone()), b(x), 0.5);            // p_a / p_b^0.5
//!
//! let x = Tensor::<2>::zeros([4, 2], &Device::flex());
//! assert_eq!(both(x.clone()).dims(), [4]);
//! # let _ = (either(x.clone()), a_not_b(x));
//! ```
//!
//! With a conditional model `net`, "class 3 AND class 5" is
//! `|x| and(vec![(1.0, net.energy(x.clone(), Some(y3.clone()))), (1.0, net.energy(x, Some(y5.clone())))])`.

use burn::tensor::Tensor;

/// Product of experts: `E = sum_i w_i E_i`, i.e. `p ∝ prod_i p_i^{w_i}`.
///
/// # Panics
///
/// If `terms` is empty.
pub fn and(terms: Vec<(f64, Tensor<1>)>) -> Tensor<1> {
    terms
        .into_iter()
        .map(|(w, e)| e * w)
        .reduce(|a, b| a + b)
        .expect("and() needs at least one energy")
}

/// Negation: `E = E_a - w E_b`, i.e. `p ∝ p_a / p_b^w` (sample `a` but not `b`). Keep `w < 1`,
/// or the composed density is improper far from the data.
pub fn not(e_a: Tensor<1>, e_b: Tensor<1>, w: f64) -> Tensor<1> {
    e_a - e_b * w
}

/// Mixture: `E = -log sum_i exp(-E_i)`, i.e. `p ∝ sum_i p_i` (computed stably).
///
/// # Panics
///
/// If `energies` is empty.
pub fn or(energies: Vec<Tensor<1>>) -> Tensor<1> {
    assert!(!energies.is_empty(), "or() needs at least one energy");
    let k = energies.len();
    let batch = energies[0].dims()[0];
    let neg = -Tensor::stack::<2>(energies, 1); // [batch, k]
    let max = neg.clone().max_dim(1); // [batch, 1]
    let lse = (neg - max.clone()).exp().sum_dim(1).log() + max;
    debug_assert_eq!(lse.dims(), [batch, 1], "{k} energies");
    -lse.reshape([batch])
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Device;

    #[test]
    fn combinators_match_their_formulas() {
        let device = Device::flex();
        let a = Tensor::<1>::from_floats([1.0, 100.0], &device);
        let b = Tensor::<1>::from_floats([2.0, 101.0], &device);
        let v = |t: Tensor<1>| t.into_data().try_to_vec::<f32>().unwrap();
        assert_eq!(
            v(and(vec![(1.0, a.clone()), (0.5, b.clone())])),
            vec![2.0, 150.5]
        );
        assert_eq!(v(not(a.clone(), b.clone(), 0.5)), vec![0.0, 49.5]);
        let o = v(or(vec![a, b]));
        let expected = |x: f64, y: f64| -((-x).exp() + (-y).exp()).ln();
        assert!((o[0] as f64 - expected(1.0, 2.0)).abs() < 1e-5);
        // Stable where exp(-E) underflows in f32.
        assert!(
            (o[1] as f64 - (100.0 - (1.0 + (-1f64).exp()).ln())).abs() < 1e-4,
            "{o:?}"
        );
    }

    #[test]
    fn and_of_two_toy_energies_concentrates_where_both_are_low() {
        use crate::{LangevinConfig, NoObserver};
        let device = Device::flex();
        device.seed(5);
        // `a` is low on the line x = 0, `b` on the line y = 0: only the origin is low in both.
        let a = |x: Tensor<2>| x.slice([0..4096, 0..1]).powi_scalar(2).squeeze_dim(1) * 8.0;
        let b = |x: Tensor<2>| x.slice([0..4096, 1..2]).powi_scalar(2).squeeze_dim(1) * 8.0;
        let both = |x: Tensor<2>| and(vec![(1.0, a(x.clone())), (1.0, b(x))]);
        let start = || {
            Tensor::<2>::random(
                [4096, 2],
                burn::tensor::Distribution::Uniform(-2.0, 2.0),
                &device,
            )
        };
        let sampler = LangevinConfig::textbook(400, 0.01);
        let spread = |x: Tensor<2>| -> [f32; 2] {
            let v = x.abs().mean_dim(0).into_data().try_to_vec::<f32>().unwrap();
            [v[0], v[1]]
        };
        let only_a = spread(sampler.run(&a, start(), None, &mut NoObserver));
        let anded = spread(sampler.run(&both, start(), None, &mut NoObserver));
        // exp(-8 x^2): std 1/4, mean |x| = 0.25 sqrt(2 / pi) = 0.2; uniform on [-2, 2]: 1.
        assert!(anded[0] < 0.3 && anded[1] < 0.3, "AND: {anded:?}");
        assert!(only_a[0] < 0.3 && only_a[1] > 0.8, "a alone: {only_a:?}");
    }
}
