//! `ebm compose`: flags and dispatch.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;

use super::place::Place;
use crate::paper::compose::measure::{Contenders, MeasureOptions, measure};
use crate::paper::compose::report::markdown;
use crate::paper::compose::{LabelledRun, Request, compose_grid, parse_conditions};
use crate::paper::write_json;

/// Flags of `ebm compose`.
#[derive(Args, Debug)]
pub struct ComposeArgs {
    /// Runs of the attribute models (shapes-shape, shapes-colour, ... presets).
    #[arg(required = true)]
    pub runs: Vec<PathBuf>,
    /// Conditions that must all hold (AND: energies summed), e.g. shape=circle,colour=red.
    #[arg(long, default_value = "")]
    pub want: String,
    /// Conditions that must not hold (NOT: energies subtracted with --not-weight).
    #[arg(long = "not", default_value = "")]
    pub not_: String,
    /// Alternatives of which one must hold (OR: log-sum-exp), e.g. colour=red,colour=blue;
    /// repeat for several groups.
    #[arg(long)]
    pub or: Vec<String>,
    /// Weight of each NOT term.
    #[arg(long, default_value_t = 0.5)]
    pub not_weight: f64,
    /// Langevin steps from uniform noise.
    #[arg(long, default_value_t = 60)]
    pub steps: usize,
    /// Samples (or, with --measure, samples per combination).
    #[arg(long, default_value_t = 64)]
    pub n: usize,
    /// Seed of the chains.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Output: the grid PNG, or with --measure the folder of compose.json and the grids.
    #[arg(long, default_value = "compose.png")]
    pub out: PathBuf,
    /// Measure instead: every shape x colour combination, seen and held out, composed from
    /// the runs and from the two baselines, scored by attribute classifiers.
    #[arg(long, requires_all = ["joint", "uncond"])]
    pub measure: bool,
    /// The joint-label baseline run (shapes-joint preset), for --measure.
    #[arg(long)]
    pub joint: Option<PathBuf>,
    /// The unconditional baseline run (shapes-uncond preset), for --measure.
    #[arg(long)]
    pub uncond: Option<PathBuf>,
    /// Optimiser steps of each attribute classifier, for --measure.
    #[arg(long, default_value_t = 600)]
    pub classifier_steps: usize,
    /// Data directory (classifier cache) and device.
    #[command(flatten)]
    pub place: Place,
}

/// Runs `ebm compose`.
pub fn run(args: ComposeArgs) -> Result<()> {
    let device = args.place.device()?;
    let runs = args
        .runs
        .iter()
        .map(|p| LabelledRun::load(p, &device))
        .collect::<Result<Vec<_>>>()?;
    if args.measure {
        let load = |p: &Option<PathBuf>| LabelledRun::load(p.as_ref().expect("required"), &device);
        let (joint, uncond) = (load(&args.joint)?, load(&args.uncond)?);
        std::fs::create_dir_all(&args.out)
            .with_context(|| format!("creating {}", args.out.display()))?;
        let opts = MeasureOptions {
            n: args.n,
            steps: args.steps,
            classifier_steps: args.classifier_steps,
            seed: args.seed,
        };
        let who = Contenders {
            attributes: &runs,
            joint: &joint,
            uncond: &uncond,
        };
        let report = measure(&who, &args.place.data_dir(), &args.out, &opts, &device)?;
        write_json(&args.out.join("compose.json"), &report)?;
        println!("{}", markdown(&report));
        println!(
            "wrote {}/compose.json and compose-*.png ({:.0} s)",
            args.out.display(),
            report.seconds
        );
        return Ok(());
    }
    let request = Request {
        want: parse_conditions(&args.want)?,
        or: args
            .or
            .iter()
            .map(|g| parse_conditions(g))
            .collect::<Result<_>>()?,
        not: parse_conditions(&args.not_)?,
        not_weight: args.not_weight,
    };
    compose_grid(
        &runs, &request, args.steps, args.n, args.seed, &args.out, &device,
    )?;
    println!("wrote {}", args.out.display());
    Ok(())
}
