//! The baselines: a softmax classifier with the `ebm` method's trunk (the same stem and
//! residual blocks, or the same hidden layers, unconditional, no spectral norm) and a linear
//! head over all classes, fine-tuned task
//! by task with cross-entropy (Adam or SGD), and the offline upper bound trained on every task
//! at once.

use anyhow::{Result, bail};
use burn::module::Module;
use burn::optim::{GradientsParams, ModuleOptimizer, SgdConfig};
use burn::tensor::{Device, Tensor};
use ebm_data::{Dequantize, ImageSet, batch_indices, images_to_tensor};
use ebm_model::{
    Activation, Dense, DenseConfig, Kernels, ResBlock, ResBlockConfig, SameConv2d,
    SameConv2dConfig, one_hot,
};

use super::config::ContinualConfig;
use super::matrix::{predict_all, task_accuracies};
use crate::data::Splits;
use crate::run::loss::cross_entropy;
use crate::run::model::ModelConfig;
use crate::run::optim::OptimizerConfig;
use crate::run::train::iteration_seed;

/// `linear(mean_{h,w}(act(blocks(act(stem(x))))))` on the EBM's ResNet trunk, or
/// `linear(act(... act(W_1 x)))` on its MLP trunk.
#[derive(Module, Debug)]
pub struct SoftmaxNet {
    stem: Option<SameConv2d>,
    blocks: Vec<ResBlock>,
    layers: Vec<Dense>,
    head: Dense,
    #[module(skip)]
    activation: Activation,
    #[module(skip)]
    kernels: Kernels,
}

impl SoftmaxNet {
    /// The trunk of `trunk` (unconditional, without spectral norm) and a head over `classes`.
    pub fn new(trunk: &ModelConfig, classes: usize, device: &Device) -> Result<Self> {
        let head = |c_in| {
            DenseConfig::new(c_in, classes)
                .with_spectral_norm(false)
                .init(device)
        };
        Ok(match trunk {
            ModelConfig::ResNet(trunk) => {
                let stem = SameConv2dConfig::new([trunk.in_channels, trunk.stem_channels])
                    .with_spectral_norm(false)
                    .with_init(trunk.init)
                    .with_kernels(trunk.kernels)
                    .init(device);
                let mut c_in = trunk.stem_channels;
                let blocks = trunk
                    .blocks
                    .iter()
                    .map(|spec| {
                        let block = ResBlockConfig::new([c_in, spec.channels])
                            .with_downsample(spec.downsample)
                            .with_activation(trunk.activation)
                            .with_spectral_norm(false)
                            .with_init(trunk.init)
                            .with_kernels(trunk.kernels)
                            .init(device);
                        c_in = spec.channels;
                        block
                    })
                    .collect();
                Self {
                    stem: Some(stem),
                    blocks,
                    layers: Vec::new(),
                    head: head(c_in),
                    activation: trunk.activation,
                    kernels: trunk.kernels,
                }
            }
            ModelConfig::Mlp(trunk) => {
                let (layers, d) = trunk.hidden_layers(trunk.d_input, false, device);
                Self {
                    stem: None,
                    blocks: Vec::new(),
                    layers,
                    head: head(d),
                    activation: trunk.activation,
                    kernels: trunk.kernels,
                }
            }
            ModelConfig::MnistNet(_) => {
                bail!("the softmax baselines take a ResNet or MLP trunk, not MnistNet")
            }
        })
    }

    /// Class logits `[batch, classes]`.
    pub fn logits(&self, x: Tensor<4>) -> Tensor<2> {
        let [b, c, h, w] = x.dims();
        let Some(stem) = &self.stem else {
            let mut h = x.reshape([b, c * h * w]);
            for layer in &self.layers {
                h = self.activation.apply(layer.forward(h), self.kernels);
            }
            return self.head.forward(h);
        };
        let mut h = self.activation.apply(stem.forward(x), self.kernels);
        for block in &self.blocks {
            h = block.forward(h, None);
        }
        let [b, c, _, _] = h.dims();
        self.head.forward(h.mean_dim(3).mean_dim(2).reshape([b, c]))
    }
}

