//! Every preset network: shape, weight count against the reference table, finite energies,
//! conditioning, and a bit-exact save/load round trip.

use burn::module::Module;
use burn::tensor::{Device, Distribution, Tensor};
use ebm_model::{
    BlockSpec, EnergyModel, MlpEnergyConfig, MnistNetConfig, ResNetConfig, one_hot, weight_count,
};

fn assert_within_1pct(found: usize, expected: f64, name: &str) {
    let rel = (found as f64 - expected).abs() / expected;
    assert!(
        rel < 0.01,
        "{name}: {found} weights, reference {expected} ({:.2}% off)",
        rel * 100.0
    );
}

fn finite(values: &[f32]) -> bool {
    values.iter().all(|v| v.is_finite())
}

#[test]
fn resnet32_matches_reference_and_is_conditional() {
    let device = Device::flex();
    let net = ResNetConfig::resnet32(Some(10)).init(&device);
    assert_within_1pct(weight_count(&net), 5.31e6, "ResNet32");
    let x = Tensor::<4>::random([2, 3, 32, 32], Distribution::Default, &device);
    let e0 = net.energy(x.clone(), Some(one_hot(&[0, 0], 10, &device)));
    let e3 = net.energy(x.clone(), Some(one_hot(&[3, 3], 10, &device)));
    assert_eq!(e0.dims(), [2]);
    let e0: Vec<f32> = e0.into_data().try_to_vec::<f32>().unwrap();
    let e3: Vec<f32> = e3.into_data().try_to_vec::<f32>().unwrap();
    assert!(finite(&e0) && finite(&e3));
    let all = net.class_energies(x);
    assert_eq!(all.dims(), [2, 10]);
    let all: Vec<f32> = all.into_data().try_to_vec::<f32>().unwrap();
    for i in 0..2 {
        assert!(
            (all[i * 10] - e0[i]).abs() < 1e-4,
            "class_energies[{i}, 0] {} vs energy {}",
            all[i * 10],
            e0[i]
        );
        assert!((all[i * 10 + 3] - e3[i]).abs() < 1e-4);
    }
}

#[test]
fn conditional_energies_depend_on_the_label() {
    let device = Device::flex();
    // A small conditional ResNet whose per-class parameters are not at their init values.
    let mut net = ResNetConfig::new(vec![ebm_model::BlockSpec::new(8, true)])
        .with_stem_channels(8)
        .with_num_classes(Some(3))
        .init(&device);
    // As after training: per-class biases apart and a residual branch away from zero.
    let bias = Tensor::<2>::random([3, 8], Distribution::Normal(0.0, 1.0), &device);
    net.blocks[0].bias_a = burn::module::Param::from_tensor(bias);
    let kernel = Tensor::<4>::random([8, 8, 3, 3], Distribution::Normal(0.0, 0.1), &device);
    net.blocks[0].conv_b.weight = burn::module::Param::from_tensor(kernel);
    let x = Tensor::<4>::random([4, 3, 8, 8], Distribution::Default, &device);
    let e: Vec<f32> = net
        .class_energies(x)
        .into_data()
        .try_to_vec::<f32>()
        .unwrap();
    assert!(finite(&e));
    for i in 0..4 {
        let row = &e[i * 3..i * 3 + 3];
        assert!(
            (row[0] - row[1]).abs() > 1e-6 && (row[1] - row[2]).abs() > 1e-6,
            "row {row:?}"
        );
    }
}

#[test]
fn resnet32_large_and_wider_match_reference() {
    let device = Device::flex();
    let large = ResNetConfig::resnet32_large(None).init(&device);
    assert_within_1pct(weight_count(&large), 18.58e6, "ResNet32Large");
    let wider = ResNetConfig::resnet32_wider(192, None).init(&device);
    assert_within_1pct(weight_count(&wider), 41.9e6, "ResNet32Wider(192)");
    let x = Tensor::<4>::random([1, 3, 32, 32], Distribution::Default, &device);
    let e: Vec<f32> = large
        .energy(x, None)
        .into_data()
        .try_to_vec::<f32>()
        .unwrap();
    assert_eq!(e.len(), 1);
    assert!(finite(&e));
}

#[test]
fn mnist_net_matches_reference() {
    let device = Device::flex();
    let net = MnistNetConfig::new().init(&device);
    assert_within_1pct(weight_count(&net), 1.25e6, "MnistNet");
    let x = Tensor::<4>::random([3, 1, 28, 28], Distribution::Default, &device);
    let e: Vec<f32> = net.energy(x, None).into_data().try_to_vec::<f32>().unwrap();
    assert_eq!(e.len(), 3);
    assert!(finite(&e));
}

