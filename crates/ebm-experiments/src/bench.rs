//! `ebm bench`: Langevin-step throughput, CD training-iteration time, peak memory and data
//! loading, side by side with the PyTorch reference (`benches/reference/igebm_torch.py`) when a
//! Python with torch is available. Measurements of the implementations are interleaved (one of
//! each in turn) and medians reported, because shared machines are noisy.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use burn::module::Module;
use burn::tensor::{Device, Distribution, Tensor};
use ebm_model::{
    EnergyModel, Kernels, MnistNet, MnistNetConfig, ResNetConfig, ResNetEnergy, one_hot,
    set_kernels, weight_count,
};
use ebm_sampler::energy_and_grad;
use serde::Serialize;
use serde_json::json;

use crate::bench_train::{Scratch, run_train, write_cifar_fixture};
use crate::data::{DatasetName, Splits, load};
use crate::reference::{Reference, ReferenceInfo, find_python};

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
    fn train_preset(self) -> &'static str {
        match self {
            BenchNet::ResNet32 => "cifar10-cond",
            BenchNet::MnistNet => "mnist-10k",
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
    /// Also time the parameters-on-autodiff step and Burn's own kernels (conv2d, sigmoid).
    pub variants: bool,
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
    /// `ebm`, `ebm (Burn kernels)`, `ebm (params on autodiff)` or `pytorch`.
    pub implementation: String,
    /// Median seconds of one energy + input-gradient evaluation.
    pub seconds_per_step: f64,
    /// Images x steps per second.
    pub images_steps_per_second: f64,
    /// Throughput relative to PyTorch in the same run (> 1: faster).
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
    /// `ebm` or `pytorch`.
    pub implementation: String,
    /// Median seconds per iteration.
    pub seconds_per_iteration: f64,
    /// Relative to PyTorch (> 1: faster).
    pub vs_pytorch: Option<f64>,
    /// Peak resident memory of the training process, MiB (`ebm` only).
    pub peak_rss_mib: Option<f64>,
    /// Every iteration's seconds.
    pub samples: Vec<f64>,
}

/// One data-loading row.
#[derive(Clone, Debug, Serialize)]
pub struct DataRow {
    /// Dataset.
    pub dataset: String,
    /// Training images.
    pub images: usize,
    /// Seconds to read and parse both splits.
    pub parse_seconds: f64,
    /// Seconds to turn the whole training set into a dequantised tensor.
    pub tensor_seconds: f64,
}

/// Everything `ebm bench` measured.
#[derive(Clone, Debug, Serialize)]
pub struct BenchReport {
    /// Device string.
    pub device: String,
    /// Worker threads of this process.
    pub threads: usize,
    /// The PyTorch reference, when it ran.
    pub reference: Option<ReferenceInfo>,
    /// Langevin steps.
    pub steps: Vec<StepRow>,
    /// Training iterations.
    pub train: Vec<TrainRow>,
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

/// Seconds of one energy + input-gradient evaluation, waiting for the results.
fn time_step<F: Fn(Tensor<4>) -> Tensor<1>>(energy: &F, x: &Tensor<4>) -> f64 {
    let start = Instant::now();
    let (e, g) = energy_and_grad(energy, x.clone());
    // Reading the results back forces an asynchronous backend to finish.
    let _ = e.into_data();
    let _ = g.sum().into_data();
    start.elapsed().as_secs_f64()
}

/// A network's weight count and one timed step per implementation row.
struct StepSetup {
    weights: usize,
    measure: Vec<(String, Box<dyn Fn() -> f64>)>,
}

fn setup<M: Module + EnergyModel<4> + 'static>(
    net: M,
    x: Tensor<4>,
    labels: Option<Tensor<2>>,
    variants: bool,
) -> StepSetup {
    let weights = weight_count(&net);
    let plain = net.valid();
    let mut measure: Vec<(String, Box<dyn Fn() -> f64>)> = Vec::new();
    {
        let (plain, x, y) = (plain.clone(), x.clone(), labels.clone());
        measure.push((
            "ebm".into(),
            Box::new(move || time_step(&|x| plain.energy(x, y.clone()), &x)),
        ));
    }
    if variants {
        let (plain, x2, y) = (plain, x.clone(), labels.clone());
        measure.push((
            "ebm (Burn kernels)".into(),
            Box::new(move || {
                set_kernels(Kernels::Burn);
                let t = time_step(&|x| plain.energy(x, y.clone()), &x2);
                set_kernels(Kernels::Fast);
                t
            }),
        ));
        let y = labels.map(|l| l.autodiff());
        measure.push((
            "ebm (params on autodiff)".into(),
            Box::new(move || time_step(&|x| net.energy(x, y.clone()), &x)),
        ));
    }
    StepSetup { weights, measure }
}

