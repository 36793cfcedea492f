//! A training run: its configuration and presets, the network and optimiser, the run
//! directory with its checkpoints and metrics, the training loop with its progress output, and
//! loading a trained run back to sample from it.

pub mod cd_step;
pub mod checkpoint;
pub mod config;
pub mod data_starts;
pub mod ema;
pub mod fitted_init;
pub mod generate;
pub mod loss;
pub mod memory;
pub mod metrics;
pub mod model;
pub mod optim;
pub mod param_ids;
pub mod paths;
pub mod presets;
pub mod progress;
pub mod restore;
pub mod sample;
pub mod train;
pub mod warmup;

pub use config::TrainConfig;
pub use paths::{RunPaths, RunStart, read_config};
pub use restore::TrainedRun;
pub use train::train;
