//! The exported file in PyTorch: `benches/reference/load_export.py` loads it into the reference
//! network (`igebm_torch.py`, strict `load_state_dict`) and its energies of a fixed batch
//! agree with ebm's to 1e-4. Skipped, loudly, without a Python that imports torch.

use std::path::Path;
use std::process::Command;

use burn::tensor::Device;

use super::export_run;
use super::tests::{energies, fresh_run, probe, tiny_mnist_net, tiny_resnet};
use crate::run::TrainConfig;
use crate::testing::python_with_torch_or_skip;

fn torch_energies(
    python: &Path,
    weights: &Path,
    config: &TrainConfig,
    device: &Device,
) -> Vec<f32> {
    let (x, labels) = probe(config, device);
    let input = serde_json::json!({
        "shape": x.dims(),
        "x": x.into_data().try_to_vec::<f32>().unwrap(),
        "labels": labels,
    });
    let input_file = weights.with_extension("input.json");
    std::fs::write(&input_file, input.to_string()).unwrap();
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../benches/reference/load_export.py");
    let out = Command::new(python)
        .arg(&script)
        .arg(weights)
        .arg(&input_file)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{} failed: {stdout}\n{}",
        script.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let answer: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    answer["energies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap() as f32)
        .collect()
}

fn pytorch_agrees(name: &str, config: &TrainConfig) {
    let test = format!("weights::torch_tests::{name}");
    let Some(python) = python_with_torch_or_skip(&test) else {
        return;
    };
    let device = Device::flex();
    let run = fresh_run(&format!("torch-{name}"), config, &device);
    let (weights, _) = export_run(&run, None, &device).unwrap();
    let ours = energies(&run, config, &device);
    let theirs = torch_energies(&python, &weights, config, &device);
    assert_eq!(ours.len(), theirs.len());
    let diff = ours
        .iter()
        .zip(&theirs)
        .map(|(a, b)| (a - b).abs() / a.abs().max(1.0))
        .fold(0.0f32, f32::max);
    eprintln!("{test}: ebm {ours:?}, PyTorch {theirs:?}, largest difference {diff:e}");
    assert!(diff < 1e-4, "ebm {ours:?} vs PyTorch {theirs:?}");
    std::fs::remove_dir_all(&run).unwrap();
}

#[test]
fn pytorch_reference_gives_the_same_resnet_energies() {
    pytorch_agrees("resnet", &tiny_resnet());
}

#[test]
fn pytorch_reference_gives_the_same_mnist_net_energies() {
    pytorch_agrees("mnist_net", &tiny_mnist_net());
}
