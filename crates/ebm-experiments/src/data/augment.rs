//! Image augmentation: random translations, the augmentation that suits digits and clothing
//! (flips and colour changes do not suit digits). Training shifts replayed samples before their
//! chains continue (Du et al. 2021, "Improved Contrastive Divergence Training of Energy-Based
//! Models": a chain resumed from a slightly moved copy of its last sample must find its way
//! back to the data, which keeps chains from settling in one spot); the proxy-FID classifier
//! trains on shifted images.

use ebm_sampler::SplitMix64;

/// Shifts each `[c, h, w]` image of `values` by its own random offset of at most `max` pixels
/// along each axis, filling the uncovered border with zeros (the background of (Fashion-)MNIST).
/// `max = 0` leaves the values as they are.
pub fn random_shifts(values: &mut [f32], [c, h, w]: [usize; 3], max: usize, rng: &mut SplitMix64) {
    if max == 0 {
        return;
    }
    let len = c * h * w;
    let mut shifted = vec![0.0f32; len];
    let span = 2 * max + 1;
    for image in values.chunks_exact_mut(len) {
        let dy = rng.below(span) as isize - max as isize;
        let dx = rng.below(span) as isize - max as isize;
        shifted.fill(0.0);
        for ch in 0..c {
            for y in 0..h {
                let sy = y as isize - dy;
                if sy < 0 || sy >= h as isize {
                    continue;
                }
                for x in 0..w {
                    let sx = x as isize - dx;
                    if sx >= 0 && sx < w as isize {
                        shifted[(ch * h + y) * w + x] =
                            image[(ch * h + sy as usize) * w + sx as usize];
                    }
                }
            }
        }
        image.copy_from_slice(&shifted);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shifts_move_pixels_and_fill_with_zeros() {
        // One 1x3x3 image with a single bright pixel in the middle.
        let mut rng = SplitMix64::new(4);
        let mut moved = std::collections::HashSet::new();
        for _ in 0..50 {
            let mut v = vec![0.0f32; 9];
            v[4] = 1.0;
            random_shifts(&mut v, [1, 3, 3], 1, &mut rng);
            assert_eq!(
                v.iter().sum::<f32>(),
                1.0,
                "a 1-pixel shift keeps the centre pixel"
            );
            moved.insert(v.iter().position(|&p| p == 1.0).unwrap());
        }
        assert_eq!(moved.len(), 9, "every offset in [-1, 1]^2 occurs");
        let mut v = vec![1.0f32; 9];
        random_shifts(&mut v, [1, 3, 3], 0, &mut rng);
        assert_eq!(v, vec![1.0; 9], "max 0 is the identity");
    }
}
