//! The class-conditional EBM trained task by task with contrastive divergence: positives are
//! the current task's images, negatives are Langevin samples under the current task's labels,
//! and nothing of an earlier task is seen again (no real images, and with `BufferPolicy::Reset`
//! none of its samples either). Classification is the lowest energy over all classes.

use anyhow::{Result, bail};
use burn::module::Module;
use burn::optim::GradientsParams;
use burn::tensor::{Device, Int, Tensor, TensorData};
use ebm_data::{Dequantize, batch_indices, images_to_tensor};
use ebm_model::EnergyModel;
use ebm_sampler::{NoObserver, ReplayBuffer};

use super::config::{BufferPolicy, ContinualConfig};
use super::matrix::{predict_all, task_accuracies};
use crate::data::Splits;
use crate::run::cd_step::{CdSettings, cd_loss};
use crate::run::model::{EnergyNet, ModelConfig};
use crate::run::train::iteration_seed;

/// Mean energies of the last step of a task, for the record of how energies drift.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct TaskEnergies {
    /// Mean `E(x+)` over the task's last step.
    pub e_pos: f64,
    /// Mean `E(x-)` over the task's last step.
    pub e_neg: f64,
    /// `mean_x E(x, y)` for every class `y`, over the test images of every task: row `j` is
    /// task `j`'s images, column `y` the class label. Shows whether old classes' energies
    /// drift up against the newest classes'.
    pub test_class_energy: Vec<Vec<f64>>,
}

/// The accuracy matrix of one seed and the energies after each task.
pub struct EbmOutcome {
    /// `matrix[i][j]`: accuracy on task j after task i.
    pub matrix: Vec<Vec<f64>>,
    /// One entry per task.
    pub energies: Vec<TaskEnergies>,
}

/// Trains one seed's EBM through all tasks; `report` is called after each task.
pub fn run_ebm(
    config: &ContinualConfig,
    data: &Splits,
    seed: u64,
    device: &Device,
    report: &mut dyn FnMut(usize, &[f64]),
) -> Result<EbmOutcome> {
    let s = &config.ebm;
    let classes = s.model.num_classes.unwrap_or(10);
    let train_device = device.clone().autodiff();
    device.seed(seed);
    let mut model = ModelConfig::ResNet(s.model.clone()).init(&train_device);
    let mut optim = s.optimizer.init();
    let shape = data.train.image_shape();
    let settings = CdSettings {
        sampler: &s.sampler,
        l2_coeff: s.l2_coeff,
        classes: Some(classes),
        relabel: s.buffer == BufferPolicy::Relabel,
        augment_shift: 0,
    };
    let new_buffer = |task: usize| {
        ReplayBuffer::new(
            s.replay.clone(),
            &shape,
            true,
            seed ^ 0x5eed ^ (task as u64) << 32,
        )
    };
    let mut buffer = new_buffer(0);
    let (mut matrix, mut energies) = (Vec::new(), Vec::new());
    for (t, task) in config.tasks.iter().enumerate() {
        let set = data.train.filter_classes(task);
        if set.is_empty() {
            bail!("task {t} ({task:?}) has no training images");
        }
        if s.buffer == BufferPolicy::Reset && t > 0 {
            buffer = new_buffer(t);
        }
        let (mut e_pos, mut e_neg) = (0.0, 0.0);
        for it in 0..s.iterations_per_task {
            let global = t * s.iterations_per_task + it;
            device.seed(iteration_seed(seed, 0, global));
            let idx = batch_indices(set.len(), s.batch_size, seed ^ t as u64, it as u64);
            let (x_pos, labels) = images_to_tensor(&set, &idx, Dequantize::Uniform, device);
            let extra = data_starts(&x_pos, &labels, s.data_starts, device);
            let step = cd_loss(
                &model,
                &model.valid(),
                &settings,
                x_pos,
                Some(&labels),
                extra,
                &mut buffer,
                0,
                &mut NoObserver,
                device,
            );
            if !step.healthy(s.energy_limit) {
                bail!(
                    "seed {seed}, task {t}, iteration {it}: energies diverged (E+ {:.3e}, E- {:.3e}, loss {:.3e})",
                    step.e_pos,
                    step.e_neg,
                    step.value
                );
            }
            (e_pos, e_neg) = (step.e_pos, step.e_neg);
            let grads = GradientsParams::from_grads(step.loss.backward(), &model);
            model = optim.step(s.optimizer.lr, model, grads);
        }
        let (row, test_class_energy) = evaluate(&model.valid(), config, data, device);
        report(t, &row);
        matrix.push(row);
        energies.push(TaskEnergies {
            e_pos,
            e_neg,
            test_class_energy,
        });
    }
    Ok(EbmOutcome { matrix, energies })
}

/// Chain starts for the last `fraction` of the batch: for each such positive, the image of the
/// next positive (cyclically) with another label, under the positive's own label.
fn data_starts(
    x_pos: &Tensor<4>,
    labels: &[usize],
    fraction: f64,
    device: &Device,
) -> Option<(Tensor<4>, Vec<usize>)> {
    let b = labels.len();
    let m = ((fraction * b as f64).round() as usize).min(b.saturating_sub(1));
    if m == 0 {
        return None;
    }
    let picks: Vec<i64> = (b - m..b)
        .map(|i| {
            (1..b)
                .map(|d| (i + d) % b)
                .find(|&j| labels[j] != labels[i])
                .unwrap_or((i + 1) % b) as i64
        })
        .collect();
    let idx = Tensor::<1, Int>::from_data(TensorData::new(picks, [m]), device);
    Some((x_pos.clone().select(0, idx), labels[b - m..].to_vec()))
}

/// Per-task accuracies by the lowest class energy, and the mean class energies of each
/// task's test images.
fn evaluate(
    plain: &EnergyNet,
    config: &ContinualConfig,
    data: &Splits,
    device: &Device,
) -> (Vec<f64>, Vec<Vec<f64>>) {
    let classes = config.ebm.model.num_classes.unwrap_or(10);
    let test = &data.test;
    let energies = std::cell::RefCell::new(vec![vec![0.0; classes]; test.len()]);
    let next = std::cell::Cell::new(0usize);
    let pred = predict_all(test, config.eval_batch, device, &|x| {
        let e = plain.class_energies(x);
        let rows = e.clone().into_data().convert::<f32>().try_to_vec::<f32>();
        let rows = rows.expect("energies");
        let mut energies = energies.borrow_mut();
        for r in rows.chunks(classes) {
            let i = next.get();
            for (e, &v) in energies[i].iter_mut().zip(r) {
                *e = f64::from(v);
            }
            next.set(i + 1);
        }
        e.argmin(1).squeeze_dim(1)
    });
    let per_image = energies.into_inner();
    let table = config
        .tasks
        .iter()
        .map(|task| {
            let members: Vec<&Vec<f64>> = per_image
                .iter()
                .zip(&test.labels)
                .filter(|(_, y)| task.contains(&usize::from(**y)))
                .map(|(e, _)| e)
                .collect();
            let n = members.len().max(1) as f64;
            (0..classes)
                .map(|k| members.iter().map(|e| e[k]).sum::<f64>() / n)
                .collect()
        })
        .collect();
    (task_accuracies(&pred, &test.labels, &config.tasks), table)
}
