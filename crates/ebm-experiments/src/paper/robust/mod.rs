//! `ebm robust`: adversarial robustness (reference section 6.3). PGD in an L-infinity or a
//! true L2 ball against four classifiers, accuracy against epsilon:
//!
//! - a plain softmax CNN of about the EBM's size, trained by this command ([`cnn`]), attacked
//!   through itself;
//! - the EBM classifier (logits `-E(x, y)`), attacked through itself;
//! - the paper's defence: the attacked input purified by Langevin under each class, averaged
//!   over chains, then classified; attacked through the classifier alone, as the paper did;
//! - the same defence attacked through the purification too (BPDA: the purification's Jacobian
//!   taken as the identity; EOT: averaged over its chains), which the paper did not run.
//!
//! Writes `robust-<norm>.json` and `robust-<norm>.png` into the run directory.

pub mod attack;
pub mod cnn;
pub mod defence;

use std::path::Path;
use std::time::Instant;

use anyhow::Result;
use burn::tensor::Device;
use serde::Serialize;

use super::{Experiment, first_images, write_json};
use crate::plot::chart::{Chart, Series, write_line_chart};
use attack::{Norm, pgd};
use defence::{Purify, accuracy, ce_grad, logits};

/// Settings of `ebm robust`.
#[derive(Clone, Debug)]
pub struct RobustOptions {
    /// Threat model.
    pub norm: Norm,
    /// Radii of the ball, in pixel units of [0, 1] images.
    pub eps: Vec<f64>,
    /// PGD steps.
    pub steps: usize,
    /// Test images attacked.
    pub n: usize,
    /// Langevin steps of the purification.
    pub purify_steps: usize,
    /// Purification chains per image and class (averaged; also the EOT samples of BPDA).
    pub chains: usize,
    /// Box around the input the purification stays in (`None`: only [0, 1]).
    pub radius: Option<f64>,
    /// Training steps of the CNN baseline.
    pub baseline_steps: usize,
    /// Also attack through the purification (BPDA/EOT), the costliest curve.
    pub bpda: bool,
    /// Seed of the attacks and chains.
    pub seed: u64,
}

/// One curve: accuracy at each epsilon.
#[derive(Debug, Serialize)]
pub struct Curve {
    /// Legend name.
    pub name: String,
    /// The classifier defended (or not).
    pub defence: String,
    /// What the attack's gradient goes through.
    pub attack: String,
    /// Accuracy at each `eps`.
    pub accuracy: Vec<f64>,
}

/// The contents of `robust-<norm>.json`.
#[derive(Debug, Serialize)]
pub struct RobustReport {
    /// Checkpoint iteration.
    pub iteration: usize,
    /// Dataset of the run.
    pub dataset: String,
    /// Threat model.
    pub norm: Norm,
    /// Radii.
    pub eps: Vec<f64>,
    /// PGD steps (step size 2.5 eps / steps, random start in the ball).
    pub pgd_steps: usize,
    /// Test images attacked.
    pub n: usize,
    /// The purification.
    pub purify: Purify,
    /// Conv and linear weights of the EBM.
    pub ebm_weights: usize,
    /// Conv and linear weights of the CNN baseline.
    pub baseline_weights: usize,
    /// Training steps of the CNN baseline.
    pub baseline_steps: usize,
    /// The curves.
    pub curves: Vec<Curve>,
    /// Seconds taken.
    pub seconds: f64,
}

