//! `ebm ablate`: its flags.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use super::place::Place;
use crate::ablate::{AblateOptions, ablate, read_variants};
use crate::eval::EvalOptions;
use crate::eval::classifier::TRAIN_STEPS;

/// Flags of `ebm ablate`.
#[derive(Args, Debug)]
pub struct AblateArgs {
    /// The preset every variant starts from.
    pub preset: String,
    /// A JSON list of variants: [{"name": "base", "set": []}, {"name": "lr 1e-3", "set":
    /// ["optimizer.lr=1e-3"]}, ...].
    #[arg(long)]
    pub variants: PathBuf,
    /// Training seconds per variant.
    #[arg(long, default_value_t = 300.0)]
    pub budget_secs: f64,
    /// Test images, and samples of each kind, per evaluation.
    #[arg(long, default_value_t = 1000)]
    pub n: usize,
    /// Where the runs, `ablation.json` and `ablation.md` go.
    #[arg(long, default_value = "runs/ablation")]
    pub out: PathBuf,
    /// Data directory and device.
    #[command(flatten)]
    pub place: Place,
}

/// Runs `ebm ablate`.
pub fn run(args: AblateArgs) -> Result<()> {
    let device = args.place.device()?;
    let opts = AblateOptions {
        preset: args.preset,
        budget_secs: args.budget_secs,
        variants: read_variants(&args.variants)?,
        eval: EvalOptions {
            n: args.n,
            buffer_steps: None,
            noise_steps: None,
            sampler_overrides: Vec::new(),
            classifier_steps: TRAIN_STEPS,
        },
        out: args.out,
        data_dir: args.place.data_dir(),
    };
    let ablation = ablate(&opts, &device)?;
    println!("{}", ablation.table());
    println!("wrote {}", opts.out.join("ablation.json").display());
    Ok(())
}
