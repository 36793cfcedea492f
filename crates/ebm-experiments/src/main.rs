//! `ebm`: the command behind `cargo xtask`.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use ebm_experiments::bench::{BenchNet, bench_network};
use ebm_experiments::data::{DatasetName, data_dir, load};
use ebm_experiments::device::{compiled_backends, select_device};
use ebm_experiments::download::{DownloadOptions, download_dataset};

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
    /// Load a dataset and print its size, class counts and load time.
    Info {
        /// mnist, fashion-mnist, mnist-10k or cifar10.
        name: String,
        /// Data directory (default: $EBM_DATA_DIR, else data/ under the project root).
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum Command {
    /// Datasets: download, inspect.
    #[command(subcommand)]
    Data(DataCommand),
    /// List the backends compiled into this binary and the default device.
    Devices,
    /// Time one Langevin-step evaluation (energy + input gradient) of ResNet32 and MnistNet,
    /// with the parameters on the plain device and on the autodiff device.
    Bench {
        /// flex, wgpu, vulkan, metal, cuda or ndarray, optionally :INDEX (default: best compiled in).
        #[arg(long)]
        device: Option<String>,
        /// Batch size.
        #[arg(long, default_value_t = 32)]
        batch: usize,
        /// Timed evaluations per configuration (the median is reported).
        #[arg(long, default_value_t = 5)]
        reps: usize,
        /// Also write the rows as JSON to this file.
        #[arg(long)]
        json: Option<PathBuf>,
    },
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.command {
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
        }) => {
            let name = DatasetName::parse(&name)?;
            let start = std::time::Instant::now();
            let splits = load(name, &data_dir(dir.as_deref()))?;
            let secs = start.elapsed().as_secs_f64();
            for (split, set) in [("train", &splits.train), ("test", &splits.test)] {
                println!(
                    "{} {split}: {} images of {:?}, per class {:?}",
                    name.name(),
                    set.len(),
                    set.image_shape(),
                    set.class_counts()
                );
            }
            println!("loaded in {secs:.2} s");
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
            json,
        } => {
            anyhow::ensure!(batch > 0 && reps > 0, "--batch and --reps must be positive");
            let (spec, device) = select_device(device.as_deref())?;
            println!("device {spec}, batch {batch}, median of {reps}");
            println!(
                "{:<10} {:>10} {:>9} {:>12} {:>12}",
                "network", "weights", "params", "s/step", "images/s"
            );
            let mut rows = Vec::new();
            for net in [BenchNet::ResNet32, BenchNet::MnistNet] {
                for r in bench_network(net, batch, reps, &device) {
                    println!(
                        "{:<10} {:>10} {:>9} {:>12.4} {:>12.1}",
                        r.network, r.weights, r.params_on, r.seconds_per_step, r.images_per_second
                    );
                    rows.push(r);
                }
            }
            if let Some(path) = json {
                let text = serde_json::to_string_pretty(&rows)?;
                std::fs::write(&path, text).with_context(|| format!("writing {path:?}"))?;
            }
        }
    }
    Ok(())
}
