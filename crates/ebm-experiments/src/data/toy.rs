//! Toy 2-D densities as a dataset.

use ebm_data::{ImageSet, Toy2d};
use ebm_sampler::SplitMix64;
use ebm_sampler::buffer::quantize;

use super::Splits;

/// Toy 2-D data drawn once from the seed and stored like images: points scaled from
/// [-3, 3]^2 into [0, 1]^2 and quantised to 256 levels (`[2, 1, 1]` per point), so the toy
/// runs through the same loop, buffer and clamp as images.
pub fn toy_splits(toy: Toy2d, seed: u64) -> Splits {
    let mut rng = SplitMix64::new(seed);
    let mut make = |n: usize| {
        let mut u = SplitMix64::new(rng.next_u64());
        let mut g = SplitMix64::new(rng.next_u64());
        let pts = toy.sample(n, &mut || u.next_f64(), &mut || g.normal());
        let pixels = pts.iter().map(|&v| quantize((v + 3.0) / 6.0)).collect();
        ImageSet::new("toy2d", pixels, vec![0; n], [2, 1, 1], 1).expect("toy points")
    };
    Splits {
        train: make(20_000),
        test: make(2_000),
    }
}
