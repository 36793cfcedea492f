//! Sampling from energy functions: Langevin dynamics as IGEBM runs it, MALA and HMC, MPPI as
//! EBM-plan runs it, a replay buffer of persistent chains, and energy composition.
//!
//! The sampler knows nothing of networks: an energy is any function from a batch to one energy
//! per sample (`Fn(Tensor<D>) -> Tensor<1>`), so the same code samples a ResNet, a sum of
//! models, or an analytic Gaussian in a test.
//!
//! ```
//! use burn::tensor::{Device, Distribution, Tensor};
//! use ebm_sampler::{LangevinConfig, NoObserver};
//!
//! let device = Device::flex();
//! // E(x) = |x - 0.5|^2 / 2, sampled from uniform noise with the official MNIST settings.
//! let energy = |x: Tensor<2>| (x - 0.5).powi_scalar(2).sum_dim(1).squeeze_dim(1) * 0.5;
//! let x0 = Tensor::<2>::random([16, 4], Distribution::Default, &device);
//! let x = LangevinConfig::mnist().run(&energy, x0, None, &mut NoObserver);
//! assert_eq!(x.dims(), [16, 4]);
//! ```
//!
//! # No parameter gradients while sampling
//!
//! Give samplers a network that lives on the plain device and keep only `x` on the autodiff
//! device (which [`energy_and_grad`] does): `let plain = model.valid();` then
//! `|x| plain.energy(x, labels.clone())`. The backward pass then skips every parameter
//! gradient (`ebm bench`'s `params on autodiff` row measures the difference).

pub mod buffer;
pub mod compose;
pub mod grad;
pub mod langevin;
pub mod last_step;
pub mod mcmc;
pub mod mppi;
pub mod nearest;
pub mod observer;
pub mod rng;

pub use buffer::{
    BufferError, Draw, FitError, FittedGaussian, GaussianFit, InitDistribution, ReplayBuffer,
    ReplayConfig,
};
pub use grad::energy_and_grad;
pub use langevin::{GradClip, LangevinConfig, LastStep};
pub use last_step::{LastStepProbe, Outer, last_step_probe};
pub use mcmc::{HmcConfig, MalaConfig};
pub use mppi::{MppiConfig, MppiNoise};
pub use nearest::nearest_log_distance;
pub use observer::{NoObserver, Observer, Recorder, StepStats};
pub use rng::SplitMix64;
