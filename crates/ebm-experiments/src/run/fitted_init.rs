//! The Gaussians of `replay.init = Fitted` (JEM++'s informative initialisation), fitted to the
//! training images at the start of a run and again on resume (they are not checkpointed: the
//! same images give the same fit).

use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use ebm_data::ImageSet;
use ebm_sampler::{FittedGaussian, GaussianFit, InitDistribution};

/// The fitted Gaussians when `init` asks for them (one per class of `set`, or one when the set
/// has a single class), with the seconds the fit took; `None` otherwise.
///
/// # Errors
///
/// When a class has fewer than two images or the ridge is not positive.
pub fn fitted_init(
    init: &InitDistribution,
    set: &ImageSet,
) -> Result<Option<(Arc<FittedGaussian>, f64)>> {
    let InitDistribution::Fitted { ridge } = *init else {
        return Ok(None);
    };
    let started = Instant::now();
    let components = set.num_classes.max(1);
    let mut fit = GaussianFit::new(set.image_len(), components);
    let mut x = vec![0.0f32; set.image_len()];
    for i in 0..set.len() {
        for (v, &p) in x.iter_mut().zip(set.image(i)) {
            *v = f32::from(p) / 255.0;
        }
        let class = if components > 1 {
            usize::from(set.labels[i])
        } else {
            0
        };
        fit.add(class, &x);
    }
    let fitted = fit
        .finish(ridge)
        .context("fitting the Gaussians of replay.init = Fitted")?;
    Ok(Some((Arc::new(fitted), started.elapsed().as_secs_f64())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_gaussian_per_class_with_the_class_mean() {
        // Two classes of 2x2 grey images: class 0 bright top row, class 1 bright bottom row.
        let mut pixels = Vec::new();
        let mut labels = Vec::new();
        for k in 0..20u8 {
            pixels.extend([200 + k, 220, 0, 0]);
            labels.push(0);
            pixels.extend([0, 0, 255 - k, 240]);
            labels.push(1);
        }
        let set = ImageSet::new("test", pixels, labels, [1, 2, 2], 2).unwrap();
        let uniform = InitDistribution::Uniform {
            low: 0.0,
            high: 1.0,
        };
        assert!(fitted_init(&uniform, &set).unwrap().is_none());
        let (g, _) = fitted_init(&InitDistribution::Fitted { ridge: 1e-4 }, &set)
            .unwrap()
            .unwrap();
        assert_eq!(g.components(), 2);
        assert!((g.mean(0)[1] - 220.0 / 255.0).abs() < 1e-5 && g.mean(0)[2] == 0.0);
        assert!(g.mean(1)[0] == 0.0 && (g.mean(1)[3] - 240.0 / 255.0).abs() < 1e-5);
        let bad = fitted_init(&InitDistribution::Fitted { ridge: -1.0 }, &set);
        assert!(format!("{:#}", bad.unwrap_err()).contains("ridge"));
    }
}
