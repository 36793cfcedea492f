//! `ebm bench` end to end at toy sizes: every part runs and reports, a training child is timed
//! with its peak memory, and a reference process is interleaved and turned into ratios. The
//! reference here is a stand-in interpreter that answers the protocol with fixed seconds, so
//! the test needs no PyTorch.
#![cfg(unix)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ebm-bench-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A "python" that imports anything and answers every request with 0.5 seconds.
fn fake_python(dir: &Path) -> PathBuf {
    let path = dir.join("fake-python");
    std::fs::write(
        &path,
        "#!/bin/sh\n[ \"$1\" = -c ] && exit 0\nwhile read -r line; do\n  case \"$line\" in\n    *quit*) exit 0 ;;\n    *info*) echo '{\"torch\": \"stand-in\", \"threads\": 1}' ;;\n    *) echo '{\"seconds\": 0.5}' ;;\n  esac\ndone\n",
    )
    .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

fn bench(args: &[&str], json: &Path) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_ebm"))
        .args([
            "bench",
            "--device",
            "flex",
            "--networks",
            "mnistnet",
            "--batch",
            "2",
        ])
        .args(["--reps", "3", "--train-iters", "2", "--train-steps", "2"])
        .args(args)
        .arg("--json")
        .arg(json)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "bench failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("Langevin step") && stdout.contains("CD training iteration"));
    serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap()
}

#[test]
fn bench_reports_steps_training_memory_and_ratios() {
    let dir = scratch("ratios");
    let python = fake_python(&dir);
    let report = bench(
        &["--python", python.to_str().unwrap()],
        &dir.join("bench.json"),
    );
    assert_eq!(report["reference"]["torch"], "stand-in");

    let steps = report["steps"].as_array().unwrap();
    let names: Vec<&str> = steps
        .iter()
        .map(|r| r["implementation"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "ebm",
            "ebm (Burn kernels)",
            "ebm (params on autodiff)",
            "pytorch"
        ]
    );
    for row in steps {
        let secs = row["seconds_per_step"].as_f64().unwrap();
        assert!(secs > 0.0);
        assert_eq!(row["samples"].as_array().unwrap().len(), 3, "one per round");
        // The ratio is the reference's median over ours.
        let ratio = row["vs_pytorch"].as_f64().unwrap();
        assert!((ratio - 0.5 / secs).abs() < 1e-9 * ratio.max(1.0));
        assert!((row["images_steps_per_second"].as_f64().unwrap() - 2.0 / secs).abs() < 1e-6);
    }

    let train = report["train"].as_array().unwrap();
    assert_eq!(train.len(), 2);
    let ours = &train[0];
    assert_eq!(ours["implementation"], "ebm");
    assert_eq!(ours["preset"], "mnist-10k");
    assert_eq!(
        ours["samples"].as_array().unwrap().len(),
        2,
        "one timed iteration per round"
    );
    assert_eq!(train[1]["samples"].as_array().unwrap().len(), 2);
    assert!(ours["seconds_per_iteration"].as_f64().unwrap() > 0.0);
    let rss = ours["peak_rss_mib"].as_f64().unwrap();
    assert!(rss > 10.0 && rss < 20_000.0, "peak RSS {rss} MiB");
    assert_eq!(train[1]["seconds_per_iteration"].as_f64().unwrap(), 0.5);

    let data = report["data"].as_array().unwrap();
    assert_eq!(data[0]["dataset"], "mnist-10k");
    assert_eq!(data[0]["images"], 8000);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bench_without_reference_has_no_ratios() {
    let dir = scratch("alone");
    let report = bench(
        &["--no-reference", "--no-variants"],
        &dir.join("bench.json"),
    );
    assert!(report["reference"].is_null());
    let steps = report["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 1);
    assert!(steps[0]["vs_pytorch"].is_null());
    assert_eq!(report["train"].as_array().unwrap().len(), 1);
    let _ = std::fs::remove_dir_all(&dir);
}
