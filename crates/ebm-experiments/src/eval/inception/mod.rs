//! Inception FID and Inception Score, the measures the paper's CIFAR-10 table reports: the FID
//! InceptionV3 of pytorch-fid in Burn ([`conv`], [`blocks`], [`network`]), its published
//! weights read through burn-store ([`weights`]), the two scores ([`metrics`]), and what
//! `ebm eval` does with them ([`reference`]).

pub mod blocks;
pub mod conv;
pub mod metrics;
pub mod network;
pub mod reference;
pub mod weights;

pub use metrics::{Embedded, FeatureStats, IS_SPLITS, InceptionScore, embed, inception_score};
pub use network::{InceptionOutput, InceptionV3, InceptionV3Config};
pub use reference::{InceptionQuality, InceptionReference, published_network};
pub use weights::{InceptionWeightsError, WEIGHTS_FILE, WEIGHTS_URL, load_inception, weights_path};

#[cfg(test)]
mod pth_writer;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod torch_tests;
