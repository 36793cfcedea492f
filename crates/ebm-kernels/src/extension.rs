//! The CPU kernels of this crate as a Burn backend extension on `burn-flex`, with hand-written
//! backward passes for `Autodiff<Flex>`.
//!
//! - `conv_same`: TensorFlow-SAME convolution. 3x3 stride-1 kernels run as Winograd F(4x4, 3x3)
//!   ([`crate::winograd`]; input gradient: the same kernel on the flipped weights), strided
//!   kernels that are a multiple of their stride (4x4 stride 2) as Winograd on their
//!   space-to-depth rewrite ([`crate::space_to_depth`]), every other kernel and stride as
//!   im2col + GEMM ([`crate::im2col`]); weight gradients by im2col.
//! - `swish`: one pass forward (in place on a tensor nothing else holds), one pass backward
//!   (in place on the incoming gradient likewise) ([`crate::swish`](mod@crate::swish)).
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
use burn::tensor::ops::ConvOptions;
use burn::tensor::{DType, Device, Tensor, TensorData};
use burn_flex::FlexTensor;

use crate::geometry::{ConvGeometry, same_conv_options};
use crate::im2col;
use crate::space_to_depth::{self, Pass};
use crate::swish as swish_kernel;
use crate::winograd::{Nchw, TransformedKernel, conv3x3 as winograd, flip_kernel};

/// True for the CPU backend's device, plain or under autodiff.
pub fn is_flex(device: &Device) -> bool {
    matches!(
        device.as_dispatch().clone().inner(),
        DispatchDevice::Flex(_)
    )
}

/// [`crate::conv2d_same`] on a flex tensor.
pub fn conv_same(x: Tensor<4>, weight: Tensor<4>, stride: usize) -> Tensor<4> {
    Tensor::from_dispatch(<Dispatch as FlexKernels>::conv_same(
        x.into_dispatch(),
        weight.into_dispatch(),
        stride,
    ))
}

/// [`crate::swish()`] on a flex tensor.
pub fn swish<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    Tensor::from_dispatch(<Dispatch as FlexKernels>::swish(x.into_dispatch()))
}

/// The extension's operations.
#[backend_extension(Flex, Autodiff)]
pub trait FlexKernels: burn::backend::Backend {
    /// Square kernel, `stride`, TensorFlow SAME padding, no bias.
    fn conv_same(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        stride: usize,
    ) -> FloatTensor<Self>;
    /// `x * sigmoid(x)`.
    fn swish(x: FloatTensor<Self>) -> FloatTensor<Self>;
}

impl FlexKernels for Flex {
    fn conv_same(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        stride: usize,
    ) -> FloatTensor<Self> {
        conv_forward(&x, &weight, stride)
    }

    fn swish(x: FloatTensor<Self>) -> FloatTensor<Self> {
        swish_forward(x)
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

/// The `f32` values of a tensor that can be overwritten in place: contiguous over the whole of
/// its own, unshared storage; `None` otherwise.
fn unique_values_mut(t: &mut FlexTensor) -> Option<&mut [f32]> {
    if t.dtype() != DType::F32 {
        return None;
    }
    let (start, end) = t.layout().contiguous_offsets()?;
    let storage = t.try_storage_mut::<f32>()?;
    (start == 0 && end == storage.len()).then_some(storage)
}

fn from_vec(values: Vec<f32>, shape: Vec<usize>) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, shape))
}

/// The SAME geometry of `x` `[B, C_in, H, W]` under `weight` `[C_out, C_in, k, k]`.
fn geometry(x: &FlexTensor, weight: &FlexTensor, stride: usize) -> (usize, ConvGeometry) {
    let (xs, ws) = (x.layout().shape(), weight.layout().shape());
    assert_eq!(ws[2], ws[3], "square kernels only, got {ws:?}");
    assert_eq!(xs[1], ws[1], "input channels do not match the kernel");
    let g = ConvGeometry::same([ws[1], ws[0]], ws[2], stride, (xs[2], xs[3]));
    (xs[0], g)
}

