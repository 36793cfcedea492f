//! `ebm bench` end to end at toy sizes: every part runs and reports, a training child is timed
//! with its peak memory, and reference processes (one per configuration) are interleaved and
//! turned into ratios against the fastest. The reference here is a stand-in interpreter that
//! answers the protocol with fixed seconds per mode, so the test needs no PyTorch.
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

/// A "python" that imports anything and answers as the reference would in the mode it is
/// started with (`script --threads N --mode M`): eager 0.5 s per request, channels-last 0.25 s,
/// compile fails (as `torch.compile` does where no compiler works); the allocator it reports is
/// what the bench put in its environment.
fn fake_python(dir: &Path) -> PathBuf {
    let path = dir.join("fake-python");
    std::fs::write(
        &path,
        r#"#!/bin/sh
[ "$1" = -c ] && exit 0
mode="$5"
alloc="none"
[ -n "$GLIBC_TUNABLES" ] && alloc="glibc tunables"
[ -n "$LD_PRELOAD" ] && alloc="preload"
while read -r line; do
  case "$line" in
    *quit*) exit 0 ;;
    *info*) echo "{\"torch\": \"stand-in\", \"threads\": 1, \"mode\": \"$mode\", \"allocator\": \"$alloc\"}" ;;
    *rss*) echo '{"mib": 100.0}' ;;
    *)
      case "$mode" in
        eager) echo '{"seconds": 0.5}' ;;
        channels-last) echo '{"seconds": 0.25}' ;;
        *) echo '{"error": "no compiler"}' ;;
      esac ;;
  esac
done
"#,
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
        &["--python", python.to_str().unwrap(), "--layers"],
        &dir.join("bench.json"),
    );
    // One process per mode; compile failed its warm-up and was dropped, the others ran with an
    // allocator that keeps freed pages.
    let refs = report["references"].as_array().unwrap();
    let modes: Vec<&str> = refs.iter().map(|r| r["mode"].as_str().unwrap()).collect();
    assert_eq!(modes, ["eager", "channels-last"]);
    for r in refs {
        assert_eq!(r["torch"], "stand-in");
        assert_ne!(r["allocator"], "none");
    }

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
            "pytorch (eager)",
            "pytorch (channels-last)"
        ]
    );
    for row in steps {
        let secs = row["seconds_per_step"].as_f64().unwrap();
        assert!(secs > 0.0);
        assert_eq!(row["samples"].as_array().unwrap().len(), 3, "one per round");
        // The ratio is the fastest reference's median (channels-last, 0.25 s) over ours.
        let ratio = row["vs_pytorch"].as_f64().unwrap();
        assert!((ratio - 0.25 / secs).abs() < 1e-9 * ratio.max(1.0));
        assert!((row["images_steps_per_second"].as_f64().unwrap() - 2.0 / secs).abs() < 1e-6);
    }

    let train = report["train"].as_array().unwrap();
    assert_eq!(train.len(), 3);
    let ours = &train[0];
    assert_eq!(ours["implementation"], "ebm");
    assert_eq!(ours["preset"], "mnist-10k");
    assert_eq!(
        ours["samples"].as_array().unwrap().len(),
        2,
        "one timed iteration per round"
    );
    let ours_secs = ours["seconds_per_iteration"].as_f64().unwrap();
    assert!(ours_secs > 0.0);
    assert!((ours["vs_pytorch"].as_f64().unwrap() - 0.25 / ours_secs).abs() < 1e-9);
    let rss = ours["peak_rss_mib"].as_f64().unwrap();
    assert!(rss > 10.0 && rss < 20_000.0, "peak RSS {rss} MiB");
    for (row, secs) in train[1..].iter().zip([0.5, 0.25]) {
        assert_eq!(row["samples"].as_array().unwrap().len(), 2);
        assert_eq!(row["seconds_per_iteration"].as_f64().unwrap(), secs);
        assert_eq!(row["peak_rss_mib"].as_f64().unwrap(), 100.0);
    }

    // Every convolution of MnistNet, each pass, against the fastest eager reference.
    let layers = report["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 4 * 3);
    assert_eq!(layers[3]["layer"], "64x64 4x4/2 @28");
    assert_eq!(layers[3]["pass"], "forward");
    for row in layers {
        let ours = row["ebm_seconds"].as_f64().unwrap();
        assert!(ours > 0.0);
        assert_eq!(row["pytorch_mode"], "channels-last");
        assert!((row["vs_pytorch"].as_f64().unwrap() - 0.25 / ours).abs() < 1e-9 / ours);
    }

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
    assert!(report["references"].as_array().unwrap().is_empty());
    let steps = report["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 1);
    assert!(steps[0]["vs_pytorch"].is_null());
    assert_eq!(report["train"].as_array().unwrap().len(), 1);
    assert!(
        report["layers"].as_array().unwrap().is_empty(),
        "only with --layers"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
