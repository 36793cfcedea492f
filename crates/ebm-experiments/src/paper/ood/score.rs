//! What `ebm ood` ranks images by. The paper's score is the energy of the raw input; two
//! cheap alternatives from the OOD literature use the same network and no extra training:
//!
//! - typicality (Nalisnick et al. 2019, "Detecting out-of-distribution inputs to deep
//!   generative models using typicality"): how far the energy lies from the training images'
//!   mean energy, in either direction, since simple images (MNIST digits under a
//!   Fashion-MNIST model) can be *more* likely than the data;
//! - max-softmax (Hendrycks & Gimpel 2017): the confidence of the EBM classifier,
//!   `max_y softmax(-E(x, .))`, for conditional runs.

use anyhow::{Result, bail};
use burn::tensor::Tensor;
use burn::tensor::activation::softmax;
use ebm_model::EnergyModel;

use crate::eval::scores::scores;
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
}

impl Score {
    /// Parses `energy`, `typicality` or `max-softmax`.
    pub fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "energy" => Score::Energy,
            "typicality" => Score::Typicality,
            "max-softmax" => Score::MaxSoftmax,
            other => bail!("unknown score {other:?}: expected energy, typicality or max-softmax"),
        })
    }

    /// The name in file names.
    pub fn name(self) -> &'static str {
        match self {
            Score::Energy => "energy",
            Score::Typicality => "typicality",
            Score::MaxSoftmax => "max-softmax",
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
        }
    }
}

/// Scores of the images `x`; `train_mean` is the mean energy score of training images
/// (typicality only).
pub fn score(plain: &EnergyNet, x: Tensor<4>, kind: Score, train_mean: f64) -> Result<Vec<f64>> {
    Ok(match kind {
        Score::Energy => scores(plain, x),
        Score::Typicality => scores(plain, x)
            .into_iter()
            .map(|s| -(s - train_mean).abs())
            .collect(),
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
