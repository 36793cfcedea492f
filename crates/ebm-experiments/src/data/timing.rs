//! Timed dataset loading, for `ebm data info` and the bench.

use std::path::Path;
use std::time::Instant;

use anyhow::Result;
use burn::tensor::Device;
use serde::Serialize;

use super::{DatasetName, Splits, load};

/// One data-loading row.
#[derive(Clone, Debug, Serialize)]
pub struct DataRow {
    /// Dataset.
    pub dataset: String,
    /// Training images.
    pub images: usize,
    /// Seconds to read and parse both splits.
    pub parse_seconds: f64,
    /// Seconds to turn the whole training set into a dequantised tensor.
    pub tensor_seconds: f64,
}

/// Loads `name` from `dir` and turns its whole training set into a dequantised tensor on
/// `device`, timing both steps (`ebm data info` and the bench's data part).
pub fn time_loading(name: DatasetName, dir: &Path, device: &Device) -> Result<(Splits, DataRow)> {
    let start = Instant::now();
    let splits = load(name, dir)?;
    let parse_seconds = start.elapsed().as_secs_f64();
    let start = Instant::now();
    // Textures has a test split only.
    let set = if splits.train.is_empty() {
        &splits.test
    } else {
        &splits.train
    };
    let all: Vec<usize> = (0..set.len()).collect();
    let (x, _) = ebm_data::images_to_tensor(set, &all, ebm_data::Dequantize::Uniform, device);
    // Reading a value back waits for an asynchronous backend.
    let _ = x.slice(0..1).into_data();
    let row = DataRow {
        dataset: name.name().into(),
        images: set.len(),
        parse_seconds,
        tensor_seconds: start.elapsed().as_secs_f64(),
    };
    Ok((splits, row))
}
