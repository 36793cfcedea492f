//! `ebm ablate`: what a change to a preset buys at a fixed wall-clock budget. Each variant (a
//! list of `--set` changes) trains the preset from scratch for the same seconds on this
//! machine, and the same evaluation (`eval`) scores it; the table says where each variant's
//! samples and OOD scores land against the unchanged preset. The MnistNet step time measured
//! before and after says how fast the machine was.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use crate::bench::steps::mnistnet_step_seconds;
use crate::data::load_or_download;
use crate::eval::{EvalOptions, EvalReport, evaluate};
use crate::run::presets::preset;
use crate::run::{RunStart, train};

/// One variant of the preset.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Variant {
    /// Short name (also its run directory's name).
    pub name: String,
    /// `path=value` changes to the preset, as `train --set` takes them.
    pub set: Vec<String>,
}

/// What `ebm ablate` runs.
#[derive(Clone, Debug)]
pub struct AblateOptions {
    /// The preset every variant starts from.
    pub preset: String,
    /// Training seconds per variant.
    pub budget_secs: f64,
    /// The variants, the unchanged preset usually first.
    pub variants: Vec<Variant>,
    /// Evaluation settings (the same for every variant).
    pub eval: EvalOptions,
    /// Where the runs and the results go.
    pub out: PathBuf,
    /// Data directory.
    pub data_dir: PathBuf,
}

/// One row of the table.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AblationRow {
    /// The variant.
    pub variant: Variant,
    /// Iterations trained within the budget.
    pub iterations: usize,
    /// Training seconds.
    pub seconds: f64,
    /// Its evaluation.
    pub eval: EvalReport,
}

/// `ablation.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Ablation {
    /// The preset.
    pub preset: String,
    /// Training seconds per variant.
    pub budget_secs: f64,
    /// Median MnistNet Langevin step (batch 128) before the first and after the last variant.
    pub mnistnet_step_seconds: [f64; 2],
    /// One row per variant.
    pub rows: Vec<AblationRow>,
}

/// Reads a variants file: a JSON list of `{"name": ..., "set": [...]}`.
pub fn read_variants(path: &Path) -> Result<Vec<Variant>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let variants: Vec<Variant> =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    if variants.is_empty() {
        bail!("{}: no variants", path.display());
    }
    Ok(variants)
}

/// Trains and evaluates every variant, writing `ablation.json` and `ablation.md` into `out`.
pub fn ablate(opts: &AblateOptions, device: &Device) -> Result<Ablation> {
    let base = preset(&opts.preset)?;
    // Every variant must resolve before any trains.
    let configs = opts
        .variants
        .iter()
        .map(|v| {
            let mut c = base
                .clone()
                .with_overrides(&v.set)
                .with_context(|| format!("variant {:?}", v.name))?;
            c.time_limit_secs = Some(opts.budget_secs);
            c.iterations = usize::MAX / 2;
            c.validate()
                .with_context(|| format!("variant {:?}", v.name))?;
            Ok(c)
        })
        .collect::<Result<Vec<_>>>()?;
    let before = mnistnet_step_seconds(device, 5);
    eprintln!("MnistNet step (batch 128): {before:.3} s");
    let mut rows = Vec::new();
    for (variant, config) in opts.variants.iter().zip(&configs) {
        let dir = opts.out.join(&variant.name);
        eprintln!("\n== {}: {} ==", variant.name, variant.set.join(" "));
        let data = load_or_download(config, &opts.data_dir)?;
        train(config, &dir, &data, device, RunStart::Overwrite)?;
        let state = crate::run::TrainedRun::load(&dir, device)?;
        let last = crate::run::metrics::read(&dir.join("metrics.jsonl"))?;
        let eval = evaluate(&dir, &opts.data_dir, &opts.eval, device)?;
        eprintln!("{}", eval.table());
        rows.push(AblationRow {
            variant: variant.clone(),
            iterations: state.iteration,
            seconds: last.last().map_or(0.0, |m| m.seconds),
            eval,
        });
    }
    let after = mnistnet_step_seconds(device, 5);
    let ablation = Ablation {
        preset: opts.preset.clone(),
        budget_secs: opts.budget_secs,
        mnistnet_step_seconds: [before, after],
        rows,
    };
    std::fs::create_dir_all(&opts.out)
        .with_context(|| format!("creating {}", opts.out.display()))?;
    let json = opts.out.join("ablation.json");
    std::fs::write(&json, serde_json::to_string_pretty(&ablation)?)
        .with_context(|| format!("writing {}", json.display()))?;
    let md = opts.out.join("ablation.md");
    std::fs::write(&md, ablation.table()).with_context(|| format!("writing {}", md.display()))?;
    Ok(ablation)
}

impl Ablation {
    /// The rows as a markdown table: relative proxy FID (0 = real images, 1 = noise) of buffer
    /// and noise samples, the largest class share, and the OOD AUROCs.
    pub fn table(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "`{}`, {:.0} s of training per variant; MnistNet step {:.3} s before, {:.3} s after\n",
            self.preset,
            self.budget_secs,
            self.mnistnet_step_seconds[0],
            self.mnistnet_step_seconds[1]
        );
        let sets: Vec<String> = self
            .rows
            .first()
            .map(|r| r.eval.ood_auroc.iter().map(|o| o.set.clone()).collect())
            .unwrap_or_default();
        let _ = write!(
            s,
            "| variant | iterations | FID buffer (rel.) | FID noise (rel.) | confidence (buffer) | largest class (buffer) |"
        );
        for set in &sets {
            let _ = write!(s, " AUROC {set} |");
        }
        let _ = writeln!(s, "\n|{}", "---|".repeat(6 + sets.len()));
        for r in &self.rows {
            let quality = |start: &str| r.eval.samples.iter().find(|q| q.start == start);
            let rel = |start: &str| {
                quality(start)
                    .and_then(|q| r.eval.relative_fid(q.fid))
                    .map_or("-".into(), |v| format!("{v:.3}"))
            };
            let buffer = quality("buffer");
            let _ = write!(
                s,
                "| {} | {} | {} | {} | {} | {} |",
                r.variant.name,
                r.iterations,
                rel("buffer"),
                rel("noise"),
                buffer.map_or("-".into(), |q| format!("{:.3}", q.mean_confidence)),
                buffer.map_or("-".into(), |q| format!("{:.3}", q.max_class_share)),
            );
            for o in &r.eval.ood_auroc {
                let _ = write!(s, " {:.3} |", o.auroc);
            }
            let _ = writeln!(s);
        }
        s
    }
}
