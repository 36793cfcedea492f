//! Support for the workspace's tests: the one way a test finds the real datasets shipped
//! beside the project, and a skip that cannot go unnoticed.
//!
//! The datasets live in `$EBM_SHARED_DATA`, else `../shared/data` beside the workspace this
//! crate was built from (a path fixed at compile time: tests run from the build tree). A test
//! without them skips, and says so three ways: a `SKIPPED` line on stderr, a line appended to
//! the file `$EBM_SKIP_LOG` names (`cargo xtask test` counts them in its summary), and, where
//! `$EBM_REQUIRE_SHARED_DATA` is set (CI), a failure instead of a skip.

use std::io::Write;
use std::path::{Path, PathBuf};

/// The shared datasets folder, if present.
pub fn shared_data_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("EBM_SHARED_DATA") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"),
    };
    dir.is_dir().then_some(dir)
}

/// The shared datasets folder for test `test`; `None` (after recording the skip) when absent.
///
/// # Panics
///
/// When absent and `$EBM_REQUIRE_SHARED_DATA` is set: CI must run the real-data tests.
pub fn shared_data_or_skip(test: &str) -> Option<PathBuf> {
    if let Some(dir) = shared_data_dir() {
        return Some(dir);
    }
    assert!(
        std::env::var_os("EBM_REQUIRE_SHARED_DATA").is_none(),
        "{test}: $EBM_REQUIRE_SHARED_DATA is set but no shared data directory was found (set EBM_SHARED_DATA or place ../shared/data beside the project)"
    );
    eprintln!(
        "SKIPPED {test}: no shared data directory (set EBM_SHARED_DATA or place ../shared/data beside the project)"
    );
    if let Some(log) = std::env::var_os("EBM_SKIP_LOG") {
        let line = format!("{test}\n");
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .and_then(|mut f| f.write_all(line.as_bytes()));
        if let Err(e) = written {
            eprintln!(
                "cannot record the skip in {}: {e}",
                Path::new(&log).display()
            );
        }
    }
    None
}
