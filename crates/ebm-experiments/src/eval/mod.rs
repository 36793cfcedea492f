//! `ebm eval`: how good a run is, written to `eval.json` in the run directory and printed as a
//! table; and the measures it is made of (AUROC, Frechet distance, the proxy-FID classifier,
//! sample quality, scores).

pub mod classifier;
pub mod held_out;
pub mod inception;
pub mod quality;
pub mod report;
pub mod scores;
pub mod stats;

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};
use burn::tensor::{Device, Tensor, TensorData};
use ebm_data::{Dequantize, OodKind, images_to_tensor};
use ebm_model::EnergyModel;
use ebm_sampler::SplitMix64;

use crate::data::{load_for, sample_shape};
use crate::run::TrainedRun;
use crate::run::config::apply_overrides;
use crate::run::generate::{Start, generate};
use classifier::{cache_path, hit_list, load_or_train};
use held_out::HeldOutSplit;
use inception::{InceptionReference, published_network};
use quality::{Reference, SampleQuality};
pub use report::{EvalReport, OodScore};
use scores::scores;
use stats::auroc;

/// What `ebm eval` measures.
#[derive(Clone, Debug)]
pub struct EvalOptions {
    /// Test images, samples of each kind, and images of each OOD set.
    pub n: usize,
    /// Langevin steps of the chains that continue the replay buffer (default: the run's
    /// training steps, as training continues them).
    pub buffer_steps: Option<usize>,
    /// Langevin steps of the chains from uniform noise (default: three times the training
    /// steps).
    pub noise_steps: Option<usize>,
    /// `field=value` changes to the run's sampler for the evaluation chains (step size, noise,
    /// clip: a test-time sampler that differs from training's).
    pub sampler_overrides: Vec<String>,
    /// Training steps of the proxy-FID classifier when it is not cached yet.
    pub classifier_steps: usize,
}

