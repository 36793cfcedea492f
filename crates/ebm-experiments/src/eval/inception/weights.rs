//! The published FID weights: where they come from, where they live in the data directory,
//! and how a PyTorch `state_dict` file becomes an [`InceptionV3`] through burn-store.
//!
//! The file is pytorch-fid's `pt_inception-2015-12-05-6726825d.pth`, TensorFlow's 2015
//! Inception graph (the one the original FID and Inception Score code used) ported to
//! torchvision's module names. Its keys map onto [`InceptionV3`] as
//!
//! | PyTorch key                        | Burn path                          | layout change |
//! |------------------------------------|------------------------------------|---------------|
//! | `Conv2d_1a_3x3.conv.weight`        | `conv2d_1a_3x3.conv.weight`        | none          |
//! | `Mixed_5b.branch1x1.bn.weight`     | `mixed_5b.branch1x1.bn.gamma`      | none          |
//! | `Mixed_5b.branch1x1.bn.bias`       | `mixed_5b.branch1x1.bn.beta`       | none          |
//! | `*.bn.running_mean`, `running_var` | the same                           | none          |
//! | `fc.weight`                        | `fc.weight`                        | `[out, in]` to `[in, out]` |
//!
//! (the batch-norm renaming and the linear transpose are burn-store's `PyTorchToBurnAdapter`,
//! which `PytorchStore` always applies). `num_batches_tracked`, a counter PyTorch keeps beside
//! batch-norm statistics, has nothing to land on and is ignored; every other key must be used
//! and every tensor of the network found, or loading fails naming them.

use std::path::{Path, PathBuf};

use burn::tensor::Device;
use burn_store::{ModuleSnapshot, PytorchStore};
use thiserror::Error;

use super::network::{InceptionV3, InceptionV3Config};

/// The file's name, as pytorch-fid downloads it.
pub const WEIGHTS_FILE: &str = "pt_inception-2015-12-05-6726825d.pth";

/// Where pytorch-fid downloads it from (`FID_WEIGHTS_URL` in its `inception.py`).
pub const WEIGHTS_URL: &str = "https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/pt_inception-2015-12-05-6726825d.pth";

/// The start of the file's SHA-256, as its name carries it: `torch.hub` checks a download
/// against this prefix and nothing more, and no full digest is published.
pub const WEIGHTS_SHA256_PREFIX: &str = "6726825d";

/// Folder of the weights under the data directory.
pub const WEIGHTS_DIR: &str = "inception";

/// Where the weights file belongs: `DATA_DIR/inception/pt_inception-2015-12-05-6726825d.pth`.
pub fn weights_path(data_dir: &Path) -> PathBuf {
    data_dir.join(WEIGHTS_DIR).join(WEIGHTS_FILE)
}

/// Why the weights could not be loaded.
#[derive(Debug, Error)]
pub enum InceptionWeightsError {
    /// The file is not there.
    #[error(
        "{path} is missing: run `ebm data download inception`, or without internet fetch {WEIGHTS_URL} elsewhere and put it at {path}"
    )]
    Missing {
        /// Where it was looked for.
        path: String,
    },
    /// burn-store could not read the file as a PyTorch `state_dict`.
    #[error("reading {path} as a PyTorch state_dict: {message}")]
    Unreadable {
        /// The file.
        path: String,
        /// burn-store's message.
        message: String,
    },
    /// The file's tensors do not fit the network.
    #[error(
        "{path} does not fit the InceptionV3 of width divisor {width_divisor}: missing {missing:?}, not used {unused:?}, errors {errors:?}"
    )]
    Mismatch {
        /// The file.
        path: String,
        /// The network's width divisor.
        width_divisor: usize,
        /// Burn paths of the network that no tensor of the file filled.
        missing: Vec<String>,
        /// Keys of the file (after renaming) that fit no tensor of the network.
        unused: Vec<String>,
        /// Tensors found under the right name with the wrong shape or type.
        errors: Vec<String>,
    },
}

/// A `PytorchStore` over `path` that renames the `state_dict`'s top-level modules to the
/// network's field names.
fn store(path: &Path) -> PytorchStore {
    PytorchStore::from_file(path)
        .with_key_remapping(r"^Conv2d_", "conv2d_")
        .with_key_remapping(r"^Mixed_", "mixed_")
        .map_indices_contiguous(false)
        .allow_partial(true)
        .validate(false)
}

/// Reads a PyTorch `state_dict` file (`torch.save(model.state_dict(), path)` of pytorch-fid's
/// FID Inception, or of the same architecture at another width) into a network built from
/// `config` on `device`. Every tensor of the network must come from the file, with its shape,
/// and every tensor of the file must be used (`num_batches_tracked` aside).
pub fn load_inception(
    path: &Path,
    config: &InceptionV3Config,
    device: &Device,
) -> Result<InceptionV3, InceptionWeightsError> {
    let shown = path.display().to_string();
    if !path.is_file() {
        return Err(InceptionWeightsError::Missing { path: shown });
    }
    let mut model = config.init(device);
    let result =
        model
            .load_from(&mut store(path))
            .map_err(|e| InceptionWeightsError::Unreadable {
                path: shown.clone(),
                message: e.to_string(),
            })?;
    let unused: Vec<String> = result
        .unused
        .into_iter()
        .filter(|k| !k.ends_with(".num_batches_tracked"))
        .collect();
    if !result.missing.is_empty() || !unused.is_empty() || !result.errors.is_empty() {
        return Err(InceptionWeightsError::Mismatch {
            path: shown,
            width_divisor: config.width_divisor,
            missing: result.missing.into_iter().map(|(p, _)| p).collect(),
            unused,
            errors: result.errors.iter().map(|e| e.to_string()).collect(),
        });
    }
    Ok(model)
}
