//! `ebm data`: download and inspect datasets (and download the FID Inception weights).

use std::path::PathBuf;

use anyhow::Result;
use clap::Subcommand;

use crate::data::download::{DownloadOptions, download_dataset, download_inception};
use crate::data::timing::time_loading;
use crate::data::{DatasetName, data_dir, resolve_data_dir};
use crate::device::select_device;

/// `ebm data` subcommands.
#[derive(Subcommand, Debug)]
pub enum DataCommand {
    /// Download a dataset (mnist, fashion-mnist, cifar10, cifar100, svhn, textures), or the
    /// weights of the Inception network of `ebm eval`'s Inception FID and IS (inception), into
    /// the data directory, verifying checksums.
    Download {
        /// mnist, fashion-mnist, cifar10, cifar100, svhn, textures or inception.
        name: String,
        /// Data directory (default: $EBM_DATA_DIR, else the per-user data directory).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Base URL of a mirror holding the same file names.
        #[arg(long)]
        mirror: Option<String>,
    },
    /// Say which data directory is used and why; with a dataset, load it and print its size,
    /// class counts and the time to parse it and to turn the training set into one tensor.
    Info {
        /// mnist, fashion-mnist, mnist-10k, cifar10, cifar100, svhn or textures.
        name: Option<String>,
        /// Data directory (default: $EBM_DATA_DIR, else the per-user data directory).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Device of the tensor, as for train.
        #[arg(long)]
        device: Option<String>,
    },
}

/// Runs an `ebm data` subcommand.
pub fn run(command: DataCommand) -> Result<()> {
    match command {
        DataCommand::Download {
            name,
            data_dir: dir,
            mirror,
        } => {
            let options = DownloadOptions {
                mirror,
                ..DownloadOptions::default()
            };
            if name == "inception" {
                let path = download_inception(&data_dir(dir.as_deref()), &options)?;
                println!("the FID Inception weights are in {}", path.display());
                return Ok(());
            }
            let name = DatasetName::parse(&name)?;
            let dir = download_dataset(name, &data_dir(dir.as_deref()), &options)?;
            println!("{} is in {}", name.name(), dir.display());
        }
        DataCommand::Info {
            name,
            data_dir: dir,
            device,
        } => {
            let (dir, source) = resolve_data_dir(dir.as_deref());
            println!(
                "data directory: {} (from {})",
                dir.display(),
                source.describe()
            );
            let Some(name) = name else {
                return Ok(());
            };
            let (_, device) = select_device(device.as_deref())?;
            let name = DatasetName::parse(&name)?;
            let (splits, times) = time_loading(name, &dir, &device)?;
            for (split, set) in [("train", &splits.train), ("test", &splits.test)] {
                if set.is_empty() {
                    continue;
                }
                println!(
                    "{} {split}: {} images of {:?}, per class {:?}",
                    name.name(),
                    set.len(),
                    set.image_shape(),
                    set.class_counts()
                );
            }
            let [c, h, w] = splits.train.image_shape();
            println!(
                "parsed in {:.2} s; training set as a {:?} tensor (dequantised) in {:.2} s more, {:.2} s in all",
                times.parse_seconds,
                [times.images, c, h, w],
                times.tensor_seconds,
                times.parse_seconds + times.tensor_seconds
            );
        }
    }
    Ok(())
}
