//! An exponential moving average of a network's weights, for sampling: the average of the last
//! few hundred optimiser steps moves more smoothly than the weights themselves, so chains
//! sampled under it see a steadier energy (used by later EBM work, e.g. Du et al. 2021).
//!
//! The average is kept per parameter (by Burn's parameter id); the averaged network is the live
//! one with its parameters swapped for the averages, so its spectral-norm state `u` is the live
//! network's (the averaged weights are close to the live ones, and `u` tracks their top singular
//! vector from step to step as it does for the live weights).

use std::collections::HashMap;

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::tensor::Tensor;

use super::model::EnergyNet;

/// The averages, on the plain device, flattened.
#[derive(Clone, Debug)]
pub struct Ema {
    decay: f64,
    averages: HashMap<ParamId, Tensor<1>>,
}

/// Every float parameter of a module, flattened, on the plain device.
fn parameters(model: &EnergyNet) -> HashMap<ParamId, Tensor<1>> {
    struct Collect(HashMap<ParamId, Tensor<1>>);
    impl ModuleVisitor for Collect {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let t = param.val().detach().without_autodiff();
            let n = t.dims().iter().product::<usize>();
            self.0.insert(param.id, t.reshape([n]));
        }
    }
    let mut c = Collect(HashMap::new());
    model.visit(&mut c);
    c.0
}

impl Ema {
    /// Starts the average at `model`'s weights.
    ///
    /// # Panics
    ///
    /// If `decay` is not in `[0, 1)`.
    pub fn new(decay: f64, model: &EnergyNet) -> Self {
        assert!(
            (0.0..1.0).contains(&decay),
            "EMA decay {decay} is not in [0, 1)"
        );
        Self {
            decay,
            averages: parameters(model),
        }
    }

    /// `average <- decay * average + (1 - decay) * weight` for every parameter of `model`.
    pub fn update(&mut self, model: &EnergyNet) {
        for (id, w) in parameters(model) {
            let next = match self.averages.remove(&id) {
                Some(avg) => avg * self.decay + w * (1.0 - self.decay),
                None => w,
            };
            self.averages.insert(id, next);
        }
    }

    /// `live` on the plain device with every parameter replaced by its average.
    pub fn model(&self, live: &EnergyNet) -> EnergyNet {
        struct Swap<'a>(&'a HashMap<ParamId, Tensor<1>>);
        impl ModuleMapper for Swap<'_> {
            fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
                let Some(avg) = self.0.get(&param.id) else {
                    return param;
                };
                let avg = avg.clone();
                param.map(|w| avg.reshape(w.dims()))
            }
        }
        live.valid().map(&mut Swap(&self.averages))
    }

    /// Restores the average from a saved averaged network (whose parameter ids are the live
    /// network's).
    pub fn from_model(decay: f64, averaged: &EnergyNet) -> Self {
        Self::new(decay, averaged)
    }
}
