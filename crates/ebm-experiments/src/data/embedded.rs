//! The 10 000-digit MNIST subset embedded in the binary (`assets/mnist-10k`).

use ebm_data::parse_idx_images;

use super::Splits;

const MNIST10K_TRAIN_IMAGES: &[u8] =
    include_bytes!("../../../../assets/mnist-10k/train-images-idx3-ubyte.gz");
const MNIST10K_TRAIN_LABELS: &[u8] =
    include_bytes!("../../../../assets/mnist-10k/train-labels-idx1-ubyte.gz");
const MNIST10K_TEST_IMAGES: &[u8] =
    include_bytes!("../../../../assets/mnist-10k/t10k-images-idx3-ubyte.gz");
const MNIST10K_TEST_LABELS: &[u8] =
    include_bytes!("../../../../assets/mnist-10k/t10k-labels-idx1-ubyte.gz");

/// The embedded 10 000-digit MNIST subset (`assets/mnist-10k`): no file access at all.
pub fn embedded_mnist10k() -> Splits {
    let load = |img, lab, name| {
        parse_idx_images(name, img, name, lab, 10).expect("the embedded MNIST subset is valid")
    };
    Splits {
        train: load(
            MNIST10K_TRAIN_IMAGES,
            MNIST10K_TRAIN_LABELS,
            "assets/mnist-10k/train",
        ),
        test: load(
            MNIST10K_TEST_IMAGES,
            MNIST10K_TEST_LABELS,
            "assets/mnist-10k/t10k",
        ),
    }
}
