//! End to end: the `toy2d` preset learns 8 Gaussians on the CPU in well under a minute, its
//! samples cover every mode, and the energy map is written.

use burn::module::Module;
use burn::tensor::{Device, Distribution, Tensor};
use ebm_data::Toy2d;
use ebm_experiments::data::load_for;
use ebm_experiments::run::presets::preset;
use ebm_experiments::run::{RunStart, train};
use ebm_model::EnergyModel;
use ebm_sampler::{LangevinConfig, NoObserver};

#[test]
fn toy2d_samples_cover_all_eight_modes() {
    let dir = std::env::temp_dir().join(format!("ebm-toy2d-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let device = Device::flex();
    let config = preset("toy2d")
        .unwrap()
        .with_iterations(500)
        .with_batch_size(128)
        .with_log_every(100);
    let data = load_for(&config, std::path::Path::new("unused")).unwrap();
    let model = train(&config, &dir, &data, &device, RunStart::New).unwrap();
    assert!(
        dir.join("samples/final.png").is_file(),
        "energy map with samples must be written"
    );

    let plain = model.valid();
    let energy = |x: Tensor<4>| plain.energy(x, None);
    // Data is less energetic than uniform noise.
    let (x_data, _) = ebm_data::images_to_tensor(
        &data.test,
        &(0..1000).collect::<Vec<_>>(),
        ebm_data::Dequantize::None,
        &device,
    );
    let noise = Tensor::<4>::random([1000, 2, 1, 1], Distribution::Default, &device);
    let noise_points = noise.clone();
    let e_data = energy(x_data).mean().into_scalar::<f32>();
    let e_noise = energy(noise.clone()).mean().into_scalar::<f32>();
    assert!(
        e_noise - e_data > 0.5,
        "E(data) {e_data} should be well below E(noise) {e_noise}"
    );

    // 1 000 fresh samples from noise, with the training sampler run longer.
    let sampler = LangevinConfig {
        steps: 400,
        ..config.sampler.clone()
    };
    let x = sampler.run(&energy, noise, None, &mut NoObserver);
    let (counts, mean_dist) = modes(&x.into_data().try_to_vec::<f32>().unwrap());
    let (_, noise_dist) = modes(&noise_points.into_data().try_to_vec::<f32>().unwrap());
    eprintln!(
        "mode counts {counts:?}; mean distance to the nearest centre {mean_dist:.3} (noise: {noise_dist:.3})"
    );
    assert!(
        counts.iter().all(|&c| c >= 50),
        "every mode needs at least 5% of the samples: {counts:?}"
    );
    assert!(
        mean_dist < 0.5 * noise_dist,
        "samples should move to the data: {mean_dist} vs noise {noise_dist}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// Samples per nearest mode, and the mean distance to the nearest centre, for points in the
/// [0, 1]^2 training coordinates.
fn modes(pts: &[f32]) -> ([usize; 8], f64) {
    let mut counts = [0usize; 8];
    let mut dist_sum = 0.0;
    for p in pts.chunks(2) {
        let (x, y) = (f64::from(p[0]) * 6.0 - 3.0, f64::from(p[1]) * 6.0 - 3.0);
        let (k, d) = (0..8)
            .map(|k| {
                let [cx, cy] = Toy2d::gaussian_centre(k);
                (k, ((x - cx).powi(2) + (y - cy).powi(2)).sqrt())
            })
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .unwrap();
        counts[k] += 1;
        dist_sum += d;
    }
    (counts, dist_sum / (pts.len() / 2) as f64)
}
