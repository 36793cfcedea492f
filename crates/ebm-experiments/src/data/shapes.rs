//! The generated shapes dataset (`ebm_data::shapes`) as a dataset name: `shapes:<labeling>`,
//! where the labeling is `none`, one attribute (`shape`), or attributes joined by `+`
//! (`shape+colour`, one class per combination). Drawn on the fly from one fixed seed, so every
//! run and every experiment sees the same images; the held-out combinations are never in the
//! training split.

use anyhow::{Context, Result};
use ebm_data::Labeling;
use ebm_data::shapes::{SIDE, ShapeSplits, shapes_splits};

use super::Splits;

/// Training images per run (drawn in about a second).
pub const TRAIN_IMAGES: usize = 12_000;

/// Test images (every combination).
pub const TEST_IMAGES: usize = 2_000;

/// Shape `[C, H, W]` of one image.
pub const SHAPE: [usize; 3] = [3, SIDE, SIDE];

/// The labeling named after `shapes:` in a dataset name.
pub fn labeling(spec: &str) -> Result<Labeling> {
    Labeling::parse(spec).with_context(|| format!("dataset shapes:{spec}"))
}

/// Seed of the images.
pub const DATA_SEED: u64 = 2020;

/// The splits with their scenes.
pub fn shape_splits(spec: &str) -> Result<ShapeSplits> {
    Ok(shapes_splits(
        &labeling(spec)?,
        TRAIN_IMAGES,
        TEST_IMAGES,
        DATA_SEED,
    ))
}

/// The splits as a dataset.
pub fn splits(spec: &str) -> Result<Splits> {
    let s = shape_splits(spec)?;
    Ok(Splits {
        train: s.train,
        test: s.test,
    })
}
