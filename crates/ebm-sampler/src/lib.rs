//! Sampling from energy functions: input gradients, Langevin dynamics, replay buffers.
//!
//! The sampler knows nothing of networks: an energy is any function from a batch to one
//! energy per sample, so the same code samples a ResNet, a sum of models, or an analytic
//! Gaussian in a test.

pub mod grad;

pub use grad::energy_and_grad;
