//! The paper's generalisation commands end to end on a tiny class-conditional run trained in
//! seconds on the embedded MNIST subset: `ood`, `robust` and `inpaint` write their JSON with
//! the documented fields and their pictures, PGD with epsilon 0 is the clean accuracy and a
//! larger epsilon raises the classifier's loss, masked inpainting leaves the observed pixels
//! untouched, and bad set names, class indices and unconditional runs are clear errors. On the
//! generated shapes: `eval` splits its accuracies into seen and held-out combinations, and
//! `compose --measure` scores every combination of three methods and how real their samples
//! look.
//!
//! One test binary, tests run one after the other: the device RNG is process-wide.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use burn::tensor::Device;
use ebm_experiments::data::embedded_mnist10k;
use ebm_experiments::paper::crossclass::{CrossClassOptions, run_crossclass};
use ebm_experiments::paper::inpaint::{Corruption, InpaintOptions, inpaint, run_inpaint};
use ebm_experiments::paper::ood::score::Score;
use ebm_experiments::paper::ood::{OodOptions, run_ood};
use ebm_experiments::paper::robust::attack::Norm;
use ebm_experiments::paper::robust::{RobustOptions, run_robust};
use ebm_experiments::paper::{Experiment, first_images, values};
use ebm_experiments::run::model::ModelConfig;
use ebm_experiments::run::presets::preset;
use ebm_experiments::run::{RunStart, train};
use ebm_experiments::testing::device_rng_lock;
use ebm_model::{BlockSpec, ResNetConfig};

static RUN: OnceLock<PathBuf> = OnceLock::new();

/// A data directory that holds nothing: the embedded subset needs none.
fn no_data() -> PathBuf {
    std::env::temp_dir().join(format!("ebm-gen-nodata-{}", std::process::id()))
}

/// A conditional run of a one-block ResNet (8 channels), trained for 6 iterations of batch 8.
fn tiny_run() -> &'static Path {
    RUN.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("ebm-gen-run-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut c = preset("mnist-10k-cond").unwrap();
        c.model = ModelConfig::ResNet(
            ResNetConfig::new(vec![BlockSpec::new(8, true)])
                .with_in_channels(1)
                .with_stem_channels(8)
                .with_num_classes(Some(10)),
        );
        c.sampler.steps = 3;
        c.replay.capacity = 64;
        let c = c
            .with_batch_size(8)
            .with_iterations(6)
            .with_log_every(1)
            .with_sample_every(6)
            .with_checkpoint_every(6)
            .with_grid_size(4);
        train(
            &c,
            &dir,
            &embedded_mnist10k(),
            &Device::flex(),
            RunStart::New,
        )
        .unwrap();
        dir
    })
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn ood_writes_the_table_and_rejects_unknown_sets() {
    let _rng = device_rng_lock();
    let run = tiny_run();
    let device = Device::flex();
    let opts = OodOptions {
        sets: Some(vec![
            "uniform".into(),
            "constant".into(),
            "interpolation".into(),
        ]),
        n: 40,
        seed: 1,
        score: Score::Energy,
    };
    let report = run_ood(run, &no_data(), &opts, &device).unwrap();
    assert_eq!(report.sets.len(), 3);
    for s in &report.sets {
        assert!((0.0..=1.0).contains(&s.auroc), "{}: {}", s.name, s.auroc);
        assert_eq!(s.n, 40);
        assert_eq!(s.roc.first(), Some(&[0.0, 0.0]));
        assert_eq!(s.roc.last(), Some(&[1.0, 1.0]));
    }
    let j = json(&run.join("ood.json"));
    for field in [
        "iteration",
        "dataset",
        "score",
        "n_test",
        "sets",
        "paper_cifar10",
    ] {
        assert!(j.get(field).is_some(), "ood.json lacks {field}");
    }
    assert_eq!(j["sets"][0]["name"], "uniform");
    assert!(run.join("ood-roc.png").is_file());

    // The gradient typicality score writes its own files beside the paper's.
    let grad = OodOptions {
        score: Score::GradTypicality,
        ..opts.clone()
    };
    let report = run_ood(run, &no_data(), &grad, &device).unwrap();
    assert_eq!(report.sets.len(), 3);
    assert!(report.score.contains("grad_x"), "{}", report.score);
    assert!(run.join("ood-grad-typicality.json").is_file());
    assert!(run.join("ood-grad-typicality-roc.png").is_file());

    let bad = OodOptions {
        sets: Some(vec!["cifar11".into()]),
        ..opts
    };
    let err = format!("{:#}", run_ood(run, &no_data(), &bad, &device).unwrap_err());
    assert!(
        err.contains("cifar11") && err.contains("uniform"),
        "the error names the set and the choices: {err}"
    );
}

