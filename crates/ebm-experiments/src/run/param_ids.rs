//! Parameter ids that depend on the network only. Burn gives every parameter a random id when
//! it is created and stores the ids in `.bpk` files, so two runs with the same seed would write
//! checkpoints that differ byte for byte although their weights are equal. Numbering the
//! parameters in visiting order (1, 2, 3, ...) right after creation, with the spectral-norm
//! states named by their initial values (`ebm_model::SpectralNorm`), makes a saved network's
//! bytes a function of its configuration, seed and values; a resumed run keeps the ids it loads.

use burn::module::{Module, ModuleMapper, Param, ParamId};
use burn::tensor::{Bool, Int, Tensor};

/// `module` with its parameters numbered in visiting order (running states keep their ids:
/// Burn does not let a mapper change them).
pub fn numbered<M: Module>(module: M) -> M {
    module.map(&mut Numbering(0))
}

struct Numbering(u64);

impl Numbering {
    fn next(&mut self) -> ParamId {
        self.0 += 1;
        ParamId::from(self.0)
    }
}

impl ModuleMapper for Numbering {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let (_, value, mapper) = param.consume();
        Param::from_mapped_value(self.next(), value, mapper)
    }

    fn map_int<const D: usize>(&mut self, param: Param<Tensor<D, Int>>) -> Param<Tensor<D, Int>> {
        let (_, value, mapper) = param.consume();
        Param::from_mapped_value(self.next(), value, mapper)
    }

    fn map_bool<const D: usize>(
        &mut self,
        param: Param<Tensor<D, Bool>>,
    ) -> Param<Tensor<D, Bool>> {
        let (_, value, mapper) = param.consume();
        Param::from_mapped_value(self.next(), value, mapper)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use burn::module::{Module, ModuleVisitor, Param};
    use burn::tensor::{Device, Tensor};
    use ebm_model::{MnistNet, MnistNetConfig};

    use super::numbered;

    /// Ids and values of every float tensor the network saves, in visiting order.
    fn contents(net: &MnistNet) -> (Vec<u64>, Vec<f32>) {
        struct Collect(Vec<u64>, Vec<f32>);
        impl ModuleVisitor for Collect {
            fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
                self.0.push(param.id.val());
                self.1
                    .extend(param.val().into_data().try_to_vec::<f32>().unwrap());
            }
        }
        let mut all = Collect(Vec::new(), Vec::new());
        net.visit(&mut all);
        (all.0, all.1)
    }

    #[test]
    fn networks_from_one_seed_get_the_same_distinct_ids_and_keep_their_values() {
        let device = Device::flex();
        let config = MnistNetConfig::new().with_filters(4);
        let init = || {
            device.seed(3);
            config.init(&device)
        };
        let (a, b) = (init(), init());
        assert_ne!(contents(&a).0, contents(&b).0, "Burn's own ids are random");
        let values = contents(&a).1;
        let (a, b) = (numbered(a), numbered(b));
        let (ids, numbered_values) = contents(&a);
        assert_eq!(ids, contents(&b).0, "same seed, same ids");
        assert_eq!(
            ids.iter().collect::<HashSet<_>>().len(),
            ids.len(),
            "ids are distinct within a network"
        );
        assert_eq!(numbered_values, values, "numbering keeps the values");
    }
}
