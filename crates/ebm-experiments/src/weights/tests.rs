//! Export and import on tiny networks: the round trip keeps every energy bit for bit, the file
//! holds the reference network's names and layouts, a file that does not fit is refused, and
//! (when a Python with torch is found) the PyTorch reference loads the file and gives the same
//! energies.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use burn::tensor::{Device, Tensor, TensorData};
use ebm_model::{BlockSpec, EnergyModel, MnistNetConfig, ResNetConfig, one_hot};

use super::*;
use crate::run::model::ModelConfig;
use crate::run::presets::preset;
use burn::config::Config;

/// Tensors run in one process share the device RNG: the tests here seed before every draw.
fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ebm-weights-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// A class-conditional ResNet with a shortcut conv and a downsampling block, for 32x32 RGB.
pub(crate) fn tiny_resnet() -> TrainConfig {
    let mut c = preset("cifar10-cond").unwrap();
    c.model = ModelConfig::ResNet(
        ResNetConfig::new(vec![BlockSpec::new(4, true), BlockSpec::new(6, false)])
            .with_stem_channels(4)
            .with_num_classes(Some(10)),
    );
    c.replay.capacity = 16;
    c
}

/// MnistNet at a quarter of a percent of its width.
pub(crate) fn tiny_mnist_net() -> TrainConfig {
    let mut c = preset("mnist-10k").unwrap();
    c.model = ModelConfig::MnistNet(MnistNetConfig::new().with_filters(2).with_hidden(4));
    c.replay.capacity = 16;
    c
}

/// A run directory holding `config` with freshly initialised weights (random `u` vectors).
pub(crate) fn fresh_run(name: &str, config: &TrainConfig, device: &Device) -> PathBuf {
    let dir = tmp(name);
    std::fs::create_dir_all(&dir).unwrap();
    config.save(RunPaths::new(&dir).config()).unwrap();
    device.seed(7);
    let model = config.model.init(device);
    let shape = sample_shape(config).unwrap();
    let buffer = ReplayBuffer::new(config.replay.clone(), &shape, false, 1);
    let state = LoopState {
        iteration: 42,
        lr: 1e-4,
        reseed: 0,
        rollbacks: 0,
        seconds: 0.0,
    };
    let optim = config.optimizer.init();
    checkpoint::save(&dir, &model, &optim, &buffer, &state, None, 1).unwrap();
    dir
}

/// A fixed batch of four inputs of the run's shape, and labels for a conditional model.
pub(crate) fn probe(config: &TrainConfig, device: &Device) -> (Tensor<4>, Option<Vec<usize>>) {
    let [c, h, w] = sample_shape(config).unwrap();
    // Not from the device RNG, which tests running beside this one draw from too.
    let values: Vec<f32> = (0..4 * c * h * w)
        .map(|i| 0.5 + 0.5 * (i as f32 * 0.37).sin())
        .collect();
    let x = Tensor::<4>::from_data(TensorData::new(values, [4, c, h, w]), device);
    (x, config.model.num_classes().map(|_| vec![0, 3, 7, 9]))
}

pub(crate) fn energies(run: &Path, config: &TrainConfig, device: &Device) -> Vec<f32> {
    let trained = TrainedRun::load(run, device).unwrap();
    let (x, labels) = probe(config, device);
    let y = labels.map(|l| one_hot(&l, config.model.num_classes().unwrap(), device));
    trained
        .model
        .energy(x, y)
        .into_data()
        .try_to_vec::<f32>()
        .unwrap()
}

/// The names and shapes in a safetensors file's header.
fn header(file: &Path) -> BTreeMap<String, Vec<usize>> {
    let bytes = std::fs::read(file).unwrap();
    let len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let json: serde_json::Value = serde_json::from_slice(&bytes[8..8 + len]).unwrap();
    json.as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| *k != "__metadata__")
        .map(|(k, v)| {
            let shape = v["shape"].as_array().unwrap();
            let shape = shape.iter().map(|d| d.as_u64().unwrap() as usize).collect();
            (k.clone(), shape)
        })
        .collect()
}

