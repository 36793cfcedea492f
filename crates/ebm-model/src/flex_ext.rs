//! The CPU kernels of this crate as a Burn backend extension on `burn-flex`, with hand-written
//! backward passes for `Autodiff<Flex>`.
//!
//! - `conv3x3_same`: Winograd F(4x4, 3x3) ([`crate::winograd`]). Input gradient: the same kernel
//!   on the flipped weights; weight gradient: Burn's `conv2d_weight_backward`.
//! - `swish`: one pass forward, one pass backward ([`crate::swish_kernel`]).
//!
//! Tensors of other dtypes than `f32` fall back to Burn's operations.

use std::borrow::Cow;

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::ops::{ActivationOps, FloatTensorOps, ModuleOps};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Dispatch, DispatchDevice, Flex, backend_extension};
use burn::tensor::{DType, Device, Tensor, TensorData};
use burn_flex::FlexTensor;

use crate::fast_ops::same3x3_options;
use crate::swish_kernel;
use crate::winograd::{Nchw, TransformedKernel, conv3x3 as winograd, flip_kernel};

/// True for the CPU backend's device, plain or under autodiff.
pub fn is_flex(device: &Device) -> bool {
    matches!(
        device.as_dispatch().clone().inner(),
        DispatchDevice::Flex(_)
    )
}

/// [`crate::fast_ops::conv3x3_same`] on a flex tensor.
pub fn conv3x3(x: Tensor<4>, weight: Tensor<4>) -> Tensor<4> {
    Tensor::from_dispatch(<Dispatch as FlexKernels>::conv3x3_same(
        x.into_dispatch(),
        weight.into_dispatch(),
    ))
}

/// [`crate::fast_ops::swish`] on a flex tensor.
pub fn swish<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    Tensor::from_dispatch(<Dispatch as FlexKernels>::swish(x.into_dispatch()))
}

/// The extension's operations.
#[backend_extension(Flex, Autodiff)]
pub trait FlexKernels: burn::backend::Backend {
    /// 3x3, stride 1, padding 1, no bias.
    fn conv3x3_same(x: FloatTensor<Self>, weight: FloatTensor<Self>) -> FloatTensor<Self>;
    /// `x * sigmoid(x)`.
    fn swish(x: FloatTensor<Self>) -> FloatTensor<Self>;
}

impl FlexKernels for Flex {
    fn conv3x3_same(x: FloatTensor<Self>, weight: FloatTensor<Self>) -> FloatTensor<Self> {
        conv_forward(&x, &weight, false)
    }

    fn swish(x: FloatTensor<Self>) -> FloatTensor<Self> {
        swish_forward(&x)
    }
}

/// Contiguous `f32` values of a Flex tensor; `None` for other dtypes.
fn values(t: &FlexTensor) -> Option<Cow<'_, [f32]>> {
    if t.dtype() != DType::F32 {
        return None;
    }
    match t.as_slice::<f32>() {
        Some(s) if t.is_contiguous() => Some(Cow::Borrowed(s)),
        _ => Some(Cow::Owned(t.to_contiguous().as_slice::<f32>()?.to_vec())),
    }
}

fn from_vec(values: Vec<f32>, shape: Vec<usize>) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, shape))
}

