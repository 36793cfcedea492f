//! The IGEBM image energy ResNets (`ResNet32`, `ResNet32Large`, `ResNet32Wider`).

use burn::config::Config;
use burn::module::Module;
use burn::tensor::{Device, Tensor};

use crate::activation::Activation;
use crate::channel_reduce::ChannelReduce;
use crate::dense::{Dense, DenseConfig};
use crate::energy::{EnergyModel, tiled_class_energies};
use crate::init::WeightInit;
use crate::res_block::{ResBlock, ResBlockConfig};
use crate::same_conv::{SameConv2d, SameConv2dConfig};
use ebm_kernels::Kernels;

/// One residual block of a [`ResNetConfig`]: its output channels and whether it halves H, W.
#[derive(Config, Debug, PartialEq)]
pub struct BlockSpec {
    /// Output channels.
    pub channels: usize,
    /// 2x2 average pooling at the end of the block.
    pub downsample: bool,
}

/// Configuration of a [`ResNetEnergy`]: stem conv, residual blocks, sum pooling, linear head.
#[derive(Config, Debug)]
pub struct ResNetConfig {
    /// Image channels (3 for CIFAR-10).
    #[config(default = 3)]
    pub in_channels: usize,
    /// Output channels of the 3x3 stem conv (the official `num_filters`, 128).
    #[config(default = 128)]
    pub stem_channels: usize,
    /// The residual stack, in order.
    pub blocks: Vec<BlockSpec>,
    /// Classes of a conditional model, `None` for unconditional.
    #[config(default = "None")]
    pub num_classes: Option<usize>,
    /// Conditional models only: the label picks one output of a `C -> classes` head, `E(x, y)
    /// = head(features(x))[y]` with a trunk that never sees the label (the JEM form, Grathwohl
    /// et al. 2020), instead of the official per-class biases and gains inside every block and
    /// one output. Every class's energy then comes from one trunk pass. `None` (the default,
    /// and what runs saved before the field existed read as) means `false`.
    #[config(default = "None")]
    pub class_head: Option<bool>,
    /// The stem sees each pixel's largest channel instead of the channels (one channel, the
    /// same for every hue; as [`crate::MnistNetConfig::max_channel_input`]). `None` (the
    /// default, and what runs saved before the field existed read as) means `false`.
    #[config(default = "None")]
    pub max_channel_input: Option<bool>,
    /// Nonlinearity of the stem and the blocks. Swish by default; the official CIFAR-10 code
    /// uses leaky ReLU (0.2) and swish for ImageNet-128.
    #[config(default = "Activation::Swish")]
    pub activation: Activation,
    /// Nonlinearity before the sum pooling (the official head: ReLU unconditional, leaky ReLU
    /// conditional, swish with `--swish_act`). Defaults to `activation`.
    #[config(default = "None")]
    pub head_activation: Option<Activation>,
    /// Spectral norm on every conv (the final linear layer is never normalised).
    #[config(default = true)]
    pub spectral_norm: bool,
    /// Power iterations per forward.
    #[config(default = 1)]
    pub power_iterations: usize,
    /// Raw weight initialisation of the convs (see [`WeightInit`] for why Kaiming is default).
    #[config(default = "WeightInit::KaimingUniform")]
    pub init: WeightInit,
    /// Which implementation of the convolutions and swish runs (`Fast`: this project's CPU
    /// kernels on `burn-flex`, Burn's elsewhere; `Burn`: Burn's everywhere).
    #[config(default = "Kernels::Fast")]
    pub kernels: Kernels,
}

impl ResNetConfig {
    fn with_blocks(specs: &[(usize, bool)]) -> Self {
        ResNetConfig::new(
            specs
                .iter()
                .map(|&(channels, downsample)| BlockSpec::new(channels, downsample))
                .collect(),
        )
    }

    /// `ResNet32`, the official CIFAR-10 conditional model (README `cifar10_cond`; `models.py`
    /// `ResNet32` with `num_filters=128`): 6 blocks, 32 -> 16 -> 8 -> 4, 5.31 M weights.
    pub fn resnet32(num_classes: Option<usize>) -> Self {
        Self::with_blocks(&[
            (128, true),
            (128, false),
            (256, true),
            (256, false),
            (256, true),
            (256, false),
        ])
        .with_num_classes(num_classes)
    }

    /// `ResNet32Large`, the official CIFAR-10 unconditional model (README `cifar10_uncond`,
    /// `--large_model`): 9 blocks up to 512 channels, 18.58 M weights. The official model also
    /// applies dropout 0.5 inside every block during training; that quirk is not reproduced.
    pub fn resnet32_large(num_classes: Option<usize>) -> Self {
        Self::with_blocks(&[
            (128, true),
            (128, false),
            (128, false),
            (256, true),
            (256, false),
            (256, false),
            (512, true),
            (512, false),
            (512, false),
        ])
        .with_num_classes(num_classes)
    }

    /// `ResNet32Wider` with base width `h` (`--wider_model`; `train.py` builds CIFAR-10 with
    /// `h = 192`, the ImageNet-32 model and the eval scripts use 256).
    pub fn resnet32_wider(h: usize, num_classes: Option<usize>) -> Self {
        Self::with_blocks(&[
            (h, true),
            (h, false),
            (h, false),
            (2 * h, true),
            (2 * h, false),
            (2 * h, false),
            (4 * h, true),
            (4 * h, false),
            (4 * h, false),
        ])
        .with_num_classes(num_classes)
    }

