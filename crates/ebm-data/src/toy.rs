//! Toy 2-D distributions for demos and tests, drawn with a caller's random source.

/// A 2-D toy density.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Toy2d {
    /// Eight Gaussians (std 0.1) on a circle of radius 2: a standard mode-coverage test.
    EightGaussians,
    /// Two interleaved spirals.
    TwoSpirals,
    /// A 4x4 checkerboard on [-2, 2]^2, uniform on the black squares.
    Checkerboard,
    /// Three concentric rings of radii 0.75, 1.5, 2.25.
    Rings,
}

impl Toy2d {
    /// Parses `8gaussians`, `spirals`, `checkerboard`, `rings`.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "8gaussians" | "eight-gaussians" => Some(Toy2d::EightGaussians),
            "spirals" | "two-spirals" => Some(Toy2d::TwoSpirals),
            "checkerboard" => Some(Toy2d::Checkerboard),
            "rings" => Some(Toy2d::Rings),
            _ => None,
        }
    }

    /// Centre of mode `k` of [`Toy2d::EightGaussians`].
    pub fn gaussian_centre(k: usize) -> [f64; 2] {
        let a = std::f64::consts::TAU * k as f64 / 8.0;
        [2.0 * a.cos(), 2.0 * a.sin()]
    }

    /// Draws `n` points as `[x0, y0, x1, y1, ...]`. `uniform` yields U(0, 1), `normal` N(0, 1).
    pub fn sample(
        self,
        n: usize,
        uniform: &mut dyn FnMut() -> f64,
        normal: &mut dyn FnMut() -> f64,
    ) -> Vec<f32> {
        let mut out = Vec::with_capacity(2 * n);
        for _ in 0..n {
            let [x, y] = match self {
                Toy2d::EightGaussians => {
                    let k = ((uniform() * 8.0) as usize).min(7);
                    let [cx, cy] = Self::gaussian_centre(k);
                    [cx + 0.1 * normal(), cy + 0.1 * normal()]
                }
                Toy2d::TwoSpirals => {
                    let t = uniform().sqrt() * 3.0 * std::f64::consts::PI;
                    let sign = if uniform() < 0.5 { 1.0 } else { -1.0 };
                    let r = t / (1.5 * std::f64::consts::PI);
                    [
                        sign * r * t.cos() + 0.05 * normal(),
                        sign * r * t.sin() + 0.05 * normal(),
                    ]
                }
                Toy2d::Checkerboard => {
                    let x = uniform() * 4.0 - 2.0;
                    let col = (x + 2.0).floor() as i64;
                    let row = (uniform() * 2.0).floor() as i64 * 2 + (col & 1);
                    [x, row as f64 + uniform() - 2.0]
                }
                Toy2d::Rings => {
                    let ring = ((uniform() * 3.0) as usize).min(2) as f64 + 1.0;
                    let a = uniform() * std::f64::consts::TAU;
                    let r = 0.75 * ring + 0.05 * normal();
                    [r * a.cos(), r * a.sin()]
                }
            };
            out.push(x as f32);
            out.push(y as f32);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lcg() -> impl FnMut() -> f64 {
        let mut s = 12345u64;
        move || {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (s >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    #[test]
    fn eight_gaussians_cover_every_mode() {
        let mut u = lcg();
        let mut n = lcg();
        let pts = Toy2d::EightGaussians.sample(800, &mut u, &mut || n() - 0.5);
        let mut counts = [0; 8];
        for p in pts.chunks(2) {
            let k = (0..8)
                .min_by(|&a, &b| {
                    let d = |k: usize| {
                        let [cx, cy] = Toy2d::gaussian_centre(k);
                        (p[0] as f64 - cx).powi(2) + (p[1] as f64 - cy).powi(2)
                    };
                    d(a).total_cmp(&d(b))
                })
                .unwrap();
            counts[k] += 1;
        }
        assert!(counts.iter().all(|&c| c > 60), "{counts:?}");
    }

    #[test]
    fn checkerboard_points_fall_on_black_squares() {
        let mut u = lcg();
        let pts = Toy2d::Checkerboard.sample(500, &mut u, &mut || 0.0);
        for p in pts.chunks(2) {
            let (c, r) = ((p[0] + 2.0).floor() as i64, (p[1] + 2.0).floor() as i64);
            assert!(
                (0..4).contains(&c) && (0..4).contains(&r),
                "{p:?} outside the board"
            );
            assert_eq!((c + r) % 2, 0, "{p:?} on a white square");
        }
    }
}
