//! The feature extractor behind the proxy FID: a small CNN classifier trained once per dataset
//! on its training split and cached, whose penultimate (128-d) features stand in for
//! Inception's, and whose predictions score samples (confidence, classes). Its FIDs are
//! comparable only with each other, never with published FIDs.
//!
//! Measured on this project's CPU (3000 steps, test splits): v3 (four convolutions, global
//! average pooling to the features) reached 0.975 on the embedded MNIST subset and 0.834 on
//! Fashion-MNIST; v4 (the same convolutions, flattened into a dense feature layer, which keeps
//! where in the image a feature fired) is what this file builds.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use burn::module::Module;
use burn::optim::GradientsParams;
use burn::tensor::activation::{relu, softmax};
use burn::tensor::{Device, Int, Tensor, TensorData};
use ebm_data::{Dequantize, ImageSet, batch_indices, images_to_tensor};
use ebm_model::{Dense, DenseConfig, SameConv2d, SameConv2dConfig, one_hot};
use ebm_sampler::SplitMix64;

use crate::data::augment::random_shifts;
use crate::run::loss::cross_entropy;
use crate::run::optim::OptimizerConfig;

/// Width of the feature vector.
pub const FEATURES: usize = 128;

/// Optimiser steps of the classifier's training (batch 128) by default: about 24 epochs of the
/// embedded MNIST subset, 6 of Fashion-MNIST; enough for 98% and 90% test accuracy.
pub const TRAIN_STEPS: usize = 3000;

/// `linear(relu(linear(flatten(relu(conv(...relu(conv(x))))))))`: 3x3 (32), 4x4 stride 2 (64),
/// 3x3 (64), 4x4 stride 2 (64), ReLU after each, flattened into a dense layer to the 128
/// features (ReLU), then the class logits.
#[derive(Module, Debug)]
pub struct Classifier {
    convs: Vec<SameConv2d>,
    dense: Dense,
    head: Dense,
}

/// Channels of the last convolution, flattened with its positions into the feature layer.
const LAST_CONV: usize = 64;

impl Classifier {
    /// A fresh classifier for images of `shape` (`[channels, height, width]`) and `classes`
    /// classes.
    pub fn new(shape: [usize; 3], classes: usize, device: &Device) -> Self {
        let [channels, h, w] = shape;
        let conv = |c: [usize; 2], k, s| {
            SameConv2dConfig::new(c)
                .with_kernel_size(k)
                .with_stride(s)
                .with_spectral_norm(false)
                .init(device)
        };
        Self {
            convs: vec![
                conv([channels, 32], 3, 1),
                conv([32, 64], 4, 2),
                conv([64, 64], 3, 1),
                conv([64, LAST_CONV], 4, 2),
            ],
            dense: DenseConfig::new(LAST_CONV * h.div_ceil(4) * w.div_ceil(4), FEATURES)
                .with_spectral_norm(false)
                .init(device),
            head: DenseConfig::new(FEATURES, classes)
                .with_spectral_norm(false)
                .init(device),
        }
    }

    /// Penultimate features `[batch, FEATURES]`.
    pub fn features(&self, x: Tensor<4>) -> Tensor<2> {
        let mut h = x;
        for conv in &self.convs {
            h = relu(conv.forward(h));
        }
        let [b, c, y, x] = h.dims();
        relu(self.dense.forward(h.reshape([b, c * y * x])))
    }

    /// Class logits `[batch, classes]`.
    pub fn logits(&self, x: Tensor<4>) -> Tensor<2> {
        self.head.forward(self.features(x))
    }
}

/// Where the cached classifier for `dataset` lives.
pub fn cache_path(data_dir: &Path, dataset: &str) -> PathBuf {
    data_dir
        .join("classifiers")
        .join(format!("{dataset}-proxy-fid-v4.bpk"))
}

