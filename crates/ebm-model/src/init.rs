//! Weight initialisation schemes for spectrally normalised layers.

use burn::config::Config;
use burn::module::Initializer;
use burn::module::Param;
use burn::tensor::{Device, Shape, Tensor};

/// How the raw (pre-normalisation) weights of a layer are drawn.
///
/// Spectral normalisation divides a weight by its largest singular value, so the init's scale
/// does not change the function at step 0, but it does change how far one Adam step moves it:
/// Adam's update is about `lr` per element whatever the weight's magnitude, and the normalised
/// weight changes by `lr / |w|`. The official code's N(0, 1) weights (magnitude ~1) barely move
/// at lr 1e-4; Kaiming-uniform weights (magnitude ~1/sqrt(fan_in)) move ~30x further per step
/// and learn within minutes on 2 CPU cores (reference section 9). Kaiming is therefore the
/// default and `Normal` reproduces the official code.
#[derive(Config, Debug, Copy, PartialEq)]
pub enum WeightInit {
    /// Uniform in `±sqrt(1/fan_in)` (Burn's and PyTorch's default for conv and linear layers).
    KaimingUniform,
    /// N(0, 1), as `spectral_normed_weight` in the official TensorFlow code.
    Normal,
    /// Glorot/Xavier uniform, the official init of layers without spectral norm.
    XavierUniform,
}

impl WeightInit {
    /// Draws a parameter of the given shape on `device`.
    pub fn init<const D: usize>(
        self,
        shape: impl Into<Shape>,
        fan_in: usize,
        fan_out: usize,
        device: &Device,
    ) -> Param<Tensor<D>> {
        let initializer = match self {
            WeightInit::KaimingUniform => Initializer::KaimingUniform {
                gain: 1.0 / 3f64.sqrt(),
                fan_out_only: false,
            },
            WeightInit::Normal => Initializer::Normal {
                mean: 0.0,
                std: 1.0,
            },
            WeightInit::XavierUniform => Initializer::XavierUniform { gain: 1.0 },
        };
        initializer.init_with(shape, Some(fan_in), Some(fan_out), device)
    }
}
