//! Energy networks for energy-based models, after Du & Mordatch, "Implicit Generation and
//! Generalization with Energy-Based Models" (NeurIPS 2019).
//!
//! Every network maps a batch to one energy per sample through [`EnergyModel`]; conditional
//! networks also give all class energies at once. Spectral normalisation ([`spectral`]) keeps
//! each conv's Lipschitz constant at most 1.
//!
//! ```
//! use burn::tensor::{Device, Distribution, Tensor};
//! use ebm_model::{EnergyModel, MlpEnergyConfig};
//!
//! let device = Device::flex();
//! let net = MlpEnergyConfig::new(2).init(&device);
//! let x = Tensor::<2>::random([5, 2], Distribution::Default, &device);
//! assert_eq!(net.energy(x, None).dims(), [5]);
//! ```

pub mod activation;
pub mod conditioning;
pub mod count;
#[cfg(feature = "flex")]
pub mod cpu_features;
pub mod energy;
pub mod fast_ops;
#[cfg(feature = "flex")]
pub mod flex_ext;
#[cfg(feature = "flex")]
pub mod im2col;
pub mod init;
#[cfg(feature = "flex")]
pub mod matmul;
pub mod mlp;
pub mod mnist_net;
pub mod res_block;
pub mod resnet;
pub mod sn_conv;
pub mod sn_linear;
#[cfg(feature = "flex")]
pub mod space_to_depth;
pub mod spectral;
#[cfg(feature = "flex")]
pub mod swish_kernel;
#[cfg(all(test, feature = "flex"))]
mod test_data;
#[cfg(feature = "flex")]
pub mod winograd;
#[cfg(feature = "flex")]
pub mod winograd_simd;

pub use activation::Activation;
pub use conditioning::one_hot;
pub use count::weight_count;
pub use energy::EnergyModel;
pub use fast_ops::{Kernels, conv2d_same, kernels, set_kernels, swish};
pub use init::WeightInit;
pub use mlp::{MlpEnergy, MlpEnergyConfig};
pub use mnist_net::{MnistNet, MnistNetConfig};
pub use res_block::{ResBlock, ResBlockConfig};
pub use resnet::{BlockSpec, ResNetConfig, ResNetEnergy};
pub use sn_conv::{SnConv2d, SnConv2dConfig};
pub use sn_linear::{SnLinear, SnLinearConfig};
pub use spectral::{SpectralMode, SpectralNorm};
