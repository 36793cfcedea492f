//! InceptionV3 as pytorch-fid builds it for FID (`fid_inception_v3` in mseitzer/pytorch-fid
//! `src/pytorch_fid/inception.py`): torchvision's layout without the auxiliary classifier,
//! the FID blocks of [`super::blocks`], a 1008-way classifier, and pytorch-fid's input
//! handling (bilinear resize to 299x299 without corner alignment, [0, 1] scaled to [-1, 1]).

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::module::interpolate;
use burn::tensor::ops::{InterpolateMode, InterpolateOptions};
use burn::tensor::{Device, Tensor};

use super::blocks::{InceptionA, InceptionB, InceptionC, InceptionD, InceptionE, PoolKind};
use super::conv::{BasicConv2d, Widths, max_pool_3x3_stride2};

/// Side of the images the network sees: every input is resized to it.
pub const INPUT_SIZE: usize = 299;

/// Configuration of an [`InceptionV3`].
#[derive(Config, Debug)]
pub struct InceptionV3Config {
    /// Every channel width of InceptionV3 divided by this (at least 1 channel each): 1 is the
    /// FID network the published weights fit; larger values give the same architecture,
    /// names and layouts at a fraction of the cost, for tests.
    #[config(default = 1)]
    pub width_divisor: usize,
    /// Classes of the final linear layer (1008 in the TensorFlow graph: 1000 ImageNet classes
    /// and 8 unused).
    #[config(default = 1008)]
    pub classes: usize,
    /// Side the input is resized to before the network (299, what the weights were trained
    /// on; tests use less).
    #[config(default = 299)]
    pub input_size: usize,
}

/// What the network gives for a batch.
#[derive(Debug, Clone)]
pub struct InceptionOutput {
    /// The global average pool after Mixed_7c (`pool3`, 2048-d at full width): FID's features.
    /// `[n, features]`.
    pub pool3: Tensor<2>,
    /// The classifier's logits `pool3 W^T + b`, `[n, classes]`.
    pub logits: Tensor<2>,
}

/// The FID InceptionV3. Field names are the `state_dict`'s in snake case (`Conv2d_1a_3x3` is
/// `conv2d_1a_3x3`, `Mixed_5b` is `mixed_5b`); see [`super::weights`].
#[derive(Module, Debug)]
pub struct InceptionV3 {
    pub conv2d_1a_3x3: BasicConv2d,
    pub conv2d_2a_3x3: BasicConv2d,
    pub conv2d_2b_3x3: BasicConv2d,
    pub conv2d_3b_1x1: BasicConv2d,
    pub conv2d_4a_3x3: BasicConv2d,
    pub mixed_5b: InceptionA,
    pub mixed_5c: InceptionA,
    pub mixed_5d: InceptionA,
    pub mixed_6a: InceptionB,
    pub mixed_6b: InceptionC,
    pub mixed_6c: InceptionC,
    pub mixed_6d: InceptionC,
    pub mixed_6e: InceptionC,
    pub mixed_7a: InceptionD,
    pub mixed_7b: InceptionE,
    pub mixed_7c: InceptionE,
    pub fc: Linear,
    /// Side the input is resized to.
    pub input_size: usize,
}

