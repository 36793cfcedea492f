//! The cross-entropy every classifier of the crate trains with, and the classification term
//! of conditional energies ([`crate::run::cd_step`]).

use burn::tensor::Tensor;
use burn::tensor::activation::log_softmax;

/// Per-sample cross-entropy `[batch]` of `logits` `[batch, classes]` against one-hot `target`.
pub fn cross_entropy(logits: Tensor<2>, target: Tensor<2>) -> Tensor<1> {
    -(log_softmax(logits, 1) * target)
        .sum_dim(1)
        .squeeze_dim::<1>(1)
}
