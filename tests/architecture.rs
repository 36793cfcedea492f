//! The invariants ARCHITECTURE.md states as absences, checked on the source tree: which crate
//! may depend on which, which crates may print or read the environment, where `unsafe` may
//! appear, and how long a source file may grow.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests package sits in the workspace root")
        .to_path_buf()
}

/// Every `.rs` file under `dir`.
fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// Names of the workspace crates a crate's manifest depends on (any dependency table).
fn workspace_deps(krate: &str) -> Vec<String> {
    let manifest = root().join(krate).join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let mut deps: Vec<String> = text
        .lines()
        .filter(|l| l.contains("path = \"../"))
        .filter_map(|l| l.split_once('=').map(|(name, _)| name.trim().to_string()))
        .collect();
    deps.sort();
    deps.dedup();
    deps
}

#[test]
fn crates_depend_only_downwards() {
    let allowed: [(&str, &[&str]); 5] = [
        ("crates/ebm-kernels", &[]),
        ("crates/ebm-model", &["ebm-kernels"]),
        ("crates/ebm-sampler", &[]),
        ("crates/ebm-data", &[]),
        (
            "crates/ebm-experiments",
            &["ebm-data", "ebm-model", "ebm-sampler"],
        ),
    ];
    for (krate, ok) in allowed {
        let deps = workspace_deps(krate);
        for dep in &deps {
            assert!(
                ok.contains(&dep.as_str()),
                "{krate} depends on {dep}; allowed: {ok:?}"
            );
        }
    }
    assert!(
        workspace_deps("xtask").is_empty(),
        "xtask links no workspace crate"
    );
}

/// Lines of `file` containing any of `needles`, outside comments and outside the unit tests at
/// the bottom of the file (from its `#[cfg(test)]` on).
fn hits(file: &Path, needles: &[&str]) -> Vec<String> {
    std::fs::read_to_string(file)
        .unwrap()
        .lines()
        .take_while(|l| l.trim() != "#[cfg(test)]")
        .enumerate()
        .filter(|(_, l)| !l.trim_start().starts_with("//"))
        .filter(|(_, l)| needles.iter().any(|n| l.contains(n)))
        .map(|(i, l)| format!("{}:{}: {}", file.display(), i + 1, l.trim()))
        .collect()
}

#[test]
fn libraries_never_print_or_read_the_environment() {
    let needles = [
        "println!",
        "print!(",
        "eprintln!",
        "eprint!(",
        "dbg!(",
        "std::env::var",
        "env::var(",
    ];
    for krate in ["ebm-kernels", "ebm-model", "ebm-sampler", "ebm-data"] {
        for file in sources(&root().join("crates").join(krate).join("src")) {
            let found = hits(&file, &needles);
            assert!(
                found.is_empty(),
                "a library prints or reads the environment:\n{}",
                found.join("\n")
            );
        }
    }
}

#[test]
fn unsafe_code_lives_in_the_kernels_crate_and_the_allocator_setup() {
    let kernels = root().join("crates/ebm-kernels");
    let allocator = root().join("crates/ebm-experiments/src/main.rs");
    for dir in ["crates", "tests", "xtask"] {
        for file in sources(&root().join(dir)) {
            if file.starts_with(&kernels) || file == allocator {
                continue;
            }
            // Spelled in two parts so that this file does not find itself.
            let found = hits(&file, &[&format!("{}safe ", "un")]);
            assert!(
                found.is_empty(),
                "code marked {}safe outside ebm-kernels:\n{}",
                "un",
                found.join("\n")
            );
        }
    }
}

#[test]
fn source_files_stay_small() {
    const LIMIT: usize = 450;
    let mut long = Vec::new();
    for dir in ["crates", "tests", "xtask"] {
        for file in sources(&root().join(dir)) {
            let lines = std::fs::read_to_string(&file).unwrap().lines().count();
            if lines > LIMIT {
                long.push(format!("{} ({lines} lines)", file.display()));
            }
        }
    }
    assert!(
        long.is_empty(),
        "files over {LIMIT} lines (split them by concern):\n{}",
        long.join("\n")
    );
}
