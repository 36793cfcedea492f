//! The residual block of the official IGEBM code (`smart_res_block`).

use burn::config::Config;
use burn::module::{Module, Param};
use burn::tensor::module::avg_pool2d;
use burn::tensor::ops::AvgPoolOptions;
use burn::tensor::{Device, Tensor};

use crate::activation::Activation;
use crate::conditioning::select;
use crate::init::WeightInit;
use crate::same_conv::{SameConv2d, SameConv2dConfig};
use crate::spectral::SpectralMode;
use ebm_kernels::Kernels;

/// Configuration of a [`ResBlock`].
#[derive(Config, Debug)]
pub struct ResBlockConfig {
    /// Input and output channels. A 3x3 shortcut conv is added when they differ.
    pub channels: [usize; 2],
    /// Classes of a conditional block (per-class biases and gain), or `None`.
    #[config(default = "None")]
    pub num_classes: Option<usize>,
    /// 2x2 average pooling (stride 2) at the end of the block.
    #[config(default = false)]
    pub downsample: bool,
    /// Nonlinearity after the first conv and at the block's output.
    #[config(default = "Activation::Swish")]
    pub activation: Activation,
    /// Spectral norm on the three convs.
    #[config(default = true)]
    pub spectral_norm: bool,
    /// Power iterations per forward.
    #[config(default = 1)]
    pub power_iterations: usize,
    /// Raw init of the first conv and of the shortcut.
    #[config(default = "WeightInit::KaimingUniform")]
    pub init: WeightInit,
    /// Which implementation of the convolutions and swish runs (`Fast`: this project's CPU
    /// kernels on `burn-flex`, Burn's elsewhere; `Burn`: Burn's everywhere).
    #[config(default = "Kernels::Fast")]
    pub kernels: Kernels,
}

/// `act(pool(conv_b(act(conv_a(x + b_a)) + b_b) * g_b + shortcut(x)))`.
///
/// `b_a`, `b_b` are additive biases applied *before* each conv and `g_b` a gain after the second;
/// in a conditional block each is a per-class row selected by the label (with `g_b = y G + c`).
/// The second conv starts near zero with its spectral norm only capped at 1, so the block
/// starts as its shortcut. The shortcut is the identity, or an unconditional 3x3 conv (not 1x1,
/// as in the official code) when the channel count changes.
#[derive(Module, Debug)]
pub struct ResBlock {
    /// First 3x3 conv.
    pub conv_a: SameConv2d,
    /// Second 3x3 conv (near-zero init, capped spectral norm).
    pub conv_b: SameConv2d,
    /// 3x3 shortcut conv when channels change.
    pub shortcut: Option<SameConv2d>,
    /// Pre-conv bias of `conv_a`, `[K, C_in]` (K = classes, or 1).
    pub bias_a: Param<Tensor<2>>,
    /// Pre-conv bias of `conv_b`, `[K, C_out]`.
    pub bias_b: Param<Tensor<2>>,
    /// Gain after `conv_b`, `[K, C_out]`, initialised to 1.
    pub gain_b: Param<Tensor<2>>,
    /// Unconditional offset of the conditional gain, `[1, C_out]`, initialised to 0.
    pub gain_offset: Option<Param<Tensor<2>>>,
    /// Whether the block takes labels.
    pub conditional: bool,
    /// Whether the block halves H and W.
    pub downsample: bool,
    /// The nonlinearity.
    #[module(skip)]
    pub activation: Activation,
    /// Implementation of the convolutions and swish.
    #[module(skip)]
    pub kernels: Kernels,
}

impl ResBlockConfig {
    /// Builds the block on `device`.
    pub fn init(&self, device: &Device) -> ResBlock {
        let [c_in, c_out] = self.channels;
        let k = self.num_classes.unwrap_or(1);
        let conv = |channels: [usize; 2]| {
            SameConv2dConfig::new(channels)
                .with_spectral_norm(self.spectral_norm)
                .with_power_iterations(self.power_iterations)
                .with_init(self.init)
                .with_kernels(self.kernels)
        };
        ResBlock {
            conv_a: conv([c_in, c_out]).init(device),
            conv_b: conv([c_out, c_out])
                .with_near_zero(true)
                .with_mode(SpectralMode::Cap)
                .init(device),
            shortcut: (c_in != c_out).then(|| conv([c_in, c_out]).init(device)),
            bias_a: Param::from_tensor(Tensor::zeros([k, c_in], device)),
            bias_b: Param::from_tensor(Tensor::zeros([k, c_out], device)),
            gain_b: Param::from_tensor(Tensor::ones([k, c_out], device)),
            gain_offset: self
                .num_classes
                .map(|_| Param::from_tensor(Tensor::zeros([1, c_out], device))),
            conditional: self.num_classes.is_some(),
            downsample: self.downsample,
            activation: self.activation,
            kernels: self.kernels,
        }
    }
}

impl ResBlock {
    /// # Shapes
    ///
    /// - x: `[batch, C_in, H, W]`, labels: `[batch, classes]` one-hot (conditional blocks only)
    /// - output: `[batch, C_out, H, W]`, or `[batch, C_out, H / 2, W / 2]` when downsampling
    ///
    /// # Panics
    ///
    /// If labels are missing for a conditional block or given to an unconditional one.
    pub fn forward(&self, x: Tensor<4>, labels: Option<&Tensor<2>>) -> Tensor<4> {
        let cond = self.conditional;
        let h = x.clone() + select(self.bias_a.val(), labels, cond);
        let h = self.activation.apply(self.conv_a.forward(h), self.kernels);
        let h = self
            .conv_b
            .forward(h + select(self.bias_b.val(), labels, cond));
        let gain = match &self.gain_offset {
            Some(offset) => {
                select(self.gain_b.val(), labels, cond) + select(offset.val(), None, false)
            }
            None => select(self.gain_b.val(), labels, cond),
        };
        let h = h * gain;
        let shortcut = match &self.shortcut {
            Some(conv) => conv.forward(x),
            None => x,
        };
        let r = h + shortcut;
        let r = if self.downsample {
            avg_pool2d(r, AvgPoolOptions::new([2, 2]))
        } else {
            r
        };
        self.activation.apply(r, self.kernels)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Distribution;

    #[test]
    fn block_starts_as_its_shortcut() {
        let device = Device::flex();
        let block = ResBlockConfig::new([4, 4]).init(&device);
        let x = Tensor::<4>::random([2, 4, 8, 8], Distribution::Normal(0.0, 1.0), &device);
        let y = block.forward(x.clone(), None);
        let expected = Activation::Swish.apply(x, Kernels::Fast);
        let diff: f32 = (y - expected).abs().max().into_scalar::<f32>();
        assert!(
            diff < 1e-4,
            "near-zero residual branch should leave act(x), diff {diff}"
        );
    }

    #[test]
    fn downsampling_block_with_new_channels() {
        let device = Device::flex();
        let block = ResBlockConfig::new([4, 6])
            .with_downsample(true)
            .init(&device);
        assert!(block.shortcut.is_some());
        let x = Tensor::<4>::random([2, 4, 8, 8], Distribution::Default, &device);
        assert_eq!(block.forward(x, None).dims(), [2, 6, 4, 4]);
    }
}
