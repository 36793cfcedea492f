//! The score of a sample under a model: `-E(x)`, or `-min_y E(x, y)` for conditional models.

use burn::tensor::Tensor;
use ebm_model::EnergyModel;

use crate::run::model::EnergyNet;

/// `E(x)` per sample, or `min_y E(x, y)` for a conditional model: the energy the score
/// negates (and whose input gradient `ebm ood --score grad-norm` takes).
pub fn lowest_energy(plain: &EnergyNet, x: Tensor<4>) -> Tensor<1> {
    match plain.num_classes() {
        Some(_) => plain.class_energies(x).min_dim(1).squeeze_dim(1),
        None => plain.energy(x, None),
    }
}

/// Per-sample score `-E(x)`, chunked; conditional models score by their lowest class energy
/// (as the official OOD evaluation does).
pub fn scores(plain: &EnergyNet, x: Tensor<4>) -> Vec<f64> {
    let n = x.dims()[0];
    let mut out = Vec::with_capacity(n);
    for start in (0..n).step_by(256) {
        let chunk = x.clone().slice(start..(start + 256).min(n));
        let e = lowest_energy(plain, chunk);
        out.extend(
            e.into_data()
                .convert::<f32>()
                .try_into_vec::<f32>()
                .unwrap_or_default()
                .into_iter()
                .map(|v| -f64::from(v)),
        );
    }
    out
}