/// Runs `ebm robust` on the latest checkpoint of `run`.
pub fn run_robust(
    run: &Path,
    data_dir: &Path,
    opts: &RobustOptions,
    device: &Device,
) -> Result<RobustReport> {
    let started = Instant::now();
    let exp = Experiment::load(run, data_dir, device)?;
    let classes = exp.classes("robust")?;
    anyhow::ensure!(!opts.eps.is_empty(), "--eps needs at least one value");
    anyhow::ensure!(
        opts.eps.iter().all(|e| e.is_finite() && *e >= 0.0),
        "--eps values must be finite and >= 0, got {:?}",
        opts.eps
    );
    anyhow::ensure!(
        opts.n > 0 && opts.chains > 0,
        "--n and --chains must be positive"
    );
    let baseline = cnn::load_or_train(run, &exp.data.train, opts.baseline_steps, device)?;
    let plain = &exp.run.model;
    let purify = Purify {
        sampler: exp.run.config.sampler.clone().with_steps(opts.purify_steps),
        radius: opts.radius,
        chains: opts.chains,
    };
    let (x, y) = first_images(&exp.data.test, opts.n, device);
    let mut acc = vec![Vec::new(); if opts.bpda { 4 } else { 3 }];
    for (k, &eps) in opts.eps.iter().enumerate() {
        let t = Instant::now();
        device.seed(opts.seed + k as u64);
        // A ball of radius 0 holds only the input: no attack to run.
        let attack = |grad: &mut dyn FnMut(burn::tensor::Tensor<4>) -> burn::tensor::Tensor<4>| {
            if eps == 0.0 {
                x.clone()
            } else {
                pgd(&x, opts.norm, eps, opts.steps, grad)
            }
        };
        let x_cnn = attack(&mut |x| cnn::ce_grad(&baseline, x, &y, classes));
        acc[0].push(accuracy(baseline.logits(x_cnn), &y));
        let x_ebm = attack(&mut |x| ce_grad(plain, &x, &y, None));
        acc[1].push(accuracy(logits(plain, &x_ebm, None), &y));
        acc[2].push(accuracy(logits(plain, &x_ebm, Some(&purify)), &y));
        if opts.bpda {
            let x_bpda = attack(&mut |x| ce_grad(plain, &x, &y, Some(&purify)));
            acc[3].push(accuracy(logits(plain, &x_bpda, Some(&purify)), &y));
        }
        let now: Vec<String> = acc.iter().map(|a| format!("{:.3}", a[k])).collect();
        eprintln!(
            "eps {eps}: accuracy {} ({:.0} s)",
            now.join(" / "),
            t.elapsed().as_secs_f64()
        );
    }
    let names = [
        ("CNN baseline", "softmax CNN", "PGD through the CNN"),
        ("EBM", "argmin_y E(x, y)", "PGD through the EBM classifier"),
        (
            "EBM + purification",
            "Langevin purification, then argmin_y",
            "PGD through the EBM classifier alone (the paper's setting)",
        ),
        (
            "EBM + purification, BPDA/EOT",
            "Langevin purification, then argmin_y",
            "PGD through the purification (BPDA, EOT over its chains)",
        ),
    ];
    let curves = acc
        .into_iter()
        .zip(names)
        .map(|(accuracy, (name, defence, attack))| Curve {
            name: name.into(),
            defence: defence.into(),
            attack: attack.into(),
            accuracy,
        })
        .collect();
    let report = RobustReport {
        iteration: exp.run.iteration,
        dataset: exp.run.config.dataset.clone(),
        norm: opts.norm,
        eps: opts.eps.clone(),
        pgd_steps: opts.steps,
        n: x.dims()[0],
        purify,
        ebm_weights: ebm_model::weight_count(plain),
        baseline_weights: baseline.weights(),
        baseline_steps: opts.baseline_steps,
        curves,
        seconds: started.elapsed().as_secs_f64(),
    };
    let stem = format!("robust-{}", opts.norm.name());
    write_json(&run.join(format!("{stem}.json")), &report)?;
    write_plot(&run.join(format!("{stem}.png")), &report)?;
    Ok(report)
}

fn write_plot(path: &Path, r: &RobustReport) -> Result<()> {
    let series: Vec<Series> = r
        .curves
        .iter()
        .map(|c| Series {
            name: c.name.clone(),
            points: r
                .eps
                .iter()
                .copied()
                .zip(c.accuracy.iter().copied())
                .collect(),
        })
        .collect();
    let max_eps = r.eps.iter().copied().fold(0.0, f64::max);
    let chart = Chart {
        title: format!(
            "{}: PGD-{} ({} steps), {} test images",
            r.dataset,
            r.norm.name(),
            r.pgd_steps,
            r.n
        ),
        x_label: format!("epsilon ({} norm, pixels in [0, 1])", r.norm.name()),
        y_label: "accuracy".into(),
        x_range: (0.0, if max_eps > 0.0 { max_eps * 1.02 } else { 1.0 }),
        y_range: (0.0, 1.0),
        markers: true,
        diagonal: false,
    };
    write_line_chart(path, &chart, &series)
}

/// The markdown table: one row per epsilon, one column per curve.
pub fn markdown(r: &RobustReport) -> String {
    let mut out = format!("| {} eps |", r.norm.name());
    for c in &r.curves {
        out.push_str(&format!(" {} |", c.name));
    }
    out.push('\n');
    out.push_str(&"|---".repeat(r.curves.len() + 1));
    out.push_str("|\n");
    for (k, eps) in r.eps.iter().enumerate() {
        out.push_str(&format!("| {eps} |"));
        for c in &r.curves {
            out.push_str(&format!(" {:.3} |", c.accuracy[k]));
        }
        out.push('\n');
    }
    out
}
