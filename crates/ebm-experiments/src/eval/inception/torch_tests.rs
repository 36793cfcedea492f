//! The network against pytorch-fid's own (`benches/reference/fid_inception.py`): on random
//! weights saved by PyTorch from pytorch-fid's constructor (always, when a Python with
//! torchvision and pytorch-fid is present), and with the published weights (when they are in
//! the data directory as well). Skipped, loudly, otherwise.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use burn::tensor::{Device, Tensor, TensorData};
use ebm_sampler::SplitMix64;

use super::metrics::{FeatureStats, embed};
use super::network::InceptionV3Config;
use super::weights::load_inception;
use crate::testing::{inception_weights_or_skip, python_with_pytorch_fid_or_skip};

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../benches/reference/fid_inception.py")
}

fn run(python: &Path, args: &[&std::ffi::OsStr]) -> String {
    let out = Command::new(python)
        .arg(script())
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{} failed: {stdout}\n{}",
        script().display(),
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// `n` 32x32 RGB images in [0, 1]: smooth colour ramps with noise, different per image.
fn images(n: usize, seed: u64) -> (Vec<f32>, [usize; 4]) {
    let mut rng = SplitMix64::new(seed);
    let mut x = Vec::with_capacity(n * 3 * 32 * 32);
    for _ in 0..n {
        let (a, b) = (rng.next_f64(), rng.next_f64());
        for c in 0..3 {
            for i in 0..32 {
                for j in 0..32 {
                    let ramp = (a * i as f64 + b * j as f64 + c as f64 * 7.0) / 40.0;
                    let v = 0.7 * (ramp % 1.0) + 0.3 * rng.next_f64();
                    x.push(v as f32);
                }
            }
        }
    }
    (x, [n, 3, 32, 32])
}

/// pytorch-fid's pool3 features, unbiased logits and (with `split`) FID of the first `split`
/// images against the rest.
fn theirs(
    python: &Path,
    weights: &Path,
    x: &[f32],
    shape: [usize; 4],
    split: Option<usize>,
) -> (Vec<f64>, Vec<f64>, Option<f64>) {
    let input = std::env::temp_dir().join(format!(
        "ebm-fid-input-{}-{}.json",
        std::process::id(),
        shape[0]
    ));
    let spec = serde_json::json!({ "shape": shape, "x": x, "split": split });
    std::fs::write(&input, spec.to_string()).unwrap();
    let stdout = run(
        python,
        &["features".as_ref(), weights.as_os_str(), input.as_os_str()],
    );
    std::fs::remove_file(&input).unwrap();
    let answer: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    let floats = |key: &str| -> Vec<f64> {
        answer[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect()
    };
    (floats("pool3"), floats("logits"), answer["fid"].as_f64())
}

/// Largest `|a - b|`, and largest `|a - b| / max(|b|, 1)`.
fn differences(ours: &[f64], theirs: &[f64]) -> (f64, f64) {
    assert_eq!(ours.len(), theirs.len());
    ours.iter()
        .zip(theirs)
        .fold((0.0, 0.0), |(abs, rel), (a, b)| {
            let d = (a - b).abs();
            (f64::max(abs, d), f64::max(rel, d / b.abs().max(1.0)))
        })
}

#[test]
fn pytorch_fid_gives_the_same_features_and_logits_on_random_weights() {
    let test = "eval::inception::torch_tests::pytorch_fid_gives_the_same_features_and_logits_on_random_weights";
    let Some(python) = python_with_pytorch_fid_or_skip(test) else {
        return;
    };
    let device = Device::flex();
    let weights = std::env::temp_dir().join(format!("ebm-fid-random-{}.pth", std::process::id()));
    run(
        &python,
        &["random".as_ref(), weights.as_os_str(), "3".as_ref()],
    );
    let net = load_inception(&weights, &InceptionV3Config::new(), &device).unwrap();
    let (x, shape) = images(3, 11);
    let tensor = Tensor::<4>::from_data(TensorData::new(x.clone(), shape), &device);
    let started = Instant::now();
    let ours = embed(&net, tensor);
    let per_image = started.elapsed().as_secs_f64() / shape[0] as f64;
    let (pool3, logits, _) = theirs(&python, &weights, &x, shape, None);
    let (abs_f, rel_f) = differences(&ours.pool3, &pool3);
    let (abs_l, rel_l) = differences(&ours.logits, &logits);
    let largest = pool3.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    eprintln!(
        "{test}: pool3 ({} values, largest {largest:.3}) max abs diff {abs_f:e}, relative {rel_f:e}; logits max abs diff {abs_l:e}, relative {rel_l:e}; our forward {per_image:.2} s per image",
        pool3.len()
    );
    assert!(rel_f < 1e-4, "pool3 differs by {rel_f:e}");
    assert!(rel_l < 1e-4, "logits differ by {rel_l:e}");
    std::fs::remove_file(&weights).unwrap();
}

#[test]
fn pytorch_fid_gives_the_same_fid_with_the_published_weights() {
    let test =
        "eval::inception::torch_tests::pytorch_fid_gives_the_same_fid_with_the_published_weights";
    let Some(weights) = inception_weights_or_skip(test) else {
        return;
    };
    let Some(python) = python_with_pytorch_fid_or_skip(test) else {
        return;
    };
    let device = Device::flex();
    let net = load_inception(&weights, &InceptionV3Config::new(), &device).unwrap();
    let split = 10;
    let (x, shape) = images(2 * split, 12);
    let tensor = Tensor::<4>::from_data(TensorData::new(x.clone(), shape), &device);
    let ours = embed(&net, tensor);
    let (pool3, _, fid) = theirs(&python, &weights, &x, shape, Some(split));
    let d = ours.features;
    let half = |range: std::ops::Range<usize>| super::metrics::Embedded {
        pool3: ours.pool3[range.start * d..range.end * d].to_vec(),
        ..ours.clone()
    };
    let our_fid =
        FeatureStats::fit(&half(0..split)).fid(&FeatureStats::fit(&half(split..2 * split)));
    let fid = fid.expect("pytorch-fid's FID");
    let (abs_f, rel_f) = differences(&ours.pool3, &pool3);
    eprintln!(
        "{test}: FID ebm {our_fid:.6}, pytorch-fid {fid:.6}; pool3 max abs diff {abs_f:e}, relative {rel_f:e}"
    );
    assert!(rel_f < 1e-4, "pool3 differs by {rel_f:e}");
    assert!(
        (our_fid - fid).abs() <= 1e-3 * fid.abs(),
        "FID {our_fid} vs pytorch-fid's {fid}"
    );
}

#[test]
fn pytorch_reads_the_legacy_file_the_tests_write_as_written() {
    let test =
        "eval::inception::torch_tests::pytorch_reads_the_legacy_file_the_tests_write_as_written";
    let Some(python) = crate::testing::python_with_torch_or_skip(test) else {
        return;
    };
    let state = super::tests::random_state(5);
    let path = super::tests::write(&state, "torch-load");
    let code = "import json, sys, torch\n\
                sd = torch.load(sys.argv[1])\n\
                print(json.dumps([[k, list(v.shape), v.flatten().tolist()] for k, v in sd.items()]))";
    let out = Command::new(&python)
        .args(["-c", code])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "torch.load failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let loaded: Vec<(String, Vec<usize>, Vec<f32>)> = serde_json::from_slice(&out.stdout).unwrap();
    let expected: Vec<(String, Vec<usize>, Vec<f32>)> = state
        .into_iter()
        .map(|(k, (shape, values))| (k, shape, values))
        .collect();
    assert_eq!(loaded.len(), expected.len());
    assert!(
        loaded == expected,
        "torch.load read other tensors than were written"
    );
    std::fs::remove_file(path).unwrap();
}
