//! `metrics.jsonl`: one JSON line per logged iteration.

use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

/// One line of `metrics.jsonl`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct MetricsLine {
    /// Iterations completed.
    pub iteration: usize,
    /// Mean energy of the data batch.
    pub e_pos: f64,
    /// Mean energy of the Langevin negatives.
    pub e_neg: f64,
    /// Contrastive divergence loss with the L2 penalty.
    pub loss: f64,
    /// Mean |dE/dx| over the Langevin steps of this iteration.
    pub grad_x: f64,
    /// Training seconds so far.
    pub seconds: f64,
    /// Learning rate in force.
    pub lr: f64,
}

/// Drops the lines past `iteration` (after a resume or rollback they are redone).
pub fn truncate(path: &Path, iteration: usize) -> Result<()> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Ok(());
    };
    let kept: Vec<&str> = text
        .lines()
        .filter(|l| serde_json::from_str::<MetricsLine>(l).is_ok_and(|m| m.iteration <= iteration))
        .collect();
    let mut out = kept.join("\n");
    if !out.is_empty() {
        out.push('\n');
    }
    std::fs::write(path, out).with_context(|| format!("rewriting {}", path.display()))
}

/// Reads every line of a `metrics.jsonl`, skipping lines that do not parse (a line cut short by
/// a crash).
pub fn read(path: &Path) -> Result<Vec<MetricsLine>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect())
}
