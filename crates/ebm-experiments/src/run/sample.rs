//! `ebm sample`: a PNG of fresh samples from a run's latest checkpoint.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail, ensure};
use burn::tensor::Device;

use super::generate::{Start, generate};
use super::restore::TrainedRun;
use crate::data::sample_shape;
use crate::plot::samples::write_png;

/// What `ebm sample` draws.
#[derive(Clone, Debug)]
pub struct SampleOptions {
    /// Number of samples.
    pub n: usize,
    /// Langevin steps (default: the run's training steps).
    pub steps: Option<usize>,
    /// Class of a conditional model (default: classes in turn, or the stored samples' own).
    pub label: Option<usize>,
    /// Continue chains from the replay buffer instead of starting from noise.
    pub from_buffer: bool,
    /// Output PNG (default: `RUN/samples/sample.png`).
    pub out: Option<PathBuf>,
    /// Seed of the chains.
    pub seed: u64,
}

/// Loads `run`'s latest checkpoint and writes a PNG of samples; returns its path.
///
/// # Errors
///
/// `--label` on an unconditional model or out of range, `--from-buffer` with an empty buffer
/// (or none of that class), and every I/O error.
pub fn sample_run(run: &Path, opts: &SampleOptions, device: &Device) -> Result<PathBuf> {
    ensure!(opts.n > 0, "--n must be positive");
    let mut trained = TrainedRun::load(run, device)?;
    match (opts.label, trained.num_classes()) {
        (Some(l), None) => bail!(
            "--label {l}: the model of {} is unconditional (it takes no labels)",
            run.display()
        ),
        (Some(l), Some(k)) if l >= k => {
            bail!(
                "--label {l} out of range: the model has {k} classes (0..{})",
                k - 1
            )
        }
        _ => {}
    }
    if opts.from_buffer && trained.buffer.is_empty() {
        bail!(
            "--from-buffer: the replay buffer of {} is empty (no iteration trained yet); leave the flag out to start from noise",
            run.display()
        );
    }
    let mut sampler = trained.config.sampler.clone();
    if let Some(s) = opts.steps {
        sampler.steps = s;
    }
    let shape = sample_shape(&trained.config)?;
    device.seed(opts.seed);
    let start = if opts.from_buffer {
        Start::Buffer
    } else {
        Start::Noise
    };
    let (x, _) = generate(
        &trained.model,
        &sampler,
        opts.n,
        shape,
        start,
        Some(&mut trained.buffer),
        opts.label,
        device,
    )?;
    let path = opts
        .out
        .clone()
        .unwrap_or_else(|| run.join("samples").join("sample.png"));
    write_png(&path, x, &trained.model, trained.is_toy(), 2)?;
    Ok(path)
}
