//! What `ebm ood` ranks images by. The paper's score is the energy of the raw input; two
//! cheap alternatives from the OOD literature use the same network and no extra training:
//!
//! - typicality (Nalisnick et al. 2019, "Detecting out-of-distribution inputs to deep
//!   generative models using typicality"): how far the energy lies from the training images'
//!   mean energy, in either direction, since simple images (MNIST digits under a
//!   Fashion-MNIST model) can be *more* likely than the data;
//! - max-softmax (Hendrycks & Gimpel 2017): the confidence of the EBM classifier,
//!   `max_y softmax(-E(x, .))`, for conditional runs;
//! - gradient norm (Grathwohl et al. 2020, "Your classifier is secretly an energy based model",
//!   their "approximate mass"): `-||grad_x s(x)||` with `s` the energy score. Training images
//!   sit near minima of the energy that training shaped; inputs it never saw need not. Short
//!   Langevin chains do not make the data minima, though (the energy keeps falling past them),
//!   so the direction is not known in advance: `grad-typicality` ranks by how far the norm lies
//!   from the training images' mean norm, in either direction, as typicality does for the
//!   energy.

use anyhow::{Result, bail};
use burn::tensor::Tensor;
use burn::tensor::activation::softmax;
use ebm_model::EnergyModel;
use ebm_sampler::energy_and_grad;

use crate::eval::scores::{lowest_energy, scores};
use crate::run::model::EnergyNet;

/// An OOD score (higher = more in-distribution).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Score {
    /// `-E(x)`, conditional `-min_y E(x, y)`: the paper's.
    Energy,
    /// `-|s(x) - mean s(train)|` with `s` the energy score.
    Typicality,
    /// `max_y softmax(-E(x, .))` (conditional runs).
    MaxSoftmax,
    /// `-||grad_x s(x)||_2` with `s` the energy score.
    GradNorm,
    /// `-|g(x) - mean g(train)|` with `g` the grad-norm score.
    GradTypicality,
}

impl Score {
    /// Parses `energy`, `typicality`, `max-softmax`, `grad-norm` or `grad-typicality`.
    pub fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "energy" => Score::Energy,
            "typicality" => Score::Typicality,
            "max-softmax" => Score::MaxSoftmax,
            "grad-norm" => Score::GradNorm,
            "grad-typicality" => Score::GradTypicality,
            other => bail!(
                "unknown score {other:?}: expected energy, typicality, max-softmax, grad-norm or grad-typicality"
            ),
        })
    }

    /// The name in file names.
    pub fn name(self) -> &'static str {
        match self {
            Score::Energy => "energy",
            Score::Typicality => "typicality",
            Score::MaxSoftmax => "max-softmax",
            Score::GradNorm => "grad-norm",
            Score::GradTypicality => "grad-typicality",
        }
    }

    /// The score whose training-image mean a typicality score needs (`None`: no reference).
    pub fn reference(self) -> Option<Score> {
        match self {
            Score::Typicality => Some(Score::Energy),
            Score::GradTypicality => Some(Score::GradNorm),
            _ => None,
        }
    }

    /// The formula, for reports.
    pub fn describe(self, conditional: bool) -> String {
        let e = if conditional {
            "-min_y E(x, y)"
        } else {
            "-E(x)"
        };
        match self {
            Score::Energy => e.to_string(),
            Score::Typicality => format!("-|s - mean s(train)|, s = {e}"),
            Score::MaxSoftmax => "max_y softmax(-E(x, .))".into(),
            Score::GradNorm => format!("-||grad_x s||, s = {e}"),
            Score::GradTypicality => format!("-|g - mean g(train)|, g = -||grad_x s||, s = {e}"),
        }
    }
}

