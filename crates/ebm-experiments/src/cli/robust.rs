//! `ebm robust`: flags and dispatch.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use super::place::Place;
use crate::paper::robust::attack::Norm;
use crate::paper::robust::{RobustOptions, markdown, run_robust};

/// Flags of `ebm robust`.
#[derive(Args, Debug)]
pub struct RobustArgs {
    /// Run directory (a class-conditional run).
    pub run: PathBuf,
    /// Threat model: linf or l2.
    #[arg(long, default_value = "linf")]
    pub norm: String,
    /// Radii, comma-separated, in pixel units of [0, 1] images (default: 0,0.05,0.1,0.2 for
    /// linf, 0,0.5,1,2 for l2).
    #[arg(long, value_delimiter = ',')]
    pub eps: Option<Vec<f64>>,
    /// PGD steps.
    #[arg(long, default_value_t = 10)]
    pub steps: usize,
    /// Test images attacked.
    #[arg(long, default_value_t = 100)]
    pub n: usize,
    /// Langevin steps of the purification (the official robustness runs used 10).
    #[arg(long, default_value_t = 10)]
    pub purify_steps: usize,
    /// Purification chains per image and class, averaged (also BPDA's EOT samples).
    #[arg(long, default_value_t = 2)]
    pub chains: usize,
    /// Box around the input the purification stays in (the official 8/255); 0 for none.
    #[arg(long, default_value_t = 8.0 / 255.0)]
    pub purify_radius: f64,
    /// Training steps of the softmax CNN baseline (batch 128).
    #[arg(long, default_value_t = 600)]
    pub baseline_steps: usize,
    /// Skip the attack through the purification (BPDA/EOT), the costliest curve.
    #[arg(long)]
    pub no_bpda: bool,
    /// Seed of the attacks and chains.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Data directory and device.
    #[command(flatten)]
    pub place: Place,
}

/// Runs `ebm robust`.
pub fn run(args: RobustArgs) -> Result<()> {
    let device = args.place.device()?;
    let norm = Norm::parse(&args.norm)?;
    let eps = args.eps.unwrap_or_else(|| match norm {
        Norm::Linf => vec![0.0, 0.05, 0.1, 0.2],
        Norm::L2 => vec![0.0, 0.5, 1.0, 2.0],
    });
    let opts = RobustOptions {
        norm,
        eps,
        steps: args.steps,
        n: args.n,
        purify_steps: args.purify_steps,
        chains: args.chains,
        radius: (args.purify_radius > 0.0).then_some(args.purify_radius),
        baseline_steps: args.baseline_steps,
        bpda: !args.no_bpda,
        seed: args.seed,
    };
    let report = run_robust(&args.run, &args.place.data_dir(), &opts, &device)?;
    println!("{}", markdown(&report));
    let stem = args.run.join(format!("robust-{}", norm.name()));
    println!(
        "wrote {0}.json and {0}.png ({1:.0} s)",
        stem.display(),
        report.seconds
    );
    Ok(())
}
