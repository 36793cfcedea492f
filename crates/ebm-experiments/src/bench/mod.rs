//! `ebm bench`: Langevin-step throughput, CD training-iteration time, peak memory and data
//! loading, side by side with the PyTorch reference (`benches/reference/igebm_torch.py`) when a
//! Python with torch is available, in every configuration a PyTorch user would try (eager NCHW,
//! channels-last, `torch.compile`), ratios taken against the fastest. Measurements of the
//! implementations are interleaved (one of each in turn) and medians reported, because shared
//! machines are noisy.

pub mod layers;
pub mod reference;
pub mod steps;
pub mod train;

use std::path::PathBuf;

use anyhow::{Context, Result};
use burn::tensor::Device;
use serde::Serialize;

use crate::data::DatasetName;
use crate::data::timing::{DataRow, time_loading};
use reference::{Reference, ReferenceInfo, ReferenceMode, find_python};
use train::Scratch;

/// Which networks `ebm bench` measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BenchNet {
    /// CIFAR-10 conditional ResNet32 (10 classes) on 3x32x32, the `cifar10-cond` preset.
    ResNet32,
    /// MnistNet on 1x28x28, the `mnist` presets.
    MnistNet,
}

impl BenchNet {
    /// Name used on the command line, in the table and by the reference.
    pub fn name(self) -> &'static str {
        match self {
            BenchNet::ResNet32 => "resnet32",
            BenchNet::MnistNet => "mnistnet",
        }
    }

    /// Parses `resnet32` or `mnistnet`.
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "resnet32" => Ok(BenchNet::ResNet32),
            "mnistnet" => Ok(BenchNet::MnistNet),
            other => anyhow::bail!("unknown network {other:?}: expected resnet32 or mnistnet"),
        }
    }

    /// The preset whose training iteration is timed.
    pub fn train_preset(self) -> &'static str {
        match self {
            BenchNet::ResNet32 => "cifar10-cond",
            BenchNet::MnistNet => "mnist-10k",
        }
    }

    /// `--set` overrides that pin the timed preset to the network the reference builds (the
    /// official widths), whatever the preset tunes for a short CPU budget.
    pub fn train_pins(self) -> &'static [&'static str] {
        match self {
            BenchNet::ResNet32 => &[],
            BenchNet::MnistNet => &["model.MnistNet.filters=64", "sampler.step_size=1.0"],
        }
    }
}

/// What `ebm bench` runs.
#[derive(Clone, Debug)]
pub struct BenchOptions {
    /// Networks to measure.
    pub networks: Vec<BenchNet>,
    /// Batch size (the and the presets' 128).
    pub batch: usize,
    /// Interleaved rounds of Langevin-step measurements (medians reported).
    pub reps: usize,
    /// Training rounds (0 skips the training part): per round one fresh `ebm train` child
    /// (a warm-up iteration, then the timed one) and one reference iteration.
    pub train_iters: usize,
    /// Langevin steps per training iteration (K).
    pub train_steps: usize,
    /// Python with torch for the reference (`None`: look for one).
    pub python: Option<PathBuf>,
    /// Skip the reference even when torch is available.
    pub no_reference: bool,
    /// The reference's configurations to measure (one process each, per network).
    pub reference_modes: Vec<ReferenceMode>,
    /// Also time the parameters-on-autodiff step and Burn's own kernels (conv2d, sigmoid).
    pub variants: bool,
    /// Also time every distinct convolution alone, per pass ([`layers`]).
    pub layers: bool,
    /// Data directory for the data-loading part (the embedded MNIST subset is always timed).
    pub data_dir: Option<PathBuf>,
    /// Device string passed to the `ebm train` children.
    pub device_spec: String,
    /// The `ebm` executable (for the training children).
    pub exe: PathBuf,
    /// Threads the reference may use (this process's rayon threads).
    pub threads: usize,
}

