//! The baseline of `ebm robust`: a plain softmax CNN of about the EBM's size (0.43 M weights
//! against `resnet_mnist`'s 0.39 M), trained by the same command with cross-entropy on the
//! run's training set and cached in the run directory.

use std::path::Path;

use anyhow::{Context, Result};
use burn::module::Module;
use burn::optim::GradientsParams;
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};
use ebm_data::{Dequantize, ImageSet, batch_indices, images_to_tensor};
use ebm_model::{Dense, DenseConfig, SameConv2d, SameConv2dConfig, one_hot, weight_count};
use ebm_sampler::energy_and_grad;

use crate::run::loss::cross_entropy;
use crate::run::optim::OptimizerConfig;

/// `linear(meanpool(relu(conv4x4/2(relu(conv4x4/2(relu(conv4x4/2(relu(conv3x3(x))))))))))`,
/// 32-64-128-128 channels, no normalisation of any kind.
#[derive(Module, Debug)]
pub struct SoftmaxCnn {
    convs: Vec<SameConv2d>,
    head: Dense,
}

impl SoftmaxCnn {
    /// A fresh network for `channels`-channel images and `classes` classes.
    pub fn new(channels: usize, classes: usize, device: &Device) -> Self {
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
                conv([64, 128], 4, 2),
                conv([128, 128], 4, 2),
            ],
            head: DenseConfig::new(128, classes)
                .with_spectral_norm(false)
                .init(device),
        }
    }

    /// Class logits `[batch, classes]`.
    pub fn logits(&self, x: Tensor<4>) -> Tensor<2> {
        let mut h = x;
        for conv in &self.convs {
            h = relu(conv.forward(h));
        }
        let [b, c, _, _] = h.dims();
        self.head.forward(h.mean_dim(3).mean_dim(2).reshape([b, c]))
    }

    /// Conv and linear weights.
    pub fn weights(&self) -> usize {
        weight_count(self)
    }
}

/// The cached baseline for this run (`robust-cnn-<steps>.bpk` in the run directory), or a new
/// one trained for `steps` Adam steps (lr 1e-3, batch 128) and cached.
pub fn load_or_train(
    run: &Path,
    train: &ImageSet,
    steps: usize,
    device: &Device,
) -> Result<SoftmaxCnn> {
    let [c, _, _] = train.image_shape();
    let classes = train.num_classes;
    let cache = run.join(format!("robust-cnn-{steps}.bpk"));
    if cache.is_file() {
        return SoftmaxCnn::new(c, classes, device)
            .try_load_file(&cache)
            .map_err(|e| anyhow::anyhow!("loading {}: {e:?}", cache.display()));
    }
    eprintln!("training the softmax CNN baseline ({steps} steps of batch 128)");
    let ad = device.clone().autodiff();
    device.seed(11);
    let mut model = SoftmaxCnn::new(c, classes, &ad);
    let mut optim = OptimizerConfig::new()
        .with_beta1(0.9)
        .with_clip_sigma(None)
        .init();
    for step in 0..steps {
        let idx = batch_indices(train.len(), 128, 11, step as u64);
        let (x, y) = images_to_tensor(train, &idx, Dequantize::None, device);
        let target = one_hot(&y, classes, device).autodiff();
        let loss = cross_entropy(model.logits(x.autodiff()), target).mean();
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(1e-3, model, grads);
        if (step + 1) % 100 == 0 {
            eprintln!("  baseline step {}/{steps}", step + 1);
        }
    }
    let model = model.valid();
    model
        .clone()
        .save_file(&cache)
        .map_err(|e| anyhow::anyhow!("writing {}: {e:?}", cache.display()))
        .context("caching the baseline")?;
    Ok(model)
}

/// Input gradient of the cross-entropy of `model` at `x` against `labels` (of `classes`).
pub fn ce_grad(model: &SoftmaxCnn, x: Tensor<4>, labels: &[usize], classes: usize) -> Tensor<4> {
    let target = one_hot(labels, classes, &x.device());
    energy_and_grad(&|x| cross_entropy(model.logits(x), target.clone()), x).1
}