#[test]
fn robust_eps_zero_is_clean_accuracy_and_attacks_raise_the_loss() {
    let _rng = device_rng_lock();
    let run = tiny_run();
    let device = Device::flex();
    let exp = Experiment::load(run, &no_data(), &device).unwrap();
    let n = 24;
    let (x, y) = first_images(&exp.data.test, n, &device);
    let plain = &exp.run.model;
    let logits = ebm_experiments::paper::robust::defence::logits(plain, &x, None);
    let clean = ebm_experiments::paper::robust::defence::accuracy(logits.clone(), &y);
    let ce = |l: burn::tensor::Tensor<2>| {
        let t = ebm_model::one_hot(&y, 10, &device);
        ebm_experiments::run::loss::cross_entropy(l, t)
            .mean()
            .into_scalar::<f64>()
    };
    let clean_loss = ce(logits);
    for norm in [Norm::Linf, Norm::L2] {
        let eps = match norm {
            Norm::Linf => 0.1,
            Norm::L2 => 2.0,
        };
        let mut grad = |xa| ebm_experiments::paper::robust::defence::ce_grad(plain, &xa, &y, None);
        let adv = ebm_experiments::paper::robust::attack::pgd(&x, norm, eps, 5, &mut grad);
        let adv_loss = ce(ebm_experiments::paper::robust::defence::logits(
            plain, &adv, None,
        ));
        assert!(
            adv_loss > clean_loss,
            "{norm:?}: PGD raises the loss ({clean_loss} -> {adv_loss})"
        );
    }

    let opts = RobustOptions {
        norm: Norm::Linf,
        eps: vec![0.0, 0.3],
        steps: 3,
        n,
        purify_steps: 2,
        chains: 1,
        radius: Some(8.0 / 255.0),
        baseline_steps: 3,
        bpda: true,
        seed: 0,
    };
    let report = run_robust(run, &no_data(), &opts, &device).unwrap();
    assert_eq!(report.curves.len(), 4);
    let ebm = &report.curves[1];
    assert_eq!(
        ebm.accuracy[0], clean,
        "epsilon 0 leaves the accuracy unchanged"
    );
    assert!(ebm.accuracy[1] <= clean, "{:?}", ebm.accuracy);
    for c in &report.curves {
        assert_eq!(c.accuracy.len(), 2, "{}", c.name);
        assert!(c.accuracy.iter().all(|a| (0.0..=1.0).contains(a)));
    }
    let j = json(&run.join("robust-linf.json"));
    for field in [
        "norm",
        "eps",
        "pgd_steps",
        "purify",
        "curves",
        "baseline_weights",
    ] {
        assert!(j.get(field).is_some(), "robust-linf.json lacks {field}");
    }
    assert!(run.join("robust-linf.png").is_file());
}

#[test]
fn inpainting_keeps_observed_pixels_and_reports_the_baselines() {
    let _rng = device_rng_lock();
    let run = tiny_run();
    let device = Device::flex();
    let exp = Experiment::load(run, &no_data(), &device).unwrap();
    let opts = InpaintOptions {
        corruption: Corruption::BottomHalf,
        n: 6,
        steps: Some(4),
        seed: 3,
    };
    let (report, grid) = inpaint(&exp, &opts, &device).unwrap();
    // Grid rows: corrupted, restored, original per image.
    let per = 28 * 28;
    let orig = values(first_images(&exp.data.test, 6, &device).0);
    for i in 0..6 {
        let restored = &grid[(3 * i + 1) * per..(3 * i + 2) * per];
        let corrupted = &grid[3 * i * per..(3 * i + 1) * per];
        assert_eq!(
            &restored[..per / 2],
            &orig[i * per..i * per + per / 2],
            "image {i}: the observed top half is untouched"
        );
        assert_ne!(
            &restored[per / 2..],
            &corrupted[per / 2..],
            "image {i}: the missing half moved"
        );
    }
    assert!((report.corrupted_fraction - 0.5).abs() < 1e-9);
    assert!(report.mse_corrupted > 0.0 && report.mse_mean_fill > 0.0);
    assert!(
        (report.mse_restored - report.mse_restored_region * 0.5).abs() < 1e-6,
        "outside the mask the error is zero"
    );
    let report = run_inpaint(run, &no_data(), &opts, &device).unwrap();
    let j = json(&run.join("inpaint-bottom-half.json"));
    for field in ["mse_restored", "mse_corrupted", "mse_mean_fill", "steps"] {
        assert!(j.get(field).is_some(), "inpaint json lacks {field}");
    }
    assert_eq!(j["n"], report.n);
    assert!(run.join("inpaint-bottom-half.png").is_file());
}

#[test]
fn crossclass_rejects_a_class_the_run_does_not_have() {
    let _rng = device_rng_lock();
    let run = tiny_run();
    let opts = CrossClassOptions {
        from: 3,
        to: 10,
        rounds: 1,
        steps_per_round: Some(1),
        n: 2,
        seed: 0,
    };
    let err = run_crossclass(run, &no_data(), &opts, &Device::flex())
        .expect_err("class 10 of 10 classes is refused");
    let msg = format!("{err:#}");
    assert!(msg.contains("--to 10") && msg.contains("0..=9"), "{msg}");
}