/// Burn's options for the same convolution (the fallback for other dtypes).
fn burn_options(g: &ConvGeometry) -> ConvOptions<2> {
    same_conv_options(g.in_h, g.in_w, g.kernel, g.stride)
}

/// How a convolution runs.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Path {
    /// 3x3 stride 1: Winograd F(4x4, 3x3).
    Winograd,
    /// Kernel a multiple of the stride: Winograd on the space-to-depth rewrite.
    SpaceToDepth,
    /// Anything else: im2col + GEMM.
    Im2col,
}

/// The space-to-depth form where it does at most this fraction of im2col's multiplications;
/// its transforms and rearrangements cost the rest (measured at batch 128, forward and input
/// gradient: MnistNet's 28 -> 14 conv at a ratio of 0.56 and 0.73 runs in about 0.85 of
/// im2col's time, its 14 -> 7 one at 0.73 in 0.9, its 7 -> 4 one at 0.56 in 0.84).
const MAX_WORK_RATIO: f64 = 0.8;

/// Winograd between layers with at least 8 channels each way; the 1- and 3-channel stems are
/// faster as im2col (measured with `ebm bench`: MnistNet's step 0.16 s against 0.17 s at batch
/// 128, ResNet32's 0.45 s against 0.50 s at batch 32).
fn path(g: &ConvGeometry, pass: Pass) -> Path {
    if g.c_in < 8 || g.c_out < 8 {
        Path::Im2col
    } else if g.kernel == 3 && g.stride == 1 {
        Path::Winograd
    } else if space_to_depth::applies(g) && space_to_depth::work_ratio(g, pass) <= MAX_WORK_RATIO {
        Path::SpaceToDepth
    } else {
        Path::Im2col
    }
}

fn conv_forward(x: &FlexTensor, weight: &FlexTensor, stride: usize) -> FlexTensor {
    let (batch, g) = geometry(x, weight, stride);
    let (Some(xv), Some(wv)) = (values(x), values(weight)) else {
        return Flex::conv2d(x.clone(), weight.clone(), None, burn_options(&g));
    };
    let out = match path(&g, Pass::Forward) {
        Path::Winograd => {
            let shape = Nchw {
                batch,
                channels: g.c_in,
                height: g.in_h,
                width: g.in_w,
            };
            winograd(&xv, shape, &TransformedKernel::new(&wv, g.c_out, g.c_in, 3))
        }
        Path::SpaceToDepth => space_to_depth::forward(&xv, batch, &g, &wv),
        Path::Im2col => im2col::forward(&xv, batch, &g, &wv),
    };
    from_vec(out, vec![batch, g.c_out, g.out_h, g.out_w])
}

fn conv_grad_input(
    x: &FlexTensor,
    weight: &FlexTensor,
    grad: &FlexTensor,
    stride: usize,
) -> FlexTensor {
    let (batch, g) = geometry(x, weight, stride);
    let (Some(wv), Some(gv)) = (values(weight), values(grad)) else {
        return Flex::conv2d_x_backward(x.clone(), weight.clone(), grad.clone(), burn_options(&g));
    };
    let dx = match path(&g, Pass::InputGradient) {
        Path::Winograd => {
            let shape = Nchw {
                batch,
                channels: g.c_out,
                height: g.out_h,
                width: g.out_w,
            };
            let flipped = flip_kernel(&wv, g.c_out, g.c_in, 3);
            winograd(
                &gv,
                shape,
                &TransformedKernel::new(&flipped, g.c_in, g.c_out, 3),
            )
        }
        Path::SpaceToDepth => space_to_depth::backward_input(&gv, batch, &g, &wv),
        Path::Im2col => im2col::backward_input(&gv, batch, &g, &wv),
    };
    from_vec(dx, vec![batch, g.c_in, g.in_h, g.in_w])
}

