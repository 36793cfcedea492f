//! `ebm bench`, step part: one Langevin step (energy + input gradient) of each network and
//! implementation, interleaved with the reference's.

use std::time::Instant;

use anyhow::Result;
use burn::module::Module;
use burn::tensor::{Device, Distribution, Tensor};
use ebm_model::{
    EnergyModel, Kernels, MnistNet, MnistNetConfig, ResNetConfig, ResNetEnergy, one_hot,
    weight_count,
};
use ebm_sampler::energy_and_grad;
use serde_json::json;

use super::reference::{Reference, fastest, warm_up};
use super::{BenchNet, BenchOptions, StepRow, median};

/// Seconds of one energy + input-gradient evaluation, waiting for the results.
fn time_step<F: Fn(Tensor<4>) -> Tensor<1>>(energy: &F, x: &Tensor<4>) -> f64 {
    let start = Instant::now();
    let (e, g) = energy_and_grad(energy, x.clone());
    // Reading the results back forces an asynchronous backend to finish.
    let _ = e.into_data();
    let _ = g.sum().into_data();
    start.elapsed().as_secs_f64()
}

/// A network's weight count and one timed step per implementation row.
struct StepSetup {
    weights: usize,
    measure: Vec<(String, Box<dyn Fn() -> f64>)>,
}

/// The rows of one network: `net` (on the autodiff device, as training builds it) timed
/// through its plain copy, and with `variants` the same network with Burn's kernels
/// (`burn_net`, built from the same config with `Kernels::Burn`) and with its parameters on the
/// autodiff device.
fn setup<M: Module + EnergyModel<4> + 'static>(
    net: M,
    burn_net: M,
    x: Tensor<4>,
    labels: Option<Tensor<2>>,
    variants: bool,
) -> StepSetup {
    let weights = weight_count(&net);
    let mut measure: Vec<(String, Box<dyn Fn() -> f64>)> = Vec::new();
    let timed = |plain: M, x: Tensor<4>, y: Option<Tensor<2>>| -> Box<dyn Fn() -> f64> {
        Box::new(move || time_step(&|x| plain.energy(x, y.clone()), &x))
    };
    measure.push(("ebm".into(), timed(net.valid(), x.clone(), labels.clone())));
    if variants {
        measure.push((
            "ebm (Burn kernels)".into(),
            timed(burn_net.valid(), x.clone(), labels.clone()),
        ));
        measure.push((
            "ebm (params on autodiff)".into(),
            timed(net, x, labels.map(|l| l.autodiff())),
        ));
    }
    StepSetup { weights, measure }
}

fn step_setup(network: BenchNet, batch: usize, variants: bool, device: &Device) -> StepSetup {
    let train_device = device.clone().autodiff();
    match network {
        BenchNet::ResNet32 => {
            let config = ResNetConfig::resnet32(Some(10));
            let net: ResNetEnergy = config.init(&train_device);
            let burn_net = config.with_kernels(Kernels::Burn).init(&train_device);
            let x = Tensor::<4>::random([batch, 3, 32, 32], Distribution::Default, device);
            let classes: Vec<usize> = (0..batch).map(|i| i % 10).collect();
            let y = one_hot(&classes, 10, device);
            setup(net, burn_net, x, Some(y), variants)
        }
        BenchNet::MnistNet => {
            let config = MnistNetConfig::new();
            let net: MnistNet = config.init(&train_device);
            let burn_net = config.with_kernels(Kernels::Burn).init(&train_device);
            let x = Tensor::<4>::random([batch, 1, 28, 28], Distribution::Default, device);
            setup(net, burn_net, x, None, variants)
        }
    }
}

/// Interleaved Langevin-step measurements of one network: ours, then each reference
/// configuration in turn, per round; ratios against the fastest reference.
pub fn step_rows(
    network: BenchNet,
    opts: &BenchOptions,
    device: &Device,
    references: &mut Vec<Reference>,
) -> Result<Vec<StepRow>> {
    let s = step_setup(network, opts.batch, opts.variants, device);
    let request = json!({"op": "step", "net": network.name(), "batch": opts.batch});
    // One warm-up of each (allocations; kernel compilation on GPU backends and torch.compile).
    for (_, f) in &s.measure {
        f();
    }
    warm_up(references, &request);
    let mut samples = vec![Vec::new(); s.measure.len()];
    let mut torch = vec![Vec::new(); references.len()];
    for _ in 0..opts.reps {
        for (i, (_, f)) in s.measure.iter().enumerate() {
            samples[i].push(f());
        }
        for (r, times) in references.iter_mut().zip(&mut torch) {
            times.push(r.seconds(&request)?);
        }
    }
    let torch_medians: Vec<f64> = torch.iter().map(|t| median(t)).collect();
    let torch_secs = fastest(&torch_medians).map(|i| torch_medians[i]);
    let row = |implementation: &str, samples: Vec<f64>| {
        let secs = median(&samples);
        StepRow {
            network: network.name().into(),
            batch: opts.batch,
            weights: s.weights,
            implementation: implementation.into(),
            seconds_per_step: secs,
            images_steps_per_second: opts.batch as f64 / secs,
            vs_pytorch: torch_secs.map(|t| t / secs),
            samples,
        }
    };
    let mut rows: Vec<StepRow> = s
        .measure
        .iter()
        .zip(samples)
        .map(|((name, _), xs)| row(name, xs))
        .collect();
    for (r, times) in references.iter().zip(torch) {
        rows.push(row(&format!("pytorch ({})", r.info.mode), times));
    }
    Ok(rows)
}

/// Median seconds of `reps` MnistNet Langevin steps at batch 128 on `device` (after one
/// warm-up): the machine-speed reference printed beside time-budgeted results, the figure
/// `ebm bench --networks mnistnet` reports as the MnistNet step.
pub fn mnistnet_step_seconds(device: &Device, reps: usize) -> f64 {
    let s = step_setup(BenchNet::MnistNet, 128, false, device);
    let (_, step) = &s.measure[0];
    step();
    let times: Vec<f64> = (0..reps.max(1)).map(|_| step()).collect();
    median(&times)
}
