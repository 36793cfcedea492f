//! The `ebm` command line and everything behind it, one room per concern: `cli` (arguments
//! and dispatch), `run` (configs, presets, the run directory, checkpoints, the training loop),
//! `eval` (metrics and `eval.json`), `bench` (the benchmark against PyTorch), `ablate` (variants of a preset at one budget), `data` (the data
//! directory, downloads, the embedded default), `plot` (pictures), `report` (the HTML report and live view), `paper` (the paper's
//! experiments), and `device` (backends).
//!
//! Only this crate (and `xtask`) prints, reads environment variables, chooses devices or
//! touches the network; the libraries below it do none of that.

pub mod ablate;
pub mod bench;
pub mod cli;
pub mod data;
pub mod device;
pub mod eval;
pub mod paper;
pub mod plot;
pub mod report;
pub mod run;
pub mod testing;
pub mod weights;
