//! The run directory: where a run's files live, how a new run claims a directory, and how
//! later commands find the run's configuration.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use burn::config::Config;

use super::config::TrainConfig;

/// Files of a run directory.
#[derive(Clone, Debug)]
pub struct RunPaths {
    /// The run directory.
    pub dir: PathBuf,
}

/// Entries a run writes into its directory; `--overwrite` removes exactly these.
const RUN_ENTRIES: [&str; 6] = [
    "config.json",
    "metrics.jsonl",
    "eval.json",
    "checkpoints",
    "samples",
    "report.html",
];

impl RunPaths {
    /// The files of the run in `dir`.
    pub fn new(dir: &Path) -> Self {
        Self {
            dir: dir.to_path_buf(),
        }
    }
    /// `config.json`.
    pub fn config(&self) -> PathBuf {
        self.dir.join("config.json")
    }
    /// `metrics.jsonl`.
    pub fn metrics(&self) -> PathBuf {
        self.dir.join("metrics.jsonl")
    }
    /// `samples/`.
    pub fn samples(&self) -> PathBuf {
        self.dir.join("samples")
    }
    /// `checkpoints/`.
    pub fn checkpoints(&self) -> PathBuf {
        self.dir.join("checkpoints")
    }

    /// True when the directory already holds (part of) a run.
    pub fn holds_run(&self) -> bool {
        RUN_ENTRIES.iter().any(|e| self.dir.join(e).exists())
    }
}

/// How `train` treats its run directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunStart {
    /// A new run; a directory that already holds a run is refused.
    New,
    /// A new run in place of the run the directory holds (its files are removed first).
    Overwrite,
    /// Continue the run the directory holds from its latest checkpoint.
    Resume,
}

/// Makes `dir` ready for a new run: refuses a directory holding a run (so that an older run's
/// checkpoints can never mix with the new one's), or with `overwrite` removes that run's files.
/// Files that are not a run's are left alone.
pub fn claim_new(dir: &Path, overwrite: bool) -> Result<()> {
    let paths = RunPaths::new(dir);
    if !paths.holds_run() {
        return Ok(());
    }
    if !overwrite {
        bail!(
            "{} already holds a run: continue it with `--resume {}`, or replace it with --overwrite",
            dir.display(),
            dir.display()
        );
    }
    for entry in RUN_ENTRIES {
        let path = dir.join(entry);
        let removed = if path.is_dir() {
            std::fs::remove_dir_all(&path)
        } else if path.exists() {
            std::fs::remove_file(&path)
        } else {
            Ok(())
        };
        removed.map_err(|e| anyhow::anyhow!("removing {}: {e}", path.display()))?;
    }
    Ok(())
}

/// `runs/<preset>-<unix time>`.
pub fn default_run_dir(preset: &str) -> PathBuf {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    PathBuf::from("runs").join(format!("{preset}-{secs}"))
}

/// Reads a run's resolved configuration.
pub fn read_config(run: &Path) -> Result<TrainConfig> {
    let path = RunPaths::new(run).config();
    if !path.is_file() {
        bail!(
            "{} is not a run directory (no config.json in it)",
            run.display()
        );
    }
    TrainConfig::load(&path).map_err(|e| {
        anyhow::anyhow!(
            "reading {}: {e} (a run written by another version of ebm: add the missing field with its documented default)",
            path.display()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_directory_is_refused_unless_overwritten() {
        let dir = std::env::temp_dir().join(format!("ebm-claim-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("checkpoints/iter-00000009")).unwrap();
        std::fs::write(dir.join("notes.txt"), "mine").unwrap();
        let err = claim_new(&dir, false).unwrap_err().to_string();
        assert!(
            err.contains("--resume") && err.contains("--overwrite"),
            "{err}"
        );
        assert!(dir.join("checkpoints").exists(), "refusing removes nothing");
        claim_new(&dir, true).unwrap();
        assert!(!dir.join("checkpoints").exists());
        assert!(
            dir.join("notes.txt").exists(),
            "files that are not a run's stay"
        );
        claim_new(&dir, false).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
