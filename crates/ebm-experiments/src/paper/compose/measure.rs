//! Scoring compositions: attribute classifiers (the proxy-FID CNN, trained on generated
//! images of every combination) judge samples of every shape x colour combination from the
//! composed attribute models, the joint-label model and the unconditional one.

use std::path::Path;
use std::time::Instant;

use anyhow::{Result, bail};
use burn::tensor::{Device, Tensor};
use ebm_data::shapes::{HELD_OUT, generate, is_held_out, labelled};
use ebm_data::{Attribute, Dequantize, Labeling, Scene, images_to_tensor};

use super::report::{ClassifierInfo, CombinationScore, ComposeReport, Realism, RunInfo, Scores};
use super::{LabelledRun, Request, composed_energy, sample_from_noise, sampler_for};
use crate::data::shapes::SHAPE;
use crate::eval::classifier::{Classifier, cache_path, load_or_train, predict};
use crate::eval::quality::Reference;
use crate::plot::grid::write_grid_columns;

/// How much to sample and how long to train the judges.
#[derive(Clone, Debug)]
pub struct MeasureOptions {
    /// Chains per combination and method.
    pub n: usize,
    /// Langevin steps from noise.
    pub steps: usize,
    /// Optimiser steps of each attribute classifier (batch 128).
    pub classifier_steps: usize,
    /// Seed of the chains.
    pub seed: u64,
}

/// The models compared: the attribute runs, the joint-label run, the unconditional run.
pub struct Contenders<'a> {
    /// One run per attribute.
    pub attributes: &'a [LabelledRun],
    /// A run on the joint label of the held-out attributes.
    pub joint: &'a LabelledRun,
    /// An unconditional run.
    pub uncond: &'a LabelledRun,
}

/// Samples shown per combination in the grids.
const SHOW: usize = 8;

/// The classifier of `attribute`, trained once on generated images of every combination and
/// cached under the data directory; with its test accuracy.
fn judge(
    attribute: Attribute,
    steps: usize,
    data_dir: &Path,
    device: &Device,
) -> Result<(Classifier, f64)> {
    let labeling = Labeling::One(attribute);
    let (train, _) = labelled(&labeling, generate(6_000, 11, &|_| true));
    let (test, _) = labelled(&labeling, generate(1_000, 12, &|_| true));
    let cache = cache_path(data_dir, &format!("shapes-{}-{steps}", attribute.name()));
    load_or_train(&cache, &train, &test, steps, device)
}

/// `n` rendered images of every combination (drawn from `seed`) as a tensor.
fn renders(n: usize, seed: u64, device: &Device) -> Tensor<4> {
    let (set, _) = labelled(&Labeling::None, generate(n, seed, &|_| true));
    let idx: Vec<usize> = (0..n).collect();
    images_to_tensor(&set, &idx, Dequantize::None, device).0
}

fn combination_name(attrs: &[Attribute], values: &[usize]) -> String {
    attrs
        .iter()
        .zip(values)
        .map(|(a, v)| format!("{}={}", a.name(), a.values()[*v]))
        .collect::<Vec<_>>()
        .join(",")
}