/// Loads the cached classifier, or trains one (`steps` steps of Adam, batch 128, the learning
/// rate falling from 1e-3 to 0 on a cosine) and caches it. Returns the classifier on the plain
/// device and its test accuracy. Training images are shifted by up to 2 pixels each way.
pub fn load_or_train(
    cache: &Path,
    train: &ImageSet,
    test: &ImageSet,
    steps: usize,
    device: &Device,
) -> Result<(Classifier, f64)> {
    let shape = train.image_shape();
    let fresh = Classifier::new(shape, train.num_classes, device);
    let classifier = if cache.is_file() {
        fresh
            .try_load_file(cache)
            .map_err(|e| anyhow::anyhow!("loading {}: {e:?}", cache.display()))?
    } else {
        eprintln!(
            "training the proxy-FID classifier once ({steps} steps); cached at {}",
            cache.display()
        );
        let train_device = device.clone().autodiff();
        device.seed(7);
        let mut model = Classifier::new(shape, train.num_classes, &train_device);
        let mut optim = OptimizerConfig::new()
            .with_beta1(0.9)
            .with_clip_sigma(None)
            .init();
        let batch = 128;
        let mut shifts = SplitMix64::new(7);
        for step in 0..steps {
            let idx = batch_indices(train.len(), batch, 7, step as u64);
            let (x, y) = images_to_tensor(train, &idx, Dequantize::None, device);
            let x = shifted(x, &mut shifts);
            let target = one_hot(&y, train.num_classes, device).autodiff();
            let loss = cross_entropy(model.logits(x.autodiff()), target).mean();
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            let progress = step as f64 / steps as f64;
            let lr = 1e-3 * 0.5 * (1.0 + (std::f64::consts::PI * progress).cos());
            model = optim.step(lr, model, grads);
            if (step + 1) % 500 == 0 {
                eprintln!("  classifier step {}/{steps}", step + 1);
            }
        }
        // A read-only data directory (a shared dataset mount) only costs the cache.
        if let Err(e) = save_cache(&model, cache) {
            eprintln!("warning: the classifier is not cached: {e:#}");
        }
        model.valid()
    };
    let acc = accuracy(&classifier, test, device);
    Ok((classifier, acc))
}

/// `x` with each image moved by up to 2 pixels each way (zero fill): the classifier then
/// generalises from the 8 000 images of the embedded subset.
fn shifted(x: Tensor<4>, rng: &mut SplitMix64) -> Tensor<4> {
    let [n, c, h, w] = x.dims();
    let device = x.device();
    let mut values = x
        .into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .expect("f32 images");
    random_shifts(&mut values, [c, h, w], 2, rng);
    Tensor::from_data(TensorData::new(values, [n, c, h, w]), &device)
}

fn save_cache(model: &Classifier, cache: &Path) -> Result<()> {
    let dir = cache.parent().context("cache path has a folder")?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let tmp = cache.with_extension("tmp.bpk");
    model
        .clone()
        .save_file(&tmp)
        .map_err(|e| anyhow::anyhow!("writing {}: {e:?}", tmp.display()))?;
    std::fs::rename(&tmp, cache).with_context(|| format!("renaming {}", tmp.display()))
}

/// How many of the predicted class indices `pred` (`[n]`) equal `labels`.
pub fn hits(pred: Tensor<1, Int>, labels: &[usize]) -> usize {
    hit_list(pred, labels).iter().filter(|h| **h).count()
}

/// Whether each predicted class index of `pred` (`[n]`) equals its label.
pub fn hit_list(pred: Tensor<1, Int>, labels: &[usize]) -> Vec<bool> {
    let pred = pred
        .into_data()
        .convert::<i64>()
        .try_into_vec::<i64>()
        .unwrap_or_default();
    pred.iter()
        .zip(labels)
        .map(|(p, y)| *p as usize == *y)
        .collect()
}

/// Fraction of `set` the classifier labels correctly.
pub fn accuracy(classifier: &Classifier, set: &ImageSet, device: &Device) -> f64 {
    let mut correct = 0usize;
    for chunk in (0..set.len()).collect::<Vec<_>>().chunks(500) {
        let (x, y) = images_to_tensor(set, chunk, Dequantize::None, device);
        correct += hits(classifier.logits(x).argmax(1).squeeze_dim(1), &y);
    }
    correct as f64 / set.len().max(1) as f64
}

/// What the classifier makes of a batch of images.
#[derive(Clone, Debug, Default)]
pub struct Predictions {
    /// Penultimate features, `FEATURES` values per image, row-major.
    pub features: Vec<f64>,
    /// Probability of the predicted class, per image.
    pub confidence: Vec<f64>,
    /// Predicted class, per image.
    pub class: Vec<usize>,
}

/// Features and predictions of images given as a tensor, in chunks of 500.
pub fn predict(classifier: &Classifier, x: Tensor<4>) -> Predictions {
    let n = x.dims()[0];
    let mut out = Predictions::default();
    for start in (0..n).step_by(500) {
        let f = classifier.features(x.clone().slice(start..(start + 500).min(n)));
        let probs = softmax(classifier.head.forward(f.clone()), 1);
        let (best, class) = probs.max_dim_with_indices(1);
        let to_f64 = |t: Tensor<2>| -> Vec<f64> {
            t.into_data()
                .convert::<f32>()
                .try_into_vec::<f32>()
                .unwrap_or_default()
                .into_iter()
                .map(f64::from)
                .collect()
        };
        out.features.extend(to_f64(f));
        out.confidence.extend(to_f64(best));
        out.class.extend(
            class
                .into_data()
                .convert::<i64>()
                .try_into_vec::<i64>()
                .unwrap_or_default()
                .into_iter()
                .map(|c| c as usize),
        );
    }
    out
}
