//! Inception FID and Inception Score from the network's outputs.
//!
//! FID (Heusel et al. 2017) is the Frechet distance between Gaussian fits of the `pool3`
//! features of two image sets ([`super::super::stats::frechet_distance`]). The Inception Score
//! (Salimans et al. 2016) is `exp(E_x KL(p(y|x) || p(y)))`, computed over `splits` consecutive
//! parts of the images and reported as the mean and standard deviation over the parts, as the
//! original `inception_score.py` (openai/improved-gan) does with 10 splits. Like that code,
//! `p(y|x)` is the softmax of the 1008 logits *without* the classifier's bias (`pool3 W^T`;
//! torch-fidelity calls them `logits_unbiased`).

use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

use super::network::InceptionV3;
use crate::eval::stats::{frechet_distance, mean_rows, symmetric_eigen};

/// Splits of the Inception Score, as in the original code.
pub const IS_SPLITS: usize = 10;

/// Images per forward pass.
const BATCH: usize = 25;

/// What the network says about a set of images, on the host.
#[derive(Clone, Debug)]
pub struct Embedded {
    /// `pool3` features, row-major `[n, features]`.
    pub pool3: Vec<f64>,
    /// Width of a feature row.
    pub features: usize,
    /// Unbiased logits, row-major `[n, classes]`.
    pub logits: Vec<f64>,
    /// Width of a logit row.
    pub classes: usize,
}

/// Runs `images` (`[n, 3, h, w]` in [0, 1]) through `net` in batches.
pub fn embed(net: &InceptionV3, images: Tensor<4>) -> Embedded {
    let n = images.dims()[0];
    let (features, classes) = (net.features(), net.classes());
    let weight = net.fc.weight.val();
    let (mut pool3, mut logits) = (Vec::new(), Vec::new());
    for start in (0..n).step_by(BATCH) {
        let out = net.forward(images.clone().slice(start..(start + BATCH).min(n)));
        let unbiased = out.pool3.clone().matmul(weight.clone());
        for (t, dst) in [(out.pool3, &mut pool3), (unbiased, &mut logits)] {
            let values = t.into_data().convert::<f32>().try_into_vec::<f32>();
            dst.extend(values.expect("f32 data").into_iter().map(f64::from));
        }
    }
    Embedded {
        pool3,
        features,
        logits,
        classes,
    }
}

/// A Gaussian fit of `pool3` features: the reference side of FID, or the other side.
///
/// With fewer images than features (1000 images of 2048-d features, the default of
/// `ebm eval`) the covariance `S = Z^T Z` (`Z` the centred rows over `sqrt(n - 1)`) has rank
/// below `n`, and the trace term of FID is computed in the space of the images:
/// `tr (S1 S2)^(1/2)` is the sum of the square roots of the eigenvalues of
/// `(Z1 Z2^T)(Z1 Z2^T)^T` (`S1 S2` and that `n1 x n1` matrix share their non-zero
/// eigenvalues), an eigenproblem of the smaller side instead of two of `d x d`. With at least
/// as many images as features it is [`frechet_distance`] of the covariances.
#[derive(Clone, Debug)]
pub struct FeatureStats {
    mu: Vec<f64>,
    /// `Z`, row-major `[n, d]`.
    z: Vec<f64>,
    d: usize,
}

impl FeatureStats {
    /// Mean and (unbiased) covariance of the rows.
    ///
    /// # Panics
    ///
    /// With fewer than two rows.
    pub fn fit(e: &Embedded) -> Self {
        let d = e.features;
        let n = e.pool3.len() / d;
        assert!(n >= 2, "FID needs at least two images, got {n}");
        let mu = mean_rows(&e.pool3, d);
        let scale = 1.0 / ((n - 1) as f64).sqrt();
        let z = e
            .pool3
            .chunks(d)
            .flat_map(|row| row.iter().zip(&mu).map(|(v, m)| (v - m) * scale))
            .collect();
        Self { mu, z, d }
    }

    fn rows(&self) -> usize {
        self.z.len() / self.d
    }

    /// The covariance `Z^T Z`, `d x d`.
    fn covariance(&self) -> Vec<f64> {
        let d = self.d;
        let mut s = vec![0.0; d * d];
        for row in self.z.chunks(d) {
            for i in 0..d {
                let a = row[i];
                for (sj, b) in s[i * d..(i + 1) * d].iter_mut().zip(row) {
                    *sj += a * b;
                }
            }
        }
        s
    }

