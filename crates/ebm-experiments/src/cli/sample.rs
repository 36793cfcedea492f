//! `ebm sample` and `ebm eval`: flags of the commands that read a trained run.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use crate::data::data_dir;
use crate::device::select_device;
use crate::eval::{EvalOptions, evaluate};
use crate::run::sample::{SampleOptions, sample_run};

/// Flags of `ebm eval`.
#[derive(Args, Debug)]
pub struct EvalArgs {
    /// Run directory.
    pub run: PathBuf,
    /// Test images to use (and as many samples of each kind, and OOD images of each set).
    #[arg(long, default_value_t = 1000)]
    pub n: usize,
    /// Langevin steps of the chains continuing the replay buffer (default: the run's
    /// training steps).
    #[arg(long)]
    pub steps: Option<usize>,
    /// Langevin steps of the chains from uniform noise (default: 3x the training steps).
    #[arg(long)]
    pub noise_steps: Option<usize>,
    /// Change the run's sampler for the evaluation chains: --sampler-set step_size=2
    /// --sampler-set 'grad_clip={"Elementwise":0.05}' (repeatable).
    #[arg(long = "sampler-set")]
    pub sampler_set: Vec<String>,
    /// Data directory (default: $EBM_DATA_DIR, else the per-user data directory).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Device, as for train.
    #[arg(long)]
    pub device: Option<String>,
}

/// Flags of `ebm sample`.
#[derive(Args, Debug)]
pub struct SampleArgs {
    /// Run directory.
    pub run: PathBuf,
    /// Number of samples.
    #[arg(long, default_value_t = 64)]
    pub n: usize,
    /// Langevin steps (default: the run's training steps).
    #[arg(long)]
    pub steps: Option<usize>,
    /// Class label (conditional models only; default: classes in turn).
    #[arg(long)]
    pub label: Option<usize>,
    /// Continue chains from the replay buffer instead of starting from uniform noise.
    #[arg(long)]
    pub from_buffer: bool,
    /// Output PNG (default: RUN/samples/sample.png).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Device, as for train.
    #[arg(long)]
    pub device: Option<String>,
    /// Seed of the chains.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

/// Runs `ebm eval`.
pub fn eval(args: EvalArgs) -> Result<()> {
    let (_, device) = select_device(args.device.as_deref())?;
    let opts = EvalOptions {
        n: args.n,
        buffer_steps: args.steps,
        noise_steps: args.noise_steps,
        sampler_overrides: args.sampler_set,
        classifier_steps: crate::eval::classifier::TRAIN_STEPS,
    };
    let report = evaluate(
        &args.run,
        &data_dir(args.data_dir.as_deref()),
        &opts,
        &device,
    )?;
    println!("{}", report.table());
    println!("wrote {}", args.run.join("eval.json").display());
    Ok(())
}

/// Runs `ebm sample`.
pub fn sample(args: SampleArgs) -> Result<()> {
    let (_, device) = select_device(args.device.as_deref())?;
    let opts = SampleOptions {
        n: args.n,
        steps: args.steps,
        label: args.label,
        from_buffer: args.from_buffer,
        out: args.out,
        seed: args.seed,
    };
    let path = sample_run(&args.run, &opts, &device)?;
    println!("wrote {}", path.display());
    Ok(())
}
