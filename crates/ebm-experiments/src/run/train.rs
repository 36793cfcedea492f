//! The training loop: contrastive divergence with the energy L2 penalty, replay-buffer
//! Langevin negatives, checkpoints, exact resume and a divergence guard.
//!
//! A hand-written loop rather than burn-train's `Learner`: every iteration runs a sampler
//! whose state (the replay buffer) must be checkpointed with the model, a divergence must roll
//! the model, optimiser and buffer back together, and a resumed run must repeat the
//! uninterrupted one exactly, which needs every random draw to be a function of the seed and
//! the iteration. Those fit a fifty-line loop better than a learning strategy plugged into a
//! generic trainer.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use burn::config::Config;
use burn::module::Module;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Tensor};
use ebm_data::{Dequantize, batch_indices, images_to_tensor};
use ebm_sampler::{NoObserver, Observer, Recorder, ReplayBuffer, SplitMix64};

use super::cd_step::{CdSettings, cd_loss};
use super::checkpoint::{self, LoopState};
use super::config::TrainConfig;
use super::data_starts::data_start_chains;
use super::ema::Ema;
use super::fitted_init::fitted_init;
use super::generate::{Start, generate};
use super::metrics::{self, MetricsLine};
use super::model::EnergyNet;
use super::paths::{RunPaths, RunStart, claim_new};
use super::progress::Progress;
use super::warmup::warmed_up;
use crate::data::Splits;
use crate::plot::samples::write_png;

/// Seed of everything random in one iteration: a pure function of the run seed, the rollback
/// count and the iteration, so a resumed run repeats the uninterrupted one.
pub fn iteration_seed(seed: u64, reseed: u64, iteration: usize) -> u64 {
    SplitMix64::new(
        seed ^ reseed.wrapping_mul(0x9e37_79b9)
            ^ (iteration as u64).wrapping_mul(0x2545_f491_4f6c_dd1d),
    )
    .next_u64()
}