/// Evaluates the latest checkpoint of `run` and writes `eval.json` beside it.
pub fn evaluate(
    run: &Path,
    data_dir: &Path,
    opts: &EvalOptions,
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
    let n = opts.n.min(data.test.len());
    anyhow::ensure!(n >= 2, "need at least two test images");
    let shape = sample_shape(&config)?;
    let [c, h, w] = shape;
    let seed = config.seed ^ 0xe7a1;
    device.seed(seed);

    let idx: Vec<usize> = (0..n).collect();
    let (x_test, y_test) = images_to_tensor(&data.test, &idx, Dequantize::None, device);
    let s_test = scores(&plain, x_test.clone());
    let mut rng = SplitMix64::new(seed);
    let mut normal_rng = SplitMix64::new(seed ^ 1);
    let ood: Vec<(OodKind, Tensor<4>)> = OodKind::ALL
        .iter()
        .map(|&kind| {
            let values = kind.generate(&data.test, n, &mut || rng.next_f64(), &mut || {
                normal_rng.normal()
            });
            let x = Tensor::<4>::from_data(TensorData::new(values, [n, c, h, w]), device);
            (kind, x)
        })
        .collect();
    let ood_auroc: Vec<OodScore> = ood
        .iter()
        .map(|(kind, x)| OodScore {
            set: kind.name().into(),
            auroc: auroc(&s_test, &scores(&plain, x.clone())),
        })
        .collect();

    let model_hits = plain.num_classes().map(|_| {
        let mut all = Vec::with_capacity(n);
        for start in (0..n).step_by(256) {
            let labels = &y_test[start..(start + 256).min(n)];
            let e = plain.class_energies(x_test.clone().slice(start..start + labels.len()));
            all.extend(hit_list(e.argmin(1).squeeze_dim(1), labels));
        }
        all
    });
    let accuracy = model_hits
        .as_ref()
        .map(|h| h.iter().filter(|h| **h).count() as f64 / n as f64);

    let toy = config.dataset.starts_with("toy2d:");
    let mut report = EvalReport {
        iteration,
        dataset: config.dataset.clone(),
        n,
        classifier_accuracy: None,
        fid_floor: None,
        fid_ceiling: None,
        samples: Vec::new(),
        ood_auroc,
        accuracy,
        held_out_split: None,
        mean_energy_test: -s_test.iter().sum::<f64>() / n as f64,
        buffer_samples_stored: buffer.len(),
        sampler_overrides: opts.sampler_overrides.clone(),
        note: String::new(),
        inception_test_score: None,
        inception_note: String::new(),
        seconds: 0.0,
    };
    if toy {
        report.note = "toy 2-D data: no classifier, no FID".into();
    } else {
        let cache = cache_path(data_dir, &config.dataset);
        let (classifier, acc) = load_or_train(
            &cache,
            &data.train,
            &data.test,
            opts.classifier_steps,
            device,
        )?;
        let reference = Reference::new(&classifier, x_test.clone());
        let train_idx: Vec<usize> = (0..n.min(data.train.len())).collect();
        let (x_train, _) = images_to_tensor(&data.train, &train_idx, Dequantize::None, device);
        let noise = ood
            .iter()
            .find(|(k, _)| *k == OodKind::Uniform)
            .map(|(_, x)| x.clone())
            .expect("uniform noise is one of the OOD sets");
        let inception = inception_reference(&mut report, data_dir, shape, &x_test, device);
        report.classifier_accuracy = Some(acc);
        if let Some(spec) = config.dataset.strip_prefix("shapes:") {
            let scenes = crate::data::shapes::shape_splits(spec)?.test_scenes;
            let held: Vec<bool> = scenes[..n]
                .iter()
                .map(ebm_data::shapes::is_held_out)
                .collect();
            let predicted = classifier.logits(x_test.clone()).argmax(1).squeeze_dim(1);
            let classifier_hits = hit_list(predicted, &y_test);
            report.held_out_split = Some(HeldOutSplit::new(
                &held,
                model_hits.as_deref(),
                Some(&classifier_hits),
            ));
        }
        report.fid_floor = Some(reference.fid(&classifier, x_train));
        report.fid_ceiling = Some(reference.fid(&classifier, noise));
        let classes = data.train.num_classes;
        let k = config.sampler.steps;
        let runs = [
            ("buffer", Start::Buffer, opts.buffer_steps.unwrap_or(k)),
            ("noise", Start::Noise, opts.noise_steps.unwrap_or(3 * k)),
        ];
        if buffer.len() < n {
            eprintln!(
                "warning: the replay buffer holds {} samples, fewer than the {n} chains: some continue the same sample",
                buffer.len()
            );
        }
        for (name, start, steps) in runs {
            if start == Start::Buffer && buffer.is_empty() {
                eprintln!("the replay buffer is empty: no samples continue it");
                continue;
            }
            let mut sampler = apply_overrides(
                config.sampler.clone(),
                &opts.sampler_overrides,
                "--sampler-set",
            )?;
            sampler.steps = steps;
            device.seed(seed ^ steps as u64);
            let (x, _) = generate(
                &plain,
                &sampler,
                n,
                shape,
                start,
                Some(&mut buffer),
                None,
                device,
            )?;
            let inception_quality = inception.as_ref().map(|i| i.measure(x.clone()));
            let mut quality =
                SampleQuality::measure(name, steps, x, &classifier, &reference, classes);
            quality.inception = inception_quality;
            report.samples.push(quality);
        }
        report.note = format!(
            "proxy FID: Frechet distance between Gaussian fits of the {}-d penultimate features of a small CNN trained on the {} training split (test accuracy {:.4}); comparable between runs on this dataset only, not with Inception FID. floor: real training images; ceiling: uniform noise.",
            classifier::FEATURES,
            config.dataset,
            acc
        );
    }
    report.seconds = started.elapsed().as_secs_f64();
    let path = run.join("eval.json");
    std::fs::write(&path, serde_json::to_string_pretty(&report)?)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(report)
}

/// The Inception FID and IS reference of a 32x32 RGB run: `None` for other shapes, and `None`
/// with a note saying why when the FID Inception weights are not in the data directory (the
/// evaluation goes on without them).
fn inception_reference(
    report: &mut EvalReport,
    data_dir: &Path,
    shape: [usize; 3],
    x_test: &Tensor<4>,
    device: &Device,
) -> Option<InceptionReference> {
    if shape != [3, 32, 32] {
        return None;
    }
    match published_network(data_dir, device) {
        Ok(net) => {
            let reference = InceptionReference::new(net, x_test.clone());
            report.inception_test_score = Some(reference.test_score);
            report.inception_note = format!(
                "Inception FID and IS: pytorch-fid's InceptionV3 with the TensorFlow FID weights ({}); FID of 2048-d pool3 features against the {} test images, IS over min(10, n) splits of the unbiased logits. Comparable with published numbers only at their sample counts (50 000 for the paper's table); at n = {} FID is biased upward.",
                inception::WEIGHTS_FILE,
                report.n,
                report.n
            );
            Some(reference)
        }
        Err(why) => {
            report.inception_note = format!("Inception FID and IS skipped: {why}");
            None
        }
    }
}
