//! The class-conditional EBM trained task by task, with contrastive divergence (the paper's)
//! or with the contrastive-over-classes objective ([`super::classes`]; no chain unless a
//! contrastive-divergence term is weighed in, `EbmSettings::cd_weight`). Under
//! contrastive divergence positives are the current task's images, negatives are Langevin
//! samples under the current task's labels, and nothing of an earlier task is seen again (no
//! real images, and with `BufferPolicy::Reset` none of its samples either). Classification is
//! the lowest energy over all classes. Off by default, measured as variants: an anchor on
//! earlier classes and extra chain starts from own samples kept of them ([`Memory`]), and
//! per-class energy offsets (`EbmSettings::calibrate`). A seed may train several networks
//! (`EbmSettings::members`), which classify together by their summed energies.

use anyhow::{Result, bail};
use burn::module::Module;
use burn::optim::GradientsParams;
use burn::tensor::{Device, Tensor};
use ebm_data::{Dequantize, batch_indices, images_to_tensor};
use ebm_model::EnergyModel;
use ebm_sampler::{NoObserver, ReplayBuffer};

use super::classes::{ClassesObjective, current_classes_loss};
use super::config::{BufferPolicy, ContinualConfig, EbmObjective, EbmSettings};
use super::ensemble::{MemberTask, accuracies, combine, member_seed};
use super::matrix::batches;
use super::memory::Memory;
use crate::data::Splits;
use crate::run::cd_step::{CdSettings, cd_loss};
use crate::run::data_starts::rows_from_other_classes;
use crate::run::model::EnergyNet;
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
    /// The per-class offsets `b_y` subtracted before the lowest-energy rule (all 0 unless
    /// `calibrate`; a class not trained yet gets the mean offset of those trained).
    pub offsets: Vec<f32>,
}

/// The accuracy matrix of one seed and the energies after each task.
pub struct EbmOutcome {
    /// `matrix[i][j]`: accuracy on task j after task i.
    pub matrix: Vec<Vec<f64>>,
    /// One entry per task.
    pub energies: Vec<TaskEnergies>,
}

/// Trains one seed's EBM with settings `s` (`config.ebm` or `config.ebm_classes`) through
/// `config.tasks`: `s.members` networks one after another, each with its own seed (member 0
/// with `seed` itself), classified by the sum of their energies. `report(member, task, row)`
/// is called after each task of each member with that member's own accuracies.
pub fn run_ebm(
    config: &ContinualConfig,
    s: &EbmSettings,
    data: &Splits,
    seed: u64,
    device: &Device,
    report: &mut dyn FnMut(usize, usize, &[f64]),
) -> Result<EbmOutcome> {
    let mut members = Vec::with_capacity(s.members);
    for m in 0..s.members {
        let mut say = |t: usize, row: &[f64]| report(m, t, row);
        members.push(train_member(
            config,
            s,
            data,
            member_seed(seed, m),
            device,
            &mut say,
        )?);
    }
    Ok(combine(&members, &data.test.labels, &config.tasks))
}

