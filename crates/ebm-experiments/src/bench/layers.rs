//! `ebm bench --layers`: where the time goes. Every distinct convolution of a network, timed
//! alone at the network's shapes for each pass a Langevin step or a training iteration runs
//! (forward; forward + input gradient; forward + weight gradient), ours against each eager
//! reference configuration in interleaved rounds, the fastest reported.

use std::time::Instant;

use anyhow::Result;
use burn::tensor::{Device, Distribution, Tensor};
use ebm_model::{Kernels, conv2d_same};
use serde::Serialize;
use serde_json::json;

use super::reference::{Reference, ReferenceMode, fastest};
use super::{BenchNet, median};

/// One distinct convolution of a network (square kernel, SAME padding, no bias).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvShape {
    /// Input channels.
    pub c_in: usize,
    /// Output channels.
    pub c_out: usize,
    /// Kernel size.
    pub k: usize,
    /// Stride.
    pub stride: usize,
    /// Input height and width.
    pub size: usize,
    /// How many convolutions of the network have this shape.
    pub count: usize,
}

const fn conv(
    c_in: usize,
    c_out: usize,
    k: usize,
    stride: usize,
    size: usize,
    count: usize,
) -> ConvShape {
    ConvShape {
        c_in,
        c_out,
        k,
        stride,
        size,
        count,
    }
}

/// The convolutions of `network`, as `ebm_model` builds it for the bench (ResNet32 of the
/// `cifar10-cond` preset: 3x3 stem, six blocks of two 3x3 convs, a 3x3 shortcut where the
/// channels change, pooling after blocks 1, 3 and 5; MnistNet with the official 64 filters).
pub fn conv_shapes(network: BenchNet) -> Vec<ConvShape> {
    match network {
        BenchNet::ResNet32 => vec![
            conv(3, 128, 3, 1, 32, 1),
            conv(128, 128, 3, 1, 32, 2),
            conv(128, 128, 3, 1, 16, 2),
            conv(128, 256, 3, 1, 16, 2),
            conv(256, 256, 3, 1, 16, 1),
            conv(256, 256, 3, 1, 8, 4),
            conv(256, 256, 3, 1, 4, 2),
        ],
        BenchNet::MnistNet => vec![
            conv(1, 64, 3, 1, 28, 1),
            conv(64, 64, 4, 2, 28, 1),
            conv(64, 128, 4, 2, 14, 1),
            conv(128, 256, 4, 2, 7, 1),
        ],
    }
}

/// The passes timed per convolution.
pub const PASSES: [&str; 3] = ["forward", "input grad", "weight grad"];

/// One convolution and pass.
#[derive(Clone, Debug, Serialize)]
pub struct LayerRow {
    /// Network.
    pub network: String,
    /// `CinxCout kxk/s @HxW`.
    pub layer: String,
    /// How many convolutions of the network have this shape.
    pub count: usize,
    /// `forward`, `input grad` (forward + input gradient) or `weight grad` (forward + weight
    /// gradient).
    pub pass: String,
    /// Median seconds, ours.
    pub ebm_seconds: f64,
    /// Median seconds of the fastest reference configuration.
    pub pytorch_seconds: Option<f64>,
    /// Which configuration that was.
    pub pytorch_mode: Option<String>,
    /// PyTorch seconds / ours (> 1: faster).
    pub vs_pytorch: Option<f64>,
}

/// The inputs of one timed convolution.
struct ConvInputs {
    x: Tensor<4>,
    w: Tensor<4>,
    grad_out: Tensor<4>,
    stride: usize,
}

impl ConvInputs {
    fn new(s: ConvShape, batch: usize, device: &Device) -> Self {
        let out = s.size.div_ceil(s.stride);
        let normal = Distribution::Normal(0.0, 1.0);
        Self {
            x: Tensor::random(
                [batch, s.c_in, s.size, s.size],
                Distribution::Default,
                device,
            ),
            w: Tensor::random([s.c_out, s.c_in, s.k, s.k], normal, device) * 0.05,
            grad_out: Tensor::random([batch, s.c_out, out, out], normal, device),
            stride: s.stride,
        }
    }

