//! Pointwise activations used by the energy networks.

use burn::config::Config;
use burn::tensor::Tensor;
use burn::tensor::activation::{leaky_relu, relu};
use ebm_kernels::Kernels;

/// A pointwise nonlinearity.
///
/// IGEBM's CIFAR-10 ResNets use leaky ReLU (slope 0.2) by default and swish for ImageNet-128 and
/// dSprites; the paper credits smooth activations such as swish with more stable training, because
/// Langevin dynamics follows the input gradient, and a ReLU network's input gradient is piecewise
/// constant.
#[derive(Config, Debug, Copy, PartialEq)]
pub enum Activation {
    /// `x * sigmoid(x)`.
    Swish,
    /// `max(x, 0.2 x)`, the official code's `tf.nn.leaky_relu` default slope.
    LeakyRelu,
    /// `max(x, 0)`.
    Relu,
}

impl Activation {
    /// Applies the activation elementwise, swish with the `kernels` implementation.
    pub fn apply<const D: usize>(self, x: Tensor<D>, kernels: Kernels) -> Tensor<D> {
        match self {
            Activation::Swish => ebm_kernels::swish(x, kernels),
            Activation::LeakyRelu => leaky_relu(x, 0.2),
            Activation::Relu => relu(x),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Device;

    #[test]
    fn activations_match_their_formulas() {
        let device = Device::flex();
        let x = Tensor::<1>::from_floats([-2.0, 0.0, 3.0], &device);
        let swish: Vec<f32> = Activation::Swish
            .apply(x.clone(), Kernels::Fast)
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        let expected = [-2.0 / (1.0 + 2f32.exp()), 0.0, 3.0 / (1.0 + (-3f32).exp())];
        for (a, e) in swish.iter().zip(expected) {
            assert!((a - e).abs() < 1e-6, "swish {a} vs {e}");
        }
        let lrelu: Vec<f32> = Activation::LeakyRelu
            .apply(x.clone(), Kernels::Fast)
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        assert_eq!(lrelu, vec![-0.4, 0.0, 3.0]);
        let relu: Vec<f32> = Activation::Relu
            .apply(x, Kernels::Fast)
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        assert_eq!(relu, vec![0.0, 0.0, 3.0]);
    }
}
