//! Energies and their input gradient, without parameter gradients.

use burn::tensor::Tensor;

/// Evaluates `energy` on `x` and returns `(E(x) [batch], dE/dx)`, both detached and on the plain
/// (non-autodiff) device.
///
/// Only `x` is moved to the autodiff device. Pass an energy whose network lives on the plain
/// device (`model.valid()`): an op mixing an autodiff tensor with plain ones treats the plain
/// ones as constants, so the backward pass computes the input gradient and skips every
/// parameter gradient (`ebm bench` measures what that saves: its `params on autodiff` row).
/// A network on the autodiff device also works, only slower.
///
/// # Panics
///
/// If `energy` does not return one value per sample or `x` does not reach its output.
pub fn energy_and_grad<const D: usize, F>(energy: &F, x: Tensor<D>) -> (Tensor<1>, Tensor<D>)
where
    F: Fn(Tensor<D>) -> Tensor<1> + ?Sized,
{
    let batch = x.dims()[0];
    let x = x.without_autodiff().autodiff().require_grad();
    let e = energy(x.clone());
    assert_eq!(e.dims(), [batch], "energy must return one value per sample");
    // The gradient of the sum is the per-sample gradient: samples do not interact.
    let grads = e.clone().sum().backward();
    let g = x
        .grad(&grads)
        .expect("the energy does not depend on its input");
    (e.detach().without_autodiff(), g.without_autodiff())
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Device;

    #[test]
    fn gradient_of_a_quadratic_is_x() {
        let device = Device::flex();
        let x = Tensor::<2>::from_floats([[1.0, -2.0], [0.5, 3.0]], &device);
        let quad = |x: Tensor<2>| x.powi_scalar(2).sum_dim(1).reshape([2]) * 0.5;
        let (e, g) = energy_and_grad(&quad, x.clone());
        assert!(!e.is_autodiff() && !g.is_autodiff());
        assert_eq!(e.into_data().try_to_vec::<f32>().unwrap(), vec![2.5, 4.625]);
        assert_eq!(
            g.into_data().try_to_vec::<f32>().unwrap(),
            vec![1.0, -2.0, 0.5, 3.0]
        );
    }
}
