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

use burn::tensor::{Device, Int, Tensor, TensorData};
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

/// What one task's step contrasts.
pub struct ClassesObjective<'a> {
    /// The current task's labels.
    pub task: &'a [usize],
    /// Every label trained so far, this task's included (read when `seen_weight > 0`).
    pub seen: &'a [usize],
    /// Weight of a second cross-entropy of the images over every label of `seen`.
    pub seen_weight: f64,
    /// Labels of the model in all.
    pub classes: usize,
    /// Coefficient of the mean squared energy under the task's labels.
    pub l2_coeff: f64,
}

/// The objective on positives `x_pos` (plain device) with `labels`, all among `o.task`, under
/// `model` (autodiff device). With `o.seen_weight > 0`, plus that weight times the
/// cross-entropy of the same images over every label of `o.seen`.
///
/// # Panics
///
/// If a label is not in the task, or a label of the task not in `seen` when it is weighed.
pub fn current_classes_loss(
    model: &EnergyNet,
    x_pos: Tensor<4>,
    labels: &[usize],
    o: &ClassesObjective,
    device: &Device,
) -> ClassesLoss {
    let ClassesObjective {
        task,
        seen,
        seen_weight,
        classes,
        l2_coeff,
    } = *o;
    let (b, k) = (labels.len(), task.len());
    let position = |set: &[usize], y: usize| {
        set.iter()
            .position(|&c| c == y)
            .unwrap_or_else(|| panic!("label {y} is not in {set:?}"))
    };
    let targets: Vec<usize> = labels.iter().map(|&y| position(task, y)).collect();
    // The labels each image is scored under: the task's, or every seen one.
    let columns = if seen_weight > 0.0 { seen } else { task };
    let kc = columns.len();
    // Every positive under each of those labels, label-major: `b` rows per label.
    let e_all = match model {
        // One trunk pass gives every class's energy; keep the columns wanted.
        EnergyNet::ResNet(net) if net.class_head => {
            let idx: Vec<i64> = columns.iter().map(|&c| c as i64).collect();
            let idx = Tensor::<1, Int>::from_data(TensorData::new(idx, [kc]), device);
            model
                .class_energies(x_pos.autodiff())
                .select(1, idx.autodiff())
                .swap_dims(0, 1)
                .reshape([kc * b])
        }
        _ => {
            let x_all = Tensor::cat(vec![x_pos; kc], 0).autodiff();
            let all: Vec<usize> = columns
                .iter()
                .flat_map(|&c| std::iter::repeat_n(c, b))
                .collect();
            model.energy(x_all, Some(one_hot(&all, classes, device).autodiff()))
        }
    };
    let (e, seen_term) = if seen_weight > 0.0 {
        let rows: Vec<i64> = task.iter().map(|&c| position(seen, c) as i64).collect();
        let rows = Tensor::<1, Int>::from_data(TensorData::new(rows, [k]), device);
        let e = e_all
            .clone()
            .reshape([kc, b])
            .select(0, rows.autodiff())
            .reshape([k * b]);
        let seen_targets: Vec<usize> = labels.iter().map(|&y| position(seen, y)).collect();
        let term = classification_loss(e_all, &seen_targets, kc, device) * seen_weight;
        (e, Some(term))
    } else {
        (e_all, None)
    };
    let mut loss = classification_loss(e.clone(), &targets, k, device)
        + e.clone().powi_scalar(2).mean() * l2_coeff;
    if let Some(term) = seen_term {
        loss = loss + term;
    }
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
    use ebm_model::{BlockSpec, EnergyModel, ResNetConfig};

    use super::{ClassesObjective, current_classes_loss};
    use crate::paper::continual::ContinualConfig;
    use crate::run::model::{EnergyNet, ModelConfig};

    /// Task {2, 3} of 10 labels, the earlier ones left out.
    fn task_only(l2_coeff: f64) -> ClassesObjective<'static> {
        ClassesObjective {
            task: &[2, 3],
            seen: &[],
            seen_weight: 0.0,
            classes: 10,
            l2_coeff,
        }
    }

    /// Energies of `x` under each label of `labels` in turn, label-major.
    fn energies_under(model: &EnergyNet, x: &Tensor<4>, labels: &[usize]) -> Tensor<1> {
        let device = x.device();
        let plain = model.valid();
        let e = labels.iter().map(|&c| {
            let y = ebm_model::one_hot(&vec![c; x.dims()[0]], 10, &device);
            plain.energy(x.clone(), Some(y))
        });
        Tensor::cat(e.collect(), 0)
    }

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
            |model: &_| current_classes_loss(model, x.clone(), &labels, &task_only(0.0), &device);
        for seed in [3, 4, 5] {
            device.seed(seed);
            let mut model = config.model.init(&train);
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
    #[should_panic(expected = "is not in [2, 3]")]
    fn a_label_outside_the_task_is_refused() {
        let device = Device::flex();
        let config = ContinualConfig::toy(2, 1).ebm_classes;
        let model = config.model.init(&device.clone().autodiff());
        let (x, _) = halves(&device);
        current_classes_loss(&model, x, &[0; 8], &task_only(0.0), &device);
    }

    #[test]
    fn a_class_head_gives_the_energies_of_one_pass_per_label() {
        let device = Device::flex();
        let train = device.clone().autodiff();
        // Without spectral norm: its power iteration advances on every training forward.
        let resnet = ResNetConfig::new(vec![BlockSpec::new(8, true), BlockSpec::new(8, true)])
            .with_in_channels(1)
            .with_stem_channels(8)
            .with_num_classes(Some(10))
            .with_class_head(Some(true))
            .with_spectral_norm(false);
        let model = ModelConfig::ResNet(resnet).init(&train);
        let (x, labels) = halves(&device);
        let got = current_classes_loss(&model, x.clone(), &labels, &task_only(0.5), &device);
        // The same loss from one forward per label.
        let cross_entropy = |e: Tensor<1>, targets: &[usize]| {
            let k = e.dims()[0] / targets.len();
            let logits = e.neg().reshape([k, targets.len()]).swap_dims(0, 1);
            crate::run::loss::cross_entropy(logits, ebm_model::one_hot(targets, k, &device))
                .mean()
                .into_scalar::<f64>()
        };
        let e = energies_under(&model, &x, &[2, 3]);
        let targets: Vec<usize> = labels.iter().map(|y| y - 2).collect();
        let penalty = e.clone().powi_scalar(2).mean().into_scalar::<f64>();
        let want = cross_entropy(e, &targets) + 0.5 * penalty;
        assert!((got.value - want).abs() < 1e-4, "{} vs {want}", got.value);

        // With the earlier labels 0 and 1 weighed in: plus 0.25 times the cross-entropy over
        // all four seen labels (the penalty stays on the task's energies).
        let seen = [0, 1, 2, 3];
        let objective = ClassesObjective {
            seen: &seen,
            seen_weight: 0.25,
            ..task_only(0.5)
        };
        let both = current_classes_loss(&model, x.clone(), &labels, &objective, &device);
        let want = want + 0.25 * cross_entropy(energies_under(&model, &x, &seen), &labels);
        assert!((both.value - want).abs() < 1e-4, "{} vs {want}", both.value);
    }
}
