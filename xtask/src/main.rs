//! `cargo xtask`: forwards project commands to cargo with the right package, profile and
//! features. It links nothing but std, so it builds in a second.
//!
//! ```text
//! cargo xtask [--features F[,G]] <train|sample|eval|bench|devices|data> [ARGS...]
//!     -> cargo run --release -p ebm-experiments [--features F,G] -- <command> [ARGS...]
//! cargo xtask [--features F[,G]] test [ARGS...]
//!     -> cargo test --workspace --release --features ebm-tests/wgpu[,ebm-experiments/F,...] [ARGS...]
//! ```
//!
//! Features name Burn backends: flex (default), wgpu, vulkan, metal, cuda, ndarray.

use std::process::{Command, ExitCode};

const USAGE: &str = "usage: cargo xtask [--features F[,G]] <command> [ARGS...]

commands:
  train | sample | eval | bench | devices | data
                                            run the `ebm` binary (release build) with ARGS
  test                                      run every test of the workspace (release build,
                                            wgpu backend compiled in for its agreement test)
  help                                      this text

--features F[,G]   backends to compile in: flex (default), wgpu, vulkan, metal, cuda, ndarray";

const BINARY_COMMANDS: [&str; 6] = ["train", "sample", "eval", "bench", "devices", "data"];

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
        }
        c if BINARY_COMMANDS.contains(&c) => {
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
        "help" | "--help" | "-h" => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        other => {
            eprintln!("unknown command {other:?}\n\n{USAGE}");
            return ExitCode::FAILURE;
        }
    }
    match cargo.status() {
        Ok(status) if status.success() => ExitCode::SUCCESS,
        Ok(status) => ExitCode::from(status.code().unwrap_or(1).clamp(1, 255) as u8),
        Err(err) => {
            eprintln!("cannot run cargo: {err}");
            ExitCode::FAILURE
        }
    }
}
