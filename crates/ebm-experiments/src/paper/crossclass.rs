//! `ebm crossclass`: cross-class mapping (reference section 5.2). Test images of class A run
//! Langevin under class B's energy `E(x, B)` for R rounds of K steps; after each round a
//! separately trained classifier (the cached proxy-FID CNN of `ebm eval`) says which fraction
//! it now takes for B (and for A). Writes `crossclass-A-B.json` and `crossclass-A-B.png`
//! (rows = images, columns = the original and each round) into the run directory.

use std::path::Path;
use std::time::Instant;

use anyhow::{Result, bail};
use burn::tensor::Device;
use ebm_model::{EnergyModel, one_hot};
use ebm_sampler::NoObserver;
use serde::Serialize;

use super::{Experiment, values, write_json};
use crate::eval::classifier::{Classifier, cache_path, load_or_train};
use crate::plot::grid::write_grid_columns;

/// Settings of `ebm crossclass`.
#[derive(Clone, Debug)]
pub struct CrossClassOptions {
    /// Class of the test images.
    pub from: usize,
    /// Class whose energy the chains follow.
    pub to: usize,
    /// Rounds (snapshots).
    pub rounds: usize,
    /// Langevin steps per round (`None`: twice the run's training steps; the official sandbox
    /// runs 40 per round).
    pub steps_per_round: Option<usize>,
    /// Test images of class `from` to map.
    pub n: usize,
    /// Seed of the chains.
    pub seed: u64,
}

/// The contents of `crossclass-A-B.json`.
#[derive(Debug, Serialize)]
pub struct CrossClassReport {
    /// Checkpoint iteration.
    pub iteration: usize,
    /// Dataset of the run.
    pub dataset: String,
    /// Source class A.
    pub from: usize,
    /// Target class B.
    pub to: usize,
    /// Images mapped.
    pub n: usize,
    /// Langevin steps per round.
    pub steps_per_round: usize,
    /// Fraction the classifier assigns to B: index 0 before any step, then after each round.
    pub fraction_to: Vec<f64>,
    /// Fraction it assigns to A, same indexing.
    pub fraction_from: Vec<f64>,
    /// Mean `E(x, B)` of the images, same indexing.
    pub mean_energy_to: Vec<f64>,
    /// Test accuracy of the classifier that judges.
    pub classifier_accuracy: f64,
    /// Seconds taken.
    pub seconds: f64,
}

fn fractions(
    classifier: &Classifier,
    x: burn::tensor::Tensor<4>,
    a: usize,
    b: usize,
) -> (f64, f64) {
    let pred = classifier.logits(x).argmax(1).squeeze_dim::<1>(1);
    let pred: Vec<i64> = pred
        .into_data()
        .convert::<i64>()
        .try_into_vec::<i64>()
        .unwrap_or_default();
    let n = pred.len().max(1) as f64;
    let count = |k: usize| pred.iter().filter(|&&p| p as usize == k).count() as f64 / n;
    (count(b), count(a))
}

/// Runs `ebm crossclass` on the latest checkpoint of `run`.
pub fn run_crossclass(
    run: &Path,
    data_dir: &Path,
    opts: &CrossClassOptions,
    device: &Device,
) -> Result<CrossClassReport> {
    let started = Instant::now();
    let exp = Experiment::load(run, data_dir, device)?;
    let classes = exp.classes("crossclass")?;
    for (flag, k) in [("--from", opts.from), ("--to", opts.to)] {
        if k >= classes {
            bail!("{flag} {k}: this run has classes 0..={}", classes - 1);
        }
    }
    anyhow::ensure!(
        opts.rounds > 0 && opts.n > 0,
        "--rounds and --n must be positive"
    );
    let idx: Vec<usize> = (0..exp.data.test.len())
        .filter(|&i| usize::from(exp.data.test.labels[i]) == opts.from)
        .take(opts.n)
        .collect();
    anyhow::ensure!(!idx.is_empty(), "no test image of class {}", opts.from);
    let (mut x, _) =
        ebm_data::images_to_tensor(&exp.data.test, &idx, ebm_data::Dequantize::None, device);
    let n = idx.len();
    let cache = cache_path(data_dir, &exp.run.config.dataset);
    let (classifier, accuracy) = load_or_train(&cache, &exp.data.train, &exp.data.test, 2, device)?;

    let steps = opts
        .steps_per_round
        .unwrap_or(2 * exp.run.config.sampler.steps);
    let sampler = exp.run.config.sampler.clone().with_steps(steps);
    let plain = &exp.run.model;
    let y = one_hot(&vec![opts.to; n], classes, device);
    let energy = |x: burn::tensor::Tensor<4>| plain.energy(x, Some(y.clone()));
    let mean_energy = |x: &burn::tensor::Tensor<4>| energy(x.clone()).mean().into_scalar::<f64>();
    device.seed(opts.seed);

    let mut snapshots = vec![values(x.clone())];
    let (t, f) = fractions(&classifier, x.clone(), opts.from, opts.to);
    let (mut fraction_to, mut fraction_from) = (vec![t], vec![f]);
    let mut mean_energy_to = vec![mean_energy(&x)];
    for round in 1..=opts.rounds {
        x = sampler.run(&energy, x, None, &mut NoObserver);
        let (t, f) = fractions(&classifier, x.clone(), opts.from, opts.to);
        eprintln!(
            "round {round}/{}: {:.0}% classified as {}, {:.0}% as {}",
            opts.rounds,
            100.0 * t,
            opts.to,
            100.0 * f,
            opts.from
        );
        fraction_to.push(t);
        fraction_from.push(f);
        mean_energy_to.push(mean_energy(&x));
        snapshots.push(values(x.clone()));
    }
    // Rows = images, columns = rounds: interleave the snapshots image by image.
    let shape = exp.data.test.image_shape();
    let per: usize = shape.iter().product();
    let mut grid = Vec::with_capacity(per * n * snapshots.len());
    for i in 0..n {
        for snap in &snapshots {
            grid.extend_from_slice(&snap[i * per..(i + 1) * per]);
        }
    }
    let stem = format!("crossclass-{}-{}", opts.from, opts.to);
    write_grid_columns(
        &run.join(format!("{stem}.png")),
        &grid,
        shape,
        snapshots.len(),
        2,
    )?;
    let report = CrossClassReport {
        iteration: exp.run.iteration,
        dataset: exp.run.config.dataset.clone(),
        from: opts.from,
        to: opts.to,
        n,
        steps_per_round: steps,
        fraction_to,
        fraction_from,
        mean_energy_to,
        classifier_accuracy: accuracy,
        seconds: started.elapsed().as_secs_f64(),
    };
    write_json(&run.join(format!("{stem}.json")), &report)?;
    Ok(report)
}

/// The markdown table: one row per round.
pub fn markdown(r: &CrossClassReport) -> String {
    let mut out = format!(
        "| round ({} steps each) | classified as {} (target) | classified as {} (source) | mean E(x, {}) |\n|---|---|---|---|\n",
        r.steps_per_round, r.to, r.from, r.to
    );
    for (k, ((t, f), e)) in r
        .fraction_to
        .iter()
        .zip(&r.fraction_from)
        .zip(&r.mean_energy_to)
        .enumerate()
    {
        out.push_str(&format!("| {k} | {:.2} | {:.2} | {e:.4} |\n", t, f));
    }
    out
}
