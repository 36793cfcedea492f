//! A plain MLP from vectors to vectors: the feed-forward dynamics model and the inverse
//! dynamics model of EBM-plan (not an energy, so it does not implement `EnergyModel`).

use burn::config::Config;
use burn::module::Module;
use burn::tensor::{Device, Tensor};

use crate::activation::Activation;
use crate::dense::{Dense, DenseConfig};
use crate::init::WeightInit;
use ebm_kernels::Kernels;

/// Configuration of an [`MlpRegressor`].
#[derive(Config, Debug)]
pub struct MlpRegressorConfig {
    /// Input features.
    pub d_input: usize,
    /// Output features.
    pub d_output: usize,
    /// Width of every hidden layer.
    #[config(default = 128)]
    pub hidden: usize,
    /// Hidden layers with a nonlinearity after them.
    #[config(default = 2)]
    pub depth: usize,
    /// Extra linear hidden layers (no nonlinearity, with bias) after the nonlinear ones: the
    /// official `TrajFFDynamics` and `TrajInverseDynamics` have one.
    #[config(default = 1)]
    pub linear_layers: usize,
    /// Whether the output layer has a bias (the official models have none).
    #[config(default = false)]
    pub output_bias: bool,
    /// Hidden nonlinearity (the official models use ReLU).
    #[config(default = "Activation::Relu")]
    pub activation: Activation,
    /// Weight initialisation of every layer (the official models: Xavier uniform).
    #[config(default = "WeightInit::XavierUniform")]
    pub init: WeightInit,
}

/// `W_out L(act(... act(W_1 x + b_1) ...)) [+ b_out]`.
#[derive(Module, Debug)]
pub struct MlpRegressor {
    /// Hidden layers followed by the nonlinearity.
    pub layers: Vec<Dense>,
    /// Linear hidden layers.
    pub linear: Vec<Dense>,
    /// Output layer.
    pub out: Dense,
    /// Nonlinearity.
    #[module(skip)]
    pub activation: Activation,
}

impl MlpRegressorConfig {
    /// EBM-plan's feed-forward dynamics `TrajFFDynamics`: `[s_t, a_t] -> s_t+1`, layers
    /// 128 -> ReLU -> 128 -> ReLU -> 128 (linear) -> D, no output bias.
    pub fn ebm_plan_dynamics(state_dim: usize, action_dim: usize) -> Self {
        Self::new(state_dim + action_dim, state_dim)
    }

    /// EBM-plan's inverse dynamics `TrajInverseDynamics`: `[s_t, s_t+1] -> a_t`, layers
    /// 32 -> ReLU -> 32 -> ReLU -> 32 (linear) -> A, no output bias.
    pub fn ebm_plan_inverse(state_dim: usize, action_dim: usize) -> Self {
        Self::new(2 * state_dim, action_dim).with_hidden(32)
    }

    /// Builds the network on `device`.
    pub fn init(&self, device: &Device) -> MlpRegressor {
        let mut d = self.d_input;
        let mut dense = |bias: bool, out: usize| {
            let layer = DenseConfig::new(d, out)
                .with_spectral_norm(false)
                .with_bias(bias)
                .with_init(self.init)
                .init(device);
            d = out;
            layer
        };
        let layers = (0..self.depth).map(|_| dense(true, self.hidden)).collect();
        let linear = (0..self.linear_layers)
            .map(|_| dense(true, self.hidden))
            .collect();
        let out = dense(self.output_bias, self.d_output);
        MlpRegressor {
            layers,
            linear,
            out,
            activation: self.activation,
        }
    }
}

impl MlpRegressor {
    /// # Shapes
    ///
    /// - x: `[batch, d_input]`
    /// - output: `[batch, d_output]`
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        let mut h = x;
        for layer in &self.layers {
            h = self.activation.apply(layer.forward(h), Kernels::Burn);
        }
        for layer in &self.linear {
            h = layer.forward(h);
        }
        self.out.forward(h)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::module::Param;

    #[test]
    fn shapes_and_layers_follow_the_config() {
        let device = Device::flex();
        let net = MlpRegressorConfig::ebm_plan_inverse(4, 2).init(&device);
        assert_eq!(net.layers.len(), 2);
        assert_eq!(net.linear.len(), 1);
        assert!(net.out.bias.is_none());
        let x = Tensor::<2>::zeros([3, 8], &device);
        assert_eq!(net.forward(x).dims(), [3, 2]);
    }

    #[test]
    fn forward_is_relu_then_linear_then_output() {
        let device = Device::flex();
        let mut net = MlpRegressorConfig::new(1, 1)
            .with_hidden(1)
            .with_depth(1)
            .init(&device);
        let p2 = |v: f32| Param::from_tensor(Tensor::<2>::from_floats([[v]], &device));
        net.layers[0].weight = p2(2.0);
        net.linear[0].weight = p2(3.0);
        net.linear[0].bias = Some(Param::from_tensor(Tensor::from_floats([1.0], &device)));
        net.out.weight = p2(-1.0);
        let x = Tensor::<2>::from_floats([[1.5], [-1.0]], &device);
        let y: Vec<f32> = net.forward(x).into_data().try_to_vec().unwrap();
        // relu(2 x) -> 3 h + 1 -> -y: x = 1.5 gives -(9 + 1); x = -1 gives -(0 + 1).
        assert_eq!(y, vec![-10.0, -1.0]);
    }
}