/// One Langevin-step measurement row.
#[derive(Clone, Debug, Serialize)]
pub struct StepRow {
    /// Network.
    pub network: String,
    /// Batch size.
    pub batch: usize,
    /// Conv + linear weights.
    pub weights: usize,
    /// `ebm`, `ebm (Burn kernels)`, `ebm (params on autodiff)` or `pytorch (<mode>)`.
    pub implementation: String,
    /// Median seconds of one energy + input-gradient evaluation.
    pub seconds_per_step: f64,
    /// Images x steps per second.
    pub images_steps_per_second: f64,
    /// Throughput relative to the fastest PyTorch configuration in the same run (> 1: faster).
    pub vs_pytorch: Option<f64>,
    /// Every measurement, in order.
    pub samples: Vec<f64>,
}

/// One training-iteration row.
#[derive(Clone, Debug, Serialize)]
pub struct TrainRow {
    /// Network.
    pub network: String,
    /// Preset run (for `ebm`).
    pub preset: String,
    /// Batch size.
    pub batch: usize,
    /// Langevin steps per iteration.
    pub steps: usize,
    /// `ebm` or `pytorch (<mode>)`.
    pub implementation: String,
    /// Median seconds per iteration.
    pub seconds_per_iteration: f64,
    /// Relative to the fastest PyTorch configuration (> 1: faster).
    pub vs_pytorch: Option<f64>,
    /// Peak resident memory of the process, MiB: the training child for `ebm`, the reference
    /// process (its Langevin steps and training iterations of this network) for PyTorch.
    pub peak_rss_mib: Option<f64>,
    /// Every iteration's seconds.
    pub samples: Vec<f64>,
}

/// Everything `ebm bench` measured.
#[derive(Clone, Debug, Serialize)]
pub struct BenchReport {
    /// Device string.
    pub device: String,
    /// Worker threads of this process.
    pub threads: usize,
    /// The PyTorch reference processes that ran (one per network and mode).
    pub references: Vec<ReferenceInfo>,
    /// Langevin steps.
    pub steps: Vec<StepRow>,
    /// Training iterations.
    pub train: Vec<TrainRow>,
    /// Convolutions alone, per pass (with `--layers`).
    pub layers: Vec<layers::LayerRow>,
    /// Data loading.
    pub data: Vec<DataRow>,
}

/// Median of a non-empty list.
pub fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

/// Load time of the embedded MNIST subset and of `fashion-mnist` where the data dir has it.
fn bench_data(opts: &BenchOptions, device: &Device) -> Vec<DataRow> {
    let dir = crate::data::data_dir(opts.data_dir.as_deref());
    [DatasetName::Mnist10k, DatasetName::FashionMnist]
        .into_iter()
        .filter_map(|name| time_loading(name, &dir, device).ok())
        .map(|(_, row)| row)
        .collect()
}

fn ratio(r: Option<f64>) -> String {
    r.map_or("-".into(), |r| format!("{r:.2}x"))
}

/// Starts one reference process per mode (none without a Python that has torch).
fn start_references(opts: &BenchOptions, python: Option<&PathBuf>) -> Result<Vec<Reference>> {
    let Some(py) = python else {
        return Ok(Vec::new());
    };
    opts.reference_modes
        .iter()
        .map(|&mode| {
            Reference::start(py, opts.threads, mode).with_context(|| {
                format!(
                    "starting the PyTorch reference ({}) with {}",
                    mode.name(),
                    py.display()
                )
            })
        })
        .collect()
}

/// Prints which reference configuration was fastest for one table.
fn print_fastest<'a>(rows: impl Iterator<Item = (&'a str, f64)>) {
    let torch: Vec<(&str, f64)> = rows.filter(|(n, _)| n.starts_with("pytorch")).collect();
    let medians: Vec<f64> = torch.iter().map(|r| r.1).collect();
    if let Some(i) = reference::fastest(&medians) {
        println!(
            "ratios against the fastest PyTorch configuration: {}",
            torch[i].0
        );
    }
}

