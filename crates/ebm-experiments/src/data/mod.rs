//! Where datasets come from: the data directory ([`dirs`]), the embedded default
//! ([`embedded`]), downloads ([`download`]), toy densities ([`toy`]), and the loaders that read
//! files and hand bytes to `ebm-data`'s parsers.

pub mod augment;
pub mod dirs;
pub mod download;
pub mod embedded;
pub mod timing;
pub mod toy;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use ebm_data::{ImageSet, Toy2d, parse_cifar10, parse_idx_images};

pub use dirs::{data_dir, resolve_data_dir};
pub use embedded::embedded_mnist10k;
pub use toy::toy_splits;

use crate::run::config::TrainConfig;
use download::{Source, sources};

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
}

impl DatasetName {
    /// Parses `mnist`, `fashion-mnist`, `mnist-10k`, `cifar10`.
    pub fn parse(name: &str) -> Result<Self> {
        Ok(match name {
            "mnist" => DatasetName::Mnist,
            "fashion-mnist" => DatasetName::FashionMnist,
            "mnist-10k" => DatasetName::Mnist10k,
            "cifar10" => DatasetName::Cifar10,
            other => bail!(
                "unknown dataset {other:?}: expected mnist, fashion-mnist, mnist-10k or cifar10"
            ),
        })
    }

    /// Shape `[C, H, W]` of one image.
    pub fn image_shape(self) -> [usize; 3] {
        match self {
            DatasetName::Cifar10 => [3, 32, 32],
            _ => [1, 28, 28],
        }
    }

    /// The name, which is also the folder under the data directory.
    pub fn name(self) -> &'static str {
        match self {
            DatasetName::Mnist => "mnist",
            DatasetName::FashionMnist => "fashion-mnist",
            DatasetName::Mnist10k => "mnist-10k",
            DatasetName::Cifar10 => "cifar10",
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

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("reading {}", path.display()))
}

/// The first of `names` present in `dir` (so both `x.gz` and an unpacked `x` are accepted).
fn find(dir: &Path, names: &[String]) -> Option<PathBuf> {
    names.iter().map(|n| dir.join(n)).find(|p| p.is_file())
}

fn missing(name: DatasetName, dir: &Path, expected: &[String]) -> anyhow::Error {
    let urls: Vec<String> = sources(name)
        .iter()
        .map(|s: &Source| s.url.to_string())
        .collect();
    anyhow::anyhow!(
        "{} not found in {}: expected the files {}. With internet access run `cargo xtask data download {}`; \
         otherwise download {} and put the files in {}",
        name.name(),
        dir.display(),
        expected.join(", "),
        name.name(),
        urls.join(" "),
        dir.display(),
    )
}

fn load_idx_pair(name: DatasetName, dir: &Path, prefix: &str) -> Result<ImageSet> {
    let names = |kind: &str| vec![format!("{prefix}-{kind}.gz"), format!("{prefix}-{kind}")];
    let images = names("images-idx3-ubyte");
    let labels = names("labels-idx1-ubyte");
    let (Some(ip), Some(lp)) = (find(dir, &images), find(dir, &labels)) else {
        return Err(missing(name, dir, &[images[0].clone(), labels[0].clone()]));
    };
    let set = parse_idx_images(
        &ip.display().to_string(),
        &read(&ip)?,
        &lp.display().to_string(),
        &read(&lp)?,
        10,
    )?;
    Ok(set)
}

/// Loads a dataset: `mnist-10k` from the binary itself, the others from `data_dir/<name>/`.
pub fn load(name: DatasetName, data_dir: &Path) -> Result<Splits> {
    let dir = data_dir.join(name.name());
    match name {
        DatasetName::Mnist10k => Ok(embedded_mnist10k()),
        DatasetName::Mnist | DatasetName::FashionMnist => Ok(Splits {
            train: load_idx_pair(name, &dir, "train")?,
            test: load_idx_pair(name, &dir, "t10k")?,
        }),
        DatasetName::Cifar10 => {
            // The official archive unpacks to `cifar-10-batches-bin/`; accept the files either
            // there or directly in the folder.
            let root = [dir.join("cifar-10-batches-bin"), dir.clone()]
                .into_iter()
                .find(|d| d.join("test_batch.bin").is_file());
            let mut expected: Vec<String> =
                (1..=5).map(|i| format!("data_batch_{i}.bin")).collect();
            expected.push("test_batch.bin".into());
            let Some(root) = root else {
                return Err(missing(name, &dir, &expected));
            };
            let parse = |file: &str| -> Result<ImageSet> {
                let path = root.join(file);
                if !path.is_file() {
                    return Err(missing(name, &root, &expected));
                }
                Ok(parse_cifar10(&path.display().to_string(), &read(&path)?)?)
            };
            let mut train = parse("data_batch_1.bin")?;
            for i in 2..=5 {
                train.extend(&parse(&format!("data_batch_{i}.bin"))?);
            }
            Ok(Splits {
                train,
                test: parse("test_batch.bin")?,
            })
        }
    }
}

/// Loads the dataset a run's config names (`toy2d:<name>` densities are drawn from its seed).
pub fn load_for(config: &TrainConfig, data_dir: &Path) -> Result<Splits> {
    if let Some(name) = config.dataset.strip_prefix("toy2d:") {
        let toy =
            Toy2d::from_name(name).with_context(|| format!("unknown toy density {name:?}"))?;
        return Ok(toy_splits(toy, config.seed));
    }
    load(DatasetName::parse(&config.dataset)?, data_dir)
}

/// Shape `[C, H, W]` of one sample of a run's dataset (`[2, 1, 1]` for toy 2-D points).
pub fn sample_shape(config: &TrainConfig) -> Result<[usize; 3]> {
    if config.dataset.starts_with("toy2d:") {
        return Ok([2, 1, 1]);
    }
    Ok(DatasetName::parse(&config.dataset)?.image_shape())
}

/// [`load_for`], and when files are missing and the dataset can be downloaded, the download
/// first (reporting both failures if it cannot).
pub fn load_or_download(config: &TrainConfig, dir: &Path) -> Result<Splits> {
    match load_for(config, dir) {
        Ok(data) => Ok(data),
        Err(missing) => {
            let Ok(name) = DatasetName::parse(&config.dataset) else {
                return Err(missing);
            };
            if name == DatasetName::Mnist10k {
                return Err(missing);
            }
            eprintln!("{missing:#}\ntrying to download {} ...", name.name());
            download::download_dataset(name, dir, &download::DownloadOptions::default())
                .map_err(|e| e.context(format!("{missing:#}")))?;
            load_for(config, dir)
        }
    }
}
