//! One contrastive-divergence step, shared by `ebm train` and the continual-learning
//! experiment: Langevin negatives from the replay buffer under their labels, then the loss
//! `mean E(x+) - mean E(x-) + l2 * (mean E(x+)^2 + mean E(x-)^2)` on positives and negatives in
//! one forward (so spectral norm advances once per optimiser step).

use burn::tensor::{Device, Tensor};
use ebm_model::{EnergyModel, one_hot};
use ebm_sampler::{LangevinConfig, Observer, ReplayBuffer, SplitMix64};

use super::model::EnergyNet;
use crate::data::augment::random_shifts;

/// The loss of one step, before the optimiser sees it.
pub struct CdLoss {
    /// The loss on the autodiff device, ready for `backward`.
    pub loss: Tensor<1>,
    /// Mean energy of the positives.
    pub e_pos: f64,
    /// Mean energy of the negatives.
    pub e_neg: f64,
    /// The loss as a number.
    pub value: f64,
    /// The negatives (plain device), already pushed to the buffer.
    pub x_neg: Tensor<4>,
}

impl CdLoss {
    /// Whether the step is finite and its mean energies stay within `limit` in magnitude.
    pub fn healthy(&self, limit: f64) -> bool {
        self.e_pos.is_finite()
            && self.e_neg.is_finite()
            && self.value.is_finite()
            && self.e_pos.abs() <= limit
            && self.e_neg.abs() <= limit
    }
}

/// What a step samples with and how it weighs the energy penalty.
pub struct CdSettings<'a> {
    /// The Langevin chain of the negatives.
    pub sampler: &'a LangevinConfig,
    /// Coefficient of the energy penalty.
    pub l2_coeff: f64,
    /// Classes of a conditional model (`None`: unconditional).
    pub classes: Option<usize>,
    /// Run every chain under the label of its positive, also the chains continued from stored
    /// samples (which otherwise keep their stored label). The continual-learning experiment
    /// uses it to keep old samples as chain starts while sampling only current classes.
    pub relabel: bool,
    /// Stored samples move by up to this many pixels (each axis, zero fill) before their chains
    /// continue (0: not at all); see [`random_shifts`].
    pub augment_shift: usize,
}

/// Draws chain starts from `buffer` (fresh starts take the positives' labels, continued chains
/// keep their stored label unless `relabel`), appends the caller's `extra` starts with their
/// labels (together as many as there are positives), moves the drawn starts by random shifts
/// (`settings.augment_shift`, drawn from `shift_seed`), runs the sampler on all of them under
/// `chains` (the plain copy of `model`, or an average of its weights), pushes the buffer-drawn negatives back (never the extra ones), and
/// returns the loss of `model` (autodiff device) on `x_pos` (plain device) and the negatives.
///
/// The random draws happen in a fixed order (buffer, then the device RNG in the chain), so a
/// caller that seeds the device per iteration repeats the step exactly.
#[allow(clippy::too_many_arguments)]
pub fn cd_loss(
    model: &EnergyNet,
    chains: &EnergyNet,
    settings: &CdSettings,
    x_pos: Tensor<4>,
    pos_labels: Option<&[usize]>,
    extra: Option<(Tensor<4>, Vec<usize>)>,
    buffer: &mut ReplayBuffer,
    shift_seed: u64,
    observer: &mut dyn Observer,
    device: &Device,
) -> CdLoss {
    let b = x_pos.dims()[0];
    let k = settings.classes.unwrap_or(1);
    let n_extra = extra.as_ref().map_or(0, |(x, _)| x.dims()[0]);
    assert!(
        n_extra <= b,
        "{n_extra} extra chain starts for {b} positives"
    );
    let n = b - n_extra;
    let own = pos_labels.map(|p| &p[..n]);
    let mut draw = buffer.draw(n, own);
    let shape: [usize; 3] = {
        let d = x_pos.dims();
        [d[1], d[2], d[3]]
    };
    random_shifts(
        &mut draw.values,
        shape,
        settings.augment_shift,
        &mut SplitMix64::new(shift_seed),
    );
    let (x0, drawn) = buffer.to_tensor::<4>(draw, device);
    let mut neg_labels = match (settings.relabel, own) {
        (true, Some(p)) => Some(p.to_vec()),
        _ => drawn,
    };
    let x0 = match extra {
        Some((x, labels)) => {
            if let Some(l) = neg_labels.as_mut() {
                l.extend(labels);
            }
            Tensor::cat(vec![x0, x], 0)
        }
        None => x0,
    };
    let y_neg = neg_labels.as_ref().map(|l| one_hot(l, k, device));
    let x_neg = settings
        .sampler
        .run(&|x| chains.energy(x, y_neg.clone()), x0, None, observer);
    buffer.push_tensor(
        x_neg.clone().slice(0..n),
        neg_labels.as_ref().map(|l| &l[..n]),
    );

    let x_all = Tensor::cat(vec![x_pos, x_neg.clone()], 0).autodiff();
    let y_all = match (pos_labels, &neg_labels) {
        (Some(p), Some(n)) => {
            let all: Vec<usize> = p.iter().chain(n).copied().collect();
            Some(one_hot(&all, k, device).autodiff())
        }
        _ => None,
    };
    let e = model.energy(x_all, y_all);
    let e_pos = e.clone().slice(0..b);
    let e_neg = e.slice(b..2 * b);
    let loss = e_pos.clone().mean() - e_neg.clone().mean()
        + (e_pos.clone().powi_scalar(2).mean() + e_neg.clone().powi_scalar(2).mean())
            * settings.l2_coeff;
    CdLoss {
        e_pos: e_pos.mean().into_scalar::<f64>(),
        e_neg: e_neg.mean().into_scalar::<f64>(),
        value: loss.clone().into_scalar::<f64>(),
        loss,
        x_neg,
    }
}
