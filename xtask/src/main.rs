//! `cargo xtask`: forwards project commands to cargo with the right package, profile and
//! features. It links nothing but std, so it builds in a second.
//!
//! ```text
//! cargo xtask [--features F[,G]] test [ARGS...]
//!     -> cargo test --workspace --release --features ebm-tests/wgpu[,ebm-experiments/F,...] [ARGS...]
//! cargo xtask [--features F[,G]] <any other command> [ARGS...]
//!     -> cargo run --release -p ebm-experiments [--features F,G] -- <command> [ARGS...]
//! ```
//!
//! Features name Burn backends: flex (default), wgpu, vulkan, metal, cuda, ndarray.

use std::process::{Command, ExitCode};

const USAGE: &str = "usage: cargo xtask [--features F[,G]] <command> [ARGS...]

commands:
  test                                      run every test of the workspace (release build,
                                            wgpu backend compiled in for its agreement test)
  help                                      this text
  anything else (train, sample, eval, ...)  run the `ebm` binary (release build) with it;
                                            `cargo run --release -p ebm-experiments -- --help`
                                            lists the commands

--features F[,G]   backends to compile in: flex (default), wgpu, vulkan, metal, cuda, ndarray";

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut features: Vec<String> = Vec::new();
    while let Some(first) = args.first() {
        if first == "--features" && args.len() > 1 {
            features.extend(args[1].split(',').map(str::to_string));
            args.drain(..2);
        } else if let Some(list) = first.strip_prefix("--features=") {
            features.extend(list.split(',').map(str::to_string));
            args.remove(0);
        } else {
            break;
        }
    }
    let Some(command) = args.first().cloned() else {
        eprintln!("{USAGE}");
        return ExitCode::FAILURE;
    };
    let rest = &args[1..];
    let qualified = |features: &[String]| -> Vec<String> {
        features
            .iter()
            .filter(|f| !f.is_empty())
            .map(|f| format!("ebm-experiments/{f}"))
            .collect()
    };
    let mut cargo = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    match command.as_str() {
        "test" => {
            // The end-to-end package's `wgpu` feature turns on the backend agreement test.
            let mut all = vec!["ebm-tests/wgpu".to_string()];
            all.extend(qualified(&features));
            cargo.args(["test", "--workspace", "--release", "--features"]);
            cargo.arg(all.join(","));
            cargo.args(rest);
            // Tests that skip for lack of the shared datasets record themselves here; the
            // summary below counts them, so a skip never hides in captured output.
            let log = skip_log();
            let _ = std::fs::remove_file(&log);
            cargo.env("EBM_SKIP_LOG", &log);
            let status = cargo.status();
            report_skips();
            return exit_code(status);
        }
        "help" | "--help" | "-h" => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        c => {
            cargo.args([
                "run",
                "--release",
                "--package",
                "ebm-experiments",
                "--bin",
                "ebm",
            ]);
            let qualified = qualified(&features);
            if !qualified.is_empty() {
                cargo.arg("--features").arg(qualified.join(","));
            }
            cargo.arg("--").arg(c).args(rest);
        }
    }
    exit_code(cargo.status())
}

/// Where tests record a skip (see `ebm_experiments::testing`): in the workspace's target folder.
fn skip_log() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/ebm-skipped-tests.log")
}

/// Prints how many tests skipped, and which.
fn report_skips() {
    let skipped: Vec<String> = std::fs::read_to_string(skip_log())
        .map(|t| t.lines().map(str::to_string).collect())
        .unwrap_or_default();
    if skipped.is_empty() {
        eprintln!("xtask test: no test skipped");
    } else {
        eprintln!(
            "xtask test: {} test(s) SKIPPED for lack of the shared datasets (../shared/data or $EBM_SHARED_DATA), of a Python with torch ($EBM_PYTHON) or of a browser (chromium): {}",
            skipped.len(),
            skipped.join(", ")
        );
    }
}

fn exit_code(status: std::io::Result<std::process::ExitStatus>) -> ExitCode {
    match status {
        Ok(status) if status.success() => ExitCode::SUCCESS,
        Ok(status) => ExitCode::from(status.code().unwrap_or(1).clamp(1, 255) as u8),
        Err(err) => {
            eprintln!("cannot run cargo: {err}");
            ExitCode::FAILURE
        }
    }
}
