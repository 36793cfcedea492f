//! `ebm bench`: its flags, turned into [`BenchOptions`].

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;

use crate::bench::reference::ReferenceMode;
use crate::bench::{BenchNet, BenchOptions, run_bench};
use crate::device::select_device;

/// Flags of `ebm bench`.
#[derive(Args, Debug)]
pub struct BenchArgs {
    /// flex, wgpu, vulkan, metal, cuda or ndarray, optionally :INDEX (default: best compiled in).
    #[arg(long)]
    pub device: Option<String>,
    /// Batch size.
    #[arg(long, default_value_t = 128)]
    pub batch: usize,
    /// Interleaved rounds of Langevin-step measurements (the median is reported).
    #[arg(long, default_value_t = 5)]
    pub reps: usize,
    /// Interleaved training rounds (0 skips training): per round a fresh `ebm train` child
    /// times its third iteration, then the reference one iteration.
    #[arg(long, default_value_t = 2)]
    pub train_iters: usize,
    /// Langevin steps per training iteration (K).
    #[arg(long, default_value_t = 60)]
    pub train_steps: usize,
    /// Networks, comma-separated: resnet32, mnistnet.
    #[arg(long, default_value = "resnet32,mnistnet", value_delimiter = ',')]
    pub networks: Vec<String>,
    /// Python with torch for the PyTorch reference (default: .venv-torch/bin/python, then
    /// python3, whichever imports torch).
    #[arg(long)]
    pub python: Option<PathBuf>,
    /// Measure ebm only, even when torch is available.
    #[arg(long)]
    pub no_reference: bool,
    /// The reference's configurations, comma-separated: eager (NCHW), channels-last, compile
    /// (channels-last + torch.compile). Ratios are taken against the fastest.
    #[arg(
        long,
        default_value = "eager,channels-last,compile",
        value_delimiter = ','
    )]
    pub reference_modes: Vec<String>,
    /// Skip the extra rows (params on autodiff, Burn's own conv2d).
    #[arg(long)]
    pub no_variants: bool,
    /// Also time every distinct convolution of each network alone, per pass (forward,
    /// + input gradient, + weight gradient), against the eager reference configurations.
    #[arg(long)]
    pub layers: bool,
    /// Data directory for the data-loading part (default: $EBM_DATA_DIR, else the per-user
    /// data directory).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Also write everything as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

/// Runs `ebm bench`.
pub fn run(args: BenchArgs) -> Result<()> {
    anyhow::ensure!(
        args.batch > 0 && args.reps > 0 && args.train_steps > 0,
        "--batch, --reps and --train-steps must be positive"
    );
    let (spec, device) = select_device(args.device.as_deref())?;
    let opts = BenchOptions {
        networks: args
            .networks
            .iter()
            .map(|n| BenchNet::parse(n.trim()))
            .collect::<Result<_>>()?,
        batch: args.batch,
        reps: args.reps,
        train_iters: args.train_iters,
        train_steps: args.train_steps,
        python: args.python,
        no_reference: args.no_reference,
        reference_modes: args
            .reference_modes
            .iter()
            .map(|m| ReferenceMode::parse(m.trim()))
            .collect::<Result<_>>()?,
        variants: !args.no_variants,
        layers: args.layers,
        data_dir: args.data_dir,
        device_spec: spec.to_string(),
        exe: std::env::current_exe().context("locating the ebm executable")?,
        threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    let report = run_bench(&opts, &device)?;
    if let Some(path) = args.json {
        let text = serde_json::to_string_pretty(&report)?;
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
        println!("\nwrote {}", path.display());
    }
    Ok(())
}
