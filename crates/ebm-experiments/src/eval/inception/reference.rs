//! The Inception side of `ebm eval`: the network with the published weights, the test
//! images' fit, and each sample set's Inception FID and Inception Score against it.

use std::path::Path;

use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use super::metrics::{FeatureStats, IS_SPLITS, InceptionScore, embed, inception_score};
use super::network::{InceptionV3, InceptionV3Config};
use super::weights::{load_inception, weights_path};

/// Inception FID and Inception Score of one set of images.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct InceptionQuality {
    /// FID against the test images (pool3 features of pytorch-fid's network).
    pub fid: f64,
    /// Inception Score over `min(10, n)` splits.
    pub inception_score: InceptionScore,
}

/// The network and the test images' fit.
pub struct InceptionReference {
    net: InceptionV3,
    test: FeatureStats,
    /// Inception Score of the test images themselves (what real data scores at this `n`).
    pub test_score: InceptionScore,
}

/// The network with the published weights from `data_dir`, or why not (the file missing or
/// unreadable), for `ebm eval` to print and go on without.
pub fn published_network(data_dir: &Path, device: &Device) -> Result<InceptionV3, String> {
    load_inception(&weights_path(data_dir), &InceptionV3Config::new(), device)
        .map_err(|e| e.to_string())
}

impl InceptionReference {
    /// Embeds the test images `x_test` (`[n, 3, h, w]` in [0, 1]).
    pub fn new(net: InceptionV3, x_test: Tensor<4>) -> Self {
        let e = embed(&net, x_test);
        let n = e.pool3.len() / e.features;
        Self {
            test: FeatureStats::fit(&e),
            test_score: inception_score(&e, IS_SPLITS.min(n)),
            net,
        }
    }

    /// Inception FID against the test images and Inception Score of images `x`.
    pub fn measure(&self, x: Tensor<4>) -> InceptionQuality {
        let e = embed(&self.net, x);
        let n = e.pool3.len() / e.features;
        InceptionQuality {
            fid: FeatureStats::fit(&e).fid(&self.test),
            inception_score: inception_score(&e, IS_SPLITS.min(n)),
        }
    }
}
