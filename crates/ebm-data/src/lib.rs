//! Datasets for energy-based models: byte parsers with typed errors (IDX, CIFAR-10/100
//! binary, SVHN's MATLAB files, image folders), a tensor adapter, out-of-distribution sets, toy
//! densities, and the planning environments whose random-action rollouts train transition
//! models (`plan`).
//!
//! Parsers are functions of bytes: reading files is the caller's business, so every parser is
//! testable on bytes a test writes, and errors name the file they were given.

pub mod cifar;
pub mod dataset;
pub mod folder;
pub mod idx;
pub mod mat;
pub mod ood;
pub mod plan;
pub mod shapes;
pub mod tensor;
pub mod toy;

pub use cifar::{Cifar100Label, parse_cifar10, parse_cifar100, write_cifar10};
pub use dataset::{DatasetError, ImageSet};
pub use folder::{
    Fit, FolderError, decode_image, decode_image_fit, read_image_folder, read_image_folder_fit,
};
pub use idx::{IdxError, LoadError, parse_idx_images, parse_idx_u8};
pub use mat::{MatArray, MatError, MatValues, parse_mat_arrays, parse_svhn_mat, write_svhn_mat};
pub use ood::OodKind;
pub use shapes::{Attribute, Labeling, Scene, ShapesError};
pub use tensor::{Dequantize, batch_indices, images_to_tensor, shuffled_indices};
pub use toy::Toy2d;