/// Runs every part, printing each table as it completes.
pub fn run_bench(opts: &BenchOptions, device: &Device) -> Result<BenchReport> {
    let python = if opts.no_reference {
        None
    } else {
        let found = find_python(opts.python.as_deref());
        if found.is_none() {
            println!(
                "reference: no Python with torch found (--python PATH; see benches/reference/README.md); ebm only"
            );
        }
        found
    };
    println!(
        "device {}, {} threads, batch {}, medians of {} interleaved rounds",
        opts.device_spec, opts.threads, opts.batch, opts.reps
    );
    let (mut steps, mut train, mut references) = (Vec::new(), Vec::new(), Vec::new());
    let mut layer_rows = Vec::new();
    let scratch = Scratch::new()?;
    for &net in &opts.networks {
        // Fresh reference processes per network, so each one's peak memory is this network's.
        let mut refs = start_references(opts, python.as_ref())?;
        for r in &refs {
            println!(
                "reference {}: PyTorch {} ({} threads, allocator {}) via {}",
                r.info.mode, r.info.torch, r.info.threads, r.info.allocator, r.info.python
            );
        }
        println!(
            "\nLangevin step (energy + input gradient), {}\n{:<10} {:<26} {:>10} {:>16} {:>10}",
            net.name(),
            "network",
            "implementation",
            "s/step",
            "images*steps/s",
            "vs torch"
        );
        let rows = steps::step_rows(net, opts, device, &mut refs)?;
        for r in &rows {
            println!(
                "{:<10} {:<26} {:>10.4} {:>16.1} {:>10}",
                r.network,
                r.implementation,
                r.seconds_per_step,
                r.images_steps_per_second,
                ratio(r.vs_pytorch)
            );
        }
        print_fastest(
            rows.iter()
                .map(|r| (r.implementation.as_str(), r.seconds_per_step)),
        );
        steps.extend(rows);
        if opts.train_iters > 0 {
            println!(
                "\nCD training iteration (K = {}, batch {}, median of {} interleaved rounds)\n{:<10} {:<14} {:<26} {:>10} {:>10} {:>14}",
                opts.train_steps,
                opts.batch,
                opts.train_iters,
                "network",
                "preset",
                "implementation",
                "s/iter",
                "vs torch",
                "peak RSS MiB"
            );
            let rows = train::train_rows(net, opts, &scratch.0, &mut refs)?;
            for r in &rows {
                println!(
                    "{:<10} {:<14} {:<26} {:>10.2} {:>10} {:>14}",
                    r.network,
                    r.preset,
                    r.implementation,
                    r.seconds_per_iteration,
                    ratio(r.vs_pytorch),
                    r.peak_rss_mib.map_or("-".into(), |m| format!("{m:.0}"))
                );
            }
            print_fastest(
                rows.iter()
                    .map(|r| (r.implementation.as_str(), r.seconds_per_iteration)),
            );
            train.extend(rows);
        }
        if opts.layers {
            println!(
                "\nConvolutions alone ({}, batch {}, medians of {} interleaved rounds; x N: how many of the network)\n{:<24} {:<12} {:>10} {:>10} {:>10} {:<14}",
                net.name(),
                opts.batch,
                opts.reps,
                "layer",
                "pass",
                "ebm s",
                "torch s",
                "vs torch",
                "torch mode"
            );
            let rows = layers::layer_rows(net, opts.batch, opts.reps, device, &mut refs)?;
            for r in &rows {
                println!(
                    "{:<24} {:<12} {:>10.4} {:>10} {:>10} {:<14}",
                    format!("{} x{}", r.layer, r.count),
                    r.pass,
                    r.ebm_seconds,
                    r.pytorch_seconds.map_or("-".into(), |t| format!("{t:.4}")),
                    ratio(r.vs_pytorch),
                    r.pytorch_mode.as_deref().unwrap_or("-")
                );
            }
            layer_rows.extend(rows);
        }
        references.extend(refs.iter().map(|r| r.info.clone()));
    }
    println!(
        "\nData loading\n{:<14} {:>8} {:>10} {:>10}",
        "dataset", "images", "parse s", "tensor s"
    );
    let data = bench_data(opts, device);
    for r in &data {
        println!(
            "{:<14} {:>8} {:>10.2} {:>10.2}",
            r.dataset, r.images, r.parse_seconds, r.tensor_seconds
        );
    }
    Ok(BenchReport {
        device: opts.device_spec.clone(),
        threads: opts.threads,
        references,
        steps,
        train,
        layers: layer_rows,
        data,
    })
}
