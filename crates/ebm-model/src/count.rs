//! Counting weights the way the IGEBM reference tables do.

use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::Tensor;

struct WeightCounter {
    path: Vec<String>,
    total: usize,
}

impl ModuleVisitor for WeightCounter {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }

    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if self.path.last().is_some_and(|name| name == "weight") {
            self.total += param.shape().num_elements();
        }
    }
}

/// Number of conv and linear weight entries (biases, gains and spectral-norm vectors excluded),
/// the quantity the reference's architecture table lists.
pub fn weight_count<M: Module>(module: &M) -> usize {
    let mut counter = WeightCounter {
        path: Vec::new(),
        total: 0,
    };
    module.visit(&mut counter);
    counter.total
}