    /// FID between two fits.
    ///
    /// # Panics
    ///
    /// If the feature widths differ.
    pub fn fid(&self, other: &FeatureStats) -> f64 {
        assert_eq!(self.d, other.d, "feature widths differ");
        let d = self.d;
        let (small, large) = if self.rows() <= other.rows() {
            (self, other)
        } else {
            (other, self)
        };
        if small.rows() >= d {
            return frechet_distance(&self.mu, &self.covariance(), &other.mu, &other.covariance());
        }
        // M = Z_small Z_large^T, K = M M^T.
        let (ns, nl) = (small.rows(), large.rows());
        let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
        let m: Vec<f64> = small
            .z
            .chunks(d)
            .flat_map(|a| large.z.chunks(d).map(move |b| dot(a, b)))
            .collect();
        let mut k = vec![0.0; ns * ns];
        for i in 0..ns {
            for j in i..ns {
                let v = dot(&m[i * nl..(i + 1) * nl], &m[j * nl..(j + 1) * nl]);
                k[i * ns + j] = v;
                k[j * ns + i] = v;
            }
        }
        let (eig, _) = symmetric_eigen(&k, ns);
        let tr_sqrt: f64 = eig.iter().map(|l| l.max(0.0).sqrt()).sum();
        let trace = |s: &FeatureStats| s.z.iter().map(|v| v * v).sum::<f64>();
        let diff: f64 = self
            .mu
            .iter()
            .zip(&other.mu)
            .map(|(a, b)| (a - b).powi(2))
            .sum();
        (diff + trace(self) + trace(other) - 2.0 * tr_sqrt).max(0.0)
    }
}

/// An Inception Score: mean and standard deviation over the splits.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq)]
pub struct InceptionScore {
    /// Mean over the splits.
    pub mean: f64,
    /// Standard deviation over the splits (population, as `np.std`).
    pub std: f64,
}

/// Softmax of each row of `logits` (`classes` wide), in f64.
fn softmax_rows(logits: &[f64], classes: usize) -> Vec<f64> {
    let mut p = Vec::with_capacity(logits.len());
    for row in logits.chunks(classes) {
        let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let exps: Vec<f64> = row.iter().map(|v| (v - max).exp()).collect();
        let sum: f64 = exps.iter().sum();
        p.extend(exps.iter().map(|e| e / sum));
    }
    p
}

/// `exp(mean_x KL(p(y|x) || p(y)))` of class probabilities `probs` (rows of `classes`), over
/// `splits` consecutive parts (part `i` is rows `i n / splits .. (i + 1) n / splits`).
///
/// # Panics
///
/// If `splits` is 0 or there are fewer rows than splits.
pub fn inception_score_of_probs(probs: &[f64], classes: usize, splits: usize) -> InceptionScore {
    let n = probs.len() / classes;
    assert!(
        splits > 0 && n >= splits,
        "{n} images cannot make {splits} splits"
    );
    let scores: Vec<f64> = (0..splits)
        .map(|i| {
            let part = &probs[i * n / splits * classes..(i + 1) * n / splits * classes];
            let rows = part.len() / classes;
            let mut py = vec![0.0; classes];
            for row in part.chunks(classes) {
                for (m, p) in py.iter_mut().zip(row) {
                    *m += p / rows as f64;
                }
            }
            let kl: f64 = part
                .chunks(classes)
                .map(|row| {
                    row.iter()
                        .zip(&py)
                        .filter(|(p, _)| **p > 0.0)
                        .map(|(p, m)| p * (p.ln() - m.ln()))
                        .sum::<f64>()
                })
                .sum::<f64>()
                / rows as f64;
            kl.exp()
        })
        .collect();
    let mean = scores.iter().sum::<f64>() / splits as f64;
    let var = scores.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / splits as f64;
    InceptionScore {
        mean,
        std: var.sqrt(),
    }
}

