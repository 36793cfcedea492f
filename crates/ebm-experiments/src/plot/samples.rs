//! Pictures of samples: an image grid, or for toy 2-D data the model's energy map with the
//! samples drawn on it.

use std::path::Path;

use anyhow::Result;
use burn::tensor::{Device, Tensor};
use ebm_model::EnergyModel;

use super::grid::{write_energy_map, write_grid};
use crate::run::model::EnergyNet;

/// Writes samples `x` as a PNG: an image grid scaled `scale` times, or for toy 2-D data the
/// model's energy map with the samples drawn on it.
pub fn write_png(
    path: &Path,
    x: Tensor<4>,
    plain: &EnergyNet,
    toy: bool,
    scale: usize,
) -> Result<()> {
    let [_, c, h, w] = x.dims();
    let device = x.device();
    let values = x
        .into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    if toy {
        let energies = energy_map(plain, 64, &device)?;
        write_energy_map(path, &energies, 64, &values, 4)
    } else {
        write_grid(path, &values, [c, h, w], scale)
    }
}

/// Energies of a 2-D model on a `side x side` grid over [0, 1]^2 (row-major, y up).
pub fn energy_map(plain: &EnergyNet, side: usize, device: &Device) -> Result<Vec<f32>> {
    let mut pts = Vec::with_capacity(2 * side * side);
    for yi in 0..side {
        for xi in 0..side {
            pts.push((xi as f32 + 0.5) / side as f32);
            pts.push((yi as f32 + 0.5) / side as f32);
        }
    }
    let x = Tensor::<4>::from_data(
        burn::tensor::TensorData::new(pts, [side * side, 2, 1, 1]),
        device,
    );
    plain
        .energy(x, None)
        .into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .map_err(|e| anyhow::anyhow!("{e:?}"))
}
