//! MLP energy for vectors: toy 2-D densities and state transitions (EBM-plan).

use burn::config::Config;
use burn::module::{Module, Param};
use burn::tensor::module::linear;
use burn::tensor::{Device, Distribution, Tensor};

use crate::activation::Activation;
use crate::dense::{Dense, DenseConfig};
use crate::energy::EnergyModel;
use crate::init::WeightInit;
use ebm_kernels::Kernels;

/// Configuration of an [`MlpEnergy`].
#[derive(Config, Debug)]
pub struct MlpEnergyConfig {
    /// Input features (2 for toy data; `2 * state_dim` for a transition `[s_t, s_t+1]`).
    pub d_input: usize,
    /// Width of every hidden layer (EBM-plan's `TrajNetLatentFC`: 128).
    #[config(default = 128)]
    pub hidden: usize,
    /// Number of hidden layers (EBM-plan: 3).
    #[config(default = 3)]
    pub depth: usize,
    /// Classes of a conditional model: the one-hot label is appended to the input (or gates
    /// the hidden units, with `label_gate`).
    #[config(default = "None")]
    pub num_classes: Option<usize>,
    /// Conditional models only: instead of being appended to the input, the label scales
    /// every hidden unit before its nonlinearity, `a <- a + a * e_y / |e_y|` with a learned
    /// embedding `e_y` per class (the split-MNIST energy of Li, Du, van de Ven & Mordatch
    /// 2020, "Energy-Based Models for Continual Learning"): each class reads the same
    /// features through its own gains. `None` (the default, and what configurations saved
    /// before the field existed read as) means `false`.
    #[config(default = "None")]
    pub label_gate: Option<bool>,
    /// Hidden nonlinearity (EBM-plan uses leaky ReLU 0.2).
    #[config(default = "Activation::Swish")]
    pub activation: Activation,
    /// Spectral norm on the hidden layers (EBM-plan's `--spec_norm` defaults to off).
    #[config(default = false)]
    pub spectral_norm: bool,
    /// Raw weight initialisation.
    #[config(default = "WeightInit::KaimingUniform")]
    pub init: WeightInit,
    /// Inputs are mapped to `(x - input_shift) * input_scale` first, so data stored in
    /// [0, 1] (as the replay buffer requires) can be seen at its natural scale.
    #[config(default = 0.0)]
    pub input_shift: f64,
    /// See `input_shift`.
    #[config(default = 1.0)]
    pub input_scale: f64,
    /// Which implementation of the convolutions and swish runs (`Fast`: this project's CPU
    /// kernels on `burn-flex`, Burn's elsewhere; `Burn`: Burn's everywhere).
    #[config(default = "Kernels::Fast")]
    pub kernels: Kernels,
    /// Use `|w|` as the output weight (EBM-plan's `TrajNetLatentFC` applies `tf.abs` to its
    /// last weight, so the energy is a non-negative mix of the last hidden units). Off by
    /// default (IGEBM's toy MLP uses `w` as it is).
    #[config(default = false)]
    pub abs_output: bool,
}

/// `w^T act(... act(W_1 [x, y] + b_1) ...)`: an MLP with a scalar, bias-free output (`|w|^T`
/// with [`MlpEnergyConfig::abs_output`]).
#[derive(Module, Debug)]
pub struct MlpEnergy {
    /// Hidden layers.
    pub layers: Vec<Dense>,
    /// Output layer `hidden -> 1`.
    pub out: Dense,
    /// Per-class gate embeddings `[classes, hidden]` (see [`MlpEnergyConfig::label_gate`]).
    pub gate: Option<Param<Tensor<2>>>,
    /// Classes of a conditional model, `None` for unconditional.
    #[module(skip)]
    pub num_classes: Option<usize>,
    /// Input shift (see [`MlpEnergyConfig::input_shift`]).
    pub input_shift: f64,
    /// Input scale.
    pub input_scale: f64,
    /// Nonlinearity.
    #[module(skip)]
    pub activation: Activation,
    /// Implementation of the convolutions and swish.
    #[module(skip)]
    pub kernels: Kernels,
    /// Whether the output weight is used as `|w|`.
    #[module(skip)]
    pub abs_output: bool,
}

impl MlpEnergyConfig {
    /// EBM-plan's transition energy `TrajNetLatentFC` over `[s_t, s_t+1]` (official
    /// `model_based_planning_ebm/traj_model.py`): three hidden layers of 128 with leaky ReLU
    /// 0.2, Xavier-uniform weights and zero biases, no spectral norm, output `|w|^T h`.
    pub fn ebm_plan(state_dim: usize) -> Self {
        Self::new(2 * state_dim)
            .with_hidden(128)
            .with_depth(3)
            .with_activation(Activation::LeakyRelu)
            .with_init(WeightInit::XavierUniform)
            .with_spectral_norm(false)
            .with_abs_output(true)
    }

    /// The `depth` hidden layers on `d_in` input features (`d_in -> hidden -> ... -> hidden`,
    /// initialised as `init` says, with or without spectral norm) and the width of what they
    /// output. The softmax baselines of the continual experiment build their trunk with it too.
    pub fn hidden_layers(
        &self,
        d_in: usize,
        spectral_norm: bool,
        device: &Device,
    ) -> (Vec<Dense>, usize) {
        let mut d = d_in;
        let layers = (0..self.depth)
            .map(|_| {
                let layer = DenseConfig::new(d, self.hidden)
                    .with_spectral_norm(spectral_norm)
                    .with_init(self.init)
                    .init(device);
                d = self.hidden;
                layer
            })
            .collect();
        (layers, d)
    }

