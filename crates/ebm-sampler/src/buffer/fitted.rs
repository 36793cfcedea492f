//! Fresh chain starts from Gaussians fitted to the training data: the "informative
//! initialisation" of JEM++ (Yang & Ji 2021, "JEM++: Improved Techniques for Training JEM"),
//! one Gaussian per class with the class's mean image and full pixel covariance, sampled
//! through its Cholesky factor. A chain from such a start begins as a blurred member of a
//! class instead of uniform noise, so short chains have less far to go.
//!
//! Fitting accumulates sums on the host in `f64` (skipping zero pixels, most of a digit), so
//! it needs no device and repeats exactly; the covariance gets `ridge` on its diagonal, which
//! keeps constant pixels (a digit's border) from making it singular.

use crate::rng::SplitMix64;

/// Why a fit failed.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum FitError {
    /// A component (class) saw fewer than two samples.
    #[error("fitted init: component {component} has {count} samples, at least 2 needed")]
    TooFew {
        /// The component.
        component: usize,
        /// Samples it saw.
        count: usize,
    },
    /// The ridge must be positive and finite.
    #[error("fitted init: ridge {0} must be positive and finite")]
    Ridge(f64),
    /// The covariance plus ridge lost positive definiteness in `f64` (a huge or NaN input).
    #[error("fitted init: covariance of component {0} is not positive definite")]
    NotPositive(usize),
}

/// Sums of samples per component, to fit [`FittedGaussian`] from.
#[derive(Debug, Clone)]
pub struct GaussianFit {
    dim: usize,
    counts: Vec<usize>,
    sums: Vec<Vec<f64>>,
    /// Lower triangles of `sum x x^T`, row-major `dim x dim` (upper part unused).
    products: Vec<Vec<f64>>,
}

impl GaussianFit {
    /// An empty fit of `components` Gaussians over `dim` values.
    ///
    /// # Panics
    ///
    /// If `dim` or `components` is 0.
    pub fn new(dim: usize, components: usize) -> Self {
        assert!(
            dim > 0 && components > 0,
            "empty fit: {dim} values, {components} components"
        );
        Self {
            dim,
            counts: vec![0; components],
            sums: vec![vec![0.0; dim]; components],
            products: vec![vec![0.0; dim * dim]; components],
        }
    }

    /// Adds one sample of `component`.
    ///
    /// # Panics
    ///
    /// If the sample does not have `dim` values or the component is out of range.
    pub fn add(&mut self, component: usize, x: &[f32]) {
        assert_eq!(
            x.len(),
            self.dim,
            "sample of {} values for {}",
            x.len(),
            self.dim
        );
        let d = self.dim;
        self.counts[component] += 1;
        for (s, &v) in self.sums[component].iter_mut().zip(x) {
            *s += f64::from(v);
        }
        let products = &mut self.products[component];
        for (i, &xi) in x.iter().enumerate() {
            if xi == 0.0 {
                continue;
            }
            let xi = f64::from(xi);
            for (p, &xj) in products[i * d..i * d + i + 1].iter_mut().zip(&x[..=i]) {
                *p += xi * f64::from(xj);
            }
        }
    }

    /// The Gaussians: each component's mean and covariance (divided by its count), `ridge`
    /// added to the covariance's diagonal, factored.
    ///
    /// # Errors
    ///
    /// [`FitError`] when a component has fewer than two samples, the ridge is not positive, or
    /// a factorisation fails.
    pub fn finish(self, ridge: f64) -> Result<FittedGaussian, FitError> {
        if ridge <= 0.0 || !ridge.is_finite() {
            return Err(FitError::Ridge(ridge));
        }
        let d = self.dim;
        let mut components = Vec::with_capacity(self.counts.len());
        for (c, ((count, sum), mut a)) in self
            .counts
            .into_iter()
            .zip(self.sums)
            .zip(self.products)
            .enumerate()
        {
            if count < 2 {
                return Err(FitError::TooFew {
                    component: c,
                    count,
                });
            }
            let n = count as f64;
            let mean: Vec<f64> = sum.iter().map(|s| s / n).collect();
            for i in 0..d {
                for j in 0..=i {
                    a[i * d + j] = a[i * d + j] / n - mean[i] * mean[j];
                }
                a[i * d + i] += ridge;
            }
            cholesky_in_place(&mut a, d).map_err(|()| FitError::NotPositive(c))?;
            components.push(Component {
                mean: mean.iter().map(|&m| m as f32).collect(),
                factor: a.iter().map(|&v| v as f32).collect(),
            });
        }
        Ok(FittedGaussian { dim: d, components })
    }
}

/// Overwrites the lower triangle of the symmetric `d x d` matrix `a` (row-major, lower part
/// read) with its Cholesky factor `L` (`a = L L^T`); the upper part is zeroed.
fn cholesky_in_place(a: &mut [f64], d: usize) -> Result<(), ()> {
    for j in 0..d {
        let row_j = a[j * d..j * d + j].to_vec();
        let diag = a[j * d + j] - row_j.iter().map(|v| v * v).sum::<f64>();
        if diag <= 0.0 || !diag.is_finite() {
            return Err(());
        }
        let ljj = diag.sqrt();
        a[j * d + j] = ljj;
        a[j * d + j + 1..(j + 1) * d]
            .iter_mut()
            .for_each(|v| *v = 0.0);
        for i in j + 1..d {
            let dot: f64 = a[i * d..i * d + j]
                .iter()
                .zip(&row_j)
                .map(|(x, y)| x * y)
                .sum();
            a[i * d + j] = (a[i * d + j] - dot) / ljj;
        }
    }
    Ok(())
}