/// Runs the measurement, writes one grid per method in `out_dir` (a row per combination),
/// and returns the report.
pub fn measure(
    who: &Contenders,
    data_dir: &Path,
    out_dir: &Path,
    opts: &MeasureOptions,
    device: &Device,
) -> Result<ComposeReport> {
    let started = Instant::now();
    let attrs: Vec<Attribute> = HELD_OUT[0].iter().map(|(a, _)| *a).collect();
    if who.joint.labeling != Labeling::Joint(attrs.clone()) {
        bail!(
            "the joint-label run {} must be trained on shapes:{} (the shapes-joint preset)",
            who.joint.path.display(),
            attrs.iter().map(|a| a.name()).collect::<Vec<_>>().join("+")
        );
    }
    let judges = attrs
        .iter()
        .map(|&a| judge(a, opts.classifier_steps, data_dir, device))
        .collect::<Result<Vec<_>>>()?;
    let combos: Vec<Vec<usize>> = (0..attrs[0].count())
        .flat_map(|a| (0..attrs[1].count()).map(move |b| vec![a, b]))
        .collect();
    let sampler = sampler_for(who.attributes, opts.steps);
    // The same budget of gradient evaluations for every method: a composed step evaluates
    // each attribute model once, so a single model's chains get as many steps as that.
    let single = sampler_for(who.attributes, opts.steps * attrs.len());
    let methods = ["composed", "joint label", "unconditional"];
    // Realism: every method's samples against rendered images, in the first judge's features.
    let feature_judge = &judges[0].0;
    let reference = Reference::new(feature_judge, renders(1_000, 12, device));
    let per_method = opts.n * combos.len();
    let real_proxy_fid = reference.fid(feature_judge, renders(per_method, 13, device));
    let mut realism = Vec::new();
    let mut scores = Vec::new();
    let mut per_combination = Vec::new();
    for method in methods {
        // The first judge's features of every sample, for the realism FID.
        let mut features = Vec::new();
        let mut confidence = vec![0.0; judges.len()];
        // [split][attribute hits..., joint hits, samples]
        let mut tally = [vec![0usize; attrs.len() + 2], vec![0usize; attrs.len() + 2]];
        let mut grid = Vec::new();
        for (k, values) in combos.iter().enumerate() {
            let seed = opts.seed ^ (k as u64).wrapping_mul(0x9e37_79b9);
            let x: Tensor<4> = match method {
                "composed" => {
                    let request = Request {
                        want: attrs.iter().copied().zip(values.iter().copied()).collect(),
                        ..Request::default()
                    };
                    let energy = composed_energy(who.attributes, &request)?;
                    sample_from_noise(&energy, &sampler, opts.n, seed, device)
                }
                "joint label" => {
                    let class = who.joint.labeling.class_of(values);
                    let energy = |x| who.joint.energy(x, class);
                    sample_from_noise(&energy, &single, opts.n, seed, device)
                }
                _ => {
                    let energy = |x| who.uncond.energy(x, 0);
                    sample_from_noise(&energy, &single, opts.n, seed, device)
                }
            };
            let mut scene = Scene([0; 4]);
            for (a, v) in attrs.iter().zip(values) {
                scene.0[Attribute::ALL.iter().position(|b| b == a).expect("listed")] = *v;
            }
            let held = is_held_out(&scene);
            let predicted: Vec<Vec<usize>> = judges
                .iter()
                .zip(confidence.iter_mut())
                .enumerate()
                .map(|(j, ((c, _), sum))| {
                    let p = predict(c, x.clone());
                    *sum += p.confidence.iter().sum::<f64>();
                    if j == 0 {
                        features.extend(p.features);
                    }
                    p.class
                })
                .collect();
            let t = &mut tally[usize::from(held)];
            let mut joint_hits = 0;
            for i in 0..opts.n {
                let right: Vec<bool> = predicted
                    .iter()
                    .zip(values)
                    .map(|(p, v)| p[i] == *v)
                    .collect();
                for (j, r) in right.iter().enumerate() {
                    t[j] += usize::from(*r);
                }
                joint_hits += usize::from(right.iter().all(|r| *r));
            }
            t[attrs.len()] += joint_hits;
            t[attrs.len() + 1] += opts.n;
            per_combination.push(CombinationScore {
                method: method.into(),
                combination: combination_name(&attrs, values),
                held_out: held,
                joint_accuracy: joint_hits as f64 / opts.n as f64,
            });
            let shown = x.slice(0..SHOW.min(opts.n));
            grid.extend(super::super::values(shown));
        }
        for (split, t) in ["seen", "held-out"].iter().zip(&tally) {
            let n = t[attrs.len() + 1].max(1) as f64;
            scores.push(Scores {
                method: method.into(),
                split: split.to_string(),
                samples: t[attrs.len() + 1],
                attribute_accuracy: t[..attrs.len()].iter().map(|h| *h as f64 / n).collect(),
                joint_accuracy: t[attrs.len()] as f64 / n,
            });
        }
        realism.push(Realism {
            method: method.into(),
            proxy_fid: reference.fid_of_features(&features),
            mean_confidence: confidence.iter().map(|c| c / per_method as f64).collect(),
        });
        let file = out_dir.join(format!("compose-{}.png", method.replace(' ', "-")));
        write_grid_columns(&file, &grid, SHAPE, SHOW.min(opts.n), 3)?;
    }
    let run_info = |role: &str, r: &LabelledRun| RunInfo {
        role: role.into(),
        path: r.path.display().to_string(),
        preset: r.run.config.preset.clone(),
        iterations: r.run.iteration,
    };
    let mut runs: Vec<RunInfo> = who
        .attributes
        .iter()
        .map(|r| {
            let role = r
                .labeling
                .attributes()
                .iter()
                .map(|a| a.name())
                .collect::<Vec<_>>();
            run_info(&role.join("+"), r)
        })
        .collect();
    runs.push(run_info("joint label", who.joint));
    runs.push(run_info("unconditional", who.uncond));
    Ok(ComposeReport {
        attributes: attrs.iter().map(|a| a.name().to_string()).collect(),
        held_out: HELD_OUT
            .iter()
            .map(|c| {
                let (a, v): (Vec<Attribute>, Vec<usize>) = c.iter().copied().unzip();
                combination_name(&a, &v)
            })
            .collect(),
        runs,
        classifiers: attrs
            .iter()
            .zip(&judges)
            .map(|(a, (_, acc))| ClassifierInfo {
                attribute: a.name().into(),
                test_accuracy: *acc,
            })
            .collect(),
        samples_per_combination: opts.n,
        langevin_steps: opts.steps,
        baseline_steps: opts.steps * attrs.len(),
        scores,
        per_combination,
        realism,
        real_proxy_fid,
        chance_joint: 1.0 / combos.len() as f64,
        seconds: started.elapsed().as_secs_f64(),
    })
}