/// Trains a new run in `run`, or continues the run it holds ([`RunStart`]).
///
/// Returns the final model on the autodiff device.
pub fn train(
    config: &TrainConfig,
    run: &Path,
    data: &Splits,
    device: &Device,
    start: RunStart,
) -> Result<EnergyNet> {
    config.validate()?;
    let resume = start == RunStart::Resume;
    if !resume {
        claim_new(run, start == RunStart::Overwrite)?;
    }
    let paths = RunPaths::new(run);
    std::fs::create_dir_all(paths.samples())
        .with_context(|| format!("creating {}", paths.samples().display()))?;
    let train_device = device.clone().autodiff();
    let conditional = config.model.num_classes();
    let set = &data.train;
    if set.is_empty() {
        bail!("the training set is empty");
    }
    if let Some(k) = conditional
        && k != set.num_classes
    {
        bail!("the model has {k} classes, the dataset {}", set.num_classes);
    }
    let shape = set.image_shape();
    // Fresh chains' Gaussians (`replay.init = Fitted`), fitted first; the seconds the fit
    // takes count against the time limit.
    let fitted = fitted_init(&config.replay.init, set)?;
    if let Some((g, secs)) = &fitted {
        eprintln!(
            "fresh chains start from {} Gaussians fitted to the training images ({secs:.1} s)",
            g.components()
        );
    }
    let with_fitted = |mut buffer: ReplayBuffer| {
        if let Some((g, _)) = &fitted {
            buffer.set_fitted(g.clone());
        }
        buffer
    };

    let fresh = |seed: u64| -> (EnergyNet, ModuleOptimizer, ReplayBuffer) {
        device.seed(seed);
        let model = config.model.init(&train_device);
        let buffer = ReplayBuffer::new(
            config.replay.clone(),
            &shape,
            conditional.is_some(),
            seed ^ 0x5eed,
        );
        (model, config.optimizer.init(), with_fitted(buffer))
    };

    let (mut model, mut optim, mut buffer, mut state, saved_ema) = if resume {
        let ckpt = checkpoint::latest(run)?;
        let (m, o, _) = fresh(config.seed);
        let r = checkpoint::load(&ckpt, m, o, config.replay.clone(), &shape)?;
        metrics::truncate(&paths.metrics(), r.state.iteration)?;
        eprintln!(
            "resuming {} from {} (iteration {})",
            run.display(),
            ckpt.display(),
            r.state.iteration
        );
        (r.model, r.optim, with_fitted(r.buffer), r.state, r.ema)
    } else {
        config
            .save(paths.config())
            .with_context(|| format!("writing {}", paths.config().display()))?;
        let _ = std::fs::remove_file(paths.metrics());
        let (m, o, b) = fresh(config.seed);
        let state = LoopState {
            iteration: 0,
            lr: config.optimizer.lr,
            reseed: 0,
            rollbacks: 0,
            seconds: 0.0,
        };
        let ema = config.ema_decay.map(|d| Ema::new(d, &m).model(&m));
        checkpoint::save(run, &m, &o, &b, &state, ema.as_ref(), 2)?;
        (m, o, b, state, ema)
    };
    let average = |saved: Option<EnergyNet>, live: &EnergyNet| {
        config.ema_decay.map(|d| match saved {
            Some(avg) => Ema::from_model(d, &avg),
            None => Ema::new(d, live),
        })
    };
    let mut ema = average(saved_ema, &model);
    // The network the chains sample under: the averaged weights when the run keeps them.
    let sampling = |model: &EnergyNet, ema: &Option<Ema>| match ema {
        Some(e) => e.model(model),
        None => model.valid(),
    };

    let progress = Progress {
        terminal: std::io::stderr().is_terminal(),
        start: Instant::now(),
        start_iter: state.iteration,
        total: config.iterations,
        time_limit_secs: config.time_limit_secs,
    };
    let mut metrics = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(paths.metrics())
        .with_context(|| format!("opening {}", paths.metrics().display()))?;
    let b = config.batch_size;
    let settings = CdSettings {
        sampler: &config.sampler,
        l2_coeff: config.l2_coeff,
        classes: conditional,
        relabel: false,
        augment_shift: config.augment_shift,
        class_weight: config.class_weight.unwrap_or(0.0),
        class_noise: config.class_noise.unwrap_or(0.0),
        kl_weight: config.kl_weight.unwrap_or(0.0),
        entropy_weight: config.entropy_weight.unwrap_or(0.0),
    };
    let mut last_negatives: Option<Tensor<4>> = None;
    // Training seconds of this invocation, for `time_limit_secs` (the fit included).
    let mut session_seconds = fitted.as_ref().map_or(0.0, |(_, secs)| *secs);

    while state.iteration < config.iterations {
        let started = Instant::now();
        let it = state.iteration;
        device.seed(iteration_seed(config.seed, state.reseed, it));
        let idx = batch_indices(set.len(), b, config.seed ^ state.reseed, it as u64);
        let (x_pos, labels) = images_to_tensor(set, &idx, Dequantize::Uniform, device);
        let pos_labels = conditional.map(|_| labels);
        let extra = match (config.data_starts, pos_labels.as_deref()) {
            (Some(f), Some(l)) => data_start_chains(&x_pos, l, f, device),
            _ => None,
        };
        let logging = (it + 1) % config.log_every == 0;
        let mut recorder = Recorder::default();
        let observer: &mut dyn Observer = if logging {
            &mut recorder
        } else {
            &mut NoObserver
        };
        let chains = sampling(&model, &ema);
        let step = cd_loss(
            &model,
            &chains,
            &settings,
            x_pos,
            pos_labels.as_deref(),
            extra,
            &mut buffer,
            iteration_seed(config.seed ^ 0xa06, state.reseed, it),
            observer,
            device,
        );
        let (mp, mn, lv) = (step.e_pos, step.e_neg, step.value);
        let limit = config.divergence.energy_limit;
        if !step.healthy(limit) {
            let ckpt = checkpoint::latest(run)?;
            if state.rollbacks >= config.divergence.max_rollbacks {
                bail!(
                    "training diverged at iteration {it} (E+ {mp}, E- {mn}, loss {lv}) after {} rollbacks; giving up (last good checkpoint: {})",
                    state.rollbacks,
                    ckpt.display()
                );
            }
            let (m, o, _) = fresh(config.seed);
            let r = checkpoint::load(&ckpt, m, o, config.replay.clone(), &shape)?;
            let lr = state.lr * config.divergence.lr_factor;
            progress.say(&format!(
                "divergence at iteration {it} (E+ {mp:.3e}, E- {mn:.3e}, loss {lv:.3e}): rolled back to iteration {}, learning rate {:.3e} -> {lr:.3e}, reseeded",
                r.state.iteration, state.lr
            ));
            (model, optim, buffer) = (r.model, r.optim, with_fitted(r.buffer));
            ema = average(r.ema, &model);
            state = LoopState {
                lr,
                reseed: state.reseed + 1,
                rollbacks: state.rollbacks + 1,
                ..r.state
            };
            metrics::truncate(&paths.metrics(), state.iteration)?;
            continue;
        }
        let grads = GradientsParams::from_grads(step.loss.backward(), &model);
        let x_neg = step.x_neg;
        let lr = warmed_up(state.lr, it, config.warmup_iters.unwrap_or(0));
        model = optim.step(lr, model, grads);
        if let Some(e) = ema.as_mut() {
            e.update(&model);
        }
        state.iteration += 1;
        state.seconds += started.elapsed().as_secs_f64();

        if logging {
            let steps = &recorder.steps;
            let grad_x =
                steps.iter().map(|s| s.mean_abs_grad).sum::<f64>() / steps.len().max(1) as f64;
            let line = MetricsLine {
                iteration: state.iteration,
                e_pos: mp,
                e_neg: mn,
                loss: lv,
                grad_x,
                seconds: state.seconds,
                lr,
            };
            writeln!(metrics, "{}", serde_json::to_string(&line)?)
                .with_context(|| format!("writing {}", paths.metrics().display()))?;
            progress.report(&line);
        }
        if state.iteration % config.sample_every == 0 {
            write_samples(
                &paths,
                &format!("iter-{:08}", state.iteration),
                &x_neg,
                &sampling(&model, &ema),
                config,
            )?;
        }
        session_seconds += started.elapsed().as_secs_f64();
        let out_of_time = config
            .time_limit_secs
            .is_some_and(|limit| session_seconds >= limit);
        if state.iteration % config.checkpoint_every == 0
            || state.iteration == config.iterations
            || out_of_time
        {
            let averaged = ema.as_ref().map(|e| e.model(&model));
            checkpoint::save(run, &model, &optim, &buffer, &state, averaged.as_ref(), 2)?;
        }
        last_negatives = Some(x_neg);
        if out_of_time {
            progress.say(&format!(
                "time limit of {session_seconds:.0} s reached at iteration {}",
                state.iteration
            ));
            break;
        }
    }
    if let Some(x_neg) = last_negatives {
        let plain = sampling(&model, &ema);
        device.seed(iteration_seed(
            config.seed ^ 0xf1a1,
            state.reseed,
            state.iteration,
        ));
        let grid = final_grid(&plain, config, &mut buffer, shape, x_neg, device)?;
        write_samples(&paths, "final", &grid, &plain, config)?;
        progress.say(&format!(
            "done: {} iterations in {:.0} s; run in {}",
            state.iteration,
            state.seconds,
            run.display()
        ));
    }
    Ok(model)
}

