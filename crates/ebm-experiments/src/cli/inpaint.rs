//! `ebm inpaint`: flags and dispatch.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use super::place::Place;
use crate::paper::inpaint::{Corruption, InpaintOptions, markdown, run_inpaint};

/// Flags of `ebm inpaint`.
#[derive(Args, Debug)]
pub struct InpaintArgs {
    /// Run directory.
    pub run: PathBuf,
    /// The damage: bottom-half, left-half, random:P (each pixel missing with probability P)
    /// or salt-pepper:P (a fraction P of pixels set to 0.1 or 0.9).
    #[arg(long, default_value = "bottom-half")]
    pub mask: String,
    /// Test images.
    #[arg(long, default_value_t = 64)]
    pub n: usize,
    /// Langevin steps (default: ten times the run's training steps).
    #[arg(long)]
    pub steps: Option<usize>,
    /// Seed of the damage and the chains.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Data directory and device.
    #[command(flatten)]
    pub place: Place,
}

/// Runs `ebm inpaint`.
pub fn run(args: InpaintArgs) -> Result<()> {
    let device = args.place.device()?;
    let opts = InpaintOptions {
        corruption: Corruption::parse(&args.mask)?,
        n: args.n,
        steps: args.steps,
        seed: args.seed,
    };
    let report = run_inpaint(&args.run, &args.place.data_dir(), &opts, &device)?;
    println!("{}", markdown(&report));
    let stem = args.run.join(format!("inpaint-{}", report.mask));
    println!(
        "wrote {0}.json and {0}.png ({1:.0} s)",
        stem.display(),
        report.seconds
    );
    Ok(())
}
