//! `ebm export` and `ebm import`: flags of the commands that move a network's weights out of
//! and into a run directory.

use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, ValueEnum};

use crate::device::select_device;
use crate::weights::{export_run, import_run};

/// File formats of `ebm export`.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum WeightsFormat {
    /// safetensors, tensors named as the PyTorch reference network's `state_dict`.
    Safetensors,
}

/// Flags of `ebm export`.
#[derive(Args, Debug)]
pub struct ExportArgs {
    /// Run directory.
    pub run: PathBuf,
    /// File format.
    #[arg(long, value_enum, default_value = "safetensors")]
    pub format: WeightsFormat,
    /// Output file (default: RUN/weights.safetensors); the configuration goes to the same
    /// path with the extension .json.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Device to load the run on, as for train.
    #[arg(long)]
    pub device: Option<String>,
}

/// Flags of `ebm import`.
#[derive(Args, Debug)]
pub struct ImportArgs {
    /// Weights file written by `ebm export` (or by PyTorch with the same names).
    pub file: PathBuf,
    /// Configuration: the JSON `ebm export` writes, or a run's config.json (default: FILE
    /// with the extension .json).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// The new run directory (refused if it already holds a run).
    #[arg(long)]
    pub out: PathBuf,
    /// Replace the run that --out holds (its files only).
    #[arg(long)]
    pub overwrite: bool,
    /// Device, as for train.
    #[arg(long)]
    pub device: Option<String>,
}

/// Runs `ebm export`.
pub fn export(args: ExportArgs) -> Result<()> {
    let WeightsFormat::Safetensors = args.format;
    let (_, device) = select_device(args.device.as_deref())?;
    let (weights, config) = export_run(&args.run, args.out.as_deref(), &device)?;
    println!("wrote {}", weights.display());
    println!("wrote {}", config.display());
    Ok(())
}

/// Runs `ebm import`.
pub fn import(args: ImportArgs) -> Result<()> {
    let (_, device) = select_device(args.device.as_deref())?;
    let ckpt = import_run(
        &args.file,
        args.config.as_deref(),
        &args.out,
        args.overwrite,
        &device,
    )?;
    println!(
        "wrote {} (checkpoint {})",
        args.out.display(),
        ckpt.display()
    );
    Ok(())
}