/// The Inception Score of embedded images, over `splits` parts.
pub fn inception_score(e: &Embedded, splits: usize) -> InceptionScore {
    inception_score_of_probs(&softmax_rows(&e.logits, e.classes), e.classes, splits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uniform_predictions_score_one() {
        let probs = vec![0.1; 20 * 10];
        let s = inception_score_of_probs(&probs, 10, 2);
        assert!((s.mean - 1.0).abs() < 1e-12 && s.std < 1e-12, "{s:?}");
    }

    #[test]
    fn confident_balanced_predictions_score_the_number_of_classes() {
        // Each split holds every class once, each image certain of its class.
        let classes = 7;
        let splits = 3;
        let mut probs = vec![0.0; classes * classes * splits];
        for (i, row) in probs.chunks_mut(classes).enumerate() {
            row[i % classes] = 1.0;
        }
        let s = inception_score_of_probs(&probs, classes, splits);
        assert!((s.mean - classes as f64).abs() < 1e-9, "{s:?}");
        assert!(s.std < 1e-9);
    }

    #[test]
    fn confident_collapsed_predictions_score_one_and_splits_differ() {
        // Every image certain of class 0: p(y) equals p(y|x), IS 1.
        let mut probs = vec![0.0; 4 * 12];
        for row in probs.chunks_mut(4) {
            row[0] = 1.0;
        }
        assert!((inception_score_of_probs(&probs, 4, 3).mean - 1.0).abs() < 1e-12);
        // Two splits, one collapsed (IS 1), one balanced over 2 classes (IS 2): mean 1.5,
        // population std 0.5.
        let probs = [
            1.0, 0.0, 1.0, 0.0, // split 1: both class 0
            1.0, 0.0, 0.0, 1.0, // split 2: one each
        ];
        let s = inception_score_of_probs(&probs, 2, 2);
        assert!(
            (s.mean - 1.5).abs() < 1e-12 && (s.std - 0.5).abs() < 1e-12,
            "{s:?}"
        );
    }

    #[test]
    fn softmax_of_logits_and_fid_of_identical_sets() {
        let p = softmax_rows(&[0.0, 0.0, 1000.0, 0.0], 2);
        assert!((p[0] - 0.5).abs() < 1e-12 && (p[2] - 1.0).abs() < 1e-12 && p[3] < 1e-12);
        let rows: Vec<f64> = (0..40).map(|i| ((i * 7919) % 13) as f64 / 13.0).collect();
        let e = Embedded {
            pool3: rows,
            features: 4,
            logits: vec![0.0; 20],
            classes: 2,
        };
        let a = FeatureStats::fit(&e);
        assert!(a.fid(&a).abs() < 1e-8);
        // Shifting every feature by 1 moves the mean by 1 in each of 4 dimensions: FID 4.
        let shifted = Embedded {
            pool3: e.pool3.iter().map(|v| v + 1.0).collect(),
            ..e.clone()
        };
        assert!((a.fid(&FeatureStats::fit(&shifted)) - 4.0).abs() < 1e-8);
    }

    #[test]
    fn fid_in_image_space_equals_the_frechet_distance_of_the_covariances() {
        // 5 and 7 images of 12-d features: fewer images than features on both sides.
        let mut rng = ebm_sampler::SplitMix64::new(3);
        let mut set = |n: usize, shift: f64| Embedded {
            pool3: (0..n * 12)
                .map(|i| rng.normal() * (1.0 + (i % 12) as f64 / 6.0) + shift)
                .collect(),
            features: 12,
            logits: Vec::new(),
            classes: 0,
        };
        let (a, b) = (set(5, 0.0), set(7, 0.3));
        let ours = FeatureStats::fit(&a).fid(&FeatureStats::fit(&b));
        let (mu1, s1) = crate::eval::stats::mean_cov(&a.pool3, 12);
        let (mu2, s2) = crate::eval::stats::mean_cov(&b.pool3, 12);
        let direct = frechet_distance(&mu1, &s1, &mu2, &s2);
        // The d-space route takes square roots of the product's zero eigenvalues as computed
        // (about 1e-14 each, so about 1e-7 each after the root): agreement to 1e-6 relative.
        assert!(
            (ours - direct).abs() < 1e-6 * direct.max(1.0),
            "{ours} vs {direct}"
        );
        assert!(ours > 0.0);
        assert!((FeatureStats::fit(&b).fid(&FeatureStats::fit(&a)) - ours).abs() < 1e-9);
    }
}
