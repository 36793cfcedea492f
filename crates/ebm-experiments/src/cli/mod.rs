//! The `ebm` command line: argument parsing and dispatch only. Each command's work lives in
//! its room (`run`, `eval`, `bench`, `data`, `paper`).

pub mod ablate;
pub mod bench;
pub mod compose;
pub mod continual;
pub mod crossclass;
pub mod data;
pub mod inpaint;
pub mod ood;
pub mod place;
pub mod plan;
pub mod report;
pub mod robust;
pub mod sample;
pub mod train;
pub mod weights;

use anyhow::Result;
use clap::{Parser, Subcommand};

use crate::device::{compiled_backends, select_device};

/// `ebm`.
#[derive(Parser)]
#[command(name = "ebm", version, about = "Energy-based models on Burn")]
pub struct Cli {
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands of `ebm`.
#[derive(Subcommand)]
pub enum Command {
    /// Train a preset (cifar10, cifar10-cond, mnist, fashion-mnist, mnist-10k, the -cond
    /// presets, toy2d, the shapes-* attribute presets), or resume a run with --resume RUN_DIR.
    Train(train::TrainArgs),
    /// Evaluate a run's latest checkpoint: AUROC against uniform noise, proxy FID, accuracy
    /// (conditional models); writes RUN/eval.json.
    Eval(sample::EvalArgs),
    /// Write a grid of fresh samples from a run's latest checkpoint.
    Sample(sample::SampleArgs),
    /// Write a run's network to a safetensors file with PyTorch names (spectral-norm `u`
    /// included) and its configuration to a JSON beside it.
    Export(weights::ExportArgs),
    /// Read weights written by `ebm export` (PyTorch names) into a new run directory that
    /// `ebm sample` and `ebm eval` accept.
    Import(weights::ImportArgs),
    /// Datasets: download, inspect.
    #[command(subcommand)]
    Data(data::DataCommand),
    /// List the backends compiled into this binary and the default device.
    Devices,
    /// Train variants of a preset for the same wall-clock budget each and evaluate them the
    /// same way: an ablation table.
    Ablate(ablate::AblateArgs),
    /// Benchmark: Langevin steps/s and CD training-iteration time of ResNet32 and MnistNet, peak
    /// memory of a training run and data loading, beside the PyTorch reference when torch is
    /// available (interleaved, medians).
    Bench(bench::BenchArgs),
    /// Continual learning: `ebm continual split-mnist [--seeds N] [--data-dir DIR]`.
    #[command(subcommand)]
    Continual(continual::ContinualCommand),
    /// Planning with transition energies (EBM-plan): train on an environment (particle, maze,
    /// reacher), plan with MPPI or Langevin, compare with a feed-forward baseline; writes
    /// plan.json and trajectory pictures.
    Plan(plan::PlanArgs),
    /// Out-of-distribution detection: AUROC of -E (conditional: -min_y E) of the run's test
    /// images against synthetic sets, other datasets and image folders; writes RUN/ood.json
    /// and RUN/ood-roc.png.
    Ood(ood::OodArgs),
    /// Cross-class mapping: test images of class A under Langevin of class B's energy, judged
    /// by a separately trained classifier; writes RUN/crossclass-A-B.{json,png}.
    Crossclass(crossclass::CrossClassArgs),
    /// Adversarial robustness: PGD (linf or l2) against the EBM classifier with and without
    /// Langevin purification, and a softmax CNN baseline; writes RUN/robust-NORM.{json,png}.
    Robust(robust::RobustArgs),
    /// A run as one self-contained HTML page (training curves, sample grids, evaluation,
    /// experiment outputs, config): RUN/report.html, or served live with --serve.
    Report(report::ReportArgs),
    /// Inpainting and denoising by masked Langevin, against mean-fill; writes
    /// RUN/inpaint-MASK.{json,png}.
    Inpaint(inpaint::InpaintArgs),
    /// Compositional generation: attribute models (shapes-* presets) composed by AND (--want),
    /// OR (--or) and NOT (--not), sampled by Langevin into a grid PNG; with --measure, scored
    /// by attribute classifiers on seen and held-out combinations against a joint-label and
    /// an unconditional model (compose.json).
    Compose(compose::ComposeArgs),
}

/// Runs one command.
pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Train(args) => train::run(args),
        Command::Eval(args) => sample::eval(args),
        Command::Sample(args) => sample::sample(args),
        Command::Export(args) => weights::export(args),
        Command::Import(args) => weights::import(args),
        Command::Data(command) => data::run(command),
        Command::Devices => {
            println!(
                "compiled-in backends (best first): {}",
                compiled_backends().join(", ")
            );
            let (spec, _) = select_device(None)?;
            println!("default device: {spec}");
            Ok(())
        }
        Command::Bench(args) => bench::run(args),
        Command::Ablate(args) => ablate::run(args),
        Command::Continual(command) => continual::run(command),
        Command::Plan(args) => plan::run_plan(args),
        Command::Ood(args) => ood::run(args),
        Command::Crossclass(args) => crossclass::run(args),
        Command::Robust(args) => robust::run(args),
        Command::Inpaint(args) => inpaint::run(args),
        Command::Report(args) => report::run(args),
        Command::Compose(args) => compose::run(args),
    }
}
