//! The `ebm` command line: device selection, data sources and the subcommands behind
//! `cargo xtask`.
//!
//! Only this crate (and `xtask`) prints, reads environment variables, chooses devices or
//! touches the network; the libraries below it do none of that.

pub mod bench;
pub mod data;
pub mod device;
pub mod download;