#[test]
fn resnet_mnist_is_conditional_at_28x28() {
    let device = Device::flex();
    let net = ResNetConfig::resnet_mnist(Some(10)).init(&device);
    assert_within_1pct(weight_count(&net), 0.39e6, "ResNetMnist");
    let x = Tensor::<4>::random([3, 1, 28, 28], Distribution::Default, &device);
    let all = net.class_energies(x.clone());
    assert_eq!(all.dims(), [3, 10]);
    let y = one_hot(&[2, 5, 9], 10, &device);
    let e: Vec<f32> = net
        .energy(x, Some(y))
        .into_data()
        .try_to_vec::<f32>()
        .unwrap();
    let all: Vec<f32> = all.into_data().try_to_vec::<f32>().unwrap();
    for (i, class) in [2, 5, 9].into_iter().enumerate() {
        assert!(
            (e[i] - all[i * 10 + class]).abs() < 1e-5,
            "{e:?} vs {all:?}"
        );
    }
}

#[test]
fn class_head_picks_one_output_of_an_unconditioned_trunk() {
    let device = Device::flex();
    let plain = ResNetConfig::new(vec![ebm_model::BlockSpec::new(8, true)])
        .with_stem_channels(8)
        .with_num_classes(Some(3));
    let head = plain.clone().with_class_head(Some(true)).init(&device);
    let blocks = plain.init(&device);
    // No per-class parameters in the blocks (one bias row, not one per class).
    assert_eq!(blocks.blocks[0].bias_a.val().dims()[0], 3);
    assert_eq!(head.blocks[0].bias_a.val().dims()[0], 1);
    let x = Tensor::<4>::random([4, 3, 8, 8], Distribution::Default, &device);
    assert_the_label_picks_its_class_energy(&head, x, &[0, 2, 1, 2]);
}

/// `energy(x, y)` is column `y` of `class_energies(x)`, and the (Xavier) head gives each of the
/// three classes its own output.
fn assert_the_label_picks_its_class_energy(
    net: &impl EnergyModel<4>,
    x: Tensor<4>,
    labels: &[usize],
) {
    let device = x.device();
    let all = net.class_energies(x.clone());
    assert_eq!(all.dims(), [labels.len(), 3]);
    let all: Vec<f32> = all.into_data().try_to_vec::<f32>().unwrap();
    let e: Vec<f32> = net
        .energy(x, Some(one_hot(labels, 3, &device)))
        .into_data()
        .try_to_vec::<f32>()
        .unwrap();
    for (i, &y) in labels.iter().enumerate() {
        assert!((e[i] - all[i * 3 + y]).abs() < 1e-5, "{e:?} vs {all:?}");
        assert!((all[i * 3] - all[i * 3 + 1]).abs() > 1e-6, "{all:?}");
    }
}

#[test]
fn a_conditional_mnist_net_picks_one_output_per_label() {
    let device = Device::flex();
    let net = MnistNetConfig::new()
        .with_in_channels(3)
        .with_image_size(16)
        .with_filters(8)
        .with_hidden(16)
        .with_num_classes(Some(3))
        .init(&device);
    // 16 -> 8 -> 4 -> 2: the dense layer reads the 2x2 map of 32 channels.
    assert_eq!(net.fc.weight.val().dims(), [4 * 8 * 2 * 2, 16]);
    let x = Tensor::<4>::random([4, 3, 16, 16], Distribution::Default, &device);
    assert_the_label_picks_its_class_energy(&net, x, &[1, 0, 2, 1]);
}

/// Energies of one 8x8 pattern painted with each of `colours` (per-channel gains) under a
/// one-input-channel MnistNet configured by `reduce`.
fn energies_of_one_pattern_in(
    colours: &[[f32; 3]],
    reduce: impl Fn(MnistNetConfig) -> MnistNetConfig,
) -> Vec<f32> {
    let device = Device::flex();
    let config = MnistNetConfig::new()
        .with_in_channels(3)
        .with_image_size(8)
        .with_filters(4)
        .with_hidden(8);
    let net = reduce(config).init(&device);
    assert_eq!(net.convs[0].weight.val().dims()[1], 1, "one input channel");
    let x = one_pattern_in(colours, &device);
    net.energy(x, None).into_data().try_to_vec::<f32>().unwrap()
}

/// One 8x8 pattern painted in each of `colours` (channel gains): `[colours, 3, 8, 8]`.
fn one_pattern_in(colours: &[[f32; 3]], device: &Device) -> Tensor<4> {
    let pattern: Vec<f32> = (0..64).map(|i| ((i * 7) % 5) as f32 / 4.0).collect();
    let data: Vec<f32> = colours
        .iter()
        .flat_map(|gains| {
            let pattern = &pattern;
            gains
                .iter()
                .flat_map(move |g| pattern.iter().map(move |p| p * g))
        })
        .collect();
    let shape = [colours.len(), 3, 8, 8];
    Tensor::<4>::from_data(burn::tensor::TensorData::new(data, shape), device)
}

