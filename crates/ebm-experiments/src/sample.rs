//! Drawing fresh samples from a trained run.

use burn::tensor::{Device, Distribution, Tensor};
use ebm_model::{EnergyModel, one_hot};
use ebm_sampler::{LangevinConfig, NoObserver, ReplayBuffer};

use crate::model::EnergyNet;

/// Where chains start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Start {
    /// Uniform noise in [0, 1].
    Noise,
    /// The run's replay buffer (persistent chains continue).
    Buffer,
}

/// Runs `sampler` from `start` for `n` chains of shape `shape`, under `label` for conditional
/// models (class 0..n spread over classes when `None`). Returns the samples and their labels.
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
) -> (Tensor<4>, Option<Vec<usize>>) {
    let classes = plain.num_classes();
    let labels: Option<Vec<usize>> =
        classes.map(|k| (0..n).map(|i| label.unwrap_or(i % k)).collect());
    let [c, h, w] = shape;
    let (x0, labels) = match (start, buffer) {
        (Start::Buffer, Some(buf)) => buf.draw_tensor::<4>(n, labels.as_deref(), device),
        _ => (
            Tensor::random([n, c, h, w], Distribution::Uniform(0.0, 1.0), device),
            labels,
        ),
    };
    let y = labels
        .as_ref()
        .map(|l| one_hot(l, classes.unwrap_or(1), device));
    let x = sampler.run(&|x| plain.energy(x, y.clone()), x0, None, &mut NoObserver);
    (x, labels)
}

/// `ebm sample`: loads a run's latest checkpoint and writes a PNG of `n` fresh samples.
#[allow(clippy::too_many_arguments)]
pub fn sample_run(
    run: &std::path::Path,
    n: usize,
    steps: Option<usize>,
    label: Option<usize>,
    from_buffer: bool,
    out: Option<std::path::PathBuf>,
    seed: u64,
    device: &Device,
) -> anyhow::Result<std::path::PathBuf> {
    use anyhow::Context;
    use burn::module::Module;
    anyhow::ensure!(n > 0, "--n must be positive");
    let config = crate::train::read_config(run)?;
    let ckpt = crate::checkpoint::latest(run)?;
    let restored = crate::checkpoint::load(
        &ckpt,
        config.model.init(device),
        config.optimizer.init(),
        config.replay.clone(),
    )?;
    if let (Some(l), Some(k)) = (label, config.model.num_classes())
        && l >= k
    {
        anyhow::bail!("--label {l} out of range: the model has {k} classes");
    }
    let mut sampler = config.sampler.clone();
    if let Some(s) = steps {
        sampler.steps = s;
    }
    let mut buffer = restored.buffer;
    let shape: [usize; 3] = buffer.sample_shape().try_into().context("sample shape")?;
    device.seed(seed);
    let start = if from_buffer {
        Start::Buffer
    } else {
        Start::Noise
    };
    let plain = restored.model.valid();
    let (x, _) = generate(
        &plain,
        &sampler,
        n,
        shape,
        start,
        Some(&mut buffer),
        label,
        device,
    );
    let path = out.unwrap_or_else(|| run.join("samples").join("sample.png"));
    crate::train::write_png(&path, x, &plain, config.dataset.starts_with("toy2d:"), 2)?;
    Ok(path)
}