    /// Builds the network on `device`.
    pub fn init(&self, device: &Device) -> MlpEnergy {
        let gated = self.label_gate == Some(true) && self.num_classes.is_some();
        let appended = if gated {
            0
        } else {
            self.num_classes.unwrap_or(0)
        };
        let (layers, d) = self.hidden_layers(self.d_input + appended, self.spectral_norm, device);
        let out = DenseConfig::new(d, 1)
            .with_spectral_norm(false)
            .with_bias(false)
            .with_init(WeightInit::XavierUniform)
            .init(device);
        // Standard normal, as a PyTorch `nn.Embedding`; only its direction is used.
        let gate = self.num_classes.filter(|_| gated).map(|k| {
            Param::from_tensor(Tensor::random(
                [k, self.hidden],
                Distribution::Normal(0.0, 1.0),
                device,
            ))
        });
        MlpEnergy {
            layers,
            out,
            gate,
            num_classes: self.num_classes,
            input_shift: self.input_shift,
            input_scale: self.input_scale,
            activation: self.activation,
            kernels: self.kernels,
            abs_output: self.abs_output,
        }
    }
}

impl EnergyModel<2> for MlpEnergy {
    fn num_classes(&self) -> Option<usize> {
        self.num_classes
    }

    /// # Shapes
    ///
    /// - x: `[batch, d_input]`, labels: `[batch, classes]` (conditional only)
    /// - output: `[batch]`
    fn energy(&self, x: Tensor<2>, labels: Option<Tensor<2>>) -> Tensor<1> {
        let batch = x.dims()[0];
        let x = (x - self.input_shift) * self.input_scale;
        let (mut h, gains) = match (self.num_classes.is_some(), labels, &self.gate) {
            (true, Some(y), Some(gate)) => {
                let e = y.matmul(gate.val()); // [batch, hidden]
                let norm = e.clone().powi_scalar(2).sum_dim(1).sqrt().clamp_min(1e-12);
                (x, Some(e / norm))
            }
            (true, Some(y), None) => (Tensor::cat(vec![x, y], 1), None),
            (false, None, _) => (x, None),
            (true, None, _) => panic!("a class-conditional MLP needs labels"),
            (false, Some(_), _) => panic!("an unconditional MLP takes no labels"),
        };
        for layer in &self.layers {
            let mut a = layer.forward(h);
            if let Some(g) = &gains {
                a = a.clone() + a * g.clone();
            }
            h = self.activation.apply(a, self.kernels);
        }
        let out = if self.abs_output {
            linear(h, self.out.effective_weight().abs(), None)
        } else {
            self.out.forward(h)
        };
        out.reshape([batch])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn abs_output_uses_the_absolute_weight() {
        let device = Device::flex();
        let mut net = MlpEnergyConfig::ebm_plan(1)
            .with_hidden(2)
            .with_depth(1)
            .init(&device);
        // Identity hidden layer and an output weight of [-1, 2]: E = |-1| h0 + |2| h1.
        net.layers[0].weight = burn::module::Param::from_tensor(Tensor::from_floats(
            [[1.0, 0.0], [0.0, 1.0]],
            &device,
        ));
        net.out.weight =
            burn::module::Param::from_tensor(Tensor::from_floats([[-1.0], [2.0]], &device));
        let x = Tensor::<2>::from_floats([[3.0, 1.0], [-1.0, 2.0]], &device);
        let e: Vec<f32> = net
            .energy(x.clone(), None)
            .into_data()
            .try_to_vec()
            .unwrap();
        // Leaky ReLU 0.2: h = [3, 1] -> 3 + 2; h = [-0.2, 2] -> -0.2 + 4.
        assert!(
            (e[0] - 5.0).abs() < 1e-6 && (e[1] - 3.8).abs() < 1e-6,
            "{e:?}"
        );
        net.abs_output = false;
        let e: Vec<f32> = net.energy(x, None).into_data().try_to_vec().unwrap();
        // Signed weight: -3 + 2 and 0.2 + 4.
        assert!(
            (e[0] + 1.0).abs() < 1e-6 && (e[1] - 4.2).abs() < 1e-6,
            "{e:?}"
        );
    }

    #[test]
    fn label_gate_scales_hidden_units_by_the_class_embedding() {
        let device = Device::flex();
        let mut net = MlpEnergyConfig::new(2)
            .with_hidden(2)
            .with_depth(1)
            .with_num_classes(Some(2))
            .with_label_gate(Some(true))
            .with_activation(Activation::Relu)
            .init(&device);
        // The input is not widened by the label: the hidden layer takes 2 features.
        assert_eq!(net.layers[0].weight.val().dims(), [2, 2]);
        net.layers[0].weight =
            Param::from_tensor(Tensor::from_floats([[1.0, 0.0], [0.0, 1.0]], &device));
        net.out.weight = Param::from_tensor(Tensor::from_floats([[1.0], [1.0]], &device));
        // Embeddings of any length: only the direction counts.
        net.gate = Some(Param::from_tensor(Tensor::from_floats(
            [[3.0, 0.0], [0.0, 0.5]],
            &device,
        )));
        let x = Tensor::<2>::from_floats([[1.0, 2.0], [1.0, 2.0]], &device);
        let y = Tensor::<2>::from_floats([[1.0, 0.0], [0.0, 1.0]], &device);
        let e: Vec<f32> = net.energy(x, Some(y)).into_data().try_to_vec().unwrap();
        // Class 0 doubles unit 0: 2 + 2; class 1 doubles unit 1: 1 + 4.
        assert!(
            (e[0] - 4.0).abs() < 1e-5 && (e[1] - 5.0).abs() < 1e-5,
            "{e:?}"
        );
    }
}
