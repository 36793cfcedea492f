//! The paper's experiments beyond training and sampling, one module each: out-of-distribution
//! detection ([`ood`]), cross-class mapping ([`crossclass`]), adversarial robustness
//! ([`robust`]), inpainting ([`inpaint`]), continual learning ([`continual`]) and planning
//! ([`plan`]). Each runs on trained runs through the rooms below it (`run`, `eval`, `data`,
//! `plot`), writes JSON and pictures, and returns a report the command line prints as a
//! markdown table. What they share (a run with its test images, tensors to values) is here.

pub mod compose;
pub mod continual;
pub mod crossclass;
pub mod inpaint;
pub mod ood;
pub mod plan;
pub mod robust;

use std::path::Path;

use anyhow::{Context, Result};
use burn::tensor::{Device, Tensor};
use ebm_data::{Dequantize, ImageSet, images_to_tensor};
use serde::Serialize;

use crate::data::{Splits, load_for};
use crate::run::TrainedRun;

/// A trained run with its dataset, as every experiment starts.
pub struct Experiment {
    /// The run (config, network on the plain device, buffer, iteration).
    pub run: TrainedRun,
    /// Its dataset's splits.
    pub data: Splits,
}

impl Experiment {
    /// Loads the latest checkpoint of `run` and its dataset (image runs only).
    pub fn load(run: &Path, data_dir: &Path, device: &Device) -> Result<Self> {
        let trained = TrainedRun::load(run, device)?;
        anyhow::ensure!(
            !trained.is_toy(),
            "{} is a toy 2-D run; the paper's experiments need images",
            run.display()
        );
        let data = load_for(&trained.config, data_dir)?;
        Ok(Self { run: trained, data })
    }

    /// The classes of a conditional run, or an error naming the command that needs them.
    pub fn classes(&self, command: &str) -> Result<usize> {
        self.run.num_classes().with_context(|| {
            format!(
                "`ebm {command}` needs a class-conditional run (a *-cond preset); this one ({}) is unconditional",
                self.run.config.preset
            )
        })
    }
}

/// The first `n` images of `set` (all when fewer) as a tensor in [0, 1] with their labels.
pub fn first_images(set: &ImageSet, n: usize, device: &Device) -> (Tensor<4>, Vec<usize>) {
    let idx: Vec<usize> = (0..n.min(set.len())).collect();
    images_to_tensor(set, &idx, Dequantize::None, device)
}

/// The values of a tensor as `f32`.
pub fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .unwrap_or_default()
}

/// Writes `report` as pretty JSON at `path`.
pub fn write_json<T: Serialize>(path: &Path, report: &T) -> Result<()> {
    std::fs::write(path, serde_json::to_string_pretty(report)?)
        .with_context(|| format!("writing {}", path.display()))
}
