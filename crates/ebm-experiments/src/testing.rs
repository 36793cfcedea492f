//! Support for the workspace's tests: the one way a test finds the real datasets shipped
//! beside the project, the one way it finds a Python with torch or a headless browser, and a
//! skip that cannot go unnoticed.
//!
//! The datasets live in `$EBM_SHARED_DATA`, else `../shared/data` beside the workspace this
//! crate was built from (a path fixed at compile time: tests run from the build tree). A test
//! without them skips, and says so three ways: a `SKIPPED` line on stderr, a line appended to
//! the file `$EBM_SKIP_LOG` names (`cargo xtask test` counts them in its summary), and, where
//! `$EBM_REQUIRE_SHARED_DATA` is set (CI), a failure instead of a skip. The browser tests skip
//! the same way without Chromium, and fail instead where `$EBM_REQUIRE_BROWSER` is set (CI).

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::bench::reference::find_python;

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
    skip(
        test,
        "no shared data directory (set EBM_SHARED_DATA or place ../shared/data beside the project)",
        "EBM_REQUIRE_SHARED_DATA",
    );
    None
}

/// A headless Chromium for test `test`: `$EBM_CHROMIUM`, else `chromium`, `chromium-browser`
/// or `google-chrome` on the `PATH`; `None` (after recording the skip) when there is none.
///
/// # Panics
///
/// When there is none and `$EBM_REQUIRE_BROWSER` is set: CI must run the browser tests.
pub fn chromium_or_skip(test: &str) -> Option<PathBuf> {
    let candidates: Vec<PathBuf> = match std::env::var_os("EBM_CHROMIUM") {
        Some(p) => vec![PathBuf::from(p)],
        None => {
            let path = std::env::var_os("PATH").unwrap_or_default();
            std::env::split_paths(&path)
                .flat_map(|d| ["chromium", "chromium-browser", "google-chrome"].map(|n| d.join(n)))
                .collect()
        }
    };
    if let Some(found) = candidates.into_iter().find(|p| p.is_file()) {
        return Some(found);
    }
    skip(
        test,
        "no headless browser (install Debian's `chromium`, or set EBM_CHROMIUM to a Chromium binary)",
        "EBM_REQUIRE_BROWSER",
    );
    None
}

/// A Python that imports torch, for the tests that compare with the PyTorch reference:
/// `$EBM_PYTHON` when set (and only it), else `.venv-torch/bin/python` at the workspace root,
/// else what `ebm bench` finds (`.venv-torch/bin/python` in the working directory, `python3`).
/// `None` (after recording the skip of `test`) when none imports torch; a failure instead when
/// `$EBM_REQUIRE_TORCH` is set.
pub fn python_with_torch_or_skip(test: &str) -> Option<PathBuf> {
    let root_venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv-torch/bin/python");
    let found = match std::env::var_os("EBM_PYTHON") {
        Some(py) => find_python(Some(Path::new(&py))),
        None => find_python(Some(&root_venv)).or_else(|| find_python(None)),
    };
    if found.is_none() {
        skip(
            test,
            "no Python with torch (set EBM_PYTHON=/path/to/python, or make .venv-torch at the workspace root)",
            "EBM_REQUIRE_TORCH",
        );
    }
    found
}

/// A Python with torch, torchvision and pytorch-fid (`pip install pytorch-fid`), for the
/// tests that compare the Inception network with pytorch-fid's: as
/// [`python_with_torch_or_skip`], then skipped (and recorded) when that Python lacks
/// torchvision or pytorch-fid; a failure instead when `$EBM_REQUIRE_TORCH` is set.
pub fn python_with_pytorch_fid_or_skip(test: &str) -> Option<PathBuf> {
    let python = python_with_torch_or_skip(test)?;
    let imports = std::process::Command::new(&python)
        .args(["-c", "import torchvision, pytorch_fid"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !imports {
        skip(
            test,
            &format!(
                "{} imports torch but not torchvision and pytorch_fid (pip install pytorch-fid)",
                python.display()
            ),
            "EBM_REQUIRE_TORCH",
        );
        return None;
    }
    Some(python)
}

/// The published FID Inception weights (`inception/pt_inception-2015-12-05-6726825d.pth`)
/// under `$EBM_DATA_DIR` or the shared datasets folder; `None` (after recording the skip of
/// `test`) when neither holds them; a failure instead when `$EBM_REQUIRE_INCEPTION` is set.
pub fn inception_weights_or_skip(test: &str) -> Option<PathBuf> {
    use crate::eval::inception::weights_path;
    let dirs = std::env::var_os("EBM_DATA_DIR")
        .map(PathBuf::from)
        .into_iter()
        .chain(shared_data_dir());
    for dir in dirs {
        let path = weights_path(&dir);
        if path.is_file() {
            return Some(path);
        }
    }
    skip(
        test,
        "no FID Inception weights (run `ebm data download inception` with EBM_DATA_DIR set, or put pt_inception-2015-12-05-6726825d.pth in DATA_DIR/inception/)",
        "EBM_REQUIRE_INCEPTION",
    );
    None
}

/// Records that `test` skipped because of `why`: a `SKIPPED` line on stderr and a line in
/// `$EBM_SKIP_LOG`; a failure instead when the environment variable `required` is set.
fn skip(test: &str, why: &str, required: &str) {
    assert!(
        std::env::var_os(required).is_none(),
        "{test}: ${required} is set but {why}"
    );
    eprintln!("SKIPPED {test}: {why}");
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
}

/// Serialises the tests of one test binary that seed the device and then train or sample:
/// the device's random generator is process-wide, so two such tests running on parallel
/// threads would draw from each other's stream and depend on thread timing. Hold the guard for
/// the whole test; a test that panicked while holding it does not poison the others.
pub fn device_rng_lock() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
