//! Fully connected layer with an optionally spectrally normalised weight.

use burn::config::Config;
use burn::module::{Module, Param};
use burn::tensor::Device;
use burn::tensor::Tensor;
use burn::tensor::module::linear;

use crate::init::WeightInit;
use crate::spectral::{SpectralMode, SpectralNorm};

/// Configuration of an [`Dense`].
#[derive(Config, Debug)]
pub struct DenseConfig {
    /// Input features.
    pub d_input: usize,
    /// Output features.
    pub d_output: usize,
    /// Whether the weight is spectrally normalised. IGEBM leaves the final energy layer
    /// unnormalised, so that the energy's scale is free to grow.
    #[config(default = true)]
    pub spectral_norm: bool,
    /// Power iterations per forward.
    #[config(default = 1)]
    pub power_iterations: usize,
    /// Whether the layer adds a bias.
    #[config(default = true)]
    pub bias: bool,
    /// Raw weight initialisation.
    #[config(default = "WeightInit::KaimingUniform")]
    pub init: WeightInit,
}

/// `y = x W / sigma(W) + b`.
#[derive(Module, Debug)]
pub struct Dense {
    /// Weight `[d_input, d_output]`.
    pub weight: Param<Tensor<2>>,
    /// Bias `[d_output]`.
    pub bias: Option<Param<Tensor<1>>>,
    /// Power-iteration state, when spectrally normalised.
    pub spectral: Option<SpectralNorm>,
}

impl DenseConfig {
    /// Builds the layer on `device`.
    pub fn init(&self, device: &Device) -> Dense {
        let (i, o) = (self.d_input, self.d_output);
        let weight = self.init.init([i, o], i, o, device);
        let bias = self
            .bias
            .then(|| Param::from_tensor(Tensor::zeros([o], device)));
        let spectral = self
            .spectral_norm
            .then(|| SpectralNorm::new(o, self.power_iterations, SpectralMode::Normalize, device));
        Dense {
            weight,
            bias,
            spectral,
        }
    }
}

impl Dense {
    /// The weight actually applied, `[d_input, d_output]`.
    pub fn effective_weight(&self) -> Tensor<2> {
        let w = self.weight.val();
        match &self.spectral {
            None => w,
            // The power iteration runs on `[d_output, d_input]`, the layout of the conv kernels.
            Some(sn) => sn.normalize(w.transpose()).transpose(),
        }
    }

    /// # Shapes
    ///
    /// - input: `[batch, d_input]`
    /// - output: `[batch, d_output]`
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        linear(
            x,
            self.effective_weight(),
            self.bias.as_ref().map(|b| b.val()),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Distribution;

    #[test]
    fn normalised_linear_layer_is_one_lipschitz() {
        let device = Device::flex();
        let train_device = device.clone().autodiff();
        let layer = DenseConfig::new(16, 8).init(&train_device);
        // Training forwards advance the persisted `u` towards the top singular vector.
        for _ in 0..30 {
            let x = Tensor::<2>::random([4, 16], Distribution::Default, &train_device);
            let _ = layer.forward(x);
        }
        let layer = layer.valid();
        let a = Tensor::<2>::random([256, 16], Distribution::Normal(0.0, 1.0), &device);
        let b = Tensor::<2>::random([256, 16], Distribution::Normal(0.0, 1.0), &device);
        let dy = (layer.forward(a.clone()) - layer.forward(b.clone()))
            .powi_scalar(2)
            .sum_dim(1);
        let dx = (a - b).powi_scalar(2).sum_dim(1);
        let ratio: Vec<f32> = (dy / dx).sqrt().into_data().try_to_vec::<f32>().unwrap();
        let max = ratio.iter().cloned().fold(0.0f32, f32::max);
        assert!(
            max <= 1.01,
            "Lipschitz ratio {max} exceeds 1 by more than 1%"
        );
        assert!(
            max > 0.3,
            "ratio {max}: the layer should not be much flatter than norm 1"
        );
    }

    #[test]
    fn training_forwards_advance_u_and_plain_forwards_do_not() {
        let device = Device::flex();
        let layer = DenseConfig::new(16, 8).init(&device.clone().autodiff());
        let u = |l: &Dense| {
            l.spectral
                .as_ref()
                .unwrap()
                .u()
                .into_data()
                .try_to_vec::<f32>()
                .unwrap()
        };
        let u0 = u(&layer);
        let _ = layer.forward(Tensor::random(
            [4, 16],
            Distribution::Default,
            &device.clone().autodiff(),
        ));
        let u1 = u(&layer);
        assert_ne!(u0, u1, "a training forward must advance u");
        let norm: f32 = u1.iter().map(|v| v * v).sum::<f32>().sqrt();
        assert!(
            (norm - 1.0).abs() < 1e-5,
            "u is a unit vector after an update, |u| = {norm}"
        );
        let plain = layer.valid();
        let _ = plain.forward(Tensor::random([4, 16], Distribution::Default, &device));
        assert_eq!(u(&plain), u1, "evaluation must not change u");
    }
}