impl InceptionV3Config {
    /// Builds the network on `device` (weights untrained: load them with
    /// [`super::weights::load_inception`]).
    pub fn init(&self, device: &Device) -> InceptionV3 {
        let w = Widths::new(self.width_divisor);
        let conv2d_1a_3x3 = BasicConv2d::new(3, w.of(32), [3, 3], 2, [0, 0], device);
        let conv2d_2a_3x3 = BasicConv2d::new(w.of(32), w.of(32), [3, 3], 1, [0, 0], device);
        let conv2d_2b_3x3 = BasicConv2d::new(w.of(32), w.of(64), [3, 3], 1, [1, 1], device);
        let conv2d_3b_1x1 = BasicConv2d::pointwise(w.of(64), w.of(80), device);
        let conv2d_4a_3x3 = BasicConv2d::new(w.of(80), w.of(192), [3, 3], 1, [0, 0], device);
        let mixed_5b = InceptionA::new(w.of(192), 32, w, device);
        let mixed_5c = InceptionA::new(mixed_5b.out_channels(), 64, w, device);
        let mixed_5d = InceptionA::new(mixed_5c.out_channels(), 64, w, device);
        let mixed_6a = InceptionB::new(mixed_5d.out_channels(), w, device);
        let mixed_6b = InceptionC::new(mixed_6a.out_channels(), 128, w, device);
        let mixed_6c = InceptionC::new(mixed_6b.out_channels(), 160, w, device);
        let mixed_6d = InceptionC::new(mixed_6c.out_channels(), 160, w, device);
        let mixed_6e = InceptionC::new(mixed_6d.out_channels(), 192, w, device);
        let mixed_7a = InceptionD::new(mixed_6e.out_channels(), w, device);
        let mixed_7b = InceptionE::new(mixed_7a.out_channels(), PoolKind::Average, w, device);
        let mixed_7c = InceptionE::new(mixed_7b.out_channels(), PoolKind::Max, w, device);
        let fc = LinearConfig::new(mixed_7c.out_channels(), self.classes).init(device);
        InceptionV3 {
            conv2d_1a_3x3,
            conv2d_2a_3x3,
            conv2d_2b_3x3,
            conv2d_3b_1x1,
            conv2d_4a_3x3,
            mixed_5b,
            mixed_5c,
            mixed_5d,
            mixed_6a,
            mixed_6b,
            mixed_6c,
            mixed_6d,
            mixed_6e,
            mixed_7a,
            mixed_7b,
            mixed_7c,
            fc,
            input_size: self.input_size,
        }
    }
}

impl InceptionV3 {
    /// Width of the `pool3` features (2048 at full width).
    pub fn features(&self) -> usize {
        self.mixed_7c.out_channels()
    }

    /// Classes of the logits.
    pub fn classes(&self) -> usize {
        self.fc.weight.dims()[1]
    }

    /// Images `[n, 3, h, w]` with values in [0, 1] (any size) to `pool3` features and logits,
    /// as pytorch-fid's `InceptionV3` with its defaults sees them: resized bilinearly to
    /// `input_size` (half-pixel centres, `align_corners=False`), then mapped to [-1, 1].
    ///
    /// # Panics
    ///
    /// If `images` does not have 3 channels.
    pub fn forward(&self, images: Tensor<4>) -> InceptionOutput {
        let [n, c, _, _] = images.dims();
        assert_eq!(
            c,
            3,
            "InceptionV3 takes RGB images, got {:?}",
            images.dims()
        );
        let size = self.input_size;
        let x = interpolate(
            images,
            InterpolateOptions::new(InterpolateMode::Bilinear)
                .with_align_corners(false)
                .with_output_size([size, size]),
        );
        let x = x * 2.0 - 1.0;
        // 299 -> 149 -> 147 -> 147 -> 73
        let x = self.conv2d_1a_3x3.forward(x);
        let x = self.conv2d_2a_3x3.forward(x);
        let x = self.conv2d_2b_3x3.forward(x);
        let x = max_pool_3x3_stride2(x);
        // 73 -> 73 -> 71 -> 35
        let x = self.conv2d_3b_1x1.forward(x);
        let x = self.conv2d_4a_3x3.forward(x);
        let x = max_pool_3x3_stride2(x);
        // 35 -> 17
        let x = self.mixed_5b.forward(x);
        let x = self.mixed_5c.forward(x);
        let x = self.mixed_5d.forward(x);
        let x = self.mixed_6a.forward(x);
        let x = self.mixed_6b.forward(x);
        let x = self.mixed_6c.forward(x);
        let x = self.mixed_6d.forward(x);
        let x = self.mixed_6e.forward(x);
        // 17 -> 8
        let x = self.mixed_7a.forward(x);
        let x = self.mixed_7b.forward(x);
        let x = self.mixed_7c.forward(x);
        let features = x.dims()[1];
        let pool3: Tensor<2> = x.mean_dim(3).mean_dim(2).reshape([n, features]);
        let logits = self.fc.forward(pool3.clone());
        InceptionOutput { pool3, logits }
    }
}
