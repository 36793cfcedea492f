//! A trained run loaded back for sampling, evaluation and the experiments: its configuration,
//! the network of its latest checkpoint on the plain device, and its replay buffer.

use std::path::Path;

use anyhow::Result;
use burn::module::Module;
use burn::tensor::Device;
use ebm_sampler::ReplayBuffer;

use super::checkpoint;
use super::config::TrainConfig;
use super::model::EnergyNet;
use super::paths::read_config;
use crate::data::sample_shape;

/// A run's latest checkpoint, ready to sample from.
pub struct TrainedRun {
    /// The resolved configuration (`config.json`).
    pub config: TrainConfig,
    /// The network on the plain device (no parameter gradients): the averaged weights when
    /// the run keeps an EMA (what its chains were sampled under), else the trained ones.
    pub model: EnergyNet,
    /// The replay buffer of its persistent chains.
    pub buffer: ReplayBuffer,
    /// Iterations trained.
    pub iteration: usize,
}

impl TrainedRun {
    /// Loads the latest checkpoint of `run` onto `device`.
    pub fn load(run: &Path, device: &Device) -> Result<Self> {
        let config = read_config(run)?;
        let ckpt = checkpoint::latest(run)?;
        let restored = checkpoint::load(
            &ckpt,
            config.model.init(device),
            config.optimizer.init(),
            config.replay.clone(),
            &sample_shape(&config)?,
        )?;
        Ok(Self {
            model: restored.ema.unwrap_or_else(|| restored.model.valid()),
            buffer: restored.buffer,
            iteration: restored.state.iteration,
            config,
        })
    }

    /// Classes of a conditional model.
    pub fn num_classes(&self) -> Option<usize> {
        self.config.model.num_classes()
    }

    /// Whether the run's data are toy 2-D points.
    pub fn is_toy(&self) -> bool {
        self.config.dataset.starts_with("toy2d:")
    }
}
