//! The `ebm` command line: device selection, data sources, training, sampling, evaluation
//! and benchmarks behind `cargo xtask`.
//!
//! Only this crate (and `xtask`) prints, reads environment variables, chooses devices or
//! touches the network; the libraries below it do none of that.

pub mod bench;
pub mod bench_train;
pub mod checkpoint;
pub mod classifier;
pub mod config;
pub mod data;
pub mod device;
pub mod download;
pub mod eval;
pub mod grid;
pub mod memory;
pub mod model;
pub mod optim;
pub mod presets;
pub mod reference;
pub mod sample;
pub mod stats;
pub mod train;