fn step_setup(network: BenchNet, batch: usize, variants: bool, device: &Device) -> StepSetup {
    // Built on the autodiff device as training builds it; the "ebm" rows use its plain copy.
    let train_device = device.clone().autodiff();
    match network {
        BenchNet::ResNet32 => {
            let net: ResNetEnergy = ResNetConfig::resnet32(Some(10)).init(&train_device);
            let x = Tensor::<4>::random([batch, 3, 32, 32], Distribution::Default, device);
            let classes: Vec<usize> = (0..batch).map(|i| i % 10).collect();
            let y = one_hot(&classes, 10, device);
            setup(net, x, Some(y), variants)
        }
        BenchNet::MnistNet => {
            let net: MnistNet = MnistNetConfig::new().init(&train_device);
            let x = Tensor::<4>::random([batch, 1, 28, 28], Distribution::Default, device);
            setup(net, x, None, variants)
        }
    }
}

/// Interleaved Langevin-step measurements of one network.
fn bench_steps(
    network: BenchNet,
    opts: &BenchOptions,
    device: &Device,
    reference: &mut Option<Reference>,
) -> Result<Vec<StepRow>> {
    let s = step_setup(network, opts.batch, opts.variants, device);
    let request = json!({"op": "step", "net": network.name(), "batch": opts.batch});
    // One warm-up of each (allocations; kernel compilation on GPU backends).
    for (_, f) in &s.measure {
        f();
    }
    if let Some(r) = reference.as_mut() {
        r.seconds(&request)?;
    }
    let mut samples = vec![Vec::new(); s.measure.len()];
    let mut torch = Vec::new();
    for _ in 0..opts.reps {
        for (i, (_, f)) in s.measure.iter().enumerate() {
            samples[i].push(f());
        }
        if let Some(r) = reference.as_mut() {
            torch.push(r.seconds(&request)?);
        }
    }
    let torch_secs = (!torch.is_empty()).then(|| median(&torch));
    let row = |implementation: &str, samples: Vec<f64>| {
        let secs = median(&samples);
        StepRow {
            network: network.name().into(),
            batch: opts.batch,
            weights: s.weights,
            implementation: implementation.into(),
            seconds_per_step: secs,
            images_steps_per_second: opts.batch as f64 / secs,
            vs_pytorch: torch_secs.map(|t| t / secs),
            samples,
        }
    };
    let mut rows: Vec<StepRow> = s
        .measure
        .iter()
        .zip(samples)
        .map(|((name, _), xs)| row(name, xs))
        .collect();
    if !torch.is_empty() {
        rows.push(row("pytorch", torch));
    }
    Ok(rows)
}

/// Training iterations of one network, in rounds that alternate the two implementations as
/// the step rounds do: a fresh `ebm train` child runs one iteration to warm up and one that is
/// timed, then the reference times one iteration.
fn bench_train(
    network: BenchNet,
    opts: &BenchOptions,
    scratch: &Path,
    reference: &mut Option<Reference>,
) -> Result<Vec<TrainRow>> {
    let preset = network.train_preset();
    let data_dir = scratch.join("data");
    if network == BenchNet::ResNet32 {
        // Random images in the CIFAR-10 format: the shapes and the work of real CIFAR-10.
        write_cifar_fixture(&data_dir.join("cifar10"), opts.batch.max(100))?;
    }
    let big = "1000000000".to_string();
    let args: Vec<String> = vec![
        preset.to_string(),
        "--device".into(),
        opts.device_spec.clone(),
        "--data-dir".into(),
        data_dir.display().to_string(),
        "--iters".into(),
        "2".into(),
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
    let request = json!({
        "op": "train", "net": network.name(), "batch": opts.batch, "steps": opts.train_steps
    });
    let (mut ours, mut torch, mut peak_rss) = (Vec::new(), Vec::new(), None::<f64>);
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
        if let Some(r) = reference.as_mut() {
            torch.push(r.seconds(&request)?);
        }
    }
    let torch_secs = (!torch.is_empty()).then(|| median(&torch));
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
    if !torch.is_empty() {
        rows.push(row("pytorch", torch, None));
    }
    Ok(rows)
}

