//! `ebm`: the command behind `cargo xtask`.

use std::path::PathBuf;

use anyhow::{Context, Result};
use burn::config::Config;
use clap::{Parser, Subcommand};
use ebm_experiments::bench::{BenchNet, BenchOptions, run_bench, time_loading};
use ebm_experiments::config::TrainConfig;
use ebm_experiments::data::{DatasetName, data_dir};
use ebm_experiments::device::{compiled_backends, select_device};
use ebm_experiments::download::{DownloadOptions, download_dataset};
use ebm_experiments::presets::{PRESETS, preset as preset_config};
use ebm_experiments::train::{load_data, read_config, train};

/// mimalloc, told never to return freed pages to the OS: every Langevin step allocates and
/// frees tensors of tens of MiB, and with the system allocator (or mimalloc's default 10 ms
/// purge delay) each step faulted and zeroed those pages again: ResNet32 at batch 128 on two
/// cores, 24 787 page faults and 1.76 s per step against 1 474 and 1.56 s without purging.
/// The price is a larger resident set (the bench reports it).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc's `mi_option_e` (v2 and v3 alike).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

fn keep_freed_pages() {
    // An environment setting (MIMALLOC_PURGE_DELAY) wins.
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: sets a plain integer option; valid at any time.
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
    }
}

#[derive(Parser)]
#[command(name = "ebm", version, about = "Energy-based models on Burn")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum DataCommand {
    /// Download a dataset (mnist, fashion-mnist, cifar10) into the data directory, verifying
    /// checksums.
    Download {
        /// mnist, fashion-mnist or cifar10.
        name: String,
        /// Data directory (default: $EBM_DATA_DIR, else data/ under the project root).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Base URL of a mirror holding the same file names.
        #[arg(long)]
        mirror: Option<String>,
    },
    /// Load a dataset and print its size, class counts and the time to parse it and to turn
    /// the training set into one tensor.
    Info {
        /// mnist, fashion-mnist, mnist-10k or cifar10.
        name: String,
        /// Data directory (default: $EBM_DATA_DIR, else data/ under the project root).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Device of the tensor, as for train.
        #[arg(long)]
        device: Option<String>,
    },
}

