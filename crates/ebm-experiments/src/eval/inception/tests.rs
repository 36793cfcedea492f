//! The import path without PyTorch: a tiny-width InceptionV3's tensors, renamed and laid out
//! as PyTorch's `state_dict` would hold them, written to a legacy `.pth` by
//! [`super::pth_writer`], read back through burn-store into a fresh network.

use std::collections::BTreeMap;
use std::path::PathBuf;

use burn::tensor::Device;
use burn_store::{BurnToPyTorchAdapter, ModuleSnapshot};
use ebm_sampler::SplitMix64;

use super::network::{InceptionV3, InceptionV3Config};
use super::pth_writer::{PthTensor, legacy_pth};
use super::weights::{InceptionWeightsError, WEIGHTS_URL, load_inception, weights_path};

/// The architecture at 1/16 of the widths, 10 classes, 75x75 inputs (the least that leaves
/// Mixed_7c one pixel).
pub fn tiny() -> InceptionV3Config {
    InceptionV3Config::new()
        .with_width_divisor(16)
        .with_classes(10)
        .with_input_size(75)
}

/// The `state_dict` key of a Burn path's PyTorch twin (`mixed_5b...` to `Mixed_5b...`).
fn torch_key(burn_name: &str) -> String {
    if let Some(rest) = burn_name.strip_prefix("conv2d_") {
        format!("Conv2d_{rest}")
    } else if let Some(rest) = burn_name.strip_prefix("mixed_") {
        format!("Mixed_{rest}")
    } else {
        burn_name.to_string()
    }
}

/// Every float tensor of `net` under its PyTorch key and in PyTorch's layout (batch-norm
/// `gamma` as `weight`, linear weights `[out, in]`).
fn torch_state(net: &InceptionV3) -> BTreeMap<String, (Vec<usize>, Vec<f32>)> {
    net.collect(None, Some(Box::new(BurnToPyTorchAdapter)), false)
        .into_iter()
        .filter(|t| t.dtype == burn::tensor::DType::F32)
        .map(|t| {
            let bytes = t.to_bytes().expect("tensor bytes");
            let values = bytes
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect();
            (torch_key(&t.name), (t.shape.to_vec(), values))
        })
        .collect()
}

/// A state of random values for the tiny network (variances positive), as PyTorch keys.
pub(super) fn random_state(seed: u64) -> BTreeMap<String, (Vec<usize>, Vec<f32>)> {
    let mut state = torch_state(&tiny().init(&Device::flex()));
    let mut rng = SplitMix64::new(seed);
    for (name, (_, values)) in state.iter_mut() {
        for v in values.iter_mut() {
            let u = rng.next_f64() as f32;
            *v = if name.ends_with("running_var") {
                0.5 + u
            } else {
                u - 0.5
            };
        }
    }
    state
}

pub(super) fn write(state: &BTreeMap<String, (Vec<usize>, Vec<f32>)>, name: &str) -> PathBuf {
    let tensors: Vec<PthTensor> = state
        .iter()
        .map(|(k, (shape, values))| PthTensor {
            name: k.clone(),
            shape: shape.clone(),
            values: values.clone(),
        })
        .collect();
    let path =
        std::env::temp_dir().join(format!("ebm-inception-{}-{name}.pth", std::process::id()));
    std::fs::write(&path, legacy_pth(&tensors)).unwrap();
    path
}

#[test]
fn a_pytorch_file_fills_every_tensor_under_its_pytorch_name_and_layout() {
    let device = Device::flex();
    let state = random_state(7);
    // The tiny network's names: every conv and batch-norm tensor of each block, the
    // classifier; the renames under test.
    assert!(state.contains_key("Conv2d_1a_3x3.conv.weight"));
    assert!(state.contains_key("Mixed_5b.branch1x1.bn.weight"));
    assert!(state.contains_key("Mixed_7c.branch3x3dbl_3b.bn.running_var"));
    assert_eq!(state["fc.weight"].0, vec![10, 2048 / 16]);
    // 94 convolutions with 5 tensors each, and the classifier's 2.
    assert_eq!(state.len(), 94 * 5 + 2, "{:?}", state.keys());
    let path = write(&state, "all");
    let net = load_inception(&path, &tiny(), &device).unwrap();
    let loaded = torch_state(&net);
    assert_eq!(
        loaded.keys().collect::<Vec<_>>(),
        state.keys().collect::<Vec<_>>()
    );
    for (k, v) in &state {
        assert_eq!(&loaded[k], v, "{k} changed on the way in");
    }
    // The network runs: features and logits of the configured widths, finite.
    let x = burn::tensor::Tensor::<4>::random(
        [2, 3, 32, 32],
        burn::tensor::Distribution::Uniform(0.0, 1.0),
        &device,
    );
    let out = net.forward(x);
    assert_eq!(out.pool3.dims(), [2, net.features()]);
    assert_eq!(out.logits.dims(), [2, 10]);
    let values = out.pool3.into_data().try_into_vec::<f32>().unwrap();
    assert!(values.iter().all(|v| v.is_finite()));
    std::fs::remove_file(path).unwrap();
}

#[test]
fn a_missing_or_misnamed_tensor_is_named_in_the_error() {
    let device = Device::flex();
    let mut state = random_state(8);
    state.remove("Mixed_6b.branch7x7_2.bn.running_mean");
    let moved = state.remove("fc.bias").unwrap();
    state.insert("classifier.bias".into(), moved);
    let path = write(&state, "misnamed");
    let err = load_inception(&path, &tiny(), &device).unwrap_err();
    let InceptionWeightsError::Mismatch {
        missing, unused, ..
    } = &err
    else {
        panic!("expected a mismatch, got {err}");
    };
    assert!(
        missing.contains(&"mixed_6b.branch7x7_2.bn.running_mean".to_string()),
        "{missing:?}"
    );
    assert!(missing.contains(&"fc.bias".to_string()), "{missing:?}");
    assert_eq!(unused, &vec!["classifier.bias".to_string()]);
    let message = err.to_string();
    assert!(message.contains("classifier.bias") && message.contains("running_mean"));
    std::fs::remove_file(path).unwrap();
}

#[test]
fn weights_of_another_width_are_refused_with_their_shapes() {
    let path = write(&random_state(9), "width");
    let err = load_inception(&path, &tiny().with_width_divisor(8), &Device::flex()).unwrap_err();
    let InceptionWeightsError::Mismatch { errors, .. } = &err else {
        panic!("expected a mismatch, got {err}");
    };
    assert!(!errors.is_empty(), "{err}");
    std::fs::remove_file(path).unwrap();
}

#[test]
fn a_missing_file_says_where_it_belongs_and_where_to_get_it() {
    let dir = std::env::temp_dir().join("ebm-no-such-data-dir");
    let err = load_inception(&weights_path(&dir), &tiny(), &Device::flex()).unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, InceptionWeightsError::Missing { .. }));
    assert!(
        message.contains(&weights_path(&dir).display().to_string())
            && message.contains(WEIGHTS_URL)
            && message.contains("ebm data download inception"),
        "{message}"
    );
}
