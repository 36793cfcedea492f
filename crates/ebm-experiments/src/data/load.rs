//! Loaders: read a dataset's files from the data directory and hand the bytes to `ebm-data`'s
//! parsers; missing files are errors that name the files, their URLs and the folder.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use ebm_data::{
    Cifar100Label, Fit, ImageSet, Toy2d, parse_cifar10, parse_cifar100, parse_idx_images,
    parse_svhn_mat, read_image_folder_fit,
};

use super::sources::sources;
use super::{DatasetName, Splits, download, embedded_mnist10k, shapes, toy_splits};
use crate::run::config::TrainConfig;

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("reading {}", path.display()))
}

/// The first of `names` present in `dir` (so both `x.gz` and an unpacked `x` are accepted).
fn find(dir: &Path, names: &[String]) -> Option<PathBuf> {
    names.iter().map(|n| dir.join(n)).find(|p| p.is_file())
}

fn missing(name: DatasetName, dir: &Path, expected: &[String]) -> anyhow::Error {
    let urls: Vec<String> = sources(name).iter().map(|s| s.url.to_string()).collect();
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

/// The folder holding `files`: the archive's own folder `unpacked` under `dir`, or `dir`.
fn archive_root(
    name: DatasetName,
    dir: &Path,
    unpacked: &str,
    files: &[String],
) -> Result<PathBuf> {
    [dir.join(unpacked), dir.to_path_buf()]
        .into_iter()
        .find(|d| files.iter().all(|f| d.join(f).is_file()))
        .ok_or_else(|| missing(name, &dir.join(unpacked), files))
}

/// One split of a dataset: `train` or the test split.
fn load_split(name: DatasetName, data_dir: &Path, train: bool) -> Result<ImageSet> {
    let dir = data_dir.join(name.name());
    let parsed = |path: PathBuf, parse: &dyn Fn(&str, &[u8]) -> Result<ImageSet>| {
        parse(&path.display().to_string(), &read(&path)?)
    };
    match name {
        DatasetName::Mnist10k => {
            let s = embedded_mnist10k();
            Ok(if train { s.train } else { s.test })
        }
        DatasetName::Mnist | DatasetName::FashionMnist => {
            load_idx_pair(name, &dir, if train { "train" } else { "t10k" })
        }
        DatasetName::Cifar10 => {
            let mut files: Vec<String> = (1..=5).map(|i| format!("data_batch_{i}.bin")).collect();
            files.push("test_batch.bin".into());
            let wanted = if train { &files[..5] } else { &files[5..] };
            let root = archive_root(name, &dir, "cifar-10-batches-bin", wanted)?;
            let mut sets = wanted
                .iter()
                .map(|f| parsed(root.join(f), &|n, b| Ok(parse_cifar10(n, b)?)));
            let mut out = sets.next().expect("at least one batch")?;
            for s in sets {
                out.extend(&s?);
            }
            Ok(out)
        }
        DatasetName::Cifar100 => {
            let file = if train { "train.bin" } else { "test.bin" };
            let root = archive_root(name, &dir, "cifar-100-binary", &[file.to_string()])?;
            parsed(root.join(file), &|n, b| {
                Ok(parse_cifar100(n, b, Cifar100Label::Fine)?)
            })
        }
        DatasetName::Svhn => {
            let file = if train {
                "train_32x32.mat"
            } else {
                "test_32x32.mat"
            };
            let root = archive_root(name, &dir, "", &[file.to_string()])?;
            parsed(root.join(file), &|n, b| Ok(parse_svhn_mat(n, b)?))
        }
        DatasetName::Textures => {
            if train {
                // An OOD set only: an empty training split (training on it is refused).
                return Ok(ImageSet::new(
                    &dir.display().to_string(),
                    vec![],
                    vec![],
                    [3, 32, 32],
                    47,
                )?);
            }
            let images = [dir.join("dtd").join("images"), dir.join("images")]
                .into_iter()
                .find(|d| d.is_dir())
                .ok_or_else(|| missing(name, &dir, &["dtd/images/<class>/*.jpg".into()]))?;
            // The official evaluation's crop: top-left 32x32 of the full-resolution image.
            Ok(read_image_folder_fit(&images, 3, 32, Fit::TopLeftCrop)?)
        }
    }
}

/// Loads both splits of a dataset: `mnist-10k` from the binary itself, the others from
/// `data_dir/<name>/` (`textures` has a test split only).
pub fn load(name: DatasetName, data_dir: &Path) -> Result<Splits> {
    Ok(Splits {
        train: load_split(name, data_dir, true)?,
        test: load_split(name, data_dir, false)?,
    })
}

/// Loads only the test split (SVHN and CIFAR without parsing their training files).
pub fn load_test(name: DatasetName, data_dir: &Path) -> Result<ImageSet> {
    load_split(name, data_dir, false)
}

/// Loads the dataset a run's config names (`toy2d:<name>` densities are drawn from its seed).
pub fn load_for(config: &TrainConfig, data_dir: &Path) -> Result<Splits> {
    if let Some(name) = config.dataset.strip_prefix("toy2d:") {
        let toy =
            Toy2d::from_name(name).with_context(|| format!("unknown toy density {name:?}"))?;
        return Ok(toy_splits(toy, config.seed));
    }
    if let Some(spec) = config.dataset.strip_prefix("shapes:") {
        return shapes::splits(spec);
    }
    let name = DatasetName::parse(&config.dataset)?;
    if name == DatasetName::Textures {
        bail!("textures is an out-of-distribution set only: it has no training split");
    }
    load(name, data_dir)
}

/// Shape `[C, H, W]` of one sample of a run's dataset (`[2, 1, 1]` for toy 2-D points).
pub fn sample_shape(config: &TrainConfig) -> Result<[usize; 3]> {
    if config.dataset.starts_with("toy2d:") {
        return Ok([2, 1, 1]);
    }
    if config.dataset.starts_with("shapes:") {
        return Ok(shapes::SHAPE);
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
            if matches!(name, DatasetName::Mnist10k | DatasetName::Textures) {
                return Err(missing);
            }
            eprintln!("{missing:#}\ntrying to download {} ...", name.name());
            download::download_dataset(name, dir, &download::DownloadOptions::default())
                .map_err(|e| e.context(format!("{missing:#}")))?;
            load_for(config, dir)
        }
    }
}