/// The samples of `samples/final.png`: `grid_size` chains continued from the replay buffer for
/// the run's K steps (the `buffer` row of `ebm eval`), so the grid shows what the persistent
/// chains reached rather than the last training batch, in which the chains just started from
/// noise are only K steps old. Without enough stored samples, the last batch.
fn final_grid(
    plain: &EnergyNet,
    config: &TrainConfig,
    buffer: &mut ReplayBuffer,
    shape: [usize; 3],
    last_batch: Tensor<4>,
    device: &Device,
) -> Result<Tensor<4>> {
    let n = config.grid_size;
    if buffer.len() < n {
        return Ok(last_batch);
    }
    let (x, _) = generate(
        plain,
        &config.sampler,
        n,
        shape,
        Start::Buffer,
        Some(buffer),
        None,
        device,
    )?;
    Ok(x)
}

/// Writes the sample grid (images) or the energy map with samples (toy 2-D) for `tag`.
fn write_samples(
    paths: &RunPaths,
    tag: &str,
    x: &Tensor<4>,
    plain: &EnergyNet,
    config: &TrainConfig,
) -> Result<()> {
    let [n, _, h, _] = x.dims();
    let take = n.min(config.grid_size);
    write_png(
        &paths.samples().join(format!("{tag}.png")),
        x.clone().slice(0..take),
        plain,
        config.dataset.starts_with("toy2d:"),
        if h <= 32 { 2 } else { 1 },
    )
}
