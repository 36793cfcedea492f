//! Where datasets come from: the data directory ([`dirs`]), the embedded default
//! ([`embedded`]), downloads ([`download`], [`sources`], [`unpack`]), toy densities ([`toy`]),
//! and the loaders that read files and hand bytes to `ebm-data`'s parsers ([`load`]).

pub mod augment;
pub mod dirs;
pub mod download;
pub mod embedded;
pub mod load;
pub mod shapes;
pub mod sources;
pub mod timing;
pub mod toy;
pub mod unpack;

use anyhow::{Result, bail};
use ebm_data::ImageSet;

pub use dirs::{data_dir, resolve_data_dir};
pub use embedded::embedded_mnist10k;
pub use load::{load, load_for, load_or_download, load_test, sample_shape};
pub use toy::toy_splits;

/// A dataset the toolkit knows by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DatasetName {
    /// MNIST, 60 000 + 10 000 digits.
    Mnist,
    /// Fashion-MNIST, 60 000 + 10 000 clothing images.
    FashionMnist,
    /// The 10 000-digit MNIST subset embedded in the binary (8 000 + 2 000).
    Mnist10k,
    /// CIFAR-10 binary, 50 000 + 10 000 colour images.
    Cifar10,
    /// CIFAR-100 binary, 50 000 + 10 000 colour images, 100 (fine) classes.
    Cifar100,
    /// SVHN cropped digits, 73 257 + 26 032 colour images (MATLAB files).
    Svhn,
    /// The Describable Textures Dataset, 5 640 images in 47 classes: an OOD set only (all of
    /// it is the test split, top-left 32x32 crops as the official evaluation takes them).
    Textures,
}

impl DatasetName {
    /// Every dataset, in the order of help texts.
    pub const ALL: [DatasetName; 7] = [
        DatasetName::Mnist,
        DatasetName::FashionMnist,
        DatasetName::Mnist10k,
        DatasetName::Cifar10,
        DatasetName::Cifar100,
        DatasetName::Svhn,
        DatasetName::Textures,
    ];

    /// Parses a dataset name (`mnist`, `fashion-mnist`, `mnist-10k`, `cifar10`, `cifar100`,
    /// `svhn`, `textures`).
    pub fn parse(name: &str) -> Result<Self> {
        match Self::ALL.into_iter().find(|d| d.name() == name) {
            Some(d) => Ok(d),
            None => bail!(
                "unknown dataset {name:?}: expected one of {}",
                Self::ALL.map(DatasetName::name).join(", ")
            ),
        }
    }

    /// Shape `[C, H, W]` of one image.
    pub fn image_shape(self) -> [usize; 3] {
        match self {
            DatasetName::Mnist | DatasetName::FashionMnist | DatasetName::Mnist10k => [1, 28, 28],
            _ => [3, 32, 32],
        }
    }

    /// The name, which is also the folder under the data directory.
    pub fn name(self) -> &'static str {
        match self {
            DatasetName::Mnist => "mnist",
            DatasetName::FashionMnist => "fashion-mnist",
            DatasetName::Mnist10k => "mnist-10k",
            DatasetName::Cifar10 => "cifar10",
            DatasetName::Cifar100 => "cifar100",
            DatasetName::Svhn => "svhn",
            DatasetName::Textures => "textures",
        }
    }
}

/// Training and test split of one dataset.
#[derive(Debug, Clone)]
pub struct Splits {
    /// Training images.
    pub train: ImageSet,
    /// Test images.
    pub test: ImageSet,
}