    /// A CPU-sized member of the family for 28x28 grey images, for the class-conditional
    /// MNIST and Fashion-MNIST presets. The official code has no working conditional MNIST
    /// network (its `MnistNet` conditional path concatenates label planes the stem cannot
    /// take); this one keeps `ResNet32`'s blocks (pre-conv class biases, post-conv class gain,
    /// near-zero second conv, 3x3 shortcut, 2x2 average pooling, sum pooling, linear head) and
    /// changes the sizes: a 3x3 stem 1 -> 32 and three downsampling blocks of 32, 64 and 128
    /// channels (28 -> 14 -> 7 -> 3), 0.39 M weights.
    pub fn resnet_mnist(num_classes: Option<usize>) -> Self {
        Self::with_blocks(&[(32, true), (64, true), (128, true)])
            .with_in_channels(1)
            .with_stem_channels(32)
            .with_num_classes(num_classes)
    }

    /// Builds the network on `device`.
    ///
    /// # Panics
    ///
    /// If `blocks` is empty or `power_iterations` is 0.
    pub fn init(&self, device: &Device) -> ResNetEnergy {
        assert!(
            !self.blocks.is_empty(),
            "a ResNet energy needs at least one block"
        );
        let reduce = ChannelReduce::from_flags(None, self.max_channel_input);
        let stem = SameConv2dConfig::new([reduce.channels(self.in_channels), self.stem_channels])
            .with_spectral_norm(self.spectral_norm)
            .with_power_iterations(self.power_iterations)
            .with_init(self.init)
            .with_kernels(self.kernels)
            .init(device);
        let class_head = self.class_head == Some(true) && self.num_classes.is_some();
        let block_classes = if class_head { None } else { self.num_classes };
        let mut c_in = self.stem_channels;
        let blocks = self
            .blocks
            .iter()
            .map(|spec| {
                let block = ResBlockConfig::new([c_in, spec.channels])
                    .with_num_classes(block_classes)
                    .with_downsample(spec.downsample)
                    .with_activation(self.activation)
                    .with_spectral_norm(self.spectral_norm)
                    .with_power_iterations(self.power_iterations)
                    .with_init(self.init)
                    .with_kernels(self.kernels)
                    .init(device);
                c_in = spec.channels;
                block
            })
            .collect();
        let outputs = self.num_classes.filter(|_| class_head).unwrap_or(1);
        let head = DenseConfig::new(c_in, outputs)
            .with_spectral_norm(false)
            .with_init(WeightInit::XavierUniform)
            .init(device);
        ResNetEnergy {
            stem,
            blocks,
            head,
            num_classes: self.num_classes,
            class_head,
            reduce,
            activation: self.activation,
            head_activation: self.head_activation.unwrap_or(self.activation),
            kernels: self.kernels,
        }
    }
}

/// An image energy: `fc(sum_{h,w} act(blocks(act(stem(x)))))`.
#[derive(Module, Debug)]
pub struct ResNetEnergy {
    /// 3x3 stem conv.
    pub stem: SameConv2d,
    /// Residual stack.
    pub blocks: Vec<ResBlock>,
    /// Final linear layer `C -> 1` (`C -> classes` with a class head), not spectrally
    /// normalised.
    pub head: Dense,
    /// Classes of a conditional model, `None` for unconditional.
    #[module(skip)]
    pub num_classes: Option<usize>,
    /// Whether the label selects an output of the head instead of conditioning the blocks.
    #[module(skip)]
    pub class_head: bool,
    /// How the input channels are reduced before the stem.
    #[module(skip)]
    pub reduce: ChannelReduce,
    /// Stem nonlinearity.
    #[module(skip)]
    pub activation: Activation,
    /// Nonlinearity before pooling.
    #[module(skip)]
    pub head_activation: Activation,
    /// Implementation of the convolutions and swish.
    #[module(skip)]
    pub kernels: Kernels,
}

impl EnergyModel<4> for ResNetEnergy {
    fn num_classes(&self) -> Option<usize> {
        self.num_classes
    }

    /// # Shapes
    ///
    /// - x: `[batch, in_channels, H, W]`, images in [0, 1]
    /// - labels: `[batch, classes]` (conditional models only)
    /// - output: `[batch]`
    fn energy(&self, x: Tensor<4>, labels: Option<Tensor<2>>) -> Tensor<1> {
        if self.class_head {
            let labels = labels.expect("a conditional model needs labels");
            return self
                .head_outputs(x, None)
                .mul(labels)
                .sum_dim(1)
                .squeeze_dim(1);
        }
        let batch = x.dims()[0];
        self.head_outputs(x, labels.as_ref()).reshape([batch])
    }

    /// With a class head, every class's energy from one trunk pass.
    fn class_energies(&self, x: Tensor<4>) -> Tensor<2> {
        if self.class_head {
            return self.head_outputs(x, None);
        }
        tiled_class_energies(self, x)
    }
}

impl ResNetEnergy {
    /// The head's outputs `[batch, outputs]`; `labels` condition the blocks (official form).
    fn head_outputs(&self, x: Tensor<4>, labels: Option<&Tensor<2>>) -> Tensor<2> {
        let batch = x.dims()[0];
        let x = self.reduce.apply(x);
        let mut h = self.activation.apply(self.stem.forward(x), self.kernels);
        for block in &self.blocks {
            h = block.forward(h, labels);
        }
        // Sum (not mean) over H, W, as the official head does.
        let h = self
            .head_activation
            .apply(h, self.kernels)
            .sum_dim(3)
            .sum_dim(2); // [batch, C, 1, 1]
        let [_, c, _, _] = h.dims();
        self.head.forward(h.reshape([batch, c]))
    }
}
