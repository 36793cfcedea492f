//! One contrastive-divergence step, shared by `ebm train` and the continual-learning
//! experiment: Langevin negatives from the replay buffer under their labels, then the loss
//! `mean E(x+) - mean E(x-) + l2 * (mean E(x+)^2 + mean E(x-)^2)` on positives and negatives in
//! one forward (so spectral norm advances once per optimiser step), plus, when asked for, the
//! classification term of a conditional model and the KL and entropy terms of Du et al. 2021
//! in that same forward.

use burn::tensor::{Device, Distribution, Tensor};
use ebm_model::{EnergyModel, one_hot};
use ebm_sampler::{
    LangevinConfig, Observer, Outer, ReplayBuffer, SplitMix64, last_step_probe,
    nearest_log_distance,
};

use super::loss::cross_entropy;
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
    /// Weight of the classification term of a conditional model (0: none): the cross-entropy
    /// of classifying the positives by their lowest energy, `-log softmax_y(-E(x+, y))` at
    /// the true label (JEM's `p(y|x)`, Grathwohl et al. 2020). Needs labelled positives.
    pub class_weight: f64,
    /// Standard deviation of Gaussian noise added to the positives the classification term
    /// scores (0: clean images). A classifier trained on noisy images has input gradients
    /// that follow the image's content rather than single pixels (Kaur, Cohen & Lipton 2019),
    /// and those gradients are what Langevin follows when the model is composed.
    pub class_noise: f64,
    /// Weight of the KL term of Du et al. 2021 (0: none): the energy of the negatives under
    /// fixed weights, differentiated through the sampler's last step
    /// ([`ebm_sampler::last_step`]). `chains` must then be the plain copy of `model`.
    pub kl_weight: f64,
    /// Weight of the entropy term of Du et al. 2021 (0: none): minus the mean log distance of
    /// each negative to its nearest neighbour among [`ENTROPY_REFERENCES`] stored samples,
    /// through the sampler's last step as the KL term ([`ebm_sampler::nearest`]). Off until
    /// the buffer holds [`ENTROPY_MIN_STORED`] samples (or is full).
    pub entropy_weight: f64,
}

/// Reach of the central difference behind the KL and entropy terms: each sample's probe moves
/// it by an RMS of this much per pixel (pixels in [0, 1]); small against an image, large
/// against f32 rounding of its energy.
const PROBE_REACH: f64 = 1e-2;

/// Stored samples the entropy term measures nearest-neighbour distances to (Du et al.: 100).
pub const ENTROPY_REFERENCES: usize = 100;

/// Stored samples needed before the entropy term starts (Du et al.: 1 000), or a full buffer.
pub const ENTROPY_MIN_STORED: usize = 1000;

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
    let chain_energy = |x: Tensor<4>| chains.energy(x, y_neg.clone());
    // The entropy term's neighbours, drawn before this batch joins the buffer.
    let references = (settings.entropy_weight > 0.0
        && buffer.len() >= ENTROPY_MIN_STORED.min(buffer.capacity()))
    .then(|| {
        let draw = buffer
            .draw_stored(ENTROPY_REFERENCES, None)
            .expect("the buffer holds samples");
        buffer.to_tensor::<4>(draw, device).0
    });
    let (x_neg, last) = settings
        .sampler
        .run_keeping_last(&chain_energy, x0, None, observer);
    let probe = last.and_then(|last| {
        let kl = (settings.kl_weight > 0.0)
            .then(|| Outer::energy(&chain_energy, x_neg.clone()).scaled(settings.kl_weight));
        let entropy = references
            .map(|r| nearest_log_distance(x_neg.clone(), r).scaled(-settings.entropy_weight));
        let outer = match (kl, entropy) {
            (Some(a), Some(b)) => a.plus(b),
            (a, b) => a.or(b)?,
        };
        Some(last_step_probe(
            settings.sampler,
            last,
            x_neg.clone(),
            None,
            outer,
            PROBE_REACH,
        ))
    });
    buffer.push_tensor(
        x_neg.clone().slice(0..n),
        neg_labels.as_ref().map(|l| &l[..n]),
    );

    // The classification term scores every positive under each of the `k` labels: `k` more
    // copies of the positives, class `j`'s at `2b + j * b`.
    let classify = pos_labels.filter(|_| settings.class_weight > 0.0 && settings.classes.is_some());
    let mut xs = vec![x_pos.clone(), x_neg.clone()];
    if classify.is_some() {
        xs.extend(std::iter::repeat_n(
            classified_images(x_pos, settings.class_noise, device),
            k,
        ));
    }
    // The probe points of the KL and entropy terms, two per negative, at the end.
    let kl_at: usize = xs.iter().map(|x| x.dims()[0]).sum();
    if let Some(p) = &probe {
        xs.push(p.points.clone());
    }
    let x_all = Tensor::cat(xs, 0).autodiff();
    let y_all = match (pos_labels, &neg_labels) {
        (Some(p), Some(n)) => {
            let mut all: Vec<usize> = p.iter().chain(n).copied().collect();
            if classify.is_some() {
                all.extend((0..k).flat_map(|j| std::iter::repeat_n(j, b)));
            }
            if probe.is_some() {
                all.extend(n.iter().chain(n).copied());
            }
            Some(one_hot(&all, k, device).autodiff())
        }
        _ => None,
    };
    let e = model.energy(x_all, y_all);
    let e_pos = e.clone().slice(0..b);
    let e_neg = e.clone().slice(b..2 * b);
    let mut loss = e_pos.clone().mean() - e_neg.clone().mean()
        + (e_pos.clone().powi_scalar(2).mean() + e_neg.clone().powi_scalar(2).mean())
            * settings.l2_coeff;
    if let Some(labels) = classify {
        let per_class = e.clone().slice(2 * b..(2 + k) * b);
        loss = loss + classification_loss(per_class, labels, k, device) * settings.class_weight;
    }
    if let Some(p) = &probe {
        loss = loss + p.term(e.slice(kl_at..kl_at + 2 * b)).mean();
    }
    CdLoss {
        e_pos: e_pos.mean().into_scalar::<f64>(),
        e_neg: e_neg.mean().into_scalar::<f64>(),
        value: loss.clone().into_scalar::<f64>(),
        loss,
        x_neg,
    }
}

