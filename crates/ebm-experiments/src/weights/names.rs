//! PyTorch names and layouts for the energy networks' tensors, as burn-store adapters and key
//! remappings.
//!
//! The names are those of the PyTorch reference network (`benches/reference/igebm_torch.py`),
//! whose modules mirror `ebm-model`'s field for field:
//!
//! | Burn path                      | PyTorch name                 | layout change        |
//! |--------------------------------|------------------------------|----------------------|
//! | `stem.weight` (a `SameConv2d`) | `stem.weight`                | none, `[out, in, k, k]` |
//! | `stem.spectral.u`              | `stem.u`                     | none, `[1, out]`     |
//! | `head.weight` (a `Dense`)      | `head.linear.weight`         | `[in, out]` to `[out, in]` |
//! | `head.bias`                    | `head.linear.bias`           | none                 |
//! | `fc.spectral.u`                | `fc.u`                       | none, `[1, out]`     |
//! | `blocks.0.bias_a` and the other block tables | the same       | none                 |
//!
//! The reference keeps the power-iteration vector `u` as a buffer named `u` beside the weight
//! (not `torch.nn.utils.spectral_norm`'s `weight_orig`/`weight_u`: its modules hold the raw
//! weight and normalise it in `forward`, as `ebm-model` does), so a `state_dict` of the
//! reference and an exported file have the same keys.

use burn::tensor::TensorData;
use burn_store::burn_pack::Tensor as PackTensor;
use burn_store::{ModuleAdapter, ModuleContext, SafetensorsStore, bridge};

/// The Burn module type of a linear layer of the energy networks, as burn-store names it.
const DENSE: &str = "Struct:Dense";

/// Which way tensors travel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Direction {
    /// Burn to PyTorch: transpose linear weights and put them under `linear.`.
    Export,
    /// PyTorch to Burn: transpose linear weights (the key remapping has renamed them).
    Import,
}

/// Transposes the weights of every [`ebm_model::Dense`] (Burn keeps `[in, out]`, PyTorch's
/// `nn.Linear` `[out, in]`) and, on export, names a dense layer's weight and bias as those of
/// the reference's `nn.Linear` inside it.
#[derive(Clone, Debug)]
struct TorchLayout(Direction);

impl ModuleAdapter for TorchLayout {
    fn adapt(&self, tensor: PackTensor, ctx: ModuleContext<'_>) -> PackTensor {
        if ctx.module_type() != Some(DENSE) {
            return tensor;
        }
        let param = tensor.name.rsplit('.').next().unwrap_or("").to_string();
        let name = match self.0 {
            Direction::Export => {
                let prefix = tensor.name.strip_suffix(&param).unwrap_or("");
                format!("{prefix}linear.{param}")
            }
            Direction::Import => tensor.name.clone(),
        };
        if param == "weight" && tensor.shape.len() == 2 {
            let (dtype, shape) = (tensor.dtype, tensor.shape.clone());
            let transposed = burn::tensor::shape![shape[1], shape[0]];
            return bridge::map_data(tensor, name, dtype, transposed, transpose);
        }
        let mut tensor = tensor;
        tensor.name = name;
        tensor
    }

    fn clone_box(&self) -> Box<dyn ModuleAdapter> {
        Box::new(self.clone())
    }
}

/// The transpose of a 2-D tensor of any fixed-width element type.
fn transpose(data: TensorData) -> TensorData {
    let (rows, cols) = (data.shape()[0], data.shape()[1]);
    let dtype = data.dtype();
    let size = dtype.size();
    let bytes = data.as_bytes();
    let mut out = vec![0u8; bytes.len()];
    for i in 0..rows {
        for j in 0..cols {
            let (src, dst) = ((i * cols + j) * size, (j * rows + i) * size);
            out[dst..dst + size].copy_from_slice(&bytes[src..src + size]);
        }
    }
    TensorData::from_bytes_vec(out, vec![cols, rows], dtype)
}

/// `store` set up to write a network with PyTorch names and layouts.
pub fn for_export(store: SafetensorsStore) -> SafetensorsStore {
    store
        .skip_enum_variants(true)
        .with_to_adapter(TorchLayout(Direction::Export))
        .with_key_remapping(r"\.spectral\.u$", ".u")
}

/// `store` set up to read a file with PyTorch names and layouts into a network.
pub fn for_import(store: SafetensorsStore) -> SafetensorsStore {
    store
        .skip_enum_variants(true)
        .with_from_adapter(TorchLayout(Direction::Import))
        .with_key_remapping(r"\.u$", ".spectral.u")
        .with_key_remapping(r"^(.*)\.linear\.(weight|bias)$", "$1.$2")
}