/// Loads `name` from `dir` and turns its whole training set into a dequantised tensor on
/// `device`, timing both steps (`ebm data info` and the bench's data part).
pub fn time_loading(name: DatasetName, dir: &Path, device: &Device) -> Result<(Splits, DataRow)> {
    let start = Instant::now();
    let splits = load(name, dir)?;
    let parse_seconds = start.elapsed().as_secs_f64();
    let start = Instant::now();
    let all: Vec<usize> = (0..splits.train.len()).collect();
    let (x, _) =
        ebm_data::images_to_tensor(&splits.train, &all, ebm_data::Dequantize::Uniform, device);
    // Reading a value back waits for an asynchronous backend.
    let _ = x.slice(0..1).into_data();
    let row = DataRow {
        dataset: name.name().into(),
        images: splits.train.len(),
        parse_seconds,
        tensor_seconds: start.elapsed().as_secs_f64(),
    };
    Ok((splits, row))
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

/// Runs every part, printing each table as it completes.
pub fn run_bench(opts: &BenchOptions, device: &Device) -> Result<BenchReport> {
    let mut reference = None;
    if !opts.no_reference {
        match find_python(opts.python.as_deref()) {
            Some(py) => {
                let r = Reference::start(&py, opts.threads).with_context(|| {
                    format!("starting the PyTorch reference with {}", py.display())
                })?;
                println!(
                    "reference: PyTorch {} ({} threads) via {}",
                    r.info.torch, r.info.threads, r.info.python
                );
                reference = Some(r);
            }
            None => println!(
                "reference: no Python with torch found (--python PATH; see benches/reference/README.md); ebm only"
            ),
        }
    }
    println!(
        "device {}, {} threads, batch {}, medians of {} interleaved rounds",
        opts.device_spec, opts.threads, opts.batch, opts.reps
    );
    println!(
        "\nLangevin step (energy + input gradient)\n{:<10} {:<26} {:>10} {:>16} {:>10}",
        "network", "implementation", "s/step", "images*steps/s", "vs torch"
    );
    let mut steps = Vec::new();
    for &net in &opts.networks {
        for r in bench_steps(net, opts, device, &mut reference)? {
            println!(
                "{:<10} {:<26} {:>10.4} {:>16.1} {:>10}",
                r.network,
                r.implementation,
                r.seconds_per_step,
                r.images_steps_per_second,
                ratio(r.vs_pytorch)
            );
            steps.push(r);
        }
    }
    let mut train = Vec::new();
    if opts.train_iters > 0 {
        println!(
            "\nCD training iteration (K = {}, batch {}, median of {} interleaved rounds)\n{:<10} {:<14} {:<10} {:>10} {:>10} {:>14}",
            opts.train_steps,
            opts.batch,
            opts.train_iters,
            "network",
            "preset",
            "impl",
            "s/iter",
            "vs torch",
            "peak RSS MiB"
        );
        let scratch = Scratch::new()?;
        for &net in &opts.networks {
            for r in bench_train(net, opts, &scratch.0, &mut reference)? {
                println!(
                    "{:<10} {:<14} {:<10} {:>10.2} {:>10} {:>14}",
                    r.network,
                    r.preset,
                    r.implementation,
                    r.seconds_per_iteration,
                    ratio(r.vs_pytorch),
                    r.peak_rss_mib.map_or("-".into(), |m| format!("{m:.0}"))
                );
                train.push(r);
            }
        }
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
        reference: reference.as_ref().map(|r| r.info.clone()),
        steps,
        train,
        data,
    })
}
