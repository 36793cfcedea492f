//! `ebm bench`, training part: real `ebm train` runs in a child process, timed per iteration
//! from their `metrics.jsonl`, with the peak resident memory the child reports, in rounds
//! interleaved with the reference's iterations.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};
use ebm_data::{ImageSet, write_cifar10};

use serde_json::json;

use super::reference::{Reference, fastest, warm_up};
use super::{BenchNet, BenchOptions, TrainRow, median};
use crate::run::memory::parse_peak_line;
use crate::run::metrics::MetricsLine;
use crate::run::paths::RunPaths;

/// One finished `ebm train` child.
#[derive(Clone, Debug)]
pub struct TrainRun {
    /// Seconds of each training iteration (checkpoints and sample grids excluded).
    pub iteration_seconds: Vec<f64>,
    /// Peak resident set of the child, MiB, as it reports it (`None` where the OS does not).
    pub peak_rss_mib: Option<f64>,
}

/// Writes a CIFAR-10 folder of random images (`per_file` records in each of the six files), so
/// that the CIFAR presets run with the real shapes where CIFAR-10 is not at hand.
pub fn write_cifar_fixture(dir: &Path, per_file: usize) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut byte = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 24) as u8
    };
    let names = (1..=5)
        .map(|i| format!("data_batch_{i}.bin"))
        .chain(["test_batch.bin".to_string()]);
    for name in names {
        let pixels: Vec<u8> = (0..per_file * 3 * 32 * 32).map(|_| byte()).collect();
        let labels: Vec<u16> = (0..per_file).map(|i| (i % 10) as u16).collect();
        let set = ImageSet::new(&name, pixels, labels, [3, 32, 32], 10)?;
        let path = dir.join(&name);
        std::fs::write(&path, write_cifar10(&set))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// Runs `exe train <args>` into `run_dir` and reads back its iteration times and peak memory.
pub fn run_train(exe: &Path, args: &[String], run_dir: &Path) -> Result<TrainRun> {
    let mut cmd = Command::new(exe);
    cmd.arg("train")
        .args(args)
        .arg("--out")
        .arg(run_dir)
        .stdout(Stdio::null());
    let out = cmd
        .output()
        .with_context(|| format!("running {} train", exe.display()))?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        bail!("`ebm train {}` failed:\n{stderr}", args.join(" "));
    }
    // The child's own figure: the OS's per-child maximum would include this process's memory
    // at the time of the spawn (the child shares it until exec).
    let peak_rss_mib = parse_peak_line(&stderr);
    let metrics = RunPaths {
        dir: run_dir.to_path_buf(),
    }
    .metrics();
    let text = std::fs::read_to_string(&metrics)
        .with_context(|| format!("reading {}", metrics.display()))?;
    let mut cumulative = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let m: MetricsLine =
            serde_json::from_str(line).with_context(|| format!("parsing {}", metrics.display()))?;
        cumulative.push(m.seconds);
    }
    let iteration_seconds = cumulative
        .iter()
        .scan(0.0, |prev, &c| {
            let d = c - *prev;
            *prev = c;
            Some(d)
        })
        .collect();
    Ok(TrainRun {
        iteration_seconds,
        peak_rss_mib,
    })
}

/// A fresh scratch directory for bench runs, removed when dropped.
pub struct Scratch(pub PathBuf);

impl Scratch {
    /// Creates `<tmp>/ebm-bench-<pid>`.
    pub fn new() -> Result<Self> {
        let dir = std::env::temp_dir().join(format!("ebm-bench-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        Ok(Self(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Untimed iterations of each `ebm train` child before the timed one. Two, because the
/// second iteration of a fresh process still pays for first touches of memory (about 5% over
/// later ones for MnistNet at batch 128), which the reference's long-lived processes have
/// behind them from their second round on.
pub const CHILD_WARM_UP: usize = 2;

/// Training iterations of one network, in rounds that alternate the implementations as the
/// step rounds do: a fresh `ebm train` child runs [`CHILD_WARM_UP`] iterations to warm up and
/// one that is timed, then each reference configuration times one iteration (its process,
/// kept between rounds, warmed up by one iteration of its own before the first round).
pub fn train_rows(
    network: BenchNet,
    opts: &BenchOptions,
    scratch: &Path,
    references: &mut Vec<Reference>,
) -> Result<Vec<TrainRow>> {
    let preset = network.train_preset();
    let data_dir = scratch.join("data");
    if network == BenchNet::ResNet32 {
        // Random images in the CIFAR-10 format: the shapes and the work of real CIFAR-10.
        write_cifar_fixture(&data_dir.join("cifar10"), opts.batch.max(100))?;
    }
    let big = "1000000000".to_string();
    let mut args: Vec<String> = vec![
        preset.to_string(),
        "--device".into(),
        opts.device_spec.clone(),
        "--data-dir".into(),
        data_dir.display().to_string(),
        "--iters".into(),
        (CHILD_WARM_UP + 1).to_string(),
        "--batch".into(),
        opts.batch.to_string(),
        "--set".into(),
        format!("sampler.steps={}", opts.train_steps),
        "--set".into(),
        "log_every=1".into(),
        "--set".into(),
        format!("sample_every={big}"),
        "--set".into(),
        format!("checkpoint_every={big}"),
        "--set".into(),
        "time_limit_secs=null".into(),
    ];
    for pin in network.train_pins() {
        args.extend(["--set".to_string(), pin.to_string()]);
    }
    let request = json!({
        "op": "train", "net": network.name(), "batch": opts.batch, "steps": opts.train_steps
    });
    warm_up(references, &request);
    let (mut ours, mut peak_rss) = (Vec::new(), None::<f64>);
    let mut torch = vec![Vec::new(); references.len()];
    for round in 0..opts.train_iters {
        let run_dir = scratch.join(format!("train-{}-{round}", network.name()));
        let run = run_train(&opts.exe, &args, &run_dir)?;
        let timed = run
            .iteration_seconds
            .last()
            .copied()
            .context("the training child logged no iteration")?;
        ours.push(timed);
        if let Some(rss) = run.peak_rss_mib {
            peak_rss = Some(peak_rss.map_or(rss, |p| p.max(rss)));
        }
        let _ = std::fs::remove_dir_all(&run_dir);
        for (r, times) in references.iter_mut().zip(&mut torch) {
            times.push(r.seconds(&request)?);
        }
    }
    let torch_medians: Vec<f64> = torch.iter().map(|t| median(t)).collect();
    let torch_secs = fastest(&torch_medians).map(|i| torch_medians[i]);
    let row = |implementation: &str, samples: Vec<f64>, rss: Option<f64>| {
        let secs = median(&samples);
        TrainRow {
            network: network.name().into(),
            preset: preset.into(),
            batch: opts.batch,
            steps: opts.train_steps,
            implementation: implementation.into(),
            seconds_per_iteration: secs,
            vs_pytorch: torch_secs.map(|t| t / secs),
            peak_rss_mib: rss,
            samples,
        }
    };
    let mut rows = vec![row("ebm", ours, peak_rss)];
    for (r, times) in references.iter_mut().zip(torch) {
        let rss = r.peak_rss_mib()?;
        rows.push(row(&format!("pytorch ({})", r.info.mode), times, Some(rss)));
    }
    Ok(rows)
}
