//! 2-D convolution with TensorFlow SAME padding, no bias, and an optionally spectrally
//! normalised kernel.

use burn::config::Config;
use burn::module::{Module, Param};
use burn::tensor::{Device, Distribution, Tensor};

use ebm_kernels::{Kernels, conv2d_same};

use crate::init::WeightInit;
use crate::spectral::{SpectralMode, SpectralNorm};

/// Configuration of an [`SameConv2d`].
#[derive(Config, Debug)]
pub struct SameConv2dConfig {
    /// Input and output channels.
    pub channels: [usize; 2],
    /// Square kernel size.
    #[config(default = 3)]
    pub kernel_size: usize,
    /// Stride in both spatial dimensions.
    #[config(default = 1)]
    pub stride: usize,
    /// Whether the kernel is spectrally normalised (the official `--spec_norm`, on by default).
    #[config(default = true)]
    pub spectral_norm: bool,
    /// Power iterations per forward (the official `--spec_iter`).
    #[config(default = 1)]
    pub power_iterations: usize,
    /// `Normalize` (norm exactly 1) or `Cap` (norm at most 1).
    #[config(default = "SpectralMode::Normalize")]
    pub mode: SpectralMode,
    /// Raw weight initialisation.
    #[config(default = "WeightInit::KaimingUniform")]
    pub init: WeightInit,
    /// Initialise the kernel from N(0, 1e-10) instead: the official "zero" init of the second
    /// conv of each residual block, so a block starts as (almost) its shortcut.
    #[config(default = false)]
    pub near_zero: bool,
    /// Which implementation of the convolution runs (`Fast`: this project's CPU kernels on
    /// `burn-flex`, Burn's elsewhere).
    #[config(default = "Kernels::Fast")]
    pub kernels: Kernels,
}

/// A bias-free convolution with TensorFlow's SAME padding.
///
/// The official code creates a conv bias but never uses it; biases enter the residual blocks as
/// separate (optionally class-conditional) terms instead.
#[derive(Module, Debug)]
pub struct SameConv2d {
    /// Kernel `[C_out, C_in, k, k]`.
    pub weight: Param<Tensor<4>>,
    /// Power-iteration state, when spectrally normalised.
    pub spectral: Option<SpectralNorm>,
    /// Stride in both spatial dimensions.
    pub stride: usize,
    /// Kernel size.
    pub kernel_size: usize,
    /// Implementation of the convolution.
    #[module(skip)]
    pub kernels: Kernels,
}

impl SameConv2dConfig {
    /// Builds the layer on `device`.
    pub fn init(&self, device: &Device) -> SameConv2d {
        let [c_in, c_out] = self.channels;
        let k = self.kernel_size;
        let shape = [c_out, c_in, k, k];
        let weight = if self.near_zero {
            Param::from_tensor(Tensor::random(
                shape,
                Distribution::Normal(0.0, 1e-10),
                device,
            ))
        } else {
            self.init.init(shape, c_in * k * k, c_out * k * k, device)
        };
        let spectral = self
            .spectral_norm
            .then(|| SpectralNorm::new(c_out, self.power_iterations, self.mode, device));
        SameConv2d {
            weight,
            spectral,
            stride: self.stride,
            kernel_size: k,
            kernels: self.kernels,
        }
    }
}

impl SameConv2d {
    /// The kernel actually applied: spectrally normalised when configured.
    pub fn effective_weight(&self) -> Tensor<4> {
        let w = self.weight.val();
        match &self.spectral {
            None => w,
            Some(sn) => {
                let [c_out, c_in, kh, kw] = w.dims();
                sn.normalize(w.reshape([c_out, c_in * kh * kw]))
                    .reshape([c_out, c_in, kh, kw])
            }
        }
    }

    /// # Shapes
    ///
    /// - input: `[batch, C_in, H, W]`
    /// - output: `[batch, C_out, ceil(H / stride), ceil(W / stride)]`
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        conv2d_same(x, self.effective_weight(), self.stride, self.kernels)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strided_conv_output_shape() {
        let device = Device::flex();
        let conv = SameConv2dConfig::new([2, 5])
            .with_kernel_size(4)
            .with_stride(2)
            .init(&device);
        let x = Tensor::<4>::random([3, 2, 7, 7], Distribution::Default, &device);
        assert_eq!(conv.forward(x).dims(), [3, 5, 4, 4]);
    }
}
