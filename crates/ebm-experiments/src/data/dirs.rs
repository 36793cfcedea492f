//! The data directory: `--data-dir`, else `$EBM_DATA_DIR`, else the per-user data directory
//! of the platform (`~/.local/share/ebm` on Linux, `~/Library/Application Support/ebm` on
//! macOS, `%APPDATA%\ebm` on Windows). Nothing points into the build tree, so an installed
//! `ebm` works from anywhere.

use std::path::{Path, PathBuf};

/// Where the data directory came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DataDirSource {
    /// `--data-dir`.
    Flag,
    /// `$EBM_DATA_DIR`.
    Environment,
    /// The platform's per-user data directory.
    UserDefault,
    /// No per-user data directory is known (no home directory): `./data`.
    WorkingDirectory,
}

impl DataDirSource {
    /// How `ebm data info` names it.
    pub fn describe(self) -> &'static str {
        match self {
            DataDirSource::Flag => "--data-dir",
            DataDirSource::Environment => "$EBM_DATA_DIR",
            DataDirSource::UserDefault => "the per-user data directory",
            DataDirSource::WorkingDirectory => "./data (no per-user data directory is known)",
        }
    }
}

/// The data directory and where it came from.
pub fn resolve_data_dir(flag: Option<&Path>) -> (PathBuf, DataDirSource) {
    if let Some(dir) = flag {
        return (dir.to_path_buf(), DataDirSource::Flag);
    }
    if let Some(env) = std::env::var_os("EBM_DATA_DIR").filter(|v| !v.is_empty()) {
        return (PathBuf::from(env), DataDirSource::Environment);
    }
    match ::dirs::data_dir() {
        Some(base) => (base.join("ebm"), DataDirSource::UserDefault),
        None => (PathBuf::from("data"), DataDirSource::WorkingDirectory),
    }
}

/// The data directory (see the module docs).
pub fn data_dir(flag: Option<&Path>) -> PathBuf {
    resolve_data_dir(flag).0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flag_wins_and_the_default_is_not_in_the_build_tree() {
        let (dir, source) = resolve_data_dir(Some(Path::new("/tmp/x")));
        assert_eq!(
            (dir, source),
            (PathBuf::from("/tmp/x"), DataDirSource::Flag)
        );
        let (dir, source) = resolve_data_dir(None);
        if source != DataDirSource::Environment {
            assert!(
                !dir.starts_with(env!("CARGO_MANIFEST_DIR")),
                "{} is inside the build tree",
                dir.display()
            );
        }
    }
}
