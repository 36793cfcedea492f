//! The CPU kernels of this crate against Burn's own operations, through Burn tensors: values,
//! input gradients and weight gradients, on the plain and the autodiff device.
#![cfg(feature = "flex")]

use burn::tensor::activation::sigmoid;
use burn::tensor::module::conv2d;
use burn::tensor::{Device, Distribution, Tensor};
use ebm_kernels::extension as flex_ext;
use ebm_kernels::same_conv_options;

/// max |a - b| / max(|b|, 1e-3): the relative error of the largest entry.
fn rel_err<const D: usize>(a: Tensor<D>, b: Tensor<D>) -> f32 {
    let scale = b.clone().abs().max().into_scalar::<f32>().max(1e-3);
    (a - b).abs().max().into_scalar::<f32>() / scale
}

fn burn_conv(x: Tensor<4>, w: Tensor<4>, stride: usize) -> Tensor<4> {
    let [_, _, h, wd] = x.dims();
    let options = same_conv_options(h, wd, w.dims()[2], stride);
    conv2d(x, w, None, options)
}

#[test]
fn convolutions_match_burn_to_1e4() {
    let plain = Device::flex();
    let device = plain.clone().autodiff();
    // (batch, c_in, c_out, h, w, kernel, stride): Winograd (3x3 stride 1, >= 8 channels, sizes
    // that are not multiples of its 4x4 tile), the im2col stem path, 4x4 stride-2 kernels
    // both as im2col (few channels) and as Winograd on the space-to-depth rewrite (MnistNet's
    // 28 -> 14, 14 -> 7 and 7 -> 4), each
    // with symmetric (28 -> 14) and asymmetric (7 -> 4) SAME padding.
    let cases = [
        (2, 16, 12, 9, 7, 3, 1),
        (3, 8, 8, 32, 32, 3, 1),
        (2, 3, 8, 8, 8, 3, 1),
        (2, 1, 8, 28, 28, 3, 1),
        (2, 4, 6, 28, 28, 4, 2),
        (2, 5, 6, 7, 7, 4, 2),
        (2, 8, 16, 28, 28, 4, 2),
        (3, 16, 8, 14, 14, 4, 2),
        (2, 12, 24, 7, 7, 4, 2),
    ];
    for (b, ci, co, h, w, k, s) in cases {
        let x0 = Tensor::<4>::random([b, ci, h, w], Distribution::Normal(0.0, 1.0), &plain);
        let w0 = Tensor::<4>::random([co, ci, k, k], Distribution::Normal(0.0, 0.3), &plain);
        let ours_plain = flex_ext::conv_same(x0.clone(), w0.clone(), s);
        let burn_plain = burn_conv(x0.clone(), w0.clone(), s);
        let e = rel_err(ours_plain.clone(), burn_plain);
        assert!(e < 1e-4, "{:?} forward: {e}", (b, ci, co, h, w, k, s));

        let r = Tensor::<4>::random(ours_plain.dims(), Distribution::Normal(0.0, 1.0), &device);
        let grads = |f: &dyn Fn(Tensor<4>, Tensor<4>) -> Tensor<4>| {
            let x = x0.clone().autodiff().require_grad();
            let w = w0.clone().autodiff().require_grad();
            let g = (f(x.clone(), w.clone()) * r.clone()).sum().backward();
            (x.grad(&g).unwrap(), w.grad(&g).unwrap())
        };
        let (ours_dx, ours_dw) = grads(&|x, w| flex_ext::conv_same(x, w, s));
        let (burn_dx, burn_dw) = grads(&|x, w| burn_conv(x, w, s));
        let (ex, ew) = (rel_err(ours_dx, burn_dx), rel_err(ours_dw, burn_dw));
        assert!(
            ex < 1e-4,
            "{:?} input gradient: {ex}",
            (b, ci, co, h, w, k, s)
        );
        assert!(
            ew < 1e-4,
            "{:?} weight gradient: {ew}",
            (b, ci, co, h, w, k, s)
        );
    }
}

#[test]
fn input_gradient_with_constant_weights_matches_burn() {
    // The sampler's case: only x is tracked, the weights live on the plain device.
    let plain = Device::flex();
    let x0 = Tensor::<4>::random([2, 16, 10, 10], Distribution::Normal(0.0, 1.0), &plain);
    let w = Tensor::<4>::random([8, 16, 3, 3], Distribution::Normal(0.0, 0.3), &plain);
    let dx = |f: &dyn Fn(Tensor<4>) -> Tensor<4>| {
        let x = x0.clone().autodiff().require_grad();
        let g = f(x.clone()).powi_scalar(2).sum().backward();
        x.grad(&g).unwrap()
    };
    let ours = dx(&|x| flex_ext::conv_same(x, w.clone(), 1));
    let burn = dx(&|x| burn_conv(x, w.clone(), 1));
    let e = rel_err(ours, burn);
    assert!(e < 1e-4, "{e}");
}

/// Values and input gradients of `swish(pre(x))`, on the autodiff device, against Burn's
/// `x * sigmoid(x)` to 1e-4.
fn assert_swish_matches_burn<const D: usize>(x0: &Tensor<D>, pre: fn(Tensor<D>) -> Tensor<D>) {
    let run = |f: &dyn Fn(Tensor<D>) -> Tensor<D>| {
        let x = x0.clone().autodiff().require_grad();
        let y = f(pre(x.clone()));
        let g = (y.clone() * y.clone()).sum().backward();
        (y, x.grad(&g).unwrap())
    };
    let (ours_y, ours_dx) = run(&|x| flex_ext::swish(x));
    let (burn_y, burn_dx) = run(&|x| x.clone() * sigmoid(x));
    assert!(rel_err(ours_y, burn_y) < 1e-4);
    assert!(rel_err(ours_dx, burn_dx) < 1e-4);
}

#[test]
fn swish_matches_burn_to_1e4() {
    let x0 = Tensor::<3>::random([3, 5, 70], Distribution::Normal(0.0, 4.0), &Device::flex());
    assert_swish_matches_burn(&x0, |x| x);
}

#[test]
fn swish_overwrites_only_unshared_tensors() {
    // An intermediate result owns its values alone and the kernel reuses its buffer; a tensor
    // the caller still holds is copied. Values and gradients are Burn's either way.
    let plain = Device::flex();
    let x0 = Tensor::<2>::random([7, 300], Distribution::Normal(0.0, 3.0), &plain);
    let before = x0.clone().into_data();
    let want = (x0.clone() * 2.0) * sigmoid(x0.clone() * 2.0);
    assert!(rel_err(flex_ext::swish(x0.clone() * 2.0), want.clone()) < 1e-4);
    assert!(
        rel_err(
            flex_ext::swish(x0.clone()),
            x0.clone() * sigmoid(x0.clone())
        ) < 1e-4
    );
    assert_eq!(
        x0.clone().into_data(),
        before,
        "a shared input was overwritten"
    );

    assert_swish_matches_burn(&x0, |x| x * 2.0);
    assert_eq!(x0.into_data(), before, "the leaf was overwritten");
}