#[test]
fn a_max_channel_resnet_sees_every_hue_alike_under_every_label() {
    let device = Device::flex();
    let net = ResNetConfig::new(vec![BlockSpec::new(8, true)])
        .with_stem_channels(4)
        .with_num_classes(Some(3))
        .with_max_channel_input(Some(true))
        .init(&device);
    assert_eq!(net.stem.weight.val().dims()[1], 1, "one input channel");
    let colours = [
        [1.0, 0.0, 0.0],
        [0.0, 1.0, 0.0],
        [0.0, 0.0, 1.0],
        [0.5, 0.5, 0.5],
    ];
    let e: Vec<f32> = net
        .class_energies(one_pattern_in(&colours, &device))
        .into_data()
        .try_to_vec::<f32>()
        .unwrap();
    // Rows of three class energies: red, green and blue alike for every label, grey not.
    for k in 0..3 {
        assert!(
            (e[k] - e[3 + k]).abs() < 1e-5 && (e[k] - e[6 + k]).abs() < 1e-5,
            "{e:?}"
        );
        assert!((e[k] - e[9 + k]).abs() > 1e-6, "{e:?}");
    }
}

#[test]
fn a_grey_input_mnist_net_is_blind_to_hue() {
    // Red and green (equal channel means) alike; yellow (brighter) not.
    let e = energies_of_one_pattern_in(&[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [1.0, 1.0, 0.0]], |c| {
        c.with_grey_input(Some(true))
    });
    assert!((e[0] - e[1]).abs() < 1e-6, "{e:?}");
    assert!((e[0] - e[2]).abs() > 1e-6, "{e:?}");
}

#[test]
fn a_max_channel_mnist_net_sees_every_hue_alike() {
    // Red, blue and yellow alike; a dim grey version not.
    let e = energies_of_one_pattern_in(
        &[
            [1.0, 0.0, 0.0],
            [0.0, 0.0, 1.0],
            [1.0, 1.0, 0.0],
            [0.5, 0.5, 0.5],
        ],
        |c| c.with_max_channel_input(Some(true)),
    );
    assert!(
        (e[0] - e[1]).abs() < 1e-6 && (e[0] - e[2]).abs() < 1e-6,
        "{e:?}"
    );
    assert!((e[0] - e[3]).abs() > 1e-6, "{e:?}");
}

#[test]
fn mlp_energy_shapes_and_conditioning() {
    let device = Device::flex();
    let net = MlpEnergyConfig::new(2)
        .with_num_classes(Some(4))
        .init(&device);
    let x = Tensor::<2>::random([6, 2], Distribution::Normal(0.0, 1.0), &device);
    let e: Vec<f32> = net
        .class_energies(x)
        .into_data()
        .try_to_vec::<f32>()
        .unwrap();
    assert_eq!(e.len(), 24);
    assert!(finite(&e));
    assert!(
        (e[0] - e[1]).abs() > 1e-7,
        "labels must change the energy: {:?}",
        &e[..4]
    );
}

#[test]
fn save_then_load_gives_bit_identical_energies_and_u() {
    let device = Device::flex();
    let train_device = device.clone().autodiff();
    let net = MnistNetConfig::new()
        .with_filters(8)
        .with_hidden(16)
        .init(&train_device);
    // A training forward advances every `u`, so the saved state differs from the init.
    let x = Tensor::<4>::random([2, 1, 28, 28], Distribution::Default, &train_device);
    let _ = net.energy(x, None);
    let u_saved: Vec<f32> = net.convs[1]
        .spectral
        .as_ref()
        .unwrap()
        .u()
        .into_data()
        .try_to_vec::<f32>()
        .unwrap();

    let dir = std::env::temp_dir().join(format!("ebm-model-save-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("mnist.bpk");
    net.clone().save_file(&path).expect("save");

    let fresh = MnistNetConfig::new()
        .with_filters(8)
        .with_hidden(16)
        .init(&device);
    let loaded = fresh.try_load_file(&path).expect("load");
    let u_loaded: Vec<f32> = loaded.convs[1]
        .spectral
        .as_ref()
        .unwrap()
        .u()
        .into_data()
        .try_to_vec::<f32>()
        .unwrap();
    assert_eq!(
        u_saved, u_loaded,
        "the power-iteration vector must survive save/load"
    );

    let probe = Tensor::<4>::random([4, 1, 28, 28], Distribution::Default, &device);
    let before: Vec<f32> = net
        .valid()
        .energy(probe.clone(), None)
        .into_data()
        .try_to_vec::<f32>()
        .unwrap();
    let after: Vec<f32> = loaded
        .energy(probe, None)
        .into_data()
        .try_to_vec::<f32>()
        .unwrap();
    assert_eq!(
        before, after,
        "energies must be bit-identical after a round trip"
    );
    std::fs::remove_dir_all(&dir).ok();
}
