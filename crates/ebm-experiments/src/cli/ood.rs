//! `ebm ood`: flags and dispatch.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use super::place::Place;
use crate::paper::ood::score::Score;
use crate::paper::ood::{OodOptions, markdown, output_stem, run_ood};

/// Flags of `ebm ood`.
#[derive(Args, Debug)]
pub struct OodArgs {
    /// Run directory.
    pub run: PathBuf,
    /// OOD sets, comma-separated: uniform, constant, official-uniform, interpolation, mnist,
    /// fashion-mnist, mnist-10k, cifar10, cifar100, svhn, textures, folder:PATH (default: the
    /// synthetic sets and every other dataset of the run's image size that is present).
    #[arg(long, value_delimiter = ',')]
    pub sets: Option<Vec<String>>,
    /// Test images, and images per OOD set.
    #[arg(long, default_value_t = 1000)]
    pub n: usize,
    /// Seed of the synthetic sets.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// What images are ranked by: energy (the paper's -E, conditional -min_y E), typicality
    /// (-|s - mean s over training images|), max-softmax (conditional runs), grad-norm
    /// (-||grad_x s||) or grad-typicality (-|g - mean g over training images|, g the
    /// grad-norm score); the others write ood-SCORE.json and ood-SCORE-roc.png.
    #[arg(long, default_value = "energy")]
    pub score: String,
    /// Data directory and device.
    #[command(flatten)]
    pub place: Place,
}

/// Runs `ebm ood`.
pub fn run(args: OodArgs) -> Result<()> {
    let device = args.place.device()?;
    let opts = OodOptions {
        sets: args.sets,
        n: args.n,
        seed: args.seed,
        score: Score::parse(&args.score)?,
    };
    let report = run_ood(&args.run, &args.place.data_dir(), &opts, &device)?;
    println!("{}", markdown(&report));
    let stem = args.run.join(output_stem(opts.score));
    println!(
        "wrote {0}.json and {0}-roc.png ({1:.0} s)",
        stem.display(),
        report.seconds
    );
    Ok(())
}
