//! One energy network type for the command line: any preset network behind one enum.

use super::param_ids::numbered;
use burn::config::Config;
use burn::module::Module;
use burn::tensor::{Device, Tensor};
use ebm_model::{
    EnergyModel, MlpEnergy, MlpEnergyConfig, MnistNet, MnistNetConfig, ResNetConfig, ResNetEnergy,
    tiled_class_energies,
};

/// Which network, with its full configuration.
#[derive(Config, Debug)]
pub enum ModelConfig {
    /// An IGEBM ResNet (`ResNet32`, `ResNet32Large`, `ResNet32Wider`).
    ResNet(ResNetConfig),
    /// The official MNIST network.
    MnistNet(MnistNetConfig),
    /// An MLP on flattened inputs (toy 2-D data, transitions).
    Mlp(MlpEnergyConfig),
}

impl ModelConfig {
    /// Builds the network on `device`, its parameters numbered in visiting order
    /// ([`numbered`]: networks from one seed then save to the same bytes).
    pub fn init(&self, device: &Device) -> EnergyNet {
        numbered(match self {
            ModelConfig::ResNet(c) => EnergyNet::ResNet(c.init(device)),
            ModelConfig::MnistNet(c) => EnergyNet::MnistNet(c.init(device)),
            ModelConfig::Mlp(c) => EnergyNet::Mlp(c.init(device)),
        })
    }

    /// Classes of a conditional network.
    pub fn num_classes(&self) -> Option<usize> {
        match self {
            ModelConfig::ResNet(c) => c.num_classes,
            ModelConfig::MnistNet(c) => c.num_classes,
            ModelConfig::Mlp(c) => c.num_classes,
        }
    }
}

/// Any of the preset networks. Inputs are always `[batch, C, H, W]`; the MLP flattens them
/// (toy 2-D points travel as `[batch, 2, 1, 1]`).
#[derive(Module, Debug)]
pub enum EnergyNet {
    /// See [`ResNetEnergy`].
    ResNet(ResNetEnergy),
    /// See [`MnistNet`].
    MnistNet(MnistNet),
    /// See [`MlpEnergy`].
    Mlp(MlpEnergy),
}

impl EnergyModel<4> for EnergyNet {
    fn num_classes(&self) -> Option<usize> {
        match self {
            EnergyNet::ResNet(n) => n.num_classes(),
            EnergyNet::MnistNet(n) => n.num_classes(),
            EnergyNet::Mlp(n) => n.num_classes(),
        }
    }

    fn energy(&self, x: Tensor<4>, labels: Option<Tensor<2>>) -> Tensor<1> {
        match self {
            EnergyNet::ResNet(n) => n.energy(x, labels),
            EnergyNet::MnistNet(n) => n.energy(x, labels),
            EnergyNet::Mlp(n) => {
                let [b, c, h, w] = x.dims();
                n.energy(x.reshape([b, c * h * w]), labels)
            }
        }
    }

    fn class_energies(&self, x: Tensor<4>) -> Tensor<2> {
        match self {
            EnergyNet::ResNet(n) => n.class_energies(x),
            EnergyNet::MnistNet(n) => n.class_energies(x),
            EnergyNet::Mlp(_) => tiled_class_energies(self, x),
        }
    }
}
