//! Where datasets come from: the data directory, the embedded default, and the loaders that
//! read files and hand bytes to `ebm-data`'s parsers.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use ebm_data::{ImageSet, parse_cifar10, parse_idx_images};

use crate::download::{Source, sources};

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

/// The project root (the workspace this binary was built from).
pub fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The data directory: `--data-dir`, else `$EBM_DATA_DIR`, else `data/` under the project root.
pub fn data_dir(flag: Option<&Path>) -> PathBuf {
    match (flag, std::env::var_os("EBM_DATA_DIR")) {
        (Some(dir), _) => dir.to_path_buf(),
        (None, Some(env)) => PathBuf::from(env),
        (None, None) => project_root().join("data"),
    }
}

/// The real datasets shipped beside the project for tests and benchmarks: `$EBM_SHARED_DATA`,
/// else `../shared/data` next to the project root. `None` when absent (tests then say loudly
/// that they skipped).
pub fn shared_data_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("EBM_SHARED_DATA") {
        Some(dir) => PathBuf::from(dir),
        None => project_root().join("../shared/data"),
    };
    dir.is_dir().then_some(dir)
}

const MNIST10K_TRAIN_IMAGES: &[u8] =
    include_bytes!("../../../assets/mnist-10k/train-images-idx3-ubyte.gz");
const MNIST10K_TRAIN_LABELS: &[u8] =
    include_bytes!("../../../assets/mnist-10k/train-labels-idx1-ubyte.gz");
const MNIST10K_TEST_IMAGES: &[u8] =
    include_bytes!("../../../assets/mnist-10k/t10k-images-idx3-ubyte.gz");
const MNIST10K_TEST_LABELS: &[u8] =
    include_bytes!("../../../assets/mnist-10k/t10k-labels-idx1-ubyte.gz");

/// The embedded 10 000-digit MNIST subset (`assets/mnist-10k`): no file access at all.
pub fn embedded_mnist10k() -> Splits {
    let load = |img, lab, name| {
        parse_idx_images(name, img, name, lab, 10).expect("the embedded MNIST subset is valid")
    };
    Splits {
        train: load(
            MNIST10K_TRAIN_IMAGES,
            MNIST10K_TRAIN_LABELS,
            "assets/mnist-10k/train",
        ),
        test: load(
            MNIST10K_TEST_IMAGES,
            MNIST10K_TEST_LABELS,
            "assets/mnist-10k/t10k",
        ),
    }
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
