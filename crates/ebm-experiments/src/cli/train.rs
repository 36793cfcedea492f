//! `ebm train`: its flags, checked against each other, resolved into a config and a run
//! directory.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use burn::config::Config;
use clap::Args;

use crate::data::{data_dir, load_or_download};
use crate::device::select_device;
use crate::report::serve::{DEFAULT_ADDR, LiveView};
use crate::run::paths::default_run_dir;
use crate::run::presets::{PRESETS, preset as preset_config};
use crate::run::{RunStart, TrainConfig, read_config, train};

/// Flags of `ebm train`.
#[derive(Args, Debug)]
pub struct TrainArgs {
    /// Preset name (not with --resume).
    pub preset: Option<String>,
    /// flex, wgpu, vulkan, metal, cuda or ndarray, optionally :INDEX (default: best compiled in).
    #[arg(long)]
    pub device: Option<String>,
    /// Run directory (default: runs/<preset>-<unix time>). A directory that already holds a
    /// run is refused unless --overwrite.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Replace the run that --out already holds (its config, metrics, checkpoints, samples).
    #[arg(long)]
    pub overwrite: bool,
    /// Total iterations.
    #[arg(long)]
    pub iters: Option<usize>,
    /// Batch size.
    #[arg(long)]
    pub batch: Option<usize>,
    /// Seed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Data directory (default: $EBM_DATA_DIR, else the per-user data directory).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// A JSON config file (a saved config.json, possibly edited) instead of a preset.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Override any field: --set optimizer.lr=3e-4 --set sampler.steps=40 (repeatable).
    #[arg(long = "set")]
    pub set: Vec<String>,
    /// Continue the run in this directory from its latest checkpoint.
    #[arg(long)]
    pub resume: Option<PathBuf>,
    /// Serve the run's report while it trains, refreshing as metrics and samples arrive
    /// (default address 127.0.0.1 and a free port, printed; --serve=HOST:PORT to choose).
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = DEFAULT_ADDR)]
    pub serve: Option<String>,
}

/// A checked `ebm train` invocation.
#[derive(Debug)]
pub struct TrainPlan {
    /// The configuration to train with.
    pub config: TrainConfig,
    /// The run directory.
    pub run: PathBuf,
    /// New, overwrite or resume.
    pub start: RunStart,
}

impl TrainArgs {
    /// Checks the flags against each other and resolves config and run directory. Flags that
    /// cannot apply are errors, never silently ignored.
    pub fn plan(&self) -> Result<TrainPlan> {
        if let Some(run) = &self.resume {
            let mut extra: Vec<&str> = Vec::new();
            for (given, flag) in [
                (self.preset.is_some(), "a preset"),
                (self.config.is_some(), "--config"),
                (self.out.is_some(), "--out"),
                (self.overwrite, "--overwrite"),
                (self.batch.is_some(), "--batch"),
                (self.seed.is_some(), "--seed"),
                (!self.set.is_empty(), "--set"),
            ] {
                if given {
                    extra.push(flag);
                }
            }
            if !extra.is_empty() {
                bail!(
                    "--resume {} continues that run exactly as configured: only --iters (a new total), --device and --data-dir may be given with it, not {}",
                    run.display(),
                    extra.join(", ")
                );
            }
            let mut config = read_config(run)?;
            if let Some(n) = self.iters {
                config.iterations = n;
            }
            return Ok(TrainPlan {
                config,
                run: run.clone(),
                start: RunStart::Resume,
            });
        }
        let mut config = match (&self.config, &self.preset) {
            (Some(_), Some(name)) => {
                bail!("give a preset ({name}) or --config FILE, not both")
            }
            (Some(file), None) => TrainConfig::load(file)
                .map_err(|e| anyhow::anyhow!("reading {}: {e}", file.display()))?,
            (None, Some(name)) => preset_config(name)?,
            (None, None) => bail!(
                "give a preset ({}), --config FILE or --resume RUN_DIR",
                PRESETS.join(", ")
            ),
        };
        config = config.with_overrides(&self.set)?;
        if let Some(n) = self.iters {
            config.iterations = n;
        }
        if let Some(b) = self.batch {
            config.batch_size = b;
        }
        if let Some(s) = self.seed {
            config.seed = s;
        }
        config.validate()?;
        let run = self
            .out
            .clone()
            .unwrap_or_else(|| default_run_dir(&config.preset));
        let start = if self.overwrite {
            RunStart::Overwrite
        } else {
            RunStart::New
        };
        Ok(TrainPlan { config, run, start })
    }
}