/// `conv(x, w)`, or with `transpose_kernel` the input-gradient convolution `conv(x, flip(w))`
/// (`x` then has `C_out` channels and the result `C_in`).
fn conv_forward(x: &FlexTensor, weight: &FlexTensor, transpose_kernel: bool) -> FlexTensor {
    let (Some(xv), Some(wv)) = (values(x), values(weight)) else {
        let options = same3x3_options();
        return if transpose_kernel {
            let s = x.layout().shape();
            let c_in = weight.layout().shape()[1];
            let input = FlexTensor::zeros([s[0], c_in, s[2], s[3]].into(), x.dtype());
            Flex::conv2d_x_backward(input, weight.clone(), x.clone(), options)
        } else {
            Flex::conv2d(x.clone(), weight.clone(), None, options)
        };
    };
    let (xs, ws) = (x.layout().shape(), weight.layout().shape());
    assert_eq!(
        ws[2..],
        [3, 3],
        "conv3x3_same needs a 3x3 kernel, got {ws:?}"
    );
    let (c_out, c_in) = (ws[0], ws[1]);
    let kernel = if transpose_kernel {
        assert_eq!(xs[1], c_out, "gradient channels do not match the kernel");
        TransformedKernel::new(&flip_kernel(&wv, c_out, c_in), c_in, c_out)
    } else {
        assert_eq!(xs[1], c_in, "input channels do not match the kernel");
        TransformedKernel::new(&wv, c_out, c_in)
    };
    let shape = Nchw {
        batch: xs[0],
        channels: xs[1],
        height: xs[2],
        width: xs[3],
    };
    let out = winograd(&xv, shape, &kernel);
    from_vec(
        out,
        vec![shape.batch, kernel.c_out(), shape.height, shape.width],
    )
}

fn swish_forward(x: &FlexTensor) -> FlexTensor {
    match values(x) {
        Some(v) => from_vec(swish_kernel::swish(&v), x.layout().shape().to_vec()),
        None => {
            let s = Flex::sigmoid(x.clone());
            Flex::float_mul(x.clone(), s)
        }
    }
}

fn swish_grad(x: &FlexTensor, grad: FlexTensor) -> FlexTensor {
    let (Some(xv), Some(gv)) = (values(x), values(&grad)) else {
        // grad * s * (1 + x (1 - s)) with Burn's ops.
        let s = Flex::sigmoid(x.clone());
        let one_minus = Flex::float_add_scalar(Flex::float_neg(s.clone()), 1.0.into());
        let inner = Flex::float_add_scalar(Flex::float_mul(x.clone(), one_minus), 1.0.into());
        return Flex::float_mul(grad, Flex::float_mul(s, inner));
    };
    let mut g = gv.into_owned();
    swish_kernel::swish_backward(&xv, &mut g);
    from_vec(g, x.layout().shape().to_vec())
}

#[derive(Debug)]
struct Conv3x3Backward;

impl Backward<Flex, 2> for Conv3x3Backward {
    type State = (FlexTensor, FlexTensor);

    fn backward(self, ops: Ops<Self::State, 2>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_x, node_w] = ops.parents;
        let grad = grads.consume::<Flex>(&ops.node);
        let (x, weight) = ops.state;
        if let Some(node) = node_x {
            grads.register::<Flex>(node.id, conv_forward(&grad, &weight, true));
        }
        if let Some(node) = node_w {
            let gw = Flex::conv2d_weight_backward(x, weight, grad, same3x3_options());
            grads.register::<Flex>(node.id, gw);
        }
    }
}

#[derive(Debug)]
struct SwishBackward;

impl Backward<Flex, 1> for SwishBackward {
    type State = FlexTensor;

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_x] = ops.parents;
        let grad = grads.consume::<Flex>(&ops.node);
        if let Some(node) = node_x {
            grads.register::<Flex>(node.id, swish_grad(&ops.state, grad));
        }
    }
}

impl<C: CheckpointStrategy> FlexKernels for Autodiff<Flex, C> {
    fn conv3x3_same(x: FloatTensor<Self>, weight: FloatTensor<Self>) -> FloatTensor<Self> {
        match Conv3x3Backward
            .prepare::<C>([x.node(), weight.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let (xp, wp) = (x.primitive().clone(), weight.primitive().clone());
                let out = conv_forward(&xp, &wp, false);
                prep.finish((xp, wp), out)
            }
            OpsKind::UnTracked(prep) => {
                prep.finish(conv_forward(x.primitive(), weight.primitive(), false))
            }
        }
    }

    fn swish(x: FloatTensor<Self>) -> FloatTensor<Self> {
        match SwishBackward
            .prepare::<C>([x.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let xp = x.primitive().clone();
                let out = swish_forward(&xp);
                prep.finish(xp, out)
            }
            OpsKind::UnTracked(prep) => prep.finish(swish_forward(x.primitive())),
        }
    }
}