#[test]
fn eval_of_a_shapes_run_splits_seen_and_held_out_combinations() {
    use ebm_experiments::data::shapes::shape_splits;
    use ebm_experiments::eval::{EvalOptions, evaluate};
    let _rng = device_rng_lock();
    let device = Device::flex();
    let dir = tiny_shapes_run("shapes-shape", true);
    let n = 60;
    let opts = EvalOptions {
        n,
        buffer_steps: Some(1),
        noise_steps: Some(1),
        sampler_overrides: vec![],
        classifier_steps: 5,
    };
    let report = evaluate(&dir, &dir.join("data"), &opts, &device).unwrap();
    let split = report
        .held_out_split
        .clone()
        .expect("a shapes run is split");
    let held = shape_splits("shape").unwrap().test_scenes[..n]
        .iter()
        .filter(|s| ebm_data::shapes::is_held_out(s))
        .count();
    assert!(
        held > 0,
        "the first {n} test images hold a held-out combination"
    );
    assert_eq!((split.seen, split.held_out), (n - held, held));
    // The two parts make up the whole.
    let (seen, out) = (
        split.accuracy_seen.unwrap(),
        split.accuracy_held_out.unwrap(),
    );
    let whole = (seen * split.seen as f64 + out * held as f64) / n as f64;
    assert!((whole - report.accuracy.unwrap()).abs() < 1e-9);
    let (seen, out) = (
        split.classifier_seen.unwrap(),
        split.classifier_held_out.unwrap(),
    );
    assert!((0.0..=1.0).contains(&seen) && (0.0..=1.0).contains(&out));
    assert!(report.table().contains("held-out combinations"));
}

/// A `shapes-<preset>` run of a tiny MnistNet (class head where the preset has labels),
/// trained for 2 iterations.
fn tiny_shapes_run(preset_name: &str, grey: bool) -> PathBuf {
    use ebm_experiments::data::shapes::splits;
    use ebm_model::MnistNetConfig;
    let dir = std::env::temp_dir().join(format!("ebm-gen-{preset_name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut c = preset(preset_name).unwrap();
    let classes = c.model.num_classes();
    c.model = ModelConfig::MnistNet(
        MnistNetConfig::new()
            .with_in_channels(3)
            .with_image_size(16)
            .with_filters(4)
            .with_hidden(8)
            .with_num_classes(classes)
            .with_grey_input(Some(grey)),
    );
    c.sampler.steps = 2;
    c.replay.capacity = 32;
    let c = c
        .with_batch_size(8)
        .with_iterations(2)
        .with_time_limit_secs(None)
        .with_sample_every(2)
        .with_checkpoint_every(2)
        .with_grid_size(4);
    let spec = c.dataset.trim_start_matches("shapes:").to_string();
    train(
        &c,
        &dir,
        &splits(&spec).unwrap(),
        &Device::flex(),
        RunStart::New,
    )
    .unwrap();
    dir
}

#[test]
fn compose_measure_scores_every_combination_and_how_real_the_samples_look() {
    use ebm_experiments::paper::compose::LabelledRun;
    use ebm_experiments::paper::compose::measure::{Contenders, MeasureOptions, measure};
    let _rng = device_rng_lock();
    let device = Device::flex();
    let load =
        |name: &str, grey: bool| LabelledRun::load(&tiny_shapes_run(name, grey), &device).unwrap();
    let attributes = [load("shapes-shape", true), load("shapes-colour", false)];
    let (joint, uncond) = (load("shapes-joint", false), load("shapes-uncond", false));
    let who = Contenders {
        attributes: &attributes,
        joint: &joint,
        uncond: &uncond,
    };
    let out = std::env::temp_dir().join(format!("ebm-gen-measure-{}", std::process::id()));
    std::fs::create_dir_all(&out).unwrap();
    let opts = MeasureOptions {
        n: 2,
        steps: 1,
        classifier_steps: 5,
        seed: 3,
    };
    let r = measure(&who, &out.join("data"), &out, &opts, &device).unwrap();
    // Three methods, seen and held-out: 9 seen and 3 held-out combinations of 2 samples.
    let rows: Vec<(&str, &str, usize)> = r
        .scores
        .iter()
        .map(|s| (s.method.as_str(), s.split.as_str(), s.samples))
        .collect();
    assert_eq!(
        rows,
        [
            ("composed", "seen", 18),
            ("composed", "held-out", 6),
            ("joint label", "seen", 18),
            ("joint label", "held-out", 6),
            ("unconditional", "seen", 18),
            ("unconditional", "held-out", 6),
        ]
    );
    assert_eq!(r.per_combination.len(), 36);
    assert_eq!(r.realism.len(), 3);
    for m in &r.realism {
        // Chains one step from uniform noise are far from the renders.
        assert!(
            m.proxy_fid > r.real_proxy_fid,
            "{} vs {}",
            m.proxy_fid,
            r.real_proxy_fid
        );
        // The most likely of three (shape) or four (colour) classes.
        assert!(
            m.mean_confidence.iter().all(|c| (0.25..=1.0).contains(c)),
            "{:?}",
            m.mean_confidence
        );
    }
    for method in ["composed", "joint-label", "unconditional"] {
        assert!(out.join(format!("compose-{method}.png")).is_file());
    }
    assert!(
        ebm_experiments::paper::compose::report::markdown(&r).contains("proxy FID against renders")
    );
}
