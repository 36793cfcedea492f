//! Drawing samples from a network: chains from noise or from a replay buffer, under a label.

use anyhow::{Context, Result, bail};
use burn::tensor::{Device, Distribution, Tensor};
use ebm_model::{EnergyModel, one_hot};
use ebm_sampler::{LangevinConfig, NoObserver, ReplayBuffer};

use super::model::EnergyNet;

/// Where chains start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Start {
    /// Uniform noise in [0, 1].
    Noise,
    /// The run's replay buffer (persistent chains continue).
    Buffer,
}

/// Runs `sampler` from `start` for `n` chains of shape `shape`, under `label` for conditional
/// models. Returns the samples and their labels. Chains from noise take `label`, or the classes
/// in turn; chains from the buffer each continue a stored sample (of class `label` when given)
/// under that sample's own label.
///
/// # Errors
///
/// `Start::Buffer` with no buffer, or a buffer holding no sample (of that class).
#[allow(clippy::too_many_arguments)]
pub fn generate(
    plain: &EnergyNet,
    sampler: &LangevinConfig,
    n: usize,
    shape: [usize; 3],
    start: Start,
    buffer: Option<&mut ReplayBuffer>,
    label: Option<usize>,
    device: &Device,
) -> Result<(Tensor<4>, Option<Vec<usize>>)> {
    let classes = plain.num_classes();
    let [c, h, w] = shape;
    let (x0, labels) = match (start, buffer) {
        (Start::Buffer, Some(buf)) => {
            let draw = buf
                .draw_stored(n, label)
                .context("continuing chains from the replay buffer")?;
            buf.to_tensor::<4>(draw, device)
        }
        (Start::Buffer, None) => bail!("chains from the buffer need a replay buffer"),
        (Start::Noise, _) => (
            Tensor::random([n, c, h, w], Distribution::Uniform(0.0, 1.0), device),
            classes.map(|k| (0..n).map(|i| label.unwrap_or(i % k)).collect()),
        ),
    };
    let y = labels
        .as_ref()
        .map(|l| one_hot(l, classes.unwrap_or(1), device));
    let x = sampler.run(&|x| plain.energy(x, y.clone()), x0, None, &mut NoObserver);
    Ok((x, labels))
}