    /// Seconds of one `pass`, waiting for its result.
    fn time(&self, pass: &str) -> f64 {
        let start = Instant::now();
        let out = match pass {
            "forward" => conv2d_same(self.x.clone(), self.w.clone(), self.stride, Kernels::Fast),
            "input grad" => {
                let x = self.x.clone().autodiff().require_grad();
                let y = conv2d_same(
                    x.clone(),
                    self.w.clone().autodiff(),
                    self.stride,
                    Kernels::Fast,
                );
                let grads = (y * self.grad_out.clone().autodiff()).sum().backward();
                x.grad(&grads)
                    .expect("the convolution depends on its input")
            }
            _ => {
                let w = self.w.clone().autodiff().require_grad();
                let y = conv2d_same(
                    self.x.clone().autodiff(),
                    w.clone(),
                    self.stride,
                    Kernels::Fast,
                );
                let grads = (y * self.grad_out.clone().autodiff()).sum().backward();
                w.grad(&grads)
                    .expect("the convolution depends on its weight")
            }
        };
        let _ = out.sum().into_data();
        start.elapsed().as_secs_f64()
    }
}

/// Per-convolution, per-pass rows of `network`: ours and every eager reference (`compile`
/// processes are left out: compiling each layer alone would measure the compiler) in `reps`
/// interleaved rounds after one warm-up each.
pub fn layer_rows(
    network: BenchNet,
    batch: usize,
    reps: usize,
    device: &Device,
    references: &mut [Reference],
) -> Result<Vec<LayerRow>> {
    let mut refs: Vec<&mut Reference> = references
        .iter_mut()
        .filter(|r| r.info.mode != ReferenceMode::Compile.name())
        .collect();
    let mut rows = Vec::new();
    for s in conv_shapes(network) {
        let inputs = ConvInputs::new(s, batch, device);
        for pass in PASSES {
            let request = json!({
                "op": "layer", "c_in": s.c_in, "c_out": s.c_out, "k": s.k, "stride": s.stride,
                "size": s.size, "batch": batch, "pass": pass
            });
            inputs.time(pass);
            for r in refs.iter_mut() {
                r.seconds(&request)?;
            }
            let mut ours = Vec::new();
            let mut torch = vec![Vec::new(); refs.len()];
            for _ in 0..reps {
                ours.push(inputs.time(pass));
                for (r, times) in refs.iter_mut().zip(&mut torch) {
                    times.push(r.seconds(&request)?);
                }
            }
            let ebm = median(&ours);
            let medians: Vec<f64> = torch.iter().map(|t| median(t)).collect();
            let best = fastest(&medians);
            rows.push(LayerRow {
                network: network.name().into(),
                layer: format!(
                    "{}x{} {}x{}/{} @{}",
                    s.c_in, s.c_out, s.k, s.k, s.stride, s.size
                ),
                count: s.count,
                pass: pass.into(),
                ebm_seconds: ebm,
                pytorch_seconds: best.map(|i| medians[i]),
                pytorch_mode: best.map(|i| refs[i].info.mode.clone()),
                vs_pytorch: best.map(|i| medians[i] / ebm),
            });
        }
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_count_every_convolution_of_the_networks() {
        // ResNet32: stem, two convs in each of six blocks, one shortcut (128 -> 256).
        let resnet: usize = conv_shapes(BenchNet::ResNet32)
            .iter()
            .map(|s| s.count)
            .sum();
        assert_eq!(resnet, 1 + 12 + 1);
        let mnist: usize = conv_shapes(BenchNet::MnistNet)
            .iter()
            .map(|s| s.count)
            .sum();
        assert_eq!(mnist, 4);
    }

    #[test]
    fn every_pass_times_a_real_result() {
        let device = Device::flex();
        let inputs = ConvInputs::new(conv(2, 3, 4, 2, 6, 1), 2, &device);
        for pass in PASSES {
            assert!(inputs.time(pass) > 0.0, "{pass}");
        }
    }
}