/// Trains one network through `config.tasks`; `report` is called after each task.
fn train_member(
    config: &ContinualConfig,
    s: &EbmSettings,
    data: &Splits,
    seed: u64,
    device: &Device,
    report: &mut dyn FnMut(usize, &[f64]),
) -> Result<Vec<MemberTask>> {
    let classes = s.model.num_classes().unwrap_or(10);
    let train_device = device.clone().autodiff();
    device.seed(seed);
    let mut model = s.model.init(&train_device);
    let mut optim = s.optimizer.init();
    let shape = data.train.image_shape();
    let settings = CdSettings {
        sampler: &s.sampler,
        l2_coeff: s.l2_coeff,
        classes: Some(classes),
        relabel: s.buffer == BufferPolicy::Relabel,
        augment_shift: 0,
        class_weight: 0.0,
        class_noise: 0.0,
        kl_weight: s.kl_weight,
        entropy_weight: 0.0,
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
    let mut tasks = Vec::new();
    let capacity = s.memory_per_class * classes;
    let mut offsets = vec![0.0f32; classes];
    let mut memory = Memory::new(capacity, &shape, classes, seed ^ 0x3e3e);
    for (t, task) in config.tasks.iter().enumerate() {
        let set = data.train.filter_classes(task);
        if set.is_empty() {
            bail!("task {t} ({task:?}) has no training images");
        }
        if s.buffer == BufferPolicy::Reset && t > 0 {
            buffer = new_buffer(t);
        }
        // Every label trained so far, this task's included (`seen_weight`).
        let seen: Vec<usize> = config.tasks[..=t].concat();
        let (mut e_pos, mut e_neg) = (0.0, 0.0);
        for it in 0..s.iterations_per_task {
            let global = t * s.iterations_per_task + it;
            device.seed(iteration_seed(seed, 0, global));
            let idx = batch_indices(set.len(), s.batch_size, seed ^ t as u64, it as u64);
            let (x_pos, labels) = images_to_tensor(&set, &idx, Dequantize::Uniform, device);
            // Contrastive divergence on the positives under their labels, the chains started
            // as `chain_starts` says.
            let cd_step = |x_pos: Tensor<4>, buffer: &mut ReplayBuffer, memory: &mut Memory| {
                let extra = chain_starts(&x_pos, &labels, s, memory, device);
                let chains = model.valid();
                let labels = Some(labels.as_slice());
                let observer = &mut NoObserver;
                cd_loss(
                    &model, &chains, &settings, x_pos, labels, extra, buffer, 0, observer, device,
                )
            };
            let (mut loss, healthy, value) = match s.objective {
                EbmObjective::ContrastiveDivergence => {
                    let step = cd_step(x_pos, &mut buffer, &mut memory);
                    (e_pos, e_neg) = (step.e_pos, step.e_neg);
                    let healthy = step.healthy(s.energy_limit);
                    (step.loss, healthy, step.value)
                }
                EbmObjective::CurrentClasses => {
                    let objective = ClassesObjective {
                        task,
                        seen: &seen,
                        seen_weight: s.seen_weight,
                        classes,
                        l2_coeff: s.l2_coeff,
                    };
                    let step =
                        current_classes_loss(&model, x_pos.clone(), &labels, &objective, device);
                    (e_pos, e_neg) = (step.e_pos, step.e_neg);
                    let fine = [step.e_pos, step.e_neg, step.value]
                        .iter()
                        .all(|v| v.is_finite() && v.abs() <= s.energy_limit);
                    if s.cd_weight > 0.0 {
                        let cd = cd_step(x_pos, &mut buffer, &mut memory);
                        let fine = fine && cd.healthy(s.energy_limit);
                        (step.loss + cd.loss * s.cd_weight, fine, step.value)
                    } else {
                        (step.loss, fine, step.value)
                    }
                }
            };
            if !healthy {
                bail!(
                    "seed {seed}, task {t}, iteration {it}: energies diverged (E+ {e_pos:.3e}, E- {e_neg:.3e}, loss {value:.3e})"
                );
            }
            if s.anchor > 0.0 && memory.is_active() {
                loss = loss + memory.anchor_loss(&model, s.batch_size, device) * s.anchor;
            }
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optim.step(s.optimizer.lr, model, grads);
        }
        let plain = model.valid();
        if s.calibrate {
            for &c in task {
                offsets[c] = class_level(&plain, &set.filter_classes(&[c]), c, classes, device);
            }
        }
        // Without calibration every offset is 0, and so is their mean.
        let used = level_of_untrained(&offsets, &config.tasks[..=t]);
        let (scores, test_class_energy) = evaluate(&plain, classes, config, data, &used, device);
        memory.end_task(plain, &mut buffer, task, s.memory_per_class);
        report(t, &accuracies(&scores, &data.test.labels, &config.tasks));
        tasks.push(MemberTask {
            scores,
            energies: TaskEnergies {
                e_pos,
                e_neg,
                test_class_energy,
                offsets: used,
            },
        });
    }
    Ok(tasks)
}

/// Chain starts besides the replay buffer's, at the end of the batch: `memory_starts` of
/// the chains start at kept samples of earlier classes under the positive's label, then
/// `old_label_starts` at the positive's own image under a random earlier class, then
/// `data_starts` at the image of the next positive (cyclically) with another label, under the
/// positive's label. The first two need an ended task. Each count is its fraction of the batch,
/// rounded; together at most `batch - 1` (the kinds later in this order give way first).
fn chain_starts(
    x_pos: &Tensor<4>,
    labels: &[usize],
    s: &EbmSettings,
    memory: &mut Memory,
    device: &Device,
) -> Option<(Tensor<4>, Vec<usize>)> {
    let b = labels.len();
    let count = |f: f64| (f * b as f64).round() as usize;
    let (m_mem, m_old) = if memory.is_active() {
        (count(s.memory_starts), count(s.old_label_starts))
    } else {
        (0, 0)
    };
    let total = (m_mem + m_old + count(s.data_starts)).min(b.saturating_sub(1));
    if total == 0 {
        return None;
    }
    // The last `total` rows, cut in order; the data starts take what is left.
    let first = b - total;
    let m_mem = m_mem.min(total);
    let m_old = m_old.min(total - m_mem);
    let (mem, old, data) = (
        first..first + m_mem,
        first + m_mem..first + m_mem + m_old,
        first + m_mem + m_old..b,
    );
    let (mut parts, mut out) = (Vec::new(), Vec::new());
    if !mem.is_empty() {
        parts.push(memory.draw(mem.len(), device).0);
        out.extend_from_slice(&labels[mem]);
    }
    if !old.is_empty() {
        out.extend(memory.random_classes(old.len()));
        parts.push(x_pos.clone().slice(old));
    }
    if !data.is_empty() {
        let (x, y) = rows_from_other_classes(x_pos, labels, data, device);
        parts.push(x);
        out.extend(y);
    }
    Some((Tensor::cat(parts, 0), out))
}

/// `offsets` with every class outside `trained` set to the mean offset of the trained ones.
fn level_of_untrained(offsets: &[f32], trained: &[Vec<usize>]) -> Vec<f32> {
    let done: Vec<usize> = trained.iter().flatten().copied().collect();
    let mean = done.iter().map(|&c| offsets[c]).sum::<f32>() / done.len().max(1) as f32;
    (0..offsets.len())
        .map(|c| if done.contains(&c) { offsets[c] } else { mean })
        .collect()
}

/// Mean energy under `class` of (at most 256 of) `images`.
fn class_level(
    plain: &EnergyNet,
    images: &ebm_data::ImageSet,
    class: usize,
    classes: usize,
    device: &Device,
) -> f32 {
    let n = images.len().min(256);
    if n == 0 {
        return 0.0;
    }
    let idx: Vec<usize> = (0..n).collect();
    let (x, _) = images_to_tensor(images, &idx, Dequantize::None, device);
    let y = ebm_model::one_hot(&vec![class; n], classes, device);
    plain.energy(x, Some(y)).mean().into_scalar::<f32>()
}

/// The scores `E(x, y) - b_y` of every test image under every class, and the mean class
/// energies (without offsets) of each task's test images.
fn evaluate(
    plain: &EnergyNet,
    classes: usize,
    config: &ContinualConfig,
    data: &Splits,
    offsets: &[f32],
    device: &Device,
) -> (Vec<Vec<f64>>, Vec<Vec<f64>>) {
    let test = &data.test;
    let mut per_image = Vec::with_capacity(test.len());
    for x in batches(test, config.eval_batch, device) {
        let rows = plain.class_energies(x).into_data().convert::<f32>();
        let rows = rows.try_to_vec::<f32>().expect("energies");
        per_image.extend(
            rows.chunks(classes)
                .map(|r| r.iter().map(|&v| f64::from(v)).collect::<Vec<f64>>()),
        );
    }
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
    let scores = per_image
        .into_iter()
        .map(|row| {
            row.iter()
                .zip(offsets)
                .map(|(e, &b)| e - f64::from(b))
                .collect()
        })
        .collect();
    (scores, table)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::paper::continual::ContinualConfig;
    use burn::tensor::TensorData;
    use ebm_sampler::ReplayConfig;

    #[test]
    fn chain_starts_stack_memory_old_label_and_data_starts_in_that_order() {
        let device = Device::flex();
        let mut s = ContinualConfig::toy(2, 1).ebm;
        (s.memory_starts, s.old_label_starts, s.data_starts) = (0.25, 0.25, 0.25);
        // Eight positives of classes 2 and 3, image i filled with i / 10.
        let labels = vec![2, 3, 2, 3, 2, 3, 2, 3];
        let values: Vec<f32> = (0..8).flat_map(|i| vec![i as f32 / 10.0; 784]).collect();
        let x_pos = Tensor::<4>::from_data(TensorData::new(values, [8, 1, 28, 28]), &device);
        let mut memory = Memory::new(50, &[1, 28, 28], 10, 1);

        // Before a task has ended only the data starts exist: the last two positives' labels
        // on images of the other class.
        let (x, y) = chain_starts(&x_pos, &labels, &s, &mut memory, &device).unwrap();
        assert_eq!(y, vec![2, 3]);
        let firsts = |x: Tensor<4>| -> Vec<f32> {
            let v = x.into_data().convert::<f32>().try_to_vec::<f32>().unwrap();
            v.chunks(784).map(|c| c[0]).collect()
        };
        let got = firsts(x);
        assert!(
            (got[0] - 0.7).abs() < 1e-6 && (got[1] - 0.0).abs() < 1e-6,
            "{got:?}"
        );

        // After task {0, 1}: two kept samples under current labels, two current images under
        // earlier labels, two data starts; six in all.
        let mut buffer = ReplayBuffer::new(ReplayConfig::new(), &[1, 28, 28], true, 2);
        buffer.push(&vec![0.95; 4 * 784], Some(&[0, 1, 0, 1]));
        let net = s.model.init(&device);
        memory.end_task(net, &mut buffer, &[0, 1], 4);
        let (x, y) = chain_starts(&x_pos, &labels, &s, &mut memory, &device).unwrap();
        assert_eq!(y.len(), 6);
        assert_eq!(
            &y[..2],
            &labels[2..4],
            "kept samples run under current labels"
        );
        assert!(y[2..4].iter().all(|c| [0, 1].contains(c)), "{y:?}");
        assert_eq!(&y[4..], &labels[6..]);
        let got = firsts(x);
        assert!(got[..2].iter().all(|v| (v - 0.95).abs() < 0.01), "{got:?}");
        assert!(
            (got[2] - 0.4).abs() < 1e-6 && (got[3] - 0.5).abs() < 1e-6,
            "{got:?}"
        );
    }

    #[test]
    fn classes_not_trained_yet_get_the_mean_offset() {
        let mut offsets = vec![0.0f32; 6];
        offsets[0] = -1.0;
        offsets[1] = -3.0;
        let used = level_of_untrained(&offsets, &[vec![0, 1]]);
        assert_eq!(used, vec![-1.0, -3.0, -2.0, -2.0, -2.0, -2.0]);
    }
}