fn conv_grad_weight(
    x: &FlexTensor,
    weight: &FlexTensor,
    grad: &FlexTensor,
    stride: usize,
) -> FlexTensor {
    let (batch, g) = geometry(x, weight, stride);
    let (Some(xv), Some(gv)) = (values(x), values(grad)) else {
        return Flex::conv2d_weight_backward(
            x.clone(),
            weight.clone(),
            grad.clone(),
            burn_options(&g),
        );
    };
    let dw = im2col::backward_weight(&xv, &gv, batch, &g);
    from_vec(dw, weight.layout().shape().to_vec())
}

/// Swish of `x`, in place when `x` owns its values alone.
fn swish_forward(mut x: FlexTensor) -> FlexTensor {
    if let Some(v) = unique_values_mut(&mut x) {
        swish_kernel::swish_in_place(v);
        return x;
    }
    match values(&x) {
        Some(v) => from_vec(swish_kernel::swish(&v), x.layout().shape().to_vec()),
        None => {
            let s = Flex::sigmoid(x.clone());
            Flex::float_mul(x, s)
        }
    }
}

/// The input gradient of swish at `x`, overwriting `grad` when it owns its values alone.
///
/// The backward pass keeps `x` and computes the sigmoid again rather than keeping it from the
/// forward pass: a kept sigmoid is one more activation-sized buffer per swish whenever nothing
/// else holds the output (ResNet32's swish outputs feed additions, not convolutions: +24% peak
/// memory in training, measured), for a backward pass only about 3 ms faster per MnistNet step.
fn swish_grad(x: &FlexTensor, mut grad: FlexTensor) -> FlexTensor {
    if let Some(xv) = values(x) {
        if let Some(g) = unique_values_mut(&mut grad) {
            swish_kernel::swish_backward(&xv, g);
            return grad;
        }
        if let Some(gv) = values(&grad) {
            let mut g = gv.into_owned();
            swish_kernel::swish_backward(&xv, &mut g);
            return from_vec(g, x.layout().shape().to_vec());
        }
    }
    // grad * s * (1 + x (1 - s)) with Burn's ops.
    let s = Flex::sigmoid(x.clone());
    let one_minus = Flex::float_add_scalar(Flex::float_neg(s.clone()), 1.0.into());
    let inner = Flex::float_add_scalar(Flex::float_mul(x.clone(), one_minus), 1.0.into());
    Flex::float_mul(grad, Flex::float_mul(s, inner))
}

#[derive(Debug)]
struct ConvBackward;

impl Backward<Flex, 2> for ConvBackward {
    /// Input, weight, stride.
    type State = (FlexTensor, FlexTensor, usize);

    fn backward(self, ops: Ops<Self::State, 2>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_x, node_w] = ops.parents;
        let grad = grads.consume::<Flex>(&ops.node);
        let (x, weight, stride) = ops.state;
        if let Some(node) = node_x {
            grads.register::<Flex>(node.id, conv_grad_input(&x, &weight, &grad, stride));
        }
        if let Some(node) = node_w {
            grads.register::<Flex>(node.id, conv_grad_weight(&x, &weight, &grad, stride));
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
    fn conv_same(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        stride: usize,
    ) -> FloatTensor<Self> {
        match ConvBackward
            .prepare::<C>([x.node(), weight.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let (xp, wp) = (x.primitive().clone(), weight.primitive().clone());
                let out = conv_forward(&xp, &wp, stride);
                prep.finish((xp, wp, stride), out)
            }
            OpsKind::UnTracked(prep) => {
                prep.finish(conv_forward(x.primitive(), weight.primitive(), stride))
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
                let xp = x.into_primitive();
                let out = swish_forward(xp.clone());
                prep.finish(xp, out)
            }
            OpsKind::UnTracked(prep) => prep.finish(swish_forward(x.into_primitive())),
        }
    }
}
