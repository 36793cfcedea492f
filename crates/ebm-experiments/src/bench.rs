//! `ebm bench`: how long one Langevin-step evaluation (energy + input gradient) takes.

use std::time::Instant;

use burn::module::Module;
use burn::tensor::{Device, Distribution, Tensor};
use ebm_model::{EnergyModel, MnistNet, MnistNetConfig, ResNetConfig, ResNetEnergy, weight_count};
use ebm_sampler::energy_and_grad;
use serde::Serialize;

/// One measured configuration.
#[derive(Debug, Serialize)]
pub struct BenchRow {
    /// Network preset.
    pub network: String,
    /// Batch size.
    pub batch: usize,
    /// Conv + linear weights.
    pub weights: usize,
    /// Where the parameters live: `plain` (no parameter gradients) or `autodiff`.
    pub params_on: String,
    /// Median seconds of one energy + input-gradient evaluation.
    pub seconds_per_step: f64,
    /// Images x steps per second.
    pub images_per_second: f64,
}

/// Which networks `ebm bench` measures.
#[derive(Clone, Copy, Debug)]
pub enum BenchNet {
    /// CIFAR-10 conditional ResNet32 on 3x32x32.
    ResNet32,
    /// MnistNet on 1x28x28.
    MnistNet,
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn time_steps<F: Fn(Tensor<4>) -> Tensor<1>>(energy: &F, x: Tensor<4>, reps: usize) -> f64 {
    // One warm-up evaluation (allocations, kernel compilation on GPU backends).
    let (e, _) = energy_and_grad(energy, x.clone());
    let _ = e.into_data();
    let times = (0..reps)
        .map(|_| {
            let start = Instant::now();
            let (e, g) = energy_and_grad(energy, x.clone());
            // Reading the results back forces the (possibly asynchronous) backend to finish.
            let _ = e.into_data();
            let _ = g.sum().into_data();
            start.elapsed().as_secs_f64()
        })
        .collect();
    median(times)
}

fn row(network: BenchNet, batch: usize, weights: usize, params_on: &str, secs: f64) -> BenchRow {
    BenchRow {
        network: format!("{network:?}"),
        batch,
        weights,
        params_on: params_on.to_string(),
        seconds_per_step: secs,
        images_per_second: batch as f64 / secs,
    }
}

/// Measures one network at one batch size, with the parameters on the plain device and on the
/// autodiff device, `reps` timed evaluations each.
pub fn bench_network(
    network: BenchNet,
    batch: usize,
    reps: usize,
    device: &Device,
) -> Vec<BenchRow> {
    // Built on the autodiff device, as for training; `valid()` gives the plain-device copy.
    let train_device = device.clone().autodiff();
    match network {
        BenchNet::ResNet32 => {
            let net: ResNetEnergy = ResNetConfig::resnet32(None).init(&train_device);
            let x = Tensor::<4>::random([batch, 3, 32, 32], Distribution::Default, device);
            run_pair(network, batch, net, x, reps)
        }
        BenchNet::MnistNet => {
            let net: MnistNet = MnistNetConfig::new().init(&train_device);
            let x = Tensor::<4>::random([batch, 1, 28, 28], Distribution::Default, device);
            run_pair(network, batch, net, x, reps)
        }
    }
}

fn run_pair<M: Module + EnergyModel<4>>(
    network: BenchNet,
    batch: usize,
    net: M,
    x: Tensor<4>,
    reps: usize,
) -> Vec<BenchRow> {
    let weights = weight_count(&net);
    let plain = net.valid();
    let plain_secs = time_steps(&|x| plain.energy(x, None), x.clone(), reps);
    let ad_secs = time_steps(&|x| net.energy(x, None), x, reps);
    vec![
        row(network, batch, weights, "plain", plain_secs),
        row(network, batch, weights, "autodiff", ad_secs),
    ]
}
