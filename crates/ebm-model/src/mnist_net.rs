//! `MnistNet`: the official MNIST energy (strided convs, no residual blocks).

use burn::config::Config;
use burn::module::Module;
use burn::tensor::{Device, Tensor};

use crate::activation::Activation;
use crate::channel_reduce::ChannelReduce;
use crate::dense::{Dense, DenseConfig};
use crate::energy::EnergyModel;
use crate::init::WeightInit;
use crate::same_conv::{SameConv2d, SameConv2dConfig};
use ebm_kernels::Kernels;

/// Configuration of a [`MnistNet`] (official `models.py` `MnistNet`, `num_filters=64`).
#[derive(Config, Debug)]
pub struct MnistNetConfig {
    /// Image channels.
    #[config(default = 1)]
    pub in_channels: usize,
    /// Square image side (28 for MNIST): fixes the width of the flattened features.
    #[config(default = 28)]
    pub image_size: usize,
    /// Base filters `H`: stem H, then strided convs H, 2H, 4H.
    #[config(default = 64)]
    pub filters: usize,
    /// Hidden width of the dense layer.
    #[config(default = 128)]
    pub hidden: usize,
    /// The network sees the mean of the input channels (one grey channel) instead of the
    /// channels themselves, so its energy cannot depend on hue: an attribute model that must
    /// not read its label off colour (the shape model of the compositional experiment, whose
    /// training images never pair some shapes with some colours). `None` (the default, and
    /// what configurations saved before the field existed read as) means `false`.
    #[config(default = "None")]
    pub grey_input: Option<bool>,
    /// The network sees, at each pixel, the largest of the input channels (HSV's value)
    /// instead of the channels: red, green, blue and yellow objects of one shape look the
    /// same to it, and its input gradient reaches only each pixel's largest channel, so in a
    /// composition it changes brightness where a colour model has set the hue. Takes
    /// precedence over `grey_input`. `None` (the default, and what configurations saved before
    /// the field existed read as) means `false`.
    #[config(default = "None")]
    pub max_channel_input: Option<bool>,
    /// Classes of a conditional network: the last layer has one output per class and the
    /// label picks one, `E(x, y) = f(x)[y]` (a class head, as `ResNetConfig::class_head`: the
    /// convolutions never see the label). `None` (the default, and what configurations saved
    /// before the field existed read as): unconditional.
    #[config(default = "None")]
    pub num_classes: Option<usize>,
    /// Nonlinearity after every layer (official default: leaky ReLU 0.2).
    #[config(default = "Activation::Swish")]
    pub activation: Activation,
    /// Spectral norm on the convs and the hidden dense layer.
    #[config(default = true)]
    pub spectral_norm: bool,
    /// Power iterations per forward.
    #[config(default = 1)]
    pub power_iterations: usize,
    /// Raw weight initialisation.
    #[config(default = "WeightInit::KaimingUniform")]
    pub init: WeightInit,
    /// Which implementation of the convolutions and swish runs (`Fast`: this project's CPU
    /// kernels on `burn-flex`, Burn's elsewhere; `Burn`: Burn's everywhere).
    #[config(default = "Kernels::Fast")]
    pub kernels: Kernels,
}

/// `fc(act(fc_sn(flatten(act(conv4x4s2^3(act(conv3x3(x))))))))`: 28 -> 14 -> 7 -> 4, 1.25 M weights.
#[derive(Module, Debug)]
pub struct MnistNet {
    /// 3x3 stem and the three 4x4 stride-2 convs.
    pub convs: Vec<SameConv2d>,
    /// Spectrally normalised hidden layer.
    pub fc: Dense,
    /// Final `hidden -> 1` layer (`hidden -> classes` for a conditional network), not
    /// normalised.
    pub out: Dense,
    /// Classes of a conditional network, `None` for unconditional.
    #[module(skip)]
    pub num_classes: Option<usize>,
    /// How the input channels are reduced first (see [`MnistNetConfig::grey_input`] and
    /// [`MnistNetConfig::max_channel_input`]).
    #[module(skip)]
    pub reduce: ChannelReduce,
    /// Nonlinearity.
    #[module(skip)]
    pub activation: Activation,
    /// Implementation of the convolutions and swish.
    #[module(skip)]
    pub kernels: Kernels,
}

impl MnistNetConfig {
    /// Builds the network on `device`.
    pub fn init(&self, device: &Device) -> MnistNet {
        let h = self.filters;
        let conv = |c: [usize; 2], k: usize, s: usize| {
            SameConv2dConfig::new(c)
                .with_kernel_size(k)
                .with_stride(s)
                .with_spectral_norm(self.spectral_norm)
                .with_power_iterations(self.power_iterations)
                .with_init(self.init)
                .with_kernels(self.kernels)
                .init(device)
        };
        let reduce = ChannelReduce::from_flags(self.grey_input, self.max_channel_input);
        let convs = vec![
            conv([reduce.channels(self.in_channels), h], 3, 1),
            conv([h, h], 4, 2),
            conv([h, 2 * h], 4, 2),
            conv([2 * h, 4 * h], 4, 2),
        ];
        let side = self.image_size.div_ceil(2).div_ceil(2).div_ceil(2);
        let fc = DenseConfig::new(4 * h * side * side, self.hidden)
            .with_spectral_norm(self.spectral_norm)
            .with_power_iterations(self.power_iterations)
            .with_init(self.init)
            .init(device);
        let out = DenseConfig::new(self.hidden, self.num_classes.unwrap_or(1))
            .with_spectral_norm(false)
            .with_init(WeightInit::XavierUniform)
            .init(device);
        MnistNet {
            convs,
            fc,
            out,
            num_classes: self.num_classes,
            reduce,
            activation: self.activation,
            kernels: self.kernels,
        }
    }
}

impl EnergyModel<4> for MnistNet {
    fn num_classes(&self) -> Option<usize> {
        self.num_classes
    }

    /// # Shapes
    ///
    /// - x: `[batch, in_channels, image_size, image_size]`
    /// - labels: `[batch, classes]` (conditional networks only)
    /// - output: `[batch]`
    fn energy(&self, x: Tensor<4>, labels: Option<Tensor<2>>) -> Tensor<1> {
        let batch = x.dims()[0];
        match (self.num_classes, labels) {
            (Some(_), Some(y)) => self.outputs(x).mul(y).sum_dim(1).reshape([batch]),
            (None, None) => self.outputs(x).reshape([batch]),
            (Some(_), None) => panic!("a conditional MnistNet needs labels"),
            (None, Some(_)) => panic!("an unconditional MnistNet takes no labels"),
        }
    }

    /// Every class's energy from one pass of the network.
    fn class_energies(&self, x: Tensor<4>) -> Tensor<2> {
        assert!(
            self.num_classes.is_some(),
            "class_energies needs a conditional model"
        );
        self.outputs(x)
    }
}

impl MnistNet {
    /// The last layer's outputs `[batch, classes]` (`[batch, 1]` unconditional).
    fn outputs(&self, x: Tensor<4>) -> Tensor<2> {
        let batch = x.dims()[0];
        let mut h = self.reduce.apply(x);
        for conv in &self.convs {
            h = self.activation.apply(conv.forward(h), self.kernels);
        }
        let [_, c, hh, ww] = h.dims();
        let h = self.activation.apply(
            self.fc.forward(h.reshape([batch, c * hh * ww])),
            self.kernels,
        );
        self.out.forward(h)
    }
}
