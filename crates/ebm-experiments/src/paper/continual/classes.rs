//! The contrastive-over-classes objective of Li, Du, van de Ven & Mordatch (2020, "Energy-Based
//! Models for Continual Learning"): each positive `(x, y)` lowers `E(x, y)` against the energies
//! of the same image under the other classes of the current task only,
//! `E(x, y) + log sum_{y' in task} exp(-E(x, y'))`. No Langevin chain: the negatives are the
//! positive's own image under the other current labels, so a task never touches the energies
//! of earlier classes directly, and never learns "a clean digit" against its own samples (what
//! makes new labels undercut old ones on every digit under contrastive divergence).
//! `l2_coeff` times the mean squared energy keeps the energy levels of tasks trained at
//! different times near one another, since the cross-entropy alone only fixes differences
//! within a task.

use burn::tensor::{Device, Tensor};
use ebm_model::{EnergyModel, one_hot};

use crate::run::cd_step::classification_loss;
use crate::run::model::EnergyNet;

/// The loss of one batch and what it says of the energies.
pub struct ClassesLoss {
    /// The loss on the autodiff device, ready for `backward`.
    pub loss: Tensor<1>,
    /// Mean energy of the positives under their own labels.
    pub e_pos: f64,
    /// Mean energy of the positives under the other labels of the task.
    pub e_neg: f64,
    /// The loss as a number.
    pub value: f64,
}

/// The objective on positives `x_pos` (plain device) with `labels`, all among `task`, under
/// `model` (autodiff device) with `classes` labels in all.
///
/// # Panics
///
/// If a label is not in `task`.
pub fn current_classes_loss(
    model: &EnergyNet,
    x_pos: Tensor<4>,
    labels: &[usize],
    task: &[usize],
    classes: usize,
    l2_coeff: f64,
    device: &Device,
) -> ClassesLoss {
    let (b, k) = (labels.len(), task.len());
    let targets: Vec<usize> = labels
        .iter()
        .map(|y| {
            task.iter()
                .position(|c| c == y)
                .unwrap_or_else(|| panic!("label {y} is not in the task {task:?}"))
        })
        .collect();
    // Every positive under each of the task's classes, class-major: `b` rows per class.
    let x_all = Tensor::cat(vec![x_pos; k], 0).autodiff();
    let all: Vec<usize> = task
        .iter()
        .flat_map(|&c| std::iter::repeat_n(c, b))
        .collect();
    let e = model.energy(x_all, Some(one_hot(&all, classes, device).autodiff()));
    let loss = classification_loss(e.clone(), &targets, k, device)
        + e.clone().powi_scalar(2).mean() * l2_coeff;
    // The reported means, on the host: `energies[j * b + i]` is image `i` under class `j`.
    let energies = e.into_data().convert::<f64>().try_to_vec::<f64>();
    let energies = energies.expect("energies");
    let (mut own, mut others) = (0.0, 0.0);
    for (n, v) in energies.iter().enumerate() {
        if n / b == targets[n % b] {
            own += v;
        } else {
            others += v;
        }
    }
    ClassesLoss {
        e_pos: own / b as f64,
        e_neg: if k > 1 {
            others / (b * (k - 1)) as f64
        } else {
            own / b as f64
        },
        value: loss.clone().into_scalar::<f64>(),
        loss,
    }
}

#[cfg(test)]
mod tests {
    use burn::module::Module;
    use burn::optim::GradientsParams;
    use burn::tensor::{Device, Tensor, TensorData};
    use ebm_model::EnergyModel;

    use super::current_classes_loss;
    use crate::paper::continual::ContinualConfig;
    use crate::run::model::ModelConfig;

    /// Two "digits" (bright top half, bright bottom half) as classes 2 and 3.
    fn halves(device: &Device) -> (Tensor<4>, Vec<usize>) {
        let mut v = Vec::new();
        let mut labels = Vec::new();
        for i in 0..8 {
            let top = i % 2 == 0;
            v.extend((0..784).map(|p| if (p < 392) == top { 0.9f32 } else { 0.1 }));
            labels.push(if top { 2 } else { 3 });
        }
        (
            Tensor::from_data(TensorData::new(v, [8, 1, 28, 28]), device),
            labels,
        )
    }

    #[test]
    fn training_separates_the_current_classes() {
        let _rng = crate::testing::device_rng_lock();
        let device = Device::flex();
        let train = device.clone().autodiff();
        let config = ContinualConfig::toy(2, 1).ebm_classes;
        let (x, labels) = halves(&device);
        let loss =
            |model: &_| current_classes_loss(model, x.clone(), &labels, &[2, 3], 10, 0.0, &device);
        for seed in [3, 4, 5] {
            device.seed(seed);
            let mut model = ModelConfig::ResNet(config.model.clone()).init(&train);
            let mut optim = config.optimizer.init();
            let first = loss(&model);
            for _ in 0..100 {
                let grads = GradientsParams::from_grads(loss(&model).loss.backward(), &model);
                model = optim.step(3e-3, model, grads);
            }
            let last = loss(&model);
            eprintln!(
                "seed {seed}: cross-entropy {} -> {}",
                first.value, last.value
            );
            assert!(
                last.value < 0.1 && last.value < first.value / 4.0,
                "seed {seed}: cross-entropy {} -> {}",
                first.value,
                last.value
            );
            assert!(
                last.e_pos < last.e_neg - 1.0,
                "{} vs {}",
                last.e_pos,
                last.e_neg
            );
            let after = model.valid().class_energies(x.clone());
            let after = after
                .into_data()
                .convert::<f32>()
                .try_to_vec::<f32>()
                .unwrap();
            for (i, y) in labels.iter().enumerate() {
                let e = &after[i * 10..(i + 1) * 10];
                assert!(e[*y] < e[5 - y], "seed {seed}, image {i}: {e:?}");
            }
        }
    }

    #[test]
    #[should_panic(expected = "not in the task")]
    fn a_label_outside_the_task_is_refused() {
        let device = Device::flex();
        let config = ContinualConfig::toy(2, 1).ebm_classes;
        let model = ModelConfig::ResNet(config.model).init(&device.clone().autodiff());
        let (x, _) = halves(&device);
        current_classes_loss(&model, x, &[0; 8], &[2, 3], 10, 0.0, &device);
    }
}
