//! Bit-identical training at the size of the MNIST recipes before their narrowing (batch 64,
//! K = 20; MnistNet at the official 64 filters, the widest the MNIST presets use) with the
//! default thread pool: two runs of the same config give the same metrics and weights, and
//! a run resumed from its checkpoint gives the same weights as one trained in one go. Small
//! sizes hide reductions whose order follows thread timing; this size does not.
//!
//! One test function: the device RNG is process-wide.

use std::path::{Path, PathBuf};

use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::{Device, Distribution, Tensor};
use ebm_experiments::data::embedded_mnist10k;
use ebm_experiments::run::metrics::{self, MetricsLine};
use ebm_experiments::run::presets::preset;
use ebm_experiments::run::{RunStart, TrainConfig, TrainedRun, read_config, train};
use ebm_model::EnergyModel;

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ebm-det-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn config(iterations: usize) -> TrainConfig {
    preset("mnist-10k")
        .unwrap()
        .with_overrides(&[
            "model.MnistNet.filters=64".to_string(),
            "sampler.steps=20".to_string(),
        ])
        .unwrap()
        .with_batch_size(64)
        .with_iterations(iterations)
        .with_log_every(1)
        .with_sample_every(1000)
        .with_checkpoint_every(1)
}

/// Metrics without the wall-clock seconds.
fn curve(run: &Path) -> Vec<MetricsLine> {
    metrics::read(&run.join("metrics.jsonl"))
        .unwrap()
        .into_iter()
        .map(|m| MetricsLine { seconds: 0.0, ..m })
        .collect()
}

/// The bytes of the network file of the run's latest checkpoint: parameter ids are fixed at
/// creation (`run::param_ids`), so the file holds nothing random beyond the values.
fn model_file(run: &Path) -> Vec<u8> {
    let dir = run.join("checkpoints");
    let latest = std::fs::read_to_string(dir.join("LATEST")).unwrap();
    std::fs::read(dir.join(latest.trim()).join("model.bpk")).unwrap()
}

/// Every parameter of the run's latest checkpoint, and the energies of a fixed probe batch
/// (which also depend on the spectral-norm state).
fn weights(run: &Path, device: &Device) -> (Vec<Vec<f32>>, Vec<f32>) {
    struct Collect(Vec<Vec<f32>>);
    impl ModuleVisitor for Collect {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            self.0
                .push(param.val().into_data().try_to_vec::<f32>().unwrap());
        }
    }
    let trained = TrainedRun::load(run, device).unwrap();
    let mut params = Collect(Vec::new());
    trained.model.visit(&mut params);
    device.seed(5);
    let probe = Tensor::<4>::random([8, 1, 28, 28], Distribution::Default, device);
    let energies = trained
        .model
        .energy(probe, None)
        .into_data()
        .try_to_vec::<f32>()
        .unwrap();
    (params.0, energies)
}

#[test]
fn preset_sized_training_is_bit_identical_across_runs_and_resumes() {
    let device = Device::flex();
    let data = embedded_mnist10k();
    let (a, b, split) = (tmp("a"), tmp("b"), tmp("split"));
    train(&config(3), &a, &data, &device, RunStart::New).unwrap();
    train(&config(3), &b, &data, &device, RunStart::New).unwrap();
    assert_eq!(
        curve(&a),
        curve(&b),
        "two runs of one config must log the same values"
    );
    assert!(
        weights(&a, &device) == weights(&b, &device),
        "two runs of one config must end with the same weights"
    );
    assert!(
        model_file(&a) == model_file(&b),
        "two runs of one config must write the same model.bpk, byte for byte"
    );

    train(&config(1), &split, &data, &device, RunStart::New).unwrap();
    for total in [2, 3] {
        let mut more = read_config(&split).unwrap();
        more.iterations = total;
        train(&more, &split, &data, &device, RunStart::Resume).unwrap();
    }
    assert_eq!(
        curve(&a),
        curve(&split),
        "1 + 1 + 1 resumed iterations log as 3 in one go"
    );
    assert!(
        weights(&a, &device) == weights(&split, &device),
        "1 + 1 + 1 resumed iterations end as 3 in one go"
    );
    assert!(
        model_file(&a) == model_file(&split),
        "1 + 1 + 1 resumed iterations write the model.bpk of 3 in one go, byte for byte"
    );
    for dir in [a, b, split] {
        std::fs::remove_dir_all(dir).unwrap();
    }
}