/// Scores of the images `x`; `train_mean` is the training images' mean of the score's
/// [`reference`](Score::reference) (typicality scores only).
pub fn score(plain: &EnergyNet, x: Tensor<4>, kind: Score, train_mean: f64) -> Result<Vec<f64>> {
    Ok(match kind {
        Score::Energy => scores(plain, x),
        Score::GradNorm => grad_norms(plain, x),
        Score::Typicality | Score::GradTypicality => {
            let base = kind
                .reference()
                .expect("a typicality score has a reference");
            score(plain, x, base, 0.0)?
                .into_iter()
                .map(|s| -(s - train_mean).abs())
                .collect()
        }
        Score::MaxSoftmax => {
            if plain.num_classes().is_none() {
                bail!("--score max-softmax needs a class-conditional run");
            }
            let n = x.dims()[0];
            let mut out = Vec::with_capacity(n);
            for start in (0..n).step_by(256) {
                let e = plain.class_energies(x.clone().slice(start..(start + 256).min(n)));
                let p = softmax(-e, 1).max_dim(1).squeeze_dim::<1>(1);
                out.extend(super::super::values(p).into_iter().map(f64::from));
            }
            out
        }
    })
}

/// `-||grad_x s(x)||_2` per image, `s` the energy score (conditional: `-min_y E(x, y)`, whose
/// gradient is that of the lowest class energy).
fn grad_norms(plain: &EnergyNet, x: Tensor<4>) -> Vec<f64> {
    let n = x.dims()[0];
    let energy = |x: Tensor<4>| lowest_energy(plain, x);
    let mut out = Vec::with_capacity(n);
    for start in (0..n).step_by(128) {
        let chunk = x.clone().slice(start..(start + 128).min(n));
        let (_, g) = energy_and_grad(&energy, chunk);
        let [b, c, h, w] = g.dims();
        let norms = g.reshape([b, c * h * w]).powi_scalar(2).sum_dim(1).sqrt();
        out.extend(
            super::super::values(norms.reshape([b]))
                .into_iter()
                .map(|v| -f64::from(v)),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Device, Distribution, TensorData};
    use ebm_model::{BlockSpec, ResNetConfig};

    use crate::run::model::ModelConfig;

    #[test]
    fn grad_norm_matches_finite_differences_and_typicality_centres_it() {
        let device = Device::flex();
        device.seed(5);
        let net = ModelConfig::ResNet(
            ResNetConfig::new(vec![BlockSpec::new(8, true)])
                .with_in_channels(1)
                .with_stem_channels(8),
        )
        .init(&device);
        let (side, d) = (8, 64);
        let x = Tensor::<4>::random([2, 1, side, side], Distribution::Uniform(0.2, 0.8), &device);
        let got = score(&net, x.clone(), Score::GradNorm, 0.0).unwrap();

        // Central differences, one pixel at a time, all in one batch.
        let base = crate::paper::values(x.clone());
        let h = 1e-2f32;
        let mut rows = Vec::new();
        for i in 0..2 {
            for k in 0..d {
                for sign in [1.0f32, -1.0] {
                    let mut img = base[i * d..(i + 1) * d].to_vec();
                    img[k] += sign * h;
                    rows.extend(img);
                }
            }
        }
        let batch = Tensor::<4>::from_data(TensorData::new(rows, [4 * d, 1, side, side]), &device);
        let e = crate::paper::values(net.energy(batch, None));
        for (i, g) in got.iter().enumerate() {
            let norm = (0..d)
                .map(|k| {
                    let j = 2 * (i * d + k);
                    f64::from((e[j] - e[j + 1]) / (2.0 * h)).powi(2)
                })
                .sum::<f64>()
                .sqrt();
            assert!(
                norm > 1e-3,
                "image {i}: a flat energy tests nothing ({norm})"
            );
            assert!(
                (-g - norm).abs() <= 0.02 * norm,
                "image {i}: autodiff {} vs finite differences {norm}",
                -g
            );
        }

        let mean = got.iter().sum::<f64>() / 2.0;
        let typical = score(&net, x, Score::GradTypicality, mean).unwrap();
        for (t, g) in typical.iter().zip(&got) {
            assert!(
                (t + (g - mean).abs()).abs() < 1e-9,
                "{t} vs {g} around {mean}"
            );
        }
        assert_eq!(
            Score::parse("grad-typicality").unwrap(),
            Score::GradTypicality
        );
        assert_eq!(Score::GradTypicality.reference(), Some(Score::GradNorm));
        let err = Score::parse("gradnorm").unwrap_err().to_string();
        assert!(err.contains("grad-norm"), "{err}");
    }
}
