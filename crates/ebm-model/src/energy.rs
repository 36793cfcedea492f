//! The one energy API every network implements.

use burn::tensor::Tensor;

use crate::conditioning::one_hot;

/// A network `E(x[, y])` returning one scalar energy per sample (low = data-like).
///
/// `D` is the input rank: 4 for images `[batch, C, H, W]`, 2 for vectors `[batch, features]`.
pub trait EnergyModel<const D: usize> {
    /// Number of classes of a conditional model, `None` for an unconditional one.
    fn num_classes(&self) -> Option<usize>;

    /// Per-sample energies `[batch]`.
    ///
    /// `labels` is a one-hot (or soft) `[batch, classes]` matrix for conditional models and
    /// `None` for unconditional ones.
    ///
    /// # Panics
    ///
    /// If the input shape does not fit the network, or labels are missing for a conditional
    /// model or given to an unconditional one.
    fn energy(&self, x: Tensor<D>, labels: Option<Tensor<2>>) -> Tensor<1>;

    /// Energies of every sample under every class, `[batch, classes]`, in one batched call
    /// (the batch is tiled over the classes), so `-E` serves as classifier logits.
    ///
    /// # Panics
    ///
    /// If the model is unconditional.
    fn class_energies(&self, x: Tensor<D>) -> Tensor<2> {
        tiled_class_energies(self, x)
    }
}

/// `class_energies` by tiling the batch over the classes: one `energy` call on
/// `classes * batch` samples.
///
/// # Panics
///
/// If the model is unconditional.
pub fn tiled_class_energies<const D: usize, M: EnergyModel<D> + ?Sized>(
    model: &M,
    x: Tensor<D>,
) -> Tensor<2> {
    let classes = model
        .num_classes()
        .expect("class_energies needs a conditional model");
    let batch = x.dims()[0];
    let device = x.device();
    // Row k * batch + i holds sample i under class k.
    let tiled = x.repeat_dim(0, classes);
    let labels: Vec<usize> = (0..classes * batch).map(|j| j / batch).collect();
    let energies = model.energy(tiled, Some(one_hot(&labels, classes, &device)));
    energies.reshape([classes, batch]).transpose()
}