fn round_trip(name: &str, config: &TrainConfig) -> f32 {
    let device = Device::flex();
    let run = fresh_run(name, config, &device);
    let file = run.join("out").join("net.safetensors");
    let (written, json) = export_run(&run, Some(&file), &device).unwrap();
    assert_eq!(
        (written.as_path(), json.as_path()),
        (file.as_path(), config_path(&file).as_path())
    );
    let imported = tmp(&format!("{name}-imported"));
    import_run(&file, None, &imported, false, &device).unwrap();
    let before = energies(&run, config, &device);
    let after = energies(&imported, config, &device);
    assert_eq!(
        TrainedRun::load(&imported, &device).unwrap().iteration,
        42,
        "the iteration travels in the JSON"
    );
    let diff = before
        .iter()
        .zip(&after)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert_eq!(before, after, "energies change in the round trip");
    std::fs::remove_dir_all(&run).unwrap();
    std::fs::remove_dir_all(&imported).unwrap();
    diff
}

#[test]
fn resnet_round_trip_keeps_every_energy() {
    assert_eq!(round_trip("resnet", &tiny_resnet()), 0.0);
}

#[test]
fn mnist_net_round_trip_keeps_every_energy() {
    assert_eq!(round_trip("mnistnet", &tiny_mnist_net()), 0.0);
}

#[test]
fn exported_names_and_layouts_are_the_reference_state_dict() {
    let device = Device::flex();
    let run = fresh_run("names", &tiny_resnet(), &device);
    let (file, _) = export_run(&run, None, &device).unwrap();
    assert_eq!(file, run.join("weights.safetensors"));
    let names = header(&file);
    let expect: [(&str, &[usize]); 12] = [
        ("stem.weight", &[4, 3, 3, 3]),
        ("stem.u", &[1, 4]),
        ("blocks.0.conv_a.weight", &[4, 4, 3, 3]),
        ("blocks.0.conv_a.u", &[1, 4]),
        ("blocks.0.conv_b.u", &[1, 4]),
        ("blocks.0.bias_a", &[10, 4]),
        ("blocks.0.gain_b", &[10, 4]),
        ("blocks.0.gain_offset", &[1, 4]),
        ("blocks.1.shortcut.weight", &[6, 4, 3, 3]),
        ("blocks.1.shortcut.u", &[1, 6]),
        ("head.linear.weight", &[1, 6]),
        ("head.linear.bias", &[1]),
    ];
    for (name, shape) in expect {
        assert_eq!(
            names.get(name).map(Vec::as_slice),
            Some(shape),
            "{name} in {names:?}"
        );
    }
    // Stem 2; each block two convs (weight and u) and four tables; the shortcut 2; head 2.
    assert_eq!(names.len(), 2 + 2 * (4 + 4) + 2 + 2, "{names:?}");
    assert!(names.keys().all(|k| !k.contains("spectral")), "{names:?}");
    std::fs::remove_dir_all(&run).unwrap();
}

#[test]
fn a_file_that_does_not_fit_the_network_is_refused() {
    let device = Device::flex();
    let run = fresh_run("misfit", &tiny_mnist_net(), &device);
    let (file, _) = export_run(&run, None, &device).unwrap();
    let mut wider = tiny_mnist_net();
    wider.model = ModelConfig::MnistNet(MnistNetConfig::new().with_filters(3).with_hidden(4));
    let other = run.join("wider.json");
    wider.save(&other).unwrap();
    let target = tmp("misfit-imported");
    let err = import_run(&file, Some(&other), &target, false, &device)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("does not fit") && err.contains("convs.0.weight"),
        "{err}"
    );
    assert!(!target.join("config.json").exists(), "nothing is written");
    // And a directory holding a run is replaced only when asked.
    let err = import_run(&file, None, &run, false, &device)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("already holds a run") && err.contains("--overwrite"),
        "{err}"
    );
    import_run(&file, None, &run, true, &device).unwrap();
    assert!(run.join("samples").is_dir(), "sample writes into samples/");
    std::fs::remove_dir_all(&run).unwrap();
}
