//! Checkpoints: model, optimiser, replay buffer and loop state, written so that a crash never
//! leaves a broken one (a temporary folder renamed into place, then a pointer file replaced
//! atomically).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use burn::module::Module;
use burn::optim::ModuleOptimizer;
use ebm_sampler::{ReplayBuffer, ReplayConfig};
use serde::{Deserialize, Serialize};

use super::model::EnergyNet;

/// Loop state beside the tensors.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct LoopState {
    /// Iterations completed.
    pub iteration: usize,
    /// Current learning rate (lowered by divergence rollbacks).
    pub lr: f64,
    /// Added to the seed of every later iteration after a rollback, so the retry draws
    /// different noise.
    pub reseed: u64,
    /// Rollbacks so far.
    pub rollbacks: usize,
    /// Training seconds so far.
    pub seconds: f64,
}

/// Everything restored from a checkpoint.
pub struct Restored {
    /// The network, on the device it was loaded onto.
    pub model: EnergyNet,
    /// The optimiser with its moments.
    pub optim: ModuleOptimizer,
    /// The replay buffer with its RNG.
    pub buffer: ReplayBuffer,
    /// Loop state.
    pub state: LoopState,
    /// The averaged weights of a run that keeps an EMA (on the plain device).
    pub ema: Option<EnergyNet>,
}

/// `run/checkpoints`.
pub fn checkpoints_dir(run: &Path) -> PathBuf {
    run.join("checkpoints")
}

fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))
}

/// Writes checkpoint `iter-<n>` (with the averaged weights `ema` of a run that keeps them) and
/// points `LATEST` at it; keeps the `keep` newest.
#[allow(clippy::too_many_arguments)]
pub fn save(
    run: &Path,
    model: &EnergyNet,
    optim: &ModuleOptimizer,
    buffer: &ReplayBuffer,
    state: &LoopState,
    ema: Option<&EnergyNet>,
    keep: usize,
) -> Result<PathBuf> {
    let dir = checkpoints_dir(run);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let name = format!("iter-{:08}", state.iteration);
    let tmp = dir.join(format!(".tmp-{name}"));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
    model
        .clone()
        .save_file(tmp.join("model.bpk"))
        .map_err(|e| anyhow::anyhow!("writing {}: {e:?}", tmp.join("model.bpk").display()))?;
    optim
        .save(tmp.join("optim.bpk"))
        .map_err(|e| anyhow::anyhow!("writing {}: {e:?}", tmp.join("optim.bpk").display()))?;
    if let Some(ema) = ema {
        ema.clone()
            .save_file(tmp.join("ema.bpk"))
            .map_err(|e| anyhow::anyhow!("writing {}: {e:?}", tmp.join("ema.bpk").display()))?;
    }
    write(&tmp.join("buffer.bin"), &buffer.to_bytes())?;
    write(
        &tmp.join("state.json"),
        serde_json::to_string_pretty(state)?.as_bytes(),
    )?;
    let final_dir = dir.join(&name);
    let _ = std::fs::remove_dir_all(&final_dir);
    std::fs::rename(&tmp, &final_dir)
        .with_context(|| format!("renaming {} to {}", tmp.display(), final_dir.display()))?;
    let pointer_tmp = dir.join(".LATEST.tmp");
    write(&pointer_tmp, name.as_bytes())?;
    std::fs::rename(&pointer_tmp, dir.join("LATEST"))
        .with_context(|| format!("updating {}", dir.join("LATEST").display()))?;
    prune(&dir, &name, keep)?;
    Ok(final_dir)
}

/// Removes all but the `keep` newest checkpoints, never `current` (the one `LATEST` names).
fn prune(dir: &Path, current: &str, keep: usize) -> Result<()> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .with_context(|| format!("listing {}", dir.display()))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("iter-") && n != current)
        .collect();
    names.sort();
    let excess = names.len().saturating_sub(keep.saturating_sub(1));
    for old in &names[..excess] {
        std::fs::remove_dir_all(dir.join(old))
            .with_context(|| format!("removing {}", dir.join(old).display()))?;
    }
    Ok(())
}

/// The folder `LATEST` points to.
pub fn latest(run: &Path) -> Result<PathBuf> {
    let dir = checkpoints_dir(run);
    let pointer = dir.join("LATEST");
    let name = std::fs::read_to_string(&pointer).with_context(|| {
        format!(
            "reading {} (is {} a run directory?)",
            pointer.display(),
            run.display()
        )
    })?;
    Ok(dir.join(name.trim()))
}

/// Loads a checkpoint folder into `model` and `optim` (freshly built from the run's config);
/// the replay buffer must hold samples of `sample_shape`.
pub fn load(
    ckpt: &Path,
    model: EnergyNet,
    optim: ModuleOptimizer,
    replay: ReplayConfig,
    sample_shape: &[usize],
) -> Result<Restored> {
    let ema_file = ckpt.join("ema.bpk");
    let ema = if ema_file.is_file() {
        let ema = model
            .valid()
            .try_load_file(&ema_file)
            .map_err(|e| anyhow::anyhow!("loading {}: {e:?}", ema_file.display()))?;
        Some(ema)
    } else {
        None
    };
    let model = model
        .try_load_file(ckpt.join("model.bpk"))
        .map_err(|e| anyhow::anyhow!("loading {}: {e:?}", ckpt.join("model.bpk").display()))?;
    let optim = optim
        .load(ckpt.join("optim.bpk"))
        .map_err(|e| anyhow::anyhow!("loading {}: {e:?}", ckpt.join("optim.bpk").display()))?;
    let bytes = std::fs::read(ckpt.join("buffer.bin"))
        .with_context(|| format!("reading {}", ckpt.join("buffer.bin").display()))?;
    let buffer = ReplayBuffer::from_bytes(replay, sample_shape, &bytes)
        .with_context(|| format!("loading {}", ckpt.join("buffer.bin").display()))?;
    let text = std::fs::read_to_string(ckpt.join("state.json"))
        .with_context(|| format!("reading {}", ckpt.join("state.json").display()))?;
    let state = serde_json::from_str(&text)
        .with_context(|| format!("parsing {}", ckpt.join("state.json").display()))?;
    Ok(Restored {
        model,
        optim,
        buffer,
        state,
        ema,
    })
}