/// Runs `ebm train`.
pub fn run(args: TrainArgs) -> Result<()> {
    let plan = args.plan()?;
    let (spec, device) = select_device(args.device.as_deref())?;
    let cfg = &plan.config;
    let data = load_or_download(cfg, &data_dir(args.data_dir.as_deref()))?;
    eprintln!(
        "training {} on {} ({} images) on {spec}, {} iterations, batch {} -> {}",
        cfg.preset,
        cfg.dataset,
        data.train.len(),
        cfg.iterations,
        cfg.batch_size,
        plan.run.display()
    );
    if plan.start == RunStart::Resume {
        // A new total is the only change a resume may make; record it.
        let path = plan.run.join("config.json");
        cfg.save(&path)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    let live = match &args.serve {
        Some(addr) => {
            let view = LiveView::start(&plan.run, addr)?;
            eprintln!("live report at {}", view.url());
            Some(view)
        }
        None => None,
    };
    train(cfg, &plan.run, &data, &device, plan.start)?;
    if let Some(view) = live {
        let out = crate::report::default_out(&plan.run);
        crate::report::write(&plan.run, &out)?;
        eprintln!(
            "report written to {}; the live view at {} stops",
            out.display(),
            view.url()
        );
    }
    if let Some(mib) = crate::run::memory::peak_rss_mib() {
        eprintln!("{}", crate::run::memory::peak_line(mib));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Wrapper {
        #[command(flatten)]
        args: TrainArgs,
    }

    fn plan(args: &[&str]) -> Result<TrainPlan> {
        let mut all = vec!["train"];
        all.extend(args);
        Wrapper::try_parse_from(all)?.args.plan()
    }

    #[test]
    fn resume_refuses_flags_it_would_ignore() {
        for extra in [
            &["mnist-10k"][..],
            &["--config", "x.json"],
            &["--out", "elsewhere"],
            &["--overwrite"],
            &["--seed", "3"],
            &["--set", "batch_size=2"],
        ] {
            let mut args = vec!["--resume", "runs/x"];
            args.extend(extra);
            let err = plan(&args).unwrap_err().to_string();
            assert!(err.contains("--resume"), "{args:?}: {err}");
        }
    }

    #[test]
    fn serve_defaults_to_loopback_and_never_takes_the_preset() {
        let parse = |args: &[&str]| {
            let mut all = vec!["train"];
            all.extend(args);
            Wrapper::try_parse_from(all).unwrap().args
        };
        let a = parse(&["--serve", "mnist-10k"]);
        assert_eq!(a.serve.as_deref(), Some(DEFAULT_ADDR));
        assert_eq!(a.preset.as_deref(), Some("mnist-10k"));
        let a = parse(&["mnist-10k", "--serve=0.0.0.0:8080"]);
        assert_eq!(a.serve.as_deref(), Some("0.0.0.0:8080"));
        assert_eq!(parse(&["mnist-10k"]).serve, None);
    }

    #[test]
    fn a_preset_resolves_with_overrides_and_a_preset_with_config_is_an_error() {
        let p = plan(&["mnist-10k", "--iters", "3", "--out", "r", "--overwrite"]).unwrap();
        assert_eq!(p.config.iterations, 3);
        assert_eq!(p.start, RunStart::Overwrite);
        assert_eq!(p.run, PathBuf::from("r"));
        assert!(plan(&["mnist-10k", "--config", "c.json"]).is_err());
        assert!(plan(&[]).unwrap_err().to_string().contains("mnist-10k"));
    }
}
