//! CPU kernels for the energy networks of `ebm-model`, and the convolution geometry they share.
//!
//! Two operations, [`conv2d_same`] (TensorFlow SAME padding) and [`swish`], each on a
//! [`Kernels`] choice the caller passes. With the `flex` feature, on Burn's CPU backend
//! (`burn-flex`) they run this crate's own kernels, registered as a Burn backend extension with
//! hand-written backward passes ([`extension`]): Winograd F(4x4, 3x3) and F(2x2, 2x2)
//! ([`winograd`]), a space-to-depth rewrite of strided convolutions ([`space_to_depth`]),
//! im2col + GEMM ([`im2col`], [`matmul`]) and a one-pass swish ([`swish`](mod@swish)), compiled
//! again for AVX-512 and for AVX2 + FMA and chosen at run time ([`cpu_features`]); the GEMMs
//! use the `gemm` crate's AVX-512 kernels where the CPU has them (its `x86-v4` feature). Every other device
//! uses Burn's operations. All `unsafe` code of the workspace lives in this crate.
//!
//! ```
//! use burn::tensor::{Device, Distribution, Tensor};
//! use ebm_kernels::{Kernels, conv2d_same};
//!
//! let device = Device::flex();
//! let x = Tensor::<4>::random([2, 3, 8, 8], Distribution::Default, &device);
//! let w = Tensor::<4>::random([5, 3, 3, 3], Distribution::Default, &device);
//! assert_eq!(conv2d_same(x, w, 2, Kernels::Fast).dims(), [2, 5, 4, 4]);
//! ```

#[cfg(feature = "flex")]
pub mod cpu_features;
#[cfg(feature = "flex")]
pub mod extension;
pub mod geometry;
#[cfg(feature = "flex")]
pub mod im2col;
#[cfg(feature = "flex")]
pub mod matmul;
pub mod ops;
#[cfg(feature = "flex")]
pub mod space_to_depth;
#[cfg(feature = "flex")]
pub mod swish;
#[cfg(all(test, feature = "flex"))]
mod test_data;
#[cfg(feature = "flex")]
pub mod winograd;

pub use geometry::{ConvGeometry, same_conv_options, same_padding};
pub use ops::{Kernels, conv2d_same, swish};
