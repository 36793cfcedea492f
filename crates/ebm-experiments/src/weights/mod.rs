//! `ebm export` and `ebm import`: a run's network out to a safetensors file with PyTorch names
//! (see [`names`]) and a JSON of its configuration beside it, and such a pair back into a run
//! directory that `ebm sample` and `ebm eval` accept.

pub mod names;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use burn::config::Config;
use burn::tensor::Device;
use burn_store::{ModuleSnapshot, SafetensorsStore};
use ebm_sampler::ReplayBuffer;
use serde::{Deserialize, Serialize};

use crate::data::sample_shape;
use crate::run::checkpoint::{self, LoopState};
use crate::run::paths::{RunPaths, claim_new};
use crate::run::{TrainConfig, TrainedRun};

/// The JSON written beside an exported weights file.
#[derive(Debug, Serialize, Deserialize)]
pub struct ExportedConfig {
    /// How the tensors are named: the PyTorch reference network's `state_dict` keys.
    pub tensor_names: String,
    /// Iterations the run had trained.
    pub iteration: usize,
    /// The run's resolved configuration (`config.json`); the architecture is its `model`.
    pub config: TrainConfig,
}

/// What tensor naming an export uses, as recorded in its JSON.
pub const TENSOR_NAMES: &str = "pytorch: the state_dict keys of benches/reference/igebm_torch.py (spectral-norm u as <layer>.u)";

/// The JSON beside a weights file: the same path with the extension `json`.
pub fn config_path(weights: &Path) -> PathBuf {
    weights.with_extension("json")
}

/// Writes the network `ebm sample` and `ebm eval` use for `run` (the averaged weights of a
/// run that keeps an EMA, else the trained ones, with every spectral-norm `u`) to `out`
/// (default `RUN/weights.safetensors`), and its configuration to the `.json` beside it.
/// Returns both paths.
pub fn export_run(run: &Path, out: Option<&Path>, device: &Device) -> Result<(PathBuf, PathBuf)> {
    let trained = TrainedRun::load(run, device)?;
    let out = out.map_or_else(|| run.join("weights.safetensors"), Path::to_path_buf);
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    let mut store = names::for_export(SafetensorsStore::from_file(&out))
        .metadata("ebm_iteration", trained.iteration.to_string())
        .overwrite(true);
    trained
        .model
        .save_into(&mut store)
        .map_err(|e| anyhow::anyhow!("writing {}: {e}", out.display()))?;
    let json = config_path(&out);
    let exported = ExportedConfig {
        tensor_names: TENSOR_NAMES.into(),
        iteration: trained.iteration,
        config: trained.config,
    };
    std::fs::write(&json, serde_json::to_string_pretty(&exported)?)
        .with_context(|| format!("writing {}", json.display()))?;
    Ok((out, json))
}

/// Reads the configuration of an import: an export's JSON, or a run's `config.json` (then the
/// iteration is 0).
fn read_import_config(path: &Path) -> Result<(TrainConfig, usize)> {
    let text = std::fs::read_to_string(path).with_context(|| {
        format!(
            "reading {} (the configuration of the weights: pass --config FILE)",
            path.display()
        )
    })?;
    if let Ok(exported) = serde_json::from_str::<ExportedConfig>(&text) {
        return Ok((exported.config, exported.iteration));
    }
    let config: TrainConfig = serde_json::from_str(&text).with_context(|| {
        format!(
            "parsing {}: neither an `ebm export` JSON nor a run's config.json",
            path.display()
        )
    })?;
    Ok((config, 0))
}

/// Makes `out` a run directory holding the weights of `file` (PyTorch names, as
/// [`export_run`] writes them) under the configuration `config` (default: the `.json` beside
/// `file`): `config.json` and one checkpoint with a fresh optimiser and an empty replay
/// buffer. Every tensor of the network must be in the file and every tensor of the file must
/// be used. Refuses a directory that already holds a run unless told to `overwrite` it.
pub fn import_run(
    file: &Path,
    config: Option<&Path>,
    out: &Path,
    overwrite: bool,
    device: &Device,
) -> Result<PathBuf> {
    let config_file = config.map_or_else(|| config_path(file), Path::to_path_buf);
    let (config, iteration) = read_import_config(&config_file)?;
    config
        .validate()
        .with_context(|| format!("checking {}", config_file.display()))?;
    let shape = sample_shape(&config)?;
    let mut model = config.model.init(device);
    let mut store = names::for_import(SafetensorsStore::from_file(file))
        .allow_partial(true)
        .validate(false);
    let result = model
        .load_from(&mut store)
        .map_err(|e| anyhow::anyhow!("reading {}: {e}", file.display()))?;
    if !result.missing.is_empty() || !result.unused.is_empty() || !result.errors.is_empty() {
        let missing: Vec<&str> = result.missing.iter().map(|(p, _)| p.as_str()).collect();
        bail!(
            "{} does not fit the network of {}: missing {missing:?}, not used {:?}, errors {:?}",
            file.display(),
            config_file.display(),
            result.unused,
            result.errors
        );
    }
    let paths = RunPaths::new(out);
    if paths.holds_run() && !overwrite {
        bail!(
            "{} already holds a run: import into another directory, or replace that run with --overwrite",
            out.display()
        );
    }
    claim_new(out, overwrite)?;
    std::fs::create_dir_all(paths.samples())
        .with_context(|| format!("creating {}", paths.samples().display()))?;
    config
        .save(paths.config())
        .with_context(|| format!("writing {}", paths.config().display()))?;
    let buffer = ReplayBuffer::new(
        config.replay.clone(),
        &shape,
        config.model.num_classes().is_some(),
        config.seed ^ 0x5eed,
    );
    let state = LoopState {
        iteration,
        lr: config.optimizer.lr,
        reseed: 0,
        rollbacks: 0,
        seconds: 0.0,
    };
    checkpoint::save(
        out,
        &model,
        &config.optimizer.init(),
        &buffer,
        &state,
        None,
        1,
    )
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod torch_tests;
