//! Out-of-distribution sets of the IGEBM OOD table (reference section 6.2), as float images.

use crate::dataset::ImageSet;

/// A synthetic OOD set, generated to match an in-distribution image shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OodKind {
    /// U(0, 1) per pixel.
    Uniform,
    /// The paper's "constant / monochrome uniform": one U(0, 1) value per image and channel,
    /// filling the image. (No code path exists in the release; this is the likely construction.)
    Constant,
    /// What the official code calls "uniform" (`--randommix`): `0.5 + 0.5 N(0, 1)` per pixel,
    /// Gaussian and unclipped.
    OfficialUniform,
    /// `(x_i + x_{(i + 1) mod n}) / 2` over the in-distribution test images.
    Interpolation,
}

impl OodKind {
    /// Every kind, in the table's order.
    pub const ALL: [OodKind; 4] = [
        OodKind::Constant,
        OodKind::Uniform,
        OodKind::OfficialUniform,
        OodKind::Interpolation,
    ];

    /// Short name for reports.
    pub fn name(self) -> &'static str {
        match self {
            OodKind::Uniform => "uniform",
            OodKind::Constant => "constant",
            OodKind::OfficialUniform => "official_uniform",
            OodKind::Interpolation => "interpolation",
        }
    }

    /// `n` images shaped like `reference`'s, values as floats (`n * c * h * w`). Interpolation
    /// mixes consecutive images of `reference` (scaled to [0, 1]), cycling if `n > len`.
    ///
    /// # Panics
    ///
    /// For `Interpolation` with an empty reference.
    pub fn generate(
        self,
        reference: &ImageSet,
        n: usize,
        uniform: &mut dyn FnMut() -> f64,
        normal: &mut dyn FnMut() -> f64,
    ) -> Vec<f32> {
        let [c, h, w] = reference.image_shape();
        let plane = h * w;
        let mut out = Vec::with_capacity(n * c * plane);
        for i in 0..n {
            match self {
                OodKind::Uniform => out.extend((0..c * plane).map(|_| uniform() as f32)),
                OodKind::Constant => {
                    for _ in 0..c {
                        let v = uniform() as f32;
                        out.extend(std::iter::repeat_n(v, plane));
                    }
                }
                OodKind::OfficialUniform => {
                    out.extend((0..c * plane).map(|_| (0.5 + 0.5 * normal()) as f32))
                }
                OodKind::Interpolation => {
                    assert!(
                        !reference.is_empty(),
                        "interpolation needs reference images"
                    );
                    let a = reference.image(i % reference.len());
                    let b = reference.image((i + 1) % reference.len());
                    out.extend(
                        a.iter()
                            .zip(b)
                            .map(|(&a, &b)| (f32::from(a) + f32::from(b)) / 510.0),
                    );
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_images_are_constant_per_channel_and_interpolation_averages() {
        let set = ImageSet::new(
            "r",
            vec![0, 0, 0, 0, 255, 255, 255, 255],
            vec![0, 1],
            [1, 2, 2],
            2,
        )
        .unwrap();
        let mut k = 0.0;
        let mut u = || {
            k += 0.25;
            k
        };
        let c = OodKind::Constant.generate(&set, 2, &mut u, &mut || 0.0);
        assert_eq!(c, vec![0.25, 0.25, 0.25, 0.25, 0.5, 0.5, 0.5, 0.5]);
        let m = OodKind::Interpolation.generate(&set, 2, &mut || 0.0, &mut || 0.0);
        assert!(m.iter().all(|&v| (v - 0.5).abs() < 1e-6));
        let g = OodKind::OfficialUniform.generate(&set, 1, &mut || 0.0, &mut || 2.0);
        assert_eq!(g, vec![1.5; 4], "unclipped");
    }
}
