//! The wgpu backend computes the same energies and input gradients as flex (to 1e-4).
//!
//! Compiled only with the `wgpu` feature (`cargo xtask test` turns it on). On a machine without
//! a GPU it runs on a software adapter: Mesa's lavapipe (`apt-get install mesa-vulkan-drivers`).

#![cfg(feature = "wgpu")]

use burn::module::Module;
use burn::tensor::{Device, DeviceKind, Distribution, Tensor};
use ebm_model::{BlockSpec, EnergyModel, ResNetConfig, one_hot};
use ebm_sampler::energy_and_grad;

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

#[test]
fn wgpu_energy_and_input_gradient_match_flex() {
    let flex = Device::flex();
    let wgpu = Device::wgpu(DeviceKind::DefaultDevice);
    let config = ResNetConfig::new(vec![BlockSpec::new(16, true), BlockSpec::new(32, true)])
        .with_stem_channels(16)
        .with_num_classes(Some(10));
    // Trained-like weights: a residual branch away from zero, so every conv matters.
    let mut net = config.init(&flex);
    for block in net.blocks.iter_mut() {
        let dims = block.conv_b.weight.val().dims();
        block.conv_b.weight = burn::module::Param::from_tensor(Tensor::random(
            dims,
            Distribution::Normal(0.0, 0.1),
            &flex,
        ));
    }
    let x = Tensor::<4>::random([4, 3, 16, 16], Distribution::Default, &flex);
    let labels = [0usize, 3, 7, 9];

    let on_flex = net.valid();
    let y = one_hot(&labels, 10, &flex);
    let (e_flex, g_flex) = energy_and_grad(&|x| on_flex.energy(x, Some(y.clone())), x.clone());

    let on_wgpu = net.valid().to_device(&wgpu);
    let y = one_hot(&labels, 10, &wgpu);
    let (e_wgpu, g_wgpu) =
        energy_and_grad(&|x| on_wgpu.energy(x, Some(y.clone())), x.to_device(&wgpu));

    let e_flex = e_flex.into_data().try_to_vec::<f32>().unwrap();
    let e_wgpu = e_wgpu.into_data().try_to_vec::<f32>().unwrap();
    let g_flex = g_flex.into_data().try_to_vec::<f32>().unwrap();
    let g_wgpu = g_wgpu.into_data().try_to_vec::<f32>().unwrap();
    let scale = e_flex.iter().map(|e| e.abs()).fold(1.0, f32::max);
    let de = max_abs_diff(&e_flex, &e_wgpu) / scale;
    let gscale = g_flex.iter().map(|g| g.abs()).fold(1e-6, f32::max);
    let dg = max_abs_diff(&g_flex, &g_wgpu) / gscale;
    eprintln!("energies {e_flex:?} vs {e_wgpu:?}; max |grad| {gscale}");
    assert!(de < 1e-4, "energies differ by {de} (relative to {scale})");
    assert!(
        dg < 1e-4,
        "input gradients differ by {dg} (relative to max |grad| {gscale})"
    );
}