/// The images the classification term scores: the positives, plus Gaussian noise of standard
/// deviation `noise` when it is above 0 (see [`CdSettings::class_noise`]).
fn classified_images(x_pos: Tensor<4>, noise: f64, device: &Device) -> Tensor<4> {
    if noise > 0.0 {
        let dims = x_pos.dims();
        x_pos + Tensor::random(dims, Distribution::Normal(0.0, noise), device)
    } else {
        x_pos
    }
}

/// Mean cross-entropy of classifying `b` images by their lowest energy, from their energies
/// under each of `k` labels (`energies[j * b + i]`: image `i` under label `j`).
pub(crate) fn classification_loss(
    energies: Tensor<1>,
    labels: &[usize],
    k: usize,
    device: &Device,
) -> Tensor<1> {
    let logits = energies.neg().reshape([k, labels.len()]).swap_dims(0, 1);
    cross_entropy(logits, one_hot(labels, k, device).autodiff()).mean()
}

#[cfg(test)]
mod tests {
    use burn::tensor::{Device, Tensor, TensorData};

    use super::{classification_loss, classified_images};

    fn loss(energies: &[f32], labels: &[usize], k: usize) -> f64 {
        let device = Device::flex().autodiff();
        let e = Tensor::<1>::from_data(
            TensorData::new(energies.to_vec(), [energies.len()]),
            &device,
        );
        classification_loss(e, labels, k, &device).into_scalar::<f64>()
    }

    #[test]
    fn classified_images_carry_noise_of_the_asked_deviation() {
        let device = Device::flex();
        let x = Tensor::<4>::zeros([8, 3, 16, 16], &device) + 0.5;
        let same: Vec<f32> = classified_images(x.clone(), 0.0, &device)
            .into_data()
            .try_to_vec()
            .unwrap();
        assert!(same.iter().all(|v| *v == 0.5));
        let noisy: Vec<f32> = classified_images(x, 0.3, &device)
            .into_data()
            .try_to_vec()
            .unwrap();
        let n = noisy.len() as f64;
        let mean = noisy.iter().map(|v| f64::from(*v)).sum::<f64>() / n;
        let std = (noisy
            .iter()
            .map(|v| (f64::from(*v) - mean).powi(2))
            .sum::<f64>()
            / n)
            .sqrt();
        // 6 144 draws: the mean within 0.02 of 0.5, the deviation within 0.02 of 0.3.
        assert!(
            (mean - 0.5).abs() < 0.02 && (std - 0.3).abs() < 0.02,
            "{mean} {std}"
        );
    }

    #[test]
    fn classification_term_is_the_cross_entropy_of_the_lowest_energy() {
        // Two images, three labels, laid out label-major: image 0 is lowest under label 2,
        // image 1 under label 0.
        let e = [5.0, -5.0, 5.0, 5.0, -5.0, 5.0];
        assert!(loss(&e, &[2, 0], 3) < 1e-3);
        // The same energies with the labels swapped: each image is 10 above its best label.
        assert!((loss(&e, &[0, 2], 3) - 10.0).abs() < 1e-3);
        // Equal energies: ln 3 whatever the labels.
        assert!((loss(&[0.3; 6], &[1, 2], 3) - 3f64.ln()).abs() < 1e-5);
    }
}