/// Which optimiser fine-tunes the classifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Optim {
    /// Adam (beta1 0.9, beta2 0.999), no clipping.
    Adam,
    /// Plain SGD.
    Sgd,
}

fn optimizer(which: Optim) -> ModuleOptimizer {
    match which {
        Optim::Adam => OptimizerConfig::new()
            .with_beta1(0.9)
            .with_clip_sigma(None)
            .init(),
        Optim::Sgd => SgdConfig::new().init(),
    }
}

/// Cross-entropy steps on `set` over all classes (`stream` keeps each call's batches and
/// noise apart).
#[allow(clippy::too_many_arguments)]
fn train_on(
    mut model: SoftmaxNet,
    optim: &mut ModuleOptimizer,
    lr: f64,
    set: &ImageSet,
    steps: usize,
    batch: usize,
    seed: u64,
    stream: u64,
    device: &Device,
) -> Result<SoftmaxNet> {
    let classes = set.num_classes;
    for step in 0..steps {
        device.seed(iteration_seed(seed, stream + 1, step));
        let idx = batch_indices(set.len(), batch, seed ^ (stream << 16), step as u64);
        let (x, y) = images_to_tensor(set, &idx, Dequantize::None, device);
        let target = one_hot(&y, classes, device).autodiff();
        let loss = cross_entropy(model.logits(x.autodiff()), target).mean();
        let value = loss.clone().into_scalar::<f64>();
        if !value.is_finite() {
            bail!("softmax baseline diverged (loss {value}) at step {step}");
        }
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(lr, model, grads);
    }
    Ok(model)
}

fn row(model: &SoftmaxNet, config: &ContinualConfig, data: &Splits, device: &Device) -> Vec<f64> {
    let plain = model.valid();
    let pred = predict_all(&data.test, config.eval_batch, device, &|x| {
        plain.logits(x).argmax(1).squeeze_dim(1)
    });
    task_accuracies(&pred, &data.test.labels, &config.tasks)
}

/// The classifier fine-tuned task by task with `which`: one accuracy row per task.
pub fn run_sequential(
    config: &ContinualConfig,
    data: &Splits,
    seed: u64,
    which: Optim,
    device: &Device,
) -> Result<Vec<Vec<f64>>> {
    let s = &config.softmax;
    let train_device = device.clone().autodiff();
    device.seed(seed);
    let classes = data.train.num_classes;
    let mut model = SoftmaxNet::new(&config.ebm.model, classes, &train_device)?;
    let mut optim = optimizer(which);
    let lr = match which {
        Optim::Adam => s.adam_lr,
        Optim::Sgd => s.sgd_lr,
    };
    let mut matrix = Vec::new();
    for (t, task) in config.tasks.iter().enumerate() {
        let set = data.train.filter_classes(task);
        model = train_on(
            model,
            &mut optim,
            lr,
            &set,
            s.iterations_per_task,
            s.batch_size,
            seed,
            t as u64,
            device,
        )?;
        matrix.push(row(&model, config, data, device));
    }
    Ok(matrix)
}

/// The offline upper bound: the classifier trained with Adam on all tasks' data at once, for
/// as many steps as the whole sequence. One row.
pub fn run_offline(
    config: &ContinualConfig,
    data: &Splits,
    seed: u64,
    device: &Device,
) -> Result<Vec<Vec<f64>>> {
    let s = &config.softmax;
    let train_device = device.clone().autodiff();
    device.seed(seed);
    let all: Vec<usize> = config.tasks.iter().flatten().copied().collect();
    let set = data.train.filter_classes(&all);
    let model = SoftmaxNet::new(&config.ebm.model, data.train.num_classes, &train_device)?;
    let model = train_on(
        model,
        &mut optimizer(Optim::Adam),
        s.adam_lr,
        &set,
        s.iterations_per_task * config.tasks.len(),
        s.batch_size,
        seed,
        1000,
        device,
    )?;
    Ok(vec![row(&model, config, data, device)])
}
