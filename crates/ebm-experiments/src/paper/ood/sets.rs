//! The sets `ebm ood` scores against the run's test images: the synthetic sets of the paper's
//! table, every dataset the project reads at the run's image size, and user image folders.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use burn::tensor::{Device, Tensor, TensorData};
use ebm_data::{ImageSet, OodKind, read_image_folder};
use ebm_sampler::SplitMix64;

use crate::data::{DatasetName, load_test};

/// One out-of-distribution set.
#[derive(Clone, Debug, PartialEq)]
pub enum OodSet {
    /// A synthetic set generated to the run's image shape.
    Synthetic(OodKind),
    /// A dataset's test split (it must have the run's image shape).
    Dataset(DatasetName),
    /// A folder of PNG/JPEG images, centre-cropped and resized to the run's shape.
    Folder(PathBuf),
}

const SYNTHETIC: [(&str, OodKind); 4] = [
    ("uniform", OodKind::Uniform),
    ("constant", OodKind::Constant),
    ("official-uniform", OodKind::OfficialUniform),
    ("interpolation", OodKind::Interpolation),
];

/// Every name `--sets` takes, for help and errors.
pub fn known_names() -> String {
    let mut names: Vec<&str> = SYNTHETIC.iter().map(|(n, _)| *n).collect();
    names.extend(DatasetName::ALL.map(DatasetName::name));
    names.push("folder:PATH");
    names.join(", ")
}

impl OodSet {
    /// Parses one `--sets` entry.
    pub fn parse(name: &str) -> Result<Self> {
        if let Some(path) = name.strip_prefix("folder:") {
            if path.is_empty() {
                bail!("folder: needs a path, as in folder:/data/my-images");
            }
            return Ok(OodSet::Folder(PathBuf::from(path)));
        }
        if let Some((_, kind)) = SYNTHETIC.iter().find(|(n, _)| *n == name) {
            return Ok(OodSet::Synthetic(*kind));
        }
        match DatasetName::ALL.into_iter().find(|d| d.name() == name) {
            Some(d) => Ok(OodSet::Dataset(d)),
            None => bail!(
                "unknown OOD set {name:?}: expected one of {}",
                known_names()
            ),
        }
    }

    /// The name in reports.
    pub fn name(&self) -> String {
        match self {
            OodSet::Synthetic(kind) => SYNTHETIC
                .iter()
                .find(|(_, k)| k == kind)
                .map_or("synthetic", |(n, _)| n)
                .to_string(),
            OodSet::Dataset(d) => d.name().to_string(),
            OodSet::Folder(p) => format!("folder:{}", p.display()),
        }
    }

    /// The default sets for a run on `dataset`: the four synthetic sets and every other dataset
    /// of the same image shape (for MNIST, the full set when present, else the embedded
    /// subset), in the table's order.
    pub fn defaults(dataset: DatasetName, data_dir: &Path) -> Vec<OodSet> {
        let mut out = vec![
            OodSet::Synthetic(OodKind::Uniform),
            OodSet::Synthetic(OodKind::Constant),
            OodSet::Synthetic(OodKind::OfficialUniform),
            OodSet::Synthetic(OodKind::Interpolation),
        ];
        let family = |d: DatasetName| match d {
            DatasetName::Mnist10k => DatasetName::Mnist,
            d => d,
        };
        let mnist_present = data_dir
            .join("mnist")
            .join("t10k-images-idx3-ubyte.gz")
            .is_file()
            || data_dir
                .join("mnist")
                .join("t10k-images-idx3-ubyte")
                .is_file();
        for d in DatasetName::ALL {
            let skip_subset = match d {
                DatasetName::Mnist => !mnist_present,
                DatasetName::Mnist10k => mnist_present,
                _ => false,
            };
            if family(d) != family(dataset)
                && d.image_shape() == dataset.image_shape()
                && !skip_subset
            {
                out.push(OodSet::Dataset(d));
            }
        }
        out
    }

    /// `n` images of this set shaped `shape` as a tensor in [0, 1] (synthetic sets may leave
    /// it, as the official Gaussian "uniform" does). `in_dist` are the run's test images the
    /// interpolations mix. Datasets with fewer than `n` test images give them all.
    pub fn images(
        &self,
        n: usize,
        shape: [usize; 3],
        in_dist: &ImageSet,
        data_dir: &Path,
        seed: u64,
        device: &Device,
    ) -> Result<Tensor<4>> {
        let [c, h, w] = shape;
        let set = match self {
            OodSet::Synthetic(kind) => {
                let mut rng = SplitMix64::new(seed);
                let mut normal = SplitMix64::new(seed ^ 0x9e37);
                let values =
                    kind.generate(in_dist, n, &mut || rng.next_f64(), &mut || normal.normal());
                return Ok(Tensor::from_data(
                    TensorData::new(values, [n, c, h, w]),
                    device,
                ));
            }
            OodSet::Dataset(d) => {
                if d.image_shape() != shape {
                    bail!(
                        "{} has {:?} images but this run's are {shape:?}; use folder:PATH to bring images resized to the run's shape",
                        d.name(),
                        d.image_shape()
                    );
                }
                load_test(*d, data_dir)?
            }
            OodSet::Folder(path) => {
                if h != w {
                    bail!("folder: sets need square images, the run's are {h}x{w}");
                }
                read_image_folder(path, c, h)?
            }
        };
        Ok(super::super::first_images(&set, n, device).0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_and_defaults_pair_the_datasets() {
        assert_eq!(
            OodSet::parse("svhn").unwrap(),
            OodSet::Dataset(DatasetName::Svhn)
        );
        assert_eq!(
            OodSet::parse("folder:/x/y").unwrap(),
            OodSet::Folder(PathBuf::from("/x/y"))
        );
        let err = OodSet::parse("cifar11").unwrap_err().to_string();
        assert!(
            err.contains("cifar11") && err.contains("official-uniform"),
            "{err}"
        );
        let empty = Path::new("/nonexistent-ebm-data");
        let names = |d| -> Vec<String> {
            OodSet::defaults(d, empty)
                .iter()
                .map(OodSet::name)
                .collect()
        };
        assert_eq!(
            names(DatasetName::FashionMnist),
            [
                "uniform",
                "constant",
                "official-uniform",
                "interpolation",
                "mnist-10k"
            ]
        );
        assert_eq!(names(DatasetName::Mnist10k)[4..], ["fashion-mnist"]);
        assert_eq!(
            names(DatasetName::Cifar10)[4..],
            ["cifar100", "svhn", "textures"]
        );
    }
}
