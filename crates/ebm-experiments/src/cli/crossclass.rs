//! `ebm crossclass`: flags and dispatch.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use super::place::Place;
use crate::paper::crossclass::{CrossClassOptions, markdown, run_crossclass};

/// Flags of `ebm crossclass`.
#[derive(Args, Debug)]
pub struct CrossClassArgs {
    /// Run directory (a class-conditional run).
    pub run: PathBuf,
    /// Class of the test images.
    #[arg(long)]
    pub from: usize,
    /// Class whose energy the chains follow.
    #[arg(long)]
    pub to: usize,
    /// Rounds (snapshots in the grid).
    #[arg(long, default_value_t = 10)]
    pub rounds: usize,
    /// Langevin steps per round (default: twice the run's training steps).
    #[arg(long)]
    pub steps: Option<usize>,
    /// Test images of class --from.
    #[arg(long, default_value_t = 8)]
    pub n: usize,
    /// Seed of the chains.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Data directory and device.
    #[command(flatten)]
    pub place: Place,
}

/// Runs `ebm crossclass`.
pub fn run(args: CrossClassArgs) -> Result<()> {
    let device = args.place.device()?;
    let opts = CrossClassOptions {
        from: args.from,
        to: args.to,
        rounds: args.rounds,
        steps_per_round: args.steps,
        n: args.n,
        seed: args.seed,
    };
    let report = run_crossclass(&args.run, &args.place.data_dir(), &opts, &device)?;
    println!("{}", markdown(&report));
    let stem = args
        .run
        .join(format!("crossclass-{}-{}", args.from, args.to));
    println!(
        "wrote {0}.json and {0}.png ({1:.0} s)",
        stem.display(),
        report.seconds
    );
    Ok(())
}
