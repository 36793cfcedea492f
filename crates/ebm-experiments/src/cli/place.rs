//! The flags every command that reads a dataset on a device shares: `--data-dir`, `--device`.

use std::path::PathBuf;

use anyhow::Result;
use burn::tensor::Device;
use clap::Args;

use crate::data::data_dir;
use crate::device::select_device;

/// `--data-dir` and `--device`, flattened into a command's flags.
#[derive(Args, Debug)]
pub struct Place {
    /// Data directory (default: $EBM_DATA_DIR, else the per-user data directory).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Device, as for train.
    #[arg(long)]
    pub device: Option<String>,
}

impl Place {
    /// The requested device, else the default one.
    pub fn device(&self) -> Result<Device> {
        Ok(select_device(self.device.as_deref())?.1)
    }

    /// The data directory: the flag, else `$EBM_DATA_DIR`, else the per-user one.
    pub fn data_dir(&self) -> PathBuf {
        data_dir(self.data_dir.as_deref())
    }
}
