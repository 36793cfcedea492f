//! What the experiment writes: `continual.json`, a heat map per method, the markdown table.

use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use super::config::ContinualConfig;
use super::ebm::TaskEnergies;
use super::matrix::{mean_matrix, mean_std};
use crate::plot::heatmap::{HeatmapText, write_heatmap};

/// A published number: mean and standard deviation in per cent, and where it comes from.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Published {
    /// Mean accuracy, per cent.
    pub mean: f64,
    /// Standard deviation, per cent.
    pub std: f64,
    /// The source.
    pub source: String,
}

/// One seed of one method.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SeedRun {
    /// The seed.
    pub seed: u64,
    /// `matrix[i][j]`: accuracy on task j's test images after training task i (one row for
    /// the offline model).
    pub matrix: Vec<Vec<f64>>,
    /// Mean of the last row: the average accuracy over tasks after the last task.
    pub final_average: f64,
    /// Wall-clock seconds of this seed's training and evaluation.
    pub seconds: f64,
    /// EBM only: mean energies after each task.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub energies: Option<Vec<TaskEnergies>>,
}

/// One method over all seeds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MethodResult {
    /// Short name: `ebm`, `ebm-classes`, `adam`, `sgd`, `offline`.
    pub name: String,
    /// What it is.
    pub description: String,
    /// Every seed.
    pub runs: Vec<SeedRun>,
    /// Element-wise mean of the seeds' matrices.
    pub mean_matrix: Vec<Vec<f64>>,
    /// Mean over seeds of the final average accuracy (fraction).
    pub final_mean: f64,
    /// Sample standard deviation over seeds (n - 1) of the final average accuracy.
    pub final_std: f64,
    /// The published number beside it.
    pub published: Option<Published>,
}

impl MethodResult {
    /// Summarises `runs`.
    pub fn new(
        name: &str,
        description: &str,
        runs: Vec<SeedRun>,
        published: Option<Published>,
    ) -> Self {
        let finals: Vec<f64> = runs.iter().map(|r| r.final_average).collect();
        let (final_mean, final_std) = mean_std(&finals);
        let matrices: Vec<Vec<Vec<f64>>> = runs.iter().map(|r| r.matrix.clone()).collect();
        Self {
            name: name.into(),
            description: description.into(),
            mean_matrix: mean_matrix(&matrices),
            runs,
            final_mean,
            final_std,
            published,
        }
    }
}

/// `continual.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ContinualReport {
    /// `mnist` (full) or `mnist-10k` (the embedded subset).
    pub dataset: String,
    /// Where the data came from, in words.
    pub data_source: String,
    /// Training images over all tasks.
    pub train_size: usize,
    /// Test images over all tasks.
    pub test_size: usize,
    /// The seeds, in order.
    pub seeds: Vec<u64>,
    /// Every setting.
    pub settings: ContinualConfig,
    /// The methods run, in [`super::METHODS`] order.
    pub methods: Vec<MethodResult>,
    /// Wall-clock seconds of the whole command.
    pub seconds: f64,
    /// The command line.
    pub command: String,
}

impl ContinualReport {
    /// The markdown table: method, final average accuracy mean ± std, the published number.
    pub fn table(&self) -> String {
        let mut out = format!(
            "split MNIST, incremental class ({} seeds, {}, {} test images); final average accuracy over the tasks after the last one\n\n\
             | method | accuracy (%) | published (%) |\n|---|---|---|\n",
            self.seeds.len(),
            self.dataset,
            self.test_size
        );
        for m in &self.methods {
            let published = m.published.as_ref().map_or("–".to_string(), |p| {
                format!("{:.2} ± {:.2} ({})", p.mean, p.std, p.source)
            });
            out.push_str(&format!(
                "| {} | {:.2} ± {:.2} | {} |\n",
                m.description,
                100.0 * m.final_mean,
                100.0 * m.final_std,
                published
            ));
        }
        out
    }

    /// Writes `continual.json` and `heatmap-<method>.png` into `dir`.
    pub fn write(&self, dir: &Path) -> Result<()> {
        let json = dir.join("continual.json");
        std::fs::write(&json, serde_json::to_string_pretty(self)?)
            .with_context(|| format!("writing {}", json.display()))?;
        let tasks: Vec<String> = self
            .settings
            .tasks
            .iter()
            .map(|t| {
                t.iter()
                    .map(|c| c.to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .collect();
        for m in &self.methods {
            let rows: Vec<String> = if m.mean_matrix.len() == tasks.len() {
                tasks.iter().map(|t| format!("after {t}")).collect()
            } else {
                vec!["all at once".to_string()]
            };
            let title = format!(
                "{}: {:.2} ± {:.2} % ({} seeds)",
                m.description,
                100.0 * m.final_mean,
                100.0 * m.final_std,
                m.runs.len()
            );
            let text = HeatmapText {
                title: &title,
                rows: &rows,
                cols: &tasks,
                row_axis: "trained on",
                col_axis: "accuracy (%) on test task",
            };
            write_heatmap(
                &dir.join(format!("heatmap-{}.png", m.name)),
                &m.mean_matrix,
                &text,
            )?;
        }
        Ok(())
    }
}
