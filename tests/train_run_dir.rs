//! End to end on the embedded data: a few-iteration `mnist-10k` run writes every file of the
//! run directory, `--resume` continues exactly (k + k iterations give the same weights as 2k),
//! and the divergence guard rolls back and finally gives up.
//!
//! One test binary, tests run one after the other: the device RNG is process-wide.

use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::tensor::{Device, Distribution, Tensor};
use ebm_experiments::data::embedded_mnist10k;
use ebm_experiments::run::metrics::MetricsLine;
use ebm_experiments::run::model::ModelConfig;
use ebm_experiments::run::presets::preset;
use ebm_experiments::run::{RunStart, TrainConfig, read_config, train};
use ebm_experiments::testing::device_rng_lock;
use ebm_model::{EnergyModel, MnistNetConfig};
use ebm_sampler::InitDistribution;

fn tiny() -> TrainConfig {
    let mut c = preset("mnist-10k").unwrap();
    c.model = ModelConfig::MnistNet(MnistNetConfig::new().with_filters(4).with_hidden(8));
    c.sampler.steps = 3;
    c.replay.capacity = 64;
    c.with_batch_size(8)
        .with_iterations(4)
        .with_log_every(1)
        .with_sample_every(2)
        .with_checkpoint_every(2)
        .with_grid_size(8)
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ebm-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn probe_energies(run_model: &ebm_experiments::run::model::EnergyNet, device: &Device) -> Vec<f32> {
    device.seed(123);
    let x = Tensor::<4>::random([4, 1, 28, 28], Distribution::Default, device);
    run_model
        .valid()
        .energy(x, None)
        .into_data()
        .try_to_vec::<f32>()
        .unwrap()
}

fn metrics(dir: &Path) -> Vec<MetricsLine> {
    std::fs::read_to_string(dir.join("metrics.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn run_directory_holds_every_file() {
    let _rng = device_rng_lock();
    let dir = tmp("rundir");
    let device = Device::flex();
    let config = tiny();
    train(&config, &dir, &embedded_mnist10k(), &device, RunStart::New).unwrap();
    assert_eq!(
        read_config(&dir).unwrap().batch_size,
        8,
        "config.json holds the resolved config"
    );
    let latest = std::fs::read_to_string(dir.join("checkpoints/LATEST")).unwrap();
    assert_eq!(latest.trim(), "iter-00000004");
    for f in ["model.bpk", "optim.bpk", "buffer.bin", "state.json"] {
        assert!(
            dir.join("checkpoints/iter-00000004").join(f).is_file(),
            "missing {f}"
        );
    }
    assert!(
        dir.join("checkpoints/iter-00000002").is_dir(),
        "the previous checkpoint is kept"
    );
    for f in ["iter-00000002.png", "iter-00000004.png", "final.png"] {
        assert!(dir.join("samples").join(f).is_file(), "missing samples/{f}");
    }
    let lines = metrics(&dir);
    assert_eq!(
        lines.iter().map(|m| m.iteration).collect::<Vec<_>>(),
        vec![1, 2, 3, 4]
    );
    assert!(
        lines
            .iter()
            .all(|m| m.e_pos.is_finite() && m.grad_x > 0.0 && m.seconds > 0.0)
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// `base` trained 6 iterations in one go and 3 + 3 with a resume between: the same weights and
/// the same logged losses.
fn assert_resume_is_exact(base: TrainConfig, name: &str) {
    let (device, data) = (Device::flex(), embedded_mnist10k());
    let (straight, split) = (tmp(&format!("{name}-6")), tmp(&format!("{name}-3")));
    let six = base.clone().with_iterations(6);
    let full = train(&six, &straight, &data, &device, RunStart::New).unwrap();
    let three = base.with_iterations(3).with_checkpoint_every(3);
    train(&three, &split, &data, &device, RunStart::New).unwrap();
    // A later invocation raises the total and resumes from the checkpoint at 3.
    let mut more = read_config(&split).unwrap();
    more.iterations = 6;
    let resumed = train(&more, &split, &data, &device, RunStart::Resume).unwrap();

    assert_eq!(
        probe_energies(&full, &device),
        probe_energies(&resumed, &device),
        "3 + 3 iterations must equal 6"
    );
    let a: Vec<f64> = metrics(&straight).iter().map(|m| m.loss).collect();
    let b: Vec<f64> = metrics(&split).iter().map(|m| m.loss).collect();
    assert_eq!(a, b, "the resumed run logs the same losses");
    std::fs::remove_dir_all(&straight).ok();
    std::fs::remove_dir_all(&split).ok();
}

#[test]
fn resume_continues_exactly() {
    let _rng = device_rng_lock();
    assert_resume_is_exact(tiny(), "resume");
    // Fresh starts from fitted Gaussians are not checkpointed: the resumed run fits them again
    // and must draw what the uninterrupted run drew (reuse 0: every chain starts fresh).
    let mut c = tiny();
    c.replay.init = InitDistribution::Fitted { ridge: 1e-3 };
    c.replay.reuse_prob = 0.0;
    assert_resume_is_exact(c, "resume-fitted");
}

#[test]
fn divergence_rolls_back_then_gives_up() {
    let _rng = device_rng_lock();
    let device = Device::flex();
    let dir = tmp("diverge");
    let mut config = tiny();
    // Any energy counts as diverged: every iteration triggers a rollback.
    config.divergence.energy_limit = 0.0;
    config.divergence.max_rollbacks = 2;
    let err = train(&config, &dir, &embedded_mnist10k(), &device, RunStart::New)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("diverged at iteration 0") && err.contains("after 2 rollbacks"),
        "{err}"
    );
    assert!(
        dir.join("checkpoints/iter-00000000/model.bpk").is_file(),
        "the initial checkpoint is the last good one"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_directory_holding_a_run_is_refused_or_overwritten_never_mixed() {
    let _rng = device_rng_lock();
    let device = Device::flex();
    let data = embedded_mnist10k();
    let dir = tmp("mixed");
    // An older, longer run leaves checkpoints 4 and 6 behind.
    train(
        &tiny().with_iterations(6),
        &dir,
        &data,
        &device,
        RunStart::New,
    )
    .unwrap();
    let err = train(
        &tiny().with_iterations(2),
        &dir,
        &data,
        &device,
        RunStart::New,
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("--resume") && err.contains("--overwrite"),
        "{err}"
    );
    assert_eq!(metrics(&dir).len(), 6, "a refused run changes nothing");

    train(
        &tiny().with_iterations(2),
        &dir,
        &data,
        &device,
        RunStart::Overwrite,
    )
    .unwrap();
    let latest = std::fs::read_to_string(dir.join("checkpoints/LATEST")).unwrap();
    assert_eq!(latest.trim(), "iter-00000002");
    let mut left: Vec<String> = std::fs::read_dir(dir.join("checkpoints"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("iter-"))
        .collect();
    left.sort();
    assert_eq!(
        left,
        ["iter-00000000", "iter-00000002"],
        "no older checkpoint survives"
    );
    assert_eq!(metrics(&dir).len(), 2);
}

#[test]
fn sample_flags_that_cannot_apply_are_errors() {
    use ebm_experiments::run::sample::{SampleOptions, sample_run};
    let _rng = device_rng_lock();
    let device = Device::flex();
    let dir = tmp("sampleflags");
    let opts = |label, from_buffer| SampleOptions {
        n: 4,
        steps: Some(1),
        label,
        from_buffer,
        out: Some(dir.join("s.png")),
        seed: 0,
    };
    // No iteration trained: the buffer is empty.
    train(
        &tiny().with_iterations(0),
        &dir,
        &embedded_mnist10k(),
        &device,
        RunStart::New,
    )
    .unwrap();
    let err = sample_run(&dir, &opts(None, true), &device)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("--from-buffer") && err.contains("empty"),
        "{err}"
    );
    let err = sample_run(&dir, &opts(Some(3), false), &device)
        .unwrap_err()
        .to_string();
    assert!(err.contains("unconditional"), "{err}");
    sample_run(&dir, &opts(None, false), &device).unwrap();
    assert!(dir.join("s.png").is_file());
}

#[test]
fn eval_reports_buffer_and_noise_samples_and_every_ood_set() {
    use ebm_experiments::eval::{EvalOptions, EvalReport, evaluate};
    let _rng = device_rng_lock();
    let device = Device::flex();
    let dir = tmp("eval");
    train(
        &tiny().with_iterations(4),
        &dir,
        &embedded_mnist10k(),
        &device,
        RunStart::New,
    )
    .unwrap();
    let opts = EvalOptions {
        n: 40,
        buffer_steps: Some(2),
        noise_steps: None,
        sampler_overrides: vec!["step_size=0.5".into()],
        classifier_steps: 5,
    };
    let report = evaluate(&dir, &dir.join("data"), &opts, &device).unwrap();
    let kinds: Vec<(&str, usize)> = report
        .samples
        .iter()
        .map(|q| (q.start.as_str(), q.steps))
        .collect();
    assert_eq!(
        kinds,
        [("buffer", 2), ("noise", 3 * 3)],
        "noise chains default to 3K"
    );
    for q in &report.samples {
        assert_eq!(q.class_shares.len(), 10);
        assert!((q.class_shares.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        let counts = q.class_shares.iter().map(|s| s * q.n as f64);
        assert!(
            counts.clone().all(|c| (c - c.round()).abs() < 1e-9),
            "shares of {} samples",
            q.n
        );
        assert_eq!(
            q.max_class_share,
            q.class_shares.iter().copied().fold(0.0, f64::max)
        );
        assert!((0.1..=1.0).contains(&q.mean_confidence));
    }
    let sets: Vec<&str> = report.ood_auroc.iter().map(|o| o.set.as_str()).collect();
    assert_eq!(
        sets,
        ["constant", "uniform", "official_uniform", "interpolation"]
    );
    assert!(
        report
            .ood_auroc
            .iter()
            .all(|o| (0.0..=1.0).contains(&o.auroc))
    );
    assert!(report.fid_floor.unwrap() < report.fid_ceiling.unwrap());
    assert!(
        report.held_out_split.is_none(),
        "only shapes runs are split"
    );
    let saved = std::fs::read_to_string(dir.join("eval.json")).unwrap();
    assert_eq!(saved, serde_json::to_string_pretty(&report).unwrap());
    let parsed: EvalReport = serde_json::from_str(&saved).unwrap();
    assert_eq!(parsed.samples.len(), 2);
    let table = report.table();
    assert!(
        table.contains("| buffer | 2 |") && table.contains("| interpolation |"),
        "{table}"
    );
    assert!(
        dir.join("data/classifiers").is_dir(),
        "the classifier is cached"
    );
}

#[test]
fn averaged_weights_and_shifted_replays_resume_exactly() {
    use ebm_experiments::run::TrainedRun;
    let _rng = device_rng_lock();
    let device = Device::flex();
    let data = embedded_mnist10k();
    let config = || {
        let mut c = tiny().with_checkpoint_every(3);
        c.ema_decay = Some(0.9);
        c.augment_shift = 2;
        c
    };
    let straight = tmp("ema-straight");
    train(
        &config().with_iterations(6),
        &straight,
        &data,
        &device,
        RunStart::New,
    )
    .unwrap();
    let split = tmp("ema-split");
    train(
        &config().with_iterations(3),
        &split,
        &data,
        &device,
        RunStart::New,
    )
    .unwrap();
    let mut more = read_config(&split).unwrap();
    more.iterations = 6;
    train(&more, &split, &data, &device, RunStart::Resume).unwrap();
    assert!(straight.join("checkpoints/iter-00000006/ema.bpk").is_file());
    let averaged = |dir: &Path| TrainedRun::load(dir, &device).unwrap().model;
    assert_eq!(
        probe_energies(&averaged(&straight), &device),
        probe_energies(&averaged(&split), &device),
        "the average and the shifts must resume exactly"
    );
    // The average differs from the live weights it follows.
    let live = ebm_experiments::run::checkpoint::load(
        &straight.join("checkpoints/iter-00000006"),
        config().model.init(&device.clone().autodiff()),
        config().optimizer.init(),
        config().replay,
        &[1, 28, 28],
    )
    .unwrap()
    .model;
    assert_ne!(
        probe_energies(&live, &device),
        probe_energies(&averaged(&straight), &device)
    );
}

#[test]
fn the_kl_and_entropy_terms_enter_the_loss_and_move_the_weights() {
    let _rng = device_rng_lock();
    let device = Device::flex();
    let data = embedded_mnist10k();
    let run = |name: &str, kl: Option<f64>| {
        let dir = tmp(name);
        let mut c = tiny().with_iterations(2);
        c.kl_weight = kl;
        train(&c, &dir, &data, &device, RunStart::New).unwrap();
        dir
    };
    let (plain, kl) = (run("kl-off", None), run("kl-on", Some(2.0)));
    let (m0, m1) = (metrics(&plain), metrics(&kl));
    // Before the first update both runs hold the same weights and draw the same negatives:
    // the KL term's value is the weight times their mean energy under those weights.
    assert_eq!((m0[0].e_pos, m0[0].e_neg), (m1[0].e_pos, m1[0].e_neg));
    let added = m1[0].loss - m0[0].loss;
    assert!(
        (added - 2.0 * m0[0].e_neg).abs() < 1e-4 * (1.0 + m0[0].e_neg.abs()),
        "the term added {added}, the negatives' mean energy is {}",
        m0[0].e_neg
    );
    // Its gradient is not zero: the weights part.
    let weights = |dir: &Path| {
        let c = read_config(dir).unwrap();
        ebm_experiments::run::checkpoint::load(
            &dir.join("checkpoints/iter-00000002"),
            c.model.init(&device.clone().autodiff()),
            c.optimizer.init(),
            c.replay,
            &[1, 28, 28],
        )
        .unwrap()
        .model
    };
    assert_ne!(
        probe_energies(&weights(&plain), &device),
        probe_energies(&weights(&kl), &device)
    );

    // The entropy term waits for a full buffer (8 samples after the first iteration here),
    // then changes the loss but not the negatives of that iteration.
    let run_small = |name: &str, entropy: Option<f64>| {
        let dir = tmp(name);
        let mut c = tiny().with_iterations(2);
        c.replay.capacity = 8;
        c.entropy_weight = entropy;
        train(&c, &dir, &data, &device, RunStart::New).unwrap();
        metrics(&dir)
    };
    let (m0, m1) = (
        run_small("entropy-off", None),
        run_small("entropy-on", Some(0.3)),
    );
    assert_eq!(m0[0].loss, m1[0].loss, "no term before the buffer fills");
    assert_eq!((m0[1].e_pos, m0[1].e_neg), (m1[1].e_pos, m1[1].e_neg));
    assert_ne!(m0[1].loss, m1[1].loss, "the term once it is full");
}