#[derive(Debug, Clone)]
struct Component {
    mean: Vec<f32>,
    /// Cholesky factor of the covariance, lower triangle, row-major `dim x dim`.
    factor: Vec<f32>,
}

/// One Gaussian per component (class), fitted by [`GaussianFit`].
#[derive(Debug, Clone)]
pub struct FittedGaussian {
    dim: usize,
    components: Vec<Component>,
}

impl FittedGaussian {
    /// Values per sample.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Gaussians (classes) fitted.
    pub fn components(&self) -> usize {
        self.components.len()
    }

    /// A component's mean.
    pub fn mean(&self, component: usize) -> &[f32] {
        &self.components[component].mean
    }

    /// Appends one draw `mean + L z`, `z ~ N(0, I)`, of `component` to `out`.
    ///
    /// # Panics
    ///
    /// If the component is out of range.
    pub fn draw(&self, component: usize, rng: &mut SplitMix64, out: &mut Vec<f32>) {
        let Component { mean, factor } = &self.components[component];
        let d = self.dim;
        let z: Vec<f32> = (0..d).map(|_| rng.normal() as f32).collect();
        out.extend((0..d).map(|i| {
            let row = &factor[i * d..i * d + i + 1];
            mean[i] + row.iter().zip(&z).map(|(l, z)| l * z).sum::<f32>()
        }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_have_the_fitted_mean_and_covariance() {
        // Two correlated values: x0 ~ N(0.2, 0.04), x1 = 0.5 x0 + 0.6 + N(0, 0.01).
        let mut rng = SplitMix64::new(3);
        let mut fit = GaussianFit::new(2, 1);
        for _ in 0..20_000 {
            let x0 = 0.2 + 0.2 * rng.normal();
            let x1 = 0.5 * x0 + 0.6 + 0.1 * rng.normal();
            fit.add(0, &[x0 as f32, x1 as f32]);
        }
        let g = fit.finish(1e-6).unwrap();
        assert_eq!((g.dim(), g.components()), (2, 1));
        assert!((g.mean(0)[0] - 0.2).abs() < 0.01 && (g.mean(0)[1] - 0.7).abs() < 0.01);
        let mut out = Vec::new();
        for _ in 0..20_000 {
            g.draw(0, &mut rng, &mut out);
        }
        let n = 20_000.0;
        let m0 = out.iter().step_by(2).map(|&v| f64::from(v)).sum::<f64>() / n;
        let m1 = out
            .iter()
            .skip(1)
            .step_by(2)
            .map(|&v| f64::from(v))
            .sum::<f64>()
            / n;
        let (mut v0, mut v1, mut c01) = (0.0, 0.0, 0.0);
        for p in out.chunks(2) {
            let (a, b) = (f64::from(p[0]) - m0, f64::from(p[1]) - m1);
            v0 += a * a / n;
            v1 += b * b / n;
            c01 += a * b / n;
        }
        assert!(
            (m0 - 0.2).abs() < 0.01 && (m1 - 0.7).abs() < 0.01,
            "{m0} {m1}"
        );
        // Var x0 0.04, Var x1 0.25 * 0.04 + 0.01 = 0.02, Cov 0.5 * 0.04 = 0.02.
        assert!((v0 - 0.04).abs() < 0.003, "{v0}");
        assert!((v1 - 0.02).abs() < 0.0015, "{v1}");
        assert!((c01 - 0.02).abs() < 0.0015, "{c01}");
    }

    #[test]
    fn constant_values_small_classes_and_a_bad_ridge() {
        // Component 0: first value always 0 (a digit's border), second varies; component 1
        // sits elsewhere.
        let mut fit = GaussianFit::new(2, 2);
        for k in 0..10 {
            fit.add(0, &[0.0, k as f32 / 10.0]);
            fit.add(1, &[1.0, 1.0]);
        }
        let g = fit.clone().finish(1e-4).unwrap();
        let mut rng = SplitMix64::new(1);
        let mut out = Vec::new();
        g.draw(1, &mut rng, &mut out);
        assert!(out.iter().all(|&v| (v - 1.0).abs() < 0.1), "{out:?}");
        out.clear();
        g.draw(0, &mut rng, &mut out);
        assert!(out[0].abs() < 0.1, "{out:?}");
        assert_eq!(fit.clone().finish(0.0).unwrap_err(), FitError::Ridge(0.0));
        let mut few = GaussianFit::new(2, 2);
        few.add(0, &[0.1, 0.2]);
        few.add(0, &[0.3, 0.2]);
        few.add(1, &[0.1, 0.2]);
        assert_eq!(
            few.finish(1e-3).unwrap_err(),
            FitError::TooFew {
                component: 1,
                count: 1
            }
        );
    }

    #[test]
    fn cholesky_matches_a_known_factor() {
        // [[4, 2, 2], [2, 5, 3], [2, 3, 6]] = L L^T with L = [[2,0,0],[1,2,0],[1,1,2]].
        let mut a = vec![4.0, 0.0, 0.0, 2.0, 5.0, 0.0, 2.0, 3.0, 6.0];
        cholesky_in_place(&mut a, 3).unwrap();
        assert_eq!(a, vec![2.0, 0.0, 0.0, 1.0, 2.0, 0.0, 1.0, 1.0, 2.0]);
        let mut bad = vec![1.0, 0.0, 2.0, 1.0];
        assert!(cholesky_in_place(&mut bad, 2).is_err());
    }
}
