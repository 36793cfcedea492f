//! The two operations the layers call, on the fastest path the device offers: SAME
//! convolutions and swish.
//!
//! With [`Kernels::Fast`] on Burn's CPU backend (`burn-flex`, cargo feature `flex`) they run
//! this crate's kernels, registered as a Burn backend extension with their own backward passes
//! ([`crate::extension`]), so they work on the plain device and under autodiff alike. Every
//! other device, and [`Kernels::Burn`], uses Burn's own operations.

use burn::config::Config;
use burn::tensor::Tensor;
use burn::tensor::activation::sigmoid;
use burn::tensor::module::conv2d;

use crate::geometry::same_conv_options;

/// Which implementation of the operations a layer uses. The caller chooses, per layer (a
/// network config passes its choice down to every layer); nothing here is process-wide.
#[derive(Config, Debug, Copy, PartialEq, Eq)]
pub enum Kernels {
    /// The fastest available: this crate's CPU kernels on `burn-flex`, Burn's elsewhere.
    Fast,
    /// Burn's own operations on every device (the bench's comparison row).
    Burn,
}

/// True when this crate's CPU kernels serve a tensor on this device.
#[cfg(feature = "flex")]
fn fast<const D: usize>(x: &Tensor<D>, kernels: Kernels) -> bool {
    kernels == Kernels::Fast && crate::extension::is_flex(&x.device())
}

/// Convolution of `x` `[B, C_in, H, W]` with a square kernel `weight` `[C_out, C_in, k, k]`,
/// `stride` on both axes and TensorFlow SAME padding (output `ceil(H / stride)`; an odd total
/// padding puts the extra row and column after), no bias.
pub fn conv2d_same(x: Tensor<4>, weight: Tensor<4>, stride: usize, kernels: Kernels) -> Tensor<4> {
    #[cfg(feature = "flex")]
    if fast(&x, kernels) {
        return crate::extension::conv_same(x, weight, stride);
    }
    let _ = kernels;
    let [_, _, h, w] = x.dims();
    let options = same_conv_options(h, w, weight.dims()[2], stride);
    conv2d(x, weight, None, options)
}

/// Swish `x * sigmoid(x)`.
pub fn swish<const D: usize>(x: Tensor<D>, kernels: Kernels) -> Tensor<D> {
    #[cfg(feature = "flex")]
    if fast(&x, kernels) {
        return crate::extension::swish(x);
    }
    let _ = kernels;
    x.clone() * sigmoid(x)
}
