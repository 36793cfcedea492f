//! Sampling with the network on the plain device (no parameter gradients) gives the same
//! input gradient as the training copy on the autodiff device; only faster.

use burn::module::Module;
use burn::tensor::{Device, Distribution, Tensor};
use ebm_model::{EnergyModel, MnistNetConfig};
use ebm_sampler::energy_and_grad;

#[test]
fn plain_and_autodiff_networks_give_the_same_input_gradient() {
    let device = Device::flex();
    let train_device = device.clone().autodiff();
    let net = MnistNetConfig::new()
        .with_filters(8)
        .with_hidden(16)
        .init(&train_device);
    let x = Tensor::<4>::random([3, 1, 28, 28], Distribution::Default, &device);
    // The training copy's first forward advances spectral norm's `u`; do it once so both copies
    // below hold the same `u`.
    let _ = net.energy(x.clone().autodiff(), None);
    let plain = net.valid();
    assert!(
        !plain.convs[0].weight.val().is_autodiff(),
        "valid() moves the parameters to the plain device"
    );
    let (e_plain, g_plain) = energy_and_grad(&|x| plain.energy(x, None), x.clone());
    let frozen = net.clone().no_grad();
    let (e_ad, g_ad) = energy_and_grad(&|x| frozen.energy(x, None), x);
    let v = |t: Tensor<4>| t.into_data().try_to_vec::<f32>().unwrap();
    let (a, b) = (v(g_plain), v(g_ad));
    let max = a
        .iter()
        .zip(&b)
        .map(|(p, q)| (p - q).abs())
        .fold(0.0, f32::max);
    let scale = a.iter().map(|p| p.abs()).fold(1e-12, f32::max);
    assert!(
        max <= 1e-5 * scale.max(1.0),
        "input gradients differ by {max}"
    );
    assert_eq!(
        e_plain.into_data().try_to_vec::<f32>().unwrap(),
        e_ad.into_data().try_to_vec::<f32>().unwrap()
    );
}
