//! The paper's experiments beyond training and sampling, one module each: out-of-distribution
//! detection, cross-class mapping, robustness, inpainting, continual learning, compositional
//! generation and planning. Each runs on trained runs through the rooms below it (`run`,
//! `eval`, `data`, `plot`) and writes JSON and pictures into the run directory.

pub mod continual;
pub mod plan;
