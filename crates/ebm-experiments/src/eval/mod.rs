//! `ebm eval`: how good a run is, written to `eval.json` in the run directory; and the
//! measures it is made of (AUROC, Frechet distance, the proxy-FID classifier, scores).

pub mod classifier;
pub mod scores;
pub mod stats;

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};
use burn::tensor::{Device, Distribution, Tensor};
use ebm_data::{Dequantize, images_to_tensor};
use ebm_model::EnergyModel;
use serde::Serialize;

use crate::data::{load_for, sample_shape};
use crate::run::TrainedRun;
use crate::run::generate::{Start, generate};
use classifier::{FEATURES, cache_path, features_of, hits, load_or_train};
use scores::scores;
use stats::{auroc, frechet_distance, mean_cov};

/// The contents of `eval.json`.
#[derive(Debug, Serialize)]
pub struct EvalReport {
    /// Checkpoint iteration evaluated.
    pub iteration: usize,
    /// Dataset of the run.
    pub dataset: String,
    /// Test images (and samples, and noise images) used.
    pub n: usize,
    /// AUROC of `-E` separating the real test set (positive) from uniform noise.
    pub auroc_uniform: f64,
    /// Proxy FID of real training images against the test set: the best a model can do.
    pub fid_floor: Option<f64>,
    /// Proxy FID of model samples against the test set.
    pub fid_samples: Option<f64>,
    /// Proxy FID of uniform noise against the test set: the worst.
    pub fid_ceiling: Option<f64>,
    /// Test accuracy of the proxy-FID classifier (a sanity check of its features).
    pub fid_classifier_accuracy: Option<f64>,
    /// Conditional models: test accuracy of classifying by the lowest class energy.
    pub accuracy: Option<f64>,
    /// Mean energy of the test images and of the noise images.
    pub mean_energy_test: f64,
    /// See `mean_energy_test`.
    pub mean_energy_noise: f64,
    /// What the FID numbers are.
    pub fid_note: String,
    /// Seconds the evaluation took.
    pub seconds: f64,
}

/// Evaluates the latest checkpoint of `run`; `n` caps the number of test images, `steps`
/// overrides the sampler's steps for the FID samples.
pub fn evaluate(
    run: &Path,
    data_dir: &Path,
    n: usize,
    steps: Option<usize>,
    device: &Device,
) -> Result<EvalReport> {
    let started = Instant::now();
    let TrainedRun {
        config,
        model: plain,
        mut buffer,
        iteration,
    } = TrainedRun::load(run, device)?;
    let data = load_for(&config, data_dir)?;
    let n = n.min(data.test.len());
    anyhow::ensure!(n >= 2, "need at least two test images");
    let shape = sample_shape(&config)?;
    let [c, h, w] = shape;
    device.seed(config.seed ^ 0xe7a1);

    let idx: Vec<usize> = (0..n).collect();
    let (x_test, y_test) = images_to_tensor(&data.test, &idx, Dequantize::None, device);
    let noise = Tensor::<4>::random([n, c, h, w], Distribution::Uniform(0.0, 1.0), device);
    let s_test = scores(&plain, x_test.clone());
    let s_noise = scores(&plain, noise.clone());
    let mean = |s: &[f64]| -s.iter().sum::<f64>() / s.len() as f64;

    let accuracy = plain.num_classes().map(|_| {
        let mut correct = 0;
        for (start, labels) in (0..n)
            .step_by(256)
            .map(|s| (s, &y_test[s..(s + 256).min(n)]))
        {
            let e = plain.class_energies(x_test.clone().slice(start..start + labels.len()));
            correct += hits(e.argmin(1).squeeze_dim(1), labels);
        }
        correct as f64 / n as f64
    });

    let toy = config.dataset.starts_with("toy2d:");
    let (mut fid_floor, mut fid_samples, mut fid_ceiling, mut fid_acc) = (None, None, None, None);
    if !toy {
        let cache = cache_path(data_dir, &config.dataset);
        let (classifier, acc) = load_or_train(&cache, &data.train, &data.test, 2, device)?;
        let gaussian = |x: Tensor<4>| mean_cov(&features_of(&classifier, x), FEATURES);
        let (mu_t, s_t) = gaussian(x_test);
        let train_idx: Vec<usize> = (0..n.min(data.train.len())).collect();
        let (x_train, _) = images_to_tensor(&data.train, &train_idx, Dequantize::None, device);
        let mut sampler = config.sampler.clone();
        if let Some(k) = steps {
            sampler.steps = k;
        }
        if buffer.len() < n {
            eprintln!(
                "warning: the replay buffer holds {} samples, fewer than the {n} chains: some continue the same sample",
                buffer.len()
            );
        }
        let (samples, _) = generate(
            &plain,
            &sampler,
            n,
            shape,
            Start::Buffer,
            Some(&mut buffer),
            None,
            device,
        )?;
        let fid = |x: Tensor<4>| {
            let (mu, s) = gaussian(x);
            frechet_distance(&mu_t, &s_t, &mu, &s)
        };
        fid_floor = Some(fid(x_train));
        fid_samples = Some(fid(samples));
        fid_ceiling = Some(fid(noise));
        fid_acc = Some(acc);
    }
    let report = EvalReport {
        iteration,
        dataset: config.dataset.clone(),
        n,
        auroc_uniform: auroc(&s_test, &s_noise),
        fid_floor,
        fid_samples,
        fid_ceiling,
        fid_classifier_accuracy: fid_acc,
        accuracy,
        mean_energy_test: mean(&s_test),
        mean_energy_noise: mean(&s_noise),
        fid_note: if toy {
            "no FID for toy 2-D data".into()
        } else {
            format!(
                "proxy FID: Frechet distance between Gaussian fits of the {FEATURES}-d penultimate features of a small CNN trained on the {} training split; comparable between runs on this dataset only, not with Inception FID. Samples start from the replay buffer.",
                config.dataset
            )
        },
        seconds: started.elapsed().as_secs_f64(),
    };
    let path = run.join("eval.json");
    std::fs::write(&path, serde_json::to_string_pretty(&report)?)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(report)
}
