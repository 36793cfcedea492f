//! `ebm ood`: out-of-distribution detection as in the paper's table (reference section 6.2).
//! The score of an image is `-E(x)` (conditional runs: `-min_y E(x, y)`) of the raw input; the
//! AUROC of telling the run's test images (positive) from each OOD set. Writes `ood.json`
//! and `ood-roc.png` (one ROC curve per set) into the run directory; `--score` picks one of
//! the alternatives of [`score`] instead (written as `ood-<score>.*`).

pub mod score;
pub mod sets;

use std::path::Path;
use std::time::Instant;

use anyhow::Result;
use burn::tensor::Device;
use serde::Serialize;

use super::{Experiment, first_images, write_json};
use crate::data::DatasetName;
use crate::eval::stats::{auroc, roc_curve};
use crate::plot::chart::{Chart, Series, write_line_chart};
use score::{Score, score};
use sets::OodSet;

/// The paper's row for its unconditional CIFAR-10 model (reference section 6.2): SVHN,
/// Textures, constant, uniform, CIFAR-10 interpolations.
pub const PAPER_CIFAR10: [(&str, f64); 5] = [
    ("svhn", 0.63),
    ("textures", 0.48),
    ("constant", 0.30),
    ("uniform", 1.0),
    ("interpolation", 0.70),
];

/// Settings of `ebm ood`.
#[derive(Clone, Debug)]
pub struct OodOptions {
    /// Sets by name (`None`: the defaults for the run's dataset, skipping absent datasets).
    pub sets: Option<Vec<String>>,
    /// Test images, and images per OOD set.
    pub n: usize,
    /// Seed of the synthetic sets.
    pub seed: u64,
    /// What images are ranked by.
    pub score: Score,
}

/// One row of the table.
#[derive(Debug, Serialize)]
pub struct SetResult {
    /// Set name.
    pub name: String,
    /// Images scored.
    pub n: usize,
    /// AUROC of the score telling the test set (positive) from this set.
    pub auroc: f64,
    /// Mean score of this set's images.
    pub mean_score: f64,
    /// The ROC curve, `[fpr, tpr]`, thinned to at most 201 points.
    pub roc: Vec<[f64; 2]>,
}

/// The contents of `ood.json`.
#[derive(Debug, Serialize)]
pub struct OodReport {
    /// Checkpoint iteration.
    pub iteration: usize,
    /// The run's dataset.
    pub dataset: String,
    /// The score used.
    pub score: String,
    /// Test images scored.
    pub n_test: usize,
    /// Mean score of the test images.
    pub mean_score_test: f64,
    /// One result per set.
    pub sets: Vec<SetResult>,
    /// Default sets left out, with why (a dataset not in the data directory).
    pub skipped: Vec<String>,
    /// The paper's CIFAR-10 row, for comparison.
    pub paper_cifar10: Vec<(String, f64)>,
    /// Seconds taken.
    pub seconds: f64,
}

/// `ood` for the paper's score, `ood-<score>` for the others.
pub fn output_stem(score: Score) -> String {
    match score {
        Score::Energy => "ood".into(),
        other => format!("ood-{}", other.name()),
    }
}

fn thin(curve: Vec<(f64, f64)>) -> Vec<[f64; 2]> {
    let step = curve.len().div_ceil(200).max(1);
    let last = curve.len() - 1;
    curve
        .iter()
        .enumerate()
        .filter(|(i, _)| i % step == 0 || *i == last)
        .map(|(_, &(x, y))| [x, y])
        .collect()
}

