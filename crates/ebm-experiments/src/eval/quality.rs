//! How good a set of samples looks to the classifier: proxy FID against the test set, the
//! classifier's mean confidence, and the share of samples given to each class (mode collapse
//! shows as one class taking far more than its share).

use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

use super::classifier::{Classifier, FEATURES, predict};
use super::inception::InceptionQuality;
use super::stats::{frechet_distance, mean_cov};

/// A Gaussian fit of the test set's features, what the proxy FID compares against.
pub struct Reference {
    mu: Vec<f64>,
    sigma: Vec<f64>,
}

impl Reference {
    /// Fits the features of `x` (the test images).
    pub fn new(classifier: &Classifier, x: Tensor<4>) -> Self {
        let (mu, sigma) = mean_cov(&predict(classifier, x).features, FEATURES);
        Self { mu, sigma }
    }

    /// Proxy FID of images `x` against the reference.
    pub fn fid(&self, classifier: &Classifier, x: Tensor<4>) -> f64 {
        self.fid_of_features(&predict(classifier, x).features)
    }

    /// Proxy FID of images whose classifier features (`FEATURES` values per image,
    /// row-major, as [`predict`] gives them) are already at hand.
    pub fn fid_of_features(&self, features: &[f64]) -> f64 {
        let (mu, sigma) = mean_cov(features, FEATURES);
        frechet_distance(&self.mu, &self.sigma, &mu, &sigma)
    }
}

/// The quality of one set of samples.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SampleQuality {
    /// Where the chains started: `buffer` (continuing the replay buffer's samples) or `noise`
    /// (uniform noise).
    pub start: String,
    /// Langevin steps each chain ran.
    pub steps: usize,
    /// Number of samples.
    pub n: usize,
    /// Proxy FID against the test set.
    pub fid: f64,
    /// Mean probability the classifier gives its predicted class.
    pub mean_confidence: f64,
    /// Share of samples the classifier puts in each class.
    pub class_shares: Vec<f64>,
    /// The largest of `class_shares` (a fair share is 1 / classes).
    pub max_class_share: f64,
    /// Inception FID and Inception Score (32x32 RGB runs, when the FID Inception weights are
    /// in the data directory).
    #[serde(default)]
    pub inception: Option<InceptionQuality>,
}

impl SampleQuality {
    /// Measures samples `x`.
    pub fn measure(
        start: &str,
        steps: usize,
        x: Tensor<4>,
        classifier: &Classifier,
        reference: &Reference,
        classes: usize,
    ) -> Self {
        let n = x.dims()[0];
        let p = predict(classifier, x);
        let mut counts = vec![0usize; classes];
        for &c in &p.class {
            counts[c.min(classes - 1)] += 1;
        }
        let class_shares: Vec<f64> = counts.iter().map(|&k| k as f64 / n as f64).collect();
        Self {
            start: start.into(),
            steps,
            n,
            fid: reference.fid_of_features(&p.features),
            mean_confidence: p.confidence.iter().sum::<f64>() / n as f64,
            max_class_share: class_shares.iter().copied().fold(0.0, f64::max),
            class_shares,
            inception: None,
        }
    }
}
