//! The unit every Inception block is made of (torchvision's `BasicConv2d`: a bias-free
//! convolution, batch norm with TensorFlow's epsilon, ReLU), the pools the blocks use, and the
//! channel widths scaled by [`Widths`].

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, PaddingConfig2d};
use burn::tensor::activation::relu;
use burn::tensor::module::{avg_pool2d, max_pool2d};
use burn::tensor::ops::{AvgPoolOptions, MaxPoolOptions};
use burn::tensor::{Device, Tensor};

/// Batch-norm epsilon of the TensorFlow graph the weights come from (torchvision's
/// `BasicConv2d` uses the same 0.001, not PyTorch's default 1e-5).
pub const BN_EPSILON: f64 = 1e-3;

/// Convolution, batch norm, ReLU. Field names are the PyTorch ones (`conv`, `bn`), so a
/// `state_dict` key `<block>.conv.weight` lands on `<block>.conv.weight` here.
#[derive(Module, Debug)]
pub struct BasicConv2d {
    /// Bias-free convolution `[C_out, C_in, kh, kw]`.
    pub conv: Conv2d,
    /// Batch norm in inference mode (running statistics) on the plain device.
    pub bn: BatchNorm,
}

impl BasicConv2d {
    /// A layer from `c_in` to `c_out` channels with a `kernel` (`[kh, kw]`), `stride` in both
    /// dimensions and zero `padding` (`[ph, pw]`, each applied on both sides).
    pub fn new(
        c_in: usize,
        c_out: usize,
        kernel: [usize; 2],
        stride: usize,
        padding: [usize; 2],
        device: &Device,
    ) -> Self {
        let [ph, pw] = padding;
        let conv = Conv2dConfig::new([c_in, c_out], kernel)
            .with_stride([stride, stride])
            .with_padding(PaddingConfig2d::Explicit(ph, pw, ph, pw))
            .with_bias(false)
            .init(device);
        let bn = BatchNormConfig::new(c_out)
            .with_epsilon(BN_EPSILON)
            .init(device);
        Self { conv, bn }
    }

    /// A 1x1 layer.
    pub fn pointwise(c_in: usize, c_out: usize, device: &Device) -> Self {
        Self::new(c_in, c_out, [1, 1], 1, [0, 0], device)
    }

    /// Output channels.
    pub fn out_channels(&self) -> usize {
        self.conv.weight.dims()[0]
    }

    /// `relu(bn(conv(x)))`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        relu(self.bn.forward(self.conv.forward(x)))
    }
}

/// 3x3 average over the neighbours that exist (stride 1, padding 1, padded zeros not counted):
/// TensorFlow's average pool, which the FID network's A, C and first E blocks use where
/// torchvision's Inception counts the padding.
pub fn avg_pool_3x3_same(x: Tensor<4>) -> Tensor<4> {
    avg_pool2d(
        x,
        AvgPoolOptions::new([3, 3])
            .with_stride([1, 1])
            .with_padding([1, 1])
            .with_count_include_pad(false),
    )
}

/// 3x3 maximum, stride 1, padding 1: the pool branch of the FID network's last block.
pub fn max_pool_3x3_same(x: Tensor<4>) -> Tensor<4> {
    max_pool2d(
        x,
        MaxPoolOptions::new([3, 3])
            .with_stride([1, 1])
            .with_padding([1, 1]),
    )
}

/// 3x3 maximum, stride 2, no padding: the reductions of the stem and of the B and D blocks.
pub fn max_pool_3x3_stride2(x: Tensor<4>) -> Tensor<4> {
    max_pool2d(x, MaxPoolOptions::new([3, 3]).with_stride([2, 2]))
}

/// Channel widths of the network divided by one factor: 1 is InceptionV3 itself, larger
/// divisors give the same architecture thin enough for tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Widths {
    divisor: usize,
}

impl Widths {
    /// Widths divided by `divisor`.
    ///
    /// # Panics
    ///
    /// If `divisor` is 0.
    pub fn new(divisor: usize) -> Self {
        assert!(divisor > 0, "the width divisor must be at least 1");
        Self { divisor }
    }

    /// The width of a layer InceptionV3 makes `channels` wide (at least 1).
    pub fn of(self, channels: usize) -> usize {
        (channels / self.divisor).max(1)
    }
}
