//! `ebm continual split-mnist`: flags, resolved into the experiment's settings and its output
//! directory.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};

use crate::data::data_dir;
use crate::device::select_device;
use crate::paper::continual::{ContinualConfig, METHODS, load_split_mnist, run_continual};
use crate::run::config::apply_overrides;
use crate::run::paths::default_run_dir;

/// The continual-learning experiments.
#[derive(Subcommand, Debug)]
pub enum ContinualCommand {
    /// Split MNIST, incremental class: a conditional EBM and softmax baselines trained on
    /// {0,1}, {2,3}, ..., {8,9} in turn, tested on all ten digits after each task. Writes
    /// continual.json, a heat map per method and prints the table.
    SplitMnist(SplitMnistArgs),
}

/// Flags of `ebm continual split-mnist`.
#[derive(Args, Debug)]
pub struct SplitMnistArgs {
    /// Seeds: 0, 1, ..., N-1.
    #[arg(long, default_value_t = 5)]
    pub seeds: u64,
    /// Data directory: full MNIST is used when its `mnist/` folder holds it, else the embedded
    /// 10 000-digit subset (default: $EBM_DATA_DIR, else the per-user data directory).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Output directory (default: runs/continual-<unix time>); must not exist yet.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// flex, wgpu, vulkan, metal, cuda or ndarray, optionally :INDEX (default: best compiled in).
    #[arg(long)]
    pub device: Option<String>,
    /// Which methods, comma-separated (ebm, ebm-classes, adam, sgd, offline; default: all).
    #[arg(long, value_delimiter = ',')]
    pub methods: Option<Vec<String>>,
    /// Override any setting: --set ebm.iterations_per_task=300 --set ebm.sampler.steps=10
    /// (repeatable; the fields are those of `settings` in continual.json).
    #[arg(long = "set")]
    pub set: Vec<String>,
}

/// Runs `ebm continual ...`.
pub fn run(command: ContinualCommand) -> Result<()> {
    let ContinualCommand::SplitMnist(args) = command;
    if args.seeds == 0 {
        bail!("--seeds must be at least 1");
    }
    let config = apply_overrides(ContinualConfig::split_mnist(), &args.set, "--set")?;
    config.validate()?;
    let methods = args
        .methods
        .clone()
        .unwrap_or_else(|| METHODS.iter().map(|m| m.to_string()).collect());
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| default_run_dir("continual"));
    if out.exists() {
        bail!("{} already exists: give a new --out", out.display());
    }
    let (spec, device) = select_device(args.device.as_deref())?;
    let data = load_split_mnist(&data_dir(args.data_dir.as_deref()))?;
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    eprintln!("continual learning on {spec} -> {}", out.display());
    let command: Vec<String> = std::env::args().collect();
    let seeds: Vec<u64> = (0..args.seeds).collect();
    let report = run_continual(
        &config,
        &data,
        &seeds,
        &methods,
        &out,
        &device,
        &command.join(" "),
    )?;
    println!("{}", report.table());
    eprintln!(
        "{:.0} s in all; continual.json and heat maps in {}",
        report.seconds,
        out.display()
    );
    Ok(())
}
