//! What the EBM keeps of earlier tasks without keeping their images: some of its own samples of
//! each earlier class (taken from its replay buffer when the task ends) and a frozen copy of
//! the network from the last task boundary. Used for the anchor (`EbmSettings::anchor`) and for
//! chain starts (`EbmSettings::memory_starts`, `EbmSettings::old_label_starts`).

use burn::tensor::{Device, Tensor};
use ebm_model::{EnergyModel, one_hot};
use ebm_sampler::{ReplayBuffer, ReplayConfig, SplitMix64};

use crate::run::model::EnergyNet;

/// Own samples of earlier classes, and the network as it was when the last task ended.
pub struct Memory {
    frozen: Option<EnergyNet>,
    samples: ReplayBuffer,
    classes: Vec<usize>,
    total: usize,
    rng: SplitMix64,
}

impl Memory {
    /// An empty memory for `total` classes of samples shaped `shape`, holding at most
    /// `capacity` samples.
    pub fn new(capacity: usize, shape: &[usize], total: usize, seed: u64) -> Self {
        let config = ReplayConfig::new()
            .with_capacity(capacity.max(1))
            .with_reuse_prob(1.0);
        Self {
            frozen: None,
            samples: ReplayBuffer::new(config, shape, true, seed),
            classes: Vec::new(),
            total,
            rng: SplitMix64::new(seed ^ 0x6d65_6d6f),
        }
    }

    /// Whether an earlier task has ended (there is something to anchor and sample from).
    pub fn is_active(&self) -> bool {
        self.frozen.is_some() && !self.samples.is_empty()
    }

    /// Earlier classes, in the order their tasks ended.
    pub fn classes(&self) -> &[usize] {
        &self.classes
    }

    /// At the end of a task: keeps `per_class` samples of each of `task`'s classes from
    /// `buffer` (classes it holds no sample of are skipped) and `plain`, a plain-device copy
    /// of the network, as the anchor's reference.
    pub fn end_task(
        &mut self,
        plain: EnergyNet,
        buffer: &mut ReplayBuffer,
        task: &[usize],
        per_class: usize,
    ) {
        for &c in task {
            if per_class > 0
                && let Ok(draw) = buffer.draw_stored(per_class, Some(c))
            {
                let labels = draw.labels.clone().unwrap_or_default();
                self.samples.push(&draw.values, Some(&labels));
            }
            if !self.classes.contains(&c) {
                self.classes.push(c);
            }
        }
        self.frozen = Some(plain);
    }

    /// `n` stored samples (plain device) with the class each was sampled under.
    ///
    /// # Panics
    ///
    /// If the memory is empty.
    pub fn draw(&mut self, n: usize, device: &Device) -> (Tensor<4>, Vec<usize>) {
        let draw = self.samples.draw_stored(n, None).expect("memory is empty");
        let (x, labels) = self.samples.to_tensor::<4>(draw, device);
        (x, labels.unwrap_or_default())
    }

    /// `n` earlier classes drawn uniformly.
    pub fn random_classes(&mut self, n: usize) -> Vec<usize> {
        (0..n)
            .map(|_| self.classes[self.rng.below(self.classes.len())])
            .collect()
    }

    /// The anchor: `mean_i (E(x_i, y_i) - E_frozen(x_i, y_i))^2` on `n` stored samples under
    /// the classes they were sampled under, on the autodiff device of `model`.
    ///
    /// # Panics
    ///
    /// If no task has ended yet.
    pub fn anchor_loss(&mut self, model: &EnergyNet, n: usize, device: &Device) -> Tensor<1> {
        let (x, labels) = self.draw(n, device);
        let frozen = self.frozen.as_ref().expect("no task has ended");
        let y = one_hot(&labels, self.total, device);
        let target = frozen.energy(x.clone(), Some(y.clone()));
        let e = model.energy(x.autodiff(), Some(y.autodiff()));
        (e - target.autodiff()).powi_scalar(2).mean()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::paper::continual::ContinualConfig;
    use burn::module::Module;

    fn tiny(device: &Device) -> EnergyNet {
        ContinualConfig::toy(1, 1).ebm.model.init(device)
    }

    /// A buffer holding `per` samples of each class in `classes`, every pixel of a class-`c`
    /// sample equal to `c / 10`.
    fn buffer_of(classes: &[usize], per: usize) -> ReplayBuffer {
        let mut b = ReplayBuffer::new(ReplayConfig::new(), &[1, 28, 28], true, 1);
        for &c in classes {
            let values = vec![c as f32 / 10.0; per * 28 * 28];
            b.push(&values, Some(&vec![c; per]));
        }
        b
    }

    #[test]
    fn keeps_samples_of_each_ended_class_under_their_labels() {
        let device = Device::flex();
        let mut memory = Memory::new(100, &[1, 28, 28], 10, 3);
        assert!(!memory.is_active(), "nothing has ended yet");
        let mut buffer = buffer_of(&[2, 3, 7], 20);
        memory.end_task(tiny(&device), &mut buffer, &[2, 3], 5);
        assert!(memory.is_active());
        assert_eq!(memory.classes(), &[2, 3]);
        let (x, labels) = memory.draw(40, &device);
        assert_eq!(x.dims(), [40, 1, 28, 28]);
        let values = x.into_data().convert::<f32>().try_to_vec::<f32>().unwrap();
        for (i, &y) in labels.iter().enumerate() {
            assert!(y == 2 || y == 3, "class {y} was not in the ended task");
            // Each sample is its class's image (up to the buffer's dequantisation, < 1/256).
            let pixel = values[i * 784];
            assert!((pixel - y as f32 / 10.0).abs() < 0.01, "{pixel} under {y}");
        }
        assert!(memory.random_classes(50).iter().all(|c| [2, 3].contains(c)));
    }

    #[test]
    fn anchor_is_zero_for_the_frozen_network_and_positive_once_it_moves() {
        let device = Device::flex();
        let train = device.clone().autodiff();
        let model = tiny(&train);
        let mut memory = Memory::new(100, &[1, 28, 28], 10, 3);
        memory.end_task(model.valid(), &mut buffer_of(&[0, 1], 10), &[0, 1], 10);
        let same = memory.anchor_loss(&model, 8, &device).into_scalar::<f64>();
        assert!(same.abs() < 1e-6, "frozen copy against itself: {same}");
        // Another network (a new init) gives other energies.
        let moved = tiny(&train);
        let apart = memory.anchor_loss(&moved, 8, &device).into_scalar::<f64>();
        assert!(
            apart > 1e-8,
            "a different network is anchored at zero cost: {apart}"
        );
    }
}
