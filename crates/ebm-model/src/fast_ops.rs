//! Operations that take the fastest path the device offers: SAME convolutions and swish.
//!
//! On Burn's CPU backend (`burn-flex`, cargo feature `flex`) they run as kernels of this crate
//! ([`crate::winograd`], [`crate::im2col`], [`crate::swish_kernel`]) registered as a Burn
//! backend extension with their own backward passes ([`crate::flex_ext`]), so they work on the
//! plain device and under autodiff alike. Every other device uses Burn's own operations.
//!
//! [`set_kernels`] forces Burn's operations everywhere (for benchmarks and comparisons).

use std::sync::atomic::{AtomicBool, Ordering};

use burn::tensor::Tensor;
use burn::tensor::activation::sigmoid;
use burn::tensor::module::conv2d;

use crate::sn_conv::same_conv_options;

/// Which kernels the layers use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kernels {
    /// The fastest available: this crate's CPU kernels on `burn-flex`, Burn's elsewhere.
    Fast,
    /// Burn's own operations on every device.
    Burn,
}

static FORCE_BURN: AtomicBool = AtomicBool::new(false);

/// Chooses the kernels for all layers of this process.
pub fn set_kernels(choice: Kernels) {
    FORCE_BURN.store(choice == Kernels::Burn, Ordering::Relaxed);
}

/// The kernels chosen by [`set_kernels`] (default [`Kernels::Fast`]).
pub fn kernels() -> Kernels {
    if FORCE_BURN.load(Ordering::Relaxed) {
        Kernels::Burn
    } else {
        Kernels::Fast
    }
}

/// True when the fast CPU kernels apply to a tensor on this device.
#[cfg(feature = "flex")]
fn fast<const D: usize>(x: &Tensor<D>) -> bool {
    kernels() == Kernels::Fast && crate::flex_ext::is_flex(&x.device())
}

/// Convolution of `x` `[B, C_in, H, W]` with a square kernel `weight` `[C_out, C_in, k, k]`,
/// `stride` on both axes and TensorFlow SAME padding (output `ceil(H / stride)`; an odd total
/// padding puts the extra row and column after), no bias.
pub fn conv2d_same(x: Tensor<4>, weight: Tensor<4>, stride: usize) -> Tensor<4> {
    #[cfg(feature = "flex")]
    if fast(&x) {
        return crate::flex_ext::conv_same(x, weight, stride);
    }
    let [_, _, h, w] = x.dims();
    let options = same_conv_options(h, w, weight.dims()[2], stride);
    conv2d(x, weight, None, options)
}

/// Swish `x * sigmoid(x)`.
pub fn swish<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    #[cfg(feature = "flex")]
    if fast(&x) {
        return crate::flex_ext::swish(x);
    }
    x.clone() * sigmoid(x)
}