#[derive(Subcommand)]
enum Command {
    /// Train a preset (cifar10, cifar10-cond, mnist, fashion-mnist, mnist-10k, toy2d), or
    /// resume a run with --resume RUN_DIR.
    Train {
        /// Preset name (not needed with --resume).
        preset: Option<String>,
        /// flex, wgpu, vulkan, metal, cuda or ndarray, optionally :INDEX (default: best compiled in).
        #[arg(long)]
        device: Option<String>,
        /// Run directory (default: runs/<preset>-<unix time>).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Total iterations.
        #[arg(long)]
        iters: Option<usize>,
        /// Batch size.
        #[arg(long)]
        batch: Option<usize>,
        /// Seed.
        #[arg(long)]
        seed: Option<u64>,
        /// Data directory (default: $EBM_DATA_DIR, else data/ under the project root).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// A JSON config file (a saved config.json, possibly edited) instead of a preset.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Override any field: --set optimizer.lr=3e-4 --set sampler.steps=40 (repeatable).
        #[arg(long = "set")]
        set: Vec<String>,
        /// Continue the run in this directory from its latest checkpoint.
        #[arg(long)]
        resume: Option<PathBuf>,
    },
    /// Evaluate a run's latest checkpoint: AUROC against uniform noise, proxy FID, accuracy
    /// (conditional models); writes RUN/eval.json.
    Eval {
        /// Run directory.
        run: PathBuf,
        /// Test images to use (and as many samples).
        #[arg(long, default_value_t = 1000)]
        n: usize,
        /// Langevin steps for the FID samples (default: the run's training steps).
        #[arg(long)]
        steps: Option<usize>,
        /// Data directory (default: $EBM_DATA_DIR, else data/ under the project root).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Device, as for train.
        #[arg(long)]
        device: Option<String>,
    },
    /// Write a grid of fresh samples from a run's latest checkpoint.
    Sample {
        /// Run directory.
        run: PathBuf,
        /// Number of samples.
        #[arg(long, default_value_t = 64)]
        n: usize,
        /// Langevin steps (default: the run's training steps).
        #[arg(long)]
        steps: Option<usize>,
        /// Class label for conditional models (default: classes in turn).
        #[arg(long)]
        label: Option<usize>,
        /// Start from the replay buffer instead of uniform noise.
        #[arg(long)]
        from_buffer: bool,
        /// Output PNG (default: RUN/samples/sample.png).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Device, as for train.
        #[arg(long)]
        device: Option<String>,
        /// Seed of the chains.
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
    /// Datasets: download, inspect.
    #[command(subcommand)]
    Data(DataCommand),
    /// List the backends compiled into this binary and the default device.
    Devices,
    /// Benchmark: Langevin steps/s and CD training-iteration time of ResNet32 and MnistNet, peak
    /// memory of a training run and data loading, beside the PyTorch reference when torch is
    /// available (interleaved, medians).
    Bench {
        /// flex, wgpu, vulkan, metal, cuda or ndarray, optionally :INDEX (default: best compiled in).
        #[arg(long)]
        device: Option<String>,
        /// Batch size.
        #[arg(long, default_value_t = 128)]
        batch: usize,
        /// Interleaved rounds of Langevin-step measurements (the median is reported).
        #[arg(long, default_value_t = 5)]
        reps: usize,
        /// Interleaved training rounds (0 skips training): per round a fresh `ebm train` child
        /// times its second iteration, then the reference one iteration.
        #[arg(long, default_value_t = 2)]
        train_iters: usize,
        /// Langevin steps per training iteration (K).
        #[arg(long, default_value_t = 60)]
        train_steps: usize,
        /// Networks, comma-separated: resnet32, mnistnet.
        #[arg(long, default_value = "resnet32,mnistnet", value_delimiter = ',')]
        networks: Vec<String>,
        /// Python with torch for the PyTorch reference (default: .venv-torch/bin/python, then
        /// python3, whichever imports torch).
        #[arg(long)]
        python: Option<PathBuf>,
        /// Measure ebm only, even when torch is available.
        #[arg(long)]
        no_reference: bool,
        /// Skip the extra rows (params on autodiff, Burn's own conv2d).
        #[arg(long)]
        no_variants: bool,
        /// Data directory for the data-loading part (default: $EBM_DATA_DIR, else data/).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Also write everything as JSON to this file.
        #[arg(long)]
        json: Option<PathBuf>,
    },
}

/// Loads the run's dataset; when files are missing and the dataset can be downloaded, tries
/// the download first (and reports both failures if it cannot).
fn load_or_download(
    cfg: &TrainConfig,
    dir: &std::path::Path,
) -> Result<ebm_experiments::data::Splits> {
    match load_data(cfg, dir) {
        Ok(data) => Ok(data),
        Err(missing) => {
            let Ok(name) = DatasetName::parse(&cfg.dataset) else {
                return Err(missing);
            };
            if name == DatasetName::Mnist10k {
                return Err(missing);
            }
            eprintln!("{missing:#}\ntrying to download {} ...", name.name());
            download_dataset(name, dir, &DownloadOptions::default())
                .map_err(|e| e.context(format!("{missing:#}")))?;
            load_data(cfg, dir)
        }
    }
}

fn default_run_dir(preset: &str) -> PathBuf {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    PathBuf::from("runs").join(format!("{preset}-{secs}"))
}

fn main() -> Result<()> {
    keep_freed_pages();
    let cli = Cli::parse();
    match cli.command {
        Command::Train {
            preset,
            device,
            out,
            iters,
            batch,
            seed,
            data_dir: dir,
            config,
            set,
            resume,
        } => {
            let (spec, device) = select_device(device.as_deref())?;
            let (mut cfg, run) = match (&resume, &config, &preset) {
                (Some(run), _, _) => (read_config(run)?, run.clone()),
                (None, Some(file), _) => {
                    let cfg = TrainConfig::load(file)
                        .map_err(|e| anyhow::anyhow!("reading {}: {e}", file.display()))?;
                    let run = out.clone().unwrap_or_else(|| default_run_dir(&cfg.preset));
                    (cfg, run)
                }
                (None, None, Some(name)) => {
                    let cfg = preset_config(name)?;
                    (cfg, out.clone().unwrap_or_else(|| default_run_dir(name)))
                }
                (None, None, None) => anyhow::bail!(
                    "give a preset ({}), --config FILE or --resume RUN_DIR",
                    PRESETS.join(", ")
                ),
            };
            if resume.is_some() && (batch.is_some() || seed.is_some() || !set.is_empty()) {
                anyhow::bail!(
                    "--resume continues a run exactly: only --iters (a new total) and --device may change"
                );
            }
            cfg = cfg.with_overrides(&set)?;
            if let Some(n) = iters {
                cfg.iterations = n;
            }
            if let Some(b) = batch {
                cfg.batch_size = b;
            }
            if let Some(s) = seed {
                cfg.seed = s;
            }
            let data = load_or_download(&cfg, &data_dir(dir.as_deref()))?;
            eprintln!(
                "training {} on {} ({} images) on {spec}, {} iterations, batch {} -> {}",
                cfg.preset,
                cfg.dataset,
                data.train.len(),
                cfg.iterations,
                cfg.batch_size,
                run.display()
            );
            if resume.is_some() {
                // A new total is the only change a resume may make; record it.
                cfg.save(run.join("config.json"))
                    .with_context(|| format!("writing {}", run.join("config.json").display()))?;
            }
            train(&cfg, &run, &data, &device, resume.is_some())?;
            if let Some(mib) = ebm_experiments::memory::peak_rss_mib() {
                eprintln!("{}", ebm_experiments::memory::peak_line(mib));
            }
        }
        Command::Eval {
            run,
            n,
            steps,
            data_dir: dir,
            device,
        } => {
            let (_, device) = select_device(device.as_deref())?;
            let report = ebm_experiments::eval::evaluate(
                &run,
                &data_dir(dir.as_deref()),
                n,
                steps,
                &device,
            )?;
            println!("{}", serde_json::to_string_pretty(&report)?);
            println!("wrote {}", run.join("eval.json").display());
        }
        Command::Sample {
            run,
            n,
            steps,
            label,
            from_buffer,
            out,
            device,
            seed,
        } => {
            let (_, device) = select_device(device.as_deref())?;
            let path = ebm_experiments::sample::sample_run(
                &run,
                n,
                steps,
                label,
                from_buffer,
                out,
                seed,
                &device,
            )?;
            println!("wrote {}", path.display());
        }
        Command::Data(DataCommand::Download {
            name,
            data_dir: dir,
            mirror,
        }) => {
            let name = DatasetName::parse(&name)?;
            let options = DownloadOptions {
                mirror,
                ..DownloadOptions::default()
            };
            let dir = download_dataset(name, &data_dir(dir.as_deref()), &options)?;
            println!("{} is in {}", name.name(), dir.display());
        }
        Command::Data(DataCommand::Info {
            name,
            data_dir: dir,
            device,
        }) => {
            let (_, device) = select_device(device.as_deref())?;
            let name = DatasetName::parse(&name)?;
            let (splits, times) = time_loading(name, &data_dir(dir.as_deref()), &device)?;
            for (split, set) in [("train", &splits.train), ("test", &splits.test)] {
                println!(
                    "{} {split}: {} images of {:?}, per class {:?}",
                    name.name(),
                    set.len(),
                    set.image_shape(),
                    set.class_counts()
                );
            }
            let [c, h, w] = splits.train.image_shape();
            println!(
                "parsed in {:.2} s; training set as a {:?} tensor (dequantised) in {:.2} s more, {:.2} s in all",
                times.parse_seconds,
                [times.images, c, h, w],
                times.tensor_seconds,
                times.parse_seconds + times.tensor_seconds
            );
        }
        Command::Devices => {
            println!(
                "compiled-in backends (best first): {}",
                compiled_backends().join(", ")
            );
            let (spec, _) = select_device(None)?;
            println!("default device: {spec}");
        }
        Command::Bench {
            device,
            batch,
            reps,
            train_iters,
            train_steps,
            networks,
            python,
            no_reference,
            no_variants,
            data_dir: dir,
            json,
        } => {
            anyhow::ensure!(
                batch > 0 && reps > 0 && train_steps > 0,
                "--batch, --reps and --train-steps must be positive"
            );
            let (spec, device) = select_device(device.as_deref())?;
            let opts = BenchOptions {
                networks: networks
                    .iter()
                    .map(|n| BenchNet::parse(n.trim()))
                    .collect::<Result<_>>()?,
                batch,
                reps,
                train_iters,
                train_steps,
                python,
                no_reference,
                variants: !no_variants,
                data_dir: dir,
                device_spec: spec.to_string(),
                exe: std::env::current_exe().context("locating the ebm executable")?,
                threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            };
            let report = run_bench(&opts, &device)?;
            if let Some(path) = json {
                let text = serde_json::to_string_pretty(&report)?;
                std::fs::write(&path, text)
                    .with_context(|| format!("writing {}", path.display()))?;
                println!("\nwrote {}", path.display());
            }
        }
    }
    Ok(())
}
