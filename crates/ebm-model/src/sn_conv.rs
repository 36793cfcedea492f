//! 2-D convolution with an optionally spectrally normalised kernel and no bias.

use burn::config::Config;
use burn::module::{Module, Param};
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Device, Distribution, Tensor};

use crate::fast_ops::conv2d_same;
use crate::init::WeightInit;
use crate::spectral::{SpectralMode, SpectralNorm};

/// Configuration of an [`SnConv2d`].
#[derive(Config, Debug)]
pub struct SnConv2dConfig {
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
}

/// A bias-free convolution with TensorFlow's SAME padding.
///
/// The official code creates a conv bias but never uses it; biases enter the residual blocks as
/// separate (optionally class-conditional) terms instead.
#[derive(Module, Debug)]
pub struct SnConv2d {
    /// Kernel `[C_out, C_in, k, k]`.
    pub weight: Param<Tensor<4>>,
    /// Power-iteration state, when spectrally normalised.
    pub spectral: Option<SpectralNorm>,
    /// Stride in both spatial dimensions.
    pub stride: usize,
    /// Kernel size.
    pub kernel_size: usize,
}

impl SnConv2dConfig {
    /// Builds the layer on `device`.
    pub fn init(&self, device: &Device) -> SnConv2d {
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
        SnConv2d {
            weight,
            spectral,
            stride: self.stride,
            kernel_size: k,
        }
    }
}

/// TensorFlow SAME padding `(begin, end)` for one spatial dimension: the output has
/// `ceil(size / stride)` positions and any odd padding goes at the end.
pub fn same_padding(size: usize, kernel: usize, stride: usize) -> (usize, usize) {
    let out = size.div_ceil(stride);
    let total = ((out - 1) * stride + kernel).saturating_sub(size);
    (total / 2, total - total / 2)
}

/// Burn's options for a convolution of an `h x w` input with a square `kernel`, `stride` on
/// both axes and TensorFlow SAME padding ([`same_padding`]).
pub fn same_conv_options(h: usize, w: usize, kernel: usize, stride: usize) -> ConvOptions<2> {
    ConvOptions::new_with_padding(
        [stride, stride],
        [
            same_padding(h, kernel, stride),
            same_padding(w, kernel, stride),
        ],
        [1, 1],
        1,
    )
}

impl SnConv2d {
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
        conv2d_same(x, self.effective_weight(), self.stride)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_padding_matches_tensorflow() {
        assert_eq!(same_padding(32, 3, 1), (1, 1));
        assert_eq!(same_padding(28, 4, 2), (1, 1));
        assert_eq!(same_padding(7, 4, 2), (1, 2));
    }

    #[test]
    fn strided_conv_output_shape() {
        let device = Device::flex();
        let conv = SnConv2dConfig::new([2, 5])
            .with_kernel_size(4)
            .with_stride(2)
            .init(&device);
        let x = Tensor::<4>::random([3, 2, 7, 7], Distribution::Default, &device);
        assert_eq!(conv.forward(x).dims(), [3, 5, 4, 4]);
    }
}