/// Runs `ebm ood` on the latest checkpoint of `run`.
pub fn run_ood(
    run: &Path,
    data_dir: &Path,
    opts: &OodOptions,
    device: &Device,
) -> Result<OodReport> {
    let started = Instant::now();
    let exp = Experiment::load(run, data_dir, device)?;
    let dataset = DatasetName::parse(&exp.run.config.dataset)?;
    let shape = dataset.image_shape();
    let (chosen, explicit) = match &opts.sets {
        Some(names) => (
            names
                .iter()
                .map(|n| OodSet::parse(n))
                .collect::<Result<Vec<_>>>()?,
            true,
        ),
        None => (OodSet::defaults(dataset, data_dir), false),
    };
    let n = opts.n.min(exp.data.test.len());
    anyhow::ensure!(n >= 2, "need at least two test images, got {n}");
    let in_dist = exp.data.test.select(&(0..n).collect::<Vec<_>>());
    let plain = &exp.run.model;
    // A typicality score's reference: the mean of its base score over training images (not
    // the test images).
    let train_mean = match opts.score.reference() {
        Some(base) => {
            let s = score(plain, first_images(&exp.data.train, n, device).0, base, 0.0)?;
            s.iter().sum::<f64>() / s.len() as f64
        }
        None => 0.0,
    };
    let s_test = score(
        plain,
        first_images(&in_dist, n, device).0,
        opts.score,
        train_mean,
    )?;
    let mut results = Vec::new();
    let mut skipped = Vec::new();
    for (k, set) in chosen.iter().enumerate() {
        let images = match set.images(n, shape, &in_dist, data_dir, opts.seed + k as u64, device) {
            Ok(x) => x,
            // A default dataset that is not there is skipped; a named one is an error.
            Err(e) if !explicit && matches!(set, OodSet::Dataset(_)) => {
                eprintln!("skipping {}: {e:#}", set.name());
                skipped.push(format!("{}: {e:#}", set.name()));
                continue;
            }
            Err(e) => return Err(e.context(format!("OOD set {}", set.name()))),
        };
        let s = score(plain, images, opts.score, train_mean)?;
        eprintln!("{}: {} images scored", set.name(), s.len());
        results.push(SetResult {
            name: set.name(),
            n: s.len(),
            auroc: auroc(&s_test, &s),
            mean_score: s.iter().sum::<f64>() / s.len() as f64,
            roc: thin(roc_curve(&s_test, &s)),
        });
    }
    let report = OodReport {
        iteration: exp.run.iteration,
        dataset: exp.run.config.dataset.clone(),
        score: opts.score.describe(exp.run.num_classes().is_some()),
        n_test: n,
        mean_score_test: s_test.iter().sum::<f64>() / n as f64,
        sets: results,
        skipped,
        paper_cifar10: PAPER_CIFAR10
            .iter()
            .map(|(k, v)| (k.to_string(), *v))
            .collect(),
        seconds: started.elapsed().as_secs_f64(),
    };
    let stem = output_stem(opts.score);
    write_json(&run.join(format!("{stem}.json")), &report)?;
    write_roc(&run.join(format!("{stem}-roc.png")), &report)?;
    Ok(report)
}

fn write_roc(path: &Path, report: &OodReport) -> Result<()> {
    let series: Vec<Series> = report
        .sets
        .iter()
        .map(|s| Series {
            name: format!("{} ({:.2})", s.name, s.auroc),
            points: s.roc.iter().map(|p| (p[0], p[1])).collect(),
        })
        .collect();
    let chart = Chart::roc(
        format!(
            "OOD: {} test images against each set, score {}",
            report.dataset, report.score
        ),
        "false positive rate (OOD images above the threshold)",
    );
    write_line_chart(path, &chart, &series)
}

/// The markdown table: one row per set, the paper's CIFAR-10 value beside where it has one.
pub fn markdown(report: &OodReport) -> String {
    let mut out = format!(
        "| OOD set ({} test images of {}, score {}) | AUROC | mean score | paper (CIFAR-10) |\n|---|---|---|---|\n",
        report.n_test, report.dataset, report.score
    );
    for s in &report.sets {
        let paper = PAPER_CIFAR10
            .iter()
            .find(|(k, _)| *k == s.name || (*k == "uniform" && s.name == "official-uniform"))
            .map_or("-".to_string(), |(_, v)| format!("{v:.2}"));
        out.push_str(&format!(
            "| {} | {:.3} | {:.4} | {paper} |\n",
            s.name, s.auroc, s.mean_score
        ));
    }
    out.push_str(&format!(
        "| (test set) | | {:.4} | |\n",
        report.mean_score_test
    ));
    out
}
