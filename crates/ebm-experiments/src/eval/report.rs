//! `eval.json` and its table.

use std::fmt::Write;

use serde::{Deserialize, Serialize};

use super::held_out::HeldOutSplit;
use super::inception::InceptionScore;
use super::quality::SampleQuality;

/// AUROC of the model's score on the test set against one out-of-distribution set.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct OodScore {
    /// `uniform`, `constant`, `official_uniform` (the official code's Gaussian "uniform") or
    /// `interpolation`.
    pub set: String,
    /// AUROC of `-E` (conditional models: `-min_y E`), test images positive.
    pub auroc: f64,
}

/// The contents of `eval.json`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct EvalReport {
    /// Checkpoint iteration evaluated.
    pub iteration: usize,
    /// Dataset of the run.
    pub dataset: String,
    /// Test images used (and samples of each kind, and images of each OOD set).
    pub n: usize,
    /// Test accuracy of the proxy-FID classifier.
    pub classifier_accuracy: Option<f64>,
    /// Proxy FID of real training images against the test set: the best a model can do.
    pub fid_floor: Option<f64>,
    /// Proxy FID of uniform noise against the test set: the worst.
    pub fid_ceiling: Option<f64>,
    /// Samples continued from the replay buffer, and fresh from noise.
    pub samples: Vec<SampleQuality>,
    /// AUROC against every synthetic OOD set.
    pub ood_auroc: Vec<OodScore>,
    /// Conditional models: test accuracy of classifying by the lowest class energy.
    pub accuracy: Option<f64>,
    /// Shapes runs: the accuracies on the seen and the held-out combinations apart.
    #[serde(default)]
    pub held_out_split: Option<HeldOutSplit>,
    /// Mean energy of the test images.
    pub mean_energy_test: f64,
    /// Samples the replay buffer held.
    pub buffer_samples_stored: usize,
    /// Changes to the run's sampler used by the evaluation chains (`--sampler-set`).
    pub sampler_overrides: Vec<String>,
    /// What the numbers are.
    pub note: String,
    /// Inception Score of the test images (32x32 RGB runs with the FID Inception weights in
    /// the data directory): what real images score at this `n`.
    #[serde(default)]
    pub inception_test_score: Option<InceptionScore>,
    /// What the Inception numbers are, or why there are none.
    #[serde(default)]
    pub inception_note: String,
    /// Seconds the evaluation took.
    pub seconds: f64,
}

impl EvalReport {
    /// Where a FID lies between floor (0) and ceiling (1).
    pub fn relative_fid(&self, fid: f64) -> Option<f64> {
        let (floor, ceiling) = (self.fid_floor?, self.fid_ceiling?);
        Some((fid - floor) / (ceiling - floor))
    }

    /// The report as markdown tables.
    pub fn table(&self) -> String {
        let mut s = String::new();
        let opt =
            |v: Option<f64>, digits: usize| v.map_or("-".to_string(), |v| format!("{v:.digits$}"));
        let _ = writeln!(
            s,
            "{} at iteration {}, {} test images; classifier accuracy {}; conditional accuracy {}",
            self.dataset,
            self.iteration,
            self.n,
            opt(self.classifier_accuracy, 4),
            opt(self.accuracy, 4)
        );
        if let Some(split) = &self.held_out_split {
            let _ = writeln!(s, "{}", split.line());
        }
        let _ = writeln!(
            s,
            "\n| samples | steps | proxy FID | relative (0 = floor {}, 1 = ceiling {}) | mean confidence | largest class share |",
            opt(self.fid_floor, 1),
            opt(self.fid_ceiling, 1)
        );
        let _ = writeln!(s, "|---|---|---|---|---|---|");
        for q in &self.samples {
            let _ = writeln!(
                s,
                "| {} | {} | {:.1} | {} | {:.3} | {:.3} |",
                q.start,
                q.steps,
                q.fid,
                opt(self.relative_fid(q.fid), 3),
                q.mean_confidence,
                q.max_class_share
            );
        }
        if let Some(test) = self.inception_test_score {
            let _ = writeln!(
                s,
                "\n| samples | Inception FID (vs test) | Inception Score (10 splits) |\n|---|---|---|"
            );
            let _ = writeln!(
                s,
                "| test images | 0 | {:.3} +- {:.3} |",
                test.mean, test.std
            );
            for q in &self.samples {
                if let Some(i) = &q.inception {
                    let is = i.inception_score;
                    let _ = writeln!(
                        s,
                        "| {} | {:.2} | {:.3} +- {:.3} |",
                        q.start, i.fid, is.mean, is.std
                    );
                }
            }
        }
        if !self.inception_note.is_empty() {
            let _ = writeln!(s, "\n{}", self.inception_note);
        }
        let _ = writeln!(s, "\n| OOD set | AUROC |\n|---|---|");
        for o in &self.ood_auroc {
            let _ = writeln!(s, "| {} | {:.4} |", o.set, o.auroc);
        }
        s
    }
}
