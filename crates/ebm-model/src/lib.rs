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
pub mod channel_reduce;
pub mod conditioning;
pub mod count;
pub mod dense;
pub mod energy;
pub mod init;
pub mod mlp;
pub mod mnist_net;
pub mod regressor;
pub mod res_block;
pub mod resnet;
pub mod same_conv;
pub mod spectral;

pub use activation::Activation;
pub use channel_reduce::ChannelReduce;
pub use conditioning::one_hot;
pub use count::weight_count;
pub use dense::{Dense, DenseConfig};
pub use ebm_kernels::{Kernels, conv2d_same};
pub use energy::{EnergyModel, tiled_class_energies};
pub use init::WeightInit;
pub use mlp::{MlpEnergy, MlpEnergyConfig};
pub use mnist_net::{MnistNet, MnistNetConfig};
pub use regressor::{MlpRegressor, MlpRegressorConfig};
pub use res_block::{ResBlock, ResBlockConfig};
pub use resnet::{BlockSpec, ResNetConfig, ResNetEnergy};
pub use same_conv::{SameConv2d, SameConv2dConfig};
pub use spectral::{SpectralMode, SpectralNorm};
