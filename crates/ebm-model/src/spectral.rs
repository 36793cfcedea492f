//! Spectral normalisation by power iteration (Miyato et al. 2018), as IGEBM applies it.
//!
//! A weight matrix `W` is divided by an estimate of its largest singular value `sigma`, which
//! bounds the layer's Lipschitz constant by 1 and so keeps the energy smooth in `x`.
//!
//! # When `u` is updated
//!
//! The power-iteration vector `u` is module state, persisted with the weights but never trained
//! (a [`RunningState`], like BatchNorm's running statistics). The official TensorFlow code
//! re-assigns `u` on every forward call, including every Langevin step. Burn modules are
//! immutable in `forward`, and an update during sampling would make an energy depend on how
//! many times it was evaluated, so here `u` is written back only by a forward whose weight is
//! being trained (it requires gradients: the module lives on an autodiff device and is not
//! frozen). A training iteration that evaluates positives and negatives in one batch thus
//! advances `u` once per optimiser step. Forwards on the plain device (sampling, evaluation)
//! run the same power iteration from the stored `u` but do not store the result: two such
//! forwards give bit-identical energies.

use burn::config::Config;
use burn::module::{Module, ParamId, RunningState};
use burn::tensor::{Device, Distribution, Tensor};

/// How the estimated spectral norm `sigma` rescales a weight.
#[derive(Config, Debug, Copy, PartialEq)]
pub enum SpectralMode {
    /// `W / sigma`: every normalised layer has spectral norm 1.
    Normalize,
    /// `W / (sigma + 1e-6) * min(sigma, 1)`: the norm is only capped at 1. The official code uses
    /// this for the second, near-zero-initialised conv of each residual block, so that the
    /// residual branch starts near zero instead of being blown up to norm 1.
    Cap,
}

/// An id for `u` made from its initial values (FNV-1a over their bits) rather than Burn's
/// random one: a network created from the same seed then saves to the same bytes (a module
/// mapper cannot renumber a `RunningState`: Burn keeps its id).
/// Where the values cannot be read back, Burn's random id.
fn fingerprint(u: &Tensor<2>) -> ParamId {
    match u.try_to_vec_as::<f32>() {
        Ok(values) => ParamId::from(values.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, v| {
            (h ^ u64::from(v.to_bits())).wrapping_mul(0x0000_0100_0000_01b3)
        })),
        Err(_) => ParamId::new(),
    }
}

/// Power-iteration state of one spectrally normalised weight.
#[derive(Module, Debug)]
pub struct SpectralNorm {
    /// Left singular vector estimate, `[1, rows]`, persisted, never trained.
    pub u: RunningState<Tensor<2>>,
    /// Power iterations per forward (the official `--spec_iter`, default 1).
    pub iterations: usize,
    /// `true` for [`SpectralMode::Cap`], `false` for [`SpectralMode::Normalize`].
    pub cap_only: bool,
}

impl SpectralNorm {
    /// New state for a weight matrix with `rows` rows; `u` is drawn from N(0, 1) as in the
    /// official code.
    ///
    /// # Panics
    ///
    /// If `iterations` is 0.
    pub fn new(rows: usize, iterations: usize, mode: SpectralMode, device: &Device) -> Self {
        assert!(
            iterations >= 1,
            "spectral norm needs at least one power iteration"
        );
        let u = Tensor::random([1, rows], Distribution::Normal(0.0, 1.0), device);
        Self {
            u: RunningState::with_id(fingerprint(&u), u),
            iterations,
            cap_only: mode == SpectralMode::Cap,
        }
    }

    /// Returns `w` (`[rows, cols]`) divided as the mode says, with gradients flowing through `w`
    /// and through `sigma` (but not through `u` and `v`, as in Miyato et al.).
    ///
    /// # Panics
    ///
    /// If `w` does not have as many rows as `u` has entries.
    pub fn normalize(&self, w: Tensor<2>) -> Tensor<2> {
        let [rows, _] = w.dims();
        let u = self.u.value_sync();
        assert_eq!(
            u.dims()[1],
            rows,
            "spectral norm: weight has {rows} rows, u has {:?}",
            u.dims()
        );
        let (sigma, u_next) = power_iteration(w.clone(), u, self.iterations);
        // `w` is usually a reshape or transpose of the parameter, so ask whether it is part of
        // a recorded graph (it derives from a parameter that requires gradients), not whether
        // it is itself a leaf that requires them.
        if w.is_tracked() {
            self.u.update(u_next.detach());
            // Fold the per-thread update into the stored value now, so that a save right after a
            // training step records the current `u`.
            let _ = self.u.value_sync();
        }
        let sigma = sigma.reshape([1, 1]);
        if self.cap_only {
            let scale = sigma.clone().clamp_max(1.0) / (sigma + 1e-6);
            w * scale
        } else {
            w / sigma
        }
    }

    /// The current `u` estimate.
    pub fn u(&self) -> Tensor<2> {
        self.u.value_sync()
    }
}

fn l2_normalize(x: Tensor<2>) -> Tensor<2> {
    let norm = x.clone().powi_scalar(2).sum().sqrt().reshape([1, 1]);
    x / (norm + 1e-12)
}

/// Runs `iterations` power-iteration steps on `w` (`[rows, cols]`) from `u` (`[1, rows]`).
///
/// Returns `(sigma, u)`: the singular-value estimate `u^T W v` (shape `[1]`, differentiable in
/// `w` only) and the updated, detached `u`.
///
/// # Panics
///
/// If `iterations` is 0 or the shapes disagree.
pub fn power_iteration(w: Tensor<2>, u: Tensor<2>, iterations: usize) -> (Tensor<1>, Tensor<2>) {
    assert!(iterations >= 1, "power iteration needs at least one step");
    let [rows, _] = w.dims();
    assert_eq!(
        u.dims(),
        [1, rows],
        "power iteration: u {:?} vs w {:?}",
        u.dims(),
        w.dims()
    );
    let w_const = w.clone().detach();
    let mut u = u.detach();
    let mut v = l2_normalize(u.clone().matmul(w_const.clone())); // [1, cols]
    u = l2_normalize(v.clone().matmul(w_const.clone().transpose())); // [1, rows]
    for _ in 1..iterations {
        v = l2_normalize(u.clone().matmul(w_const.clone()));
        u = l2_normalize(v.clone().matmul(w_const.clone().transpose()));
    }
    let sigma = (u.clone() * v.matmul(w.transpose())).sum();
    (sigma, u)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::TensorData;

    /// Householder reflection `I - 2 v v^T / |v|^2`, an orthogonal matrix, row-major.
    fn householder(v: &[f64]) -> Vec<f64> {
        let n = v.len();
        let norm2: f64 = v.iter().map(|x| x * x).sum();
        let mut h = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..n {
                h[i * n + j] = f64::from(i == j) - 2.0 * v[i] * v[j] / norm2;
            }
        }
        h
    }

    fn matmul(a: &[f64], b: &[f64], n: usize, k: usize, m: usize) -> Vec<f64> {
        let mut c = vec![0.0; n * m];
        for i in 0..n {
            for l in 0..k {
                for j in 0..m {
                    c[i * m + j] += a[i * k + l] * b[l * m + j];
                }
            }
        }
        c
    }

    /// A 6x4 matrix `Q1 diag(3, 1.5, 1, 0.5) Q2` with orthogonal `Q1`, `Q2`: singular values known.
    fn known_matrix() -> Vec<f64> {
        let q1 = householder(&[1.0, -2.0, 0.5, 3.0, -1.0, 0.25]);
        let q2 = householder(&[0.3, 1.0, -0.7, 2.0]);
        let s = [3.0, 1.5, 1.0, 0.5];
        let mut d = vec![0.0; 6 * 4];
        for (i, s) in s.iter().enumerate() {
            d[i * 4 + i] = *s;
        }
        matmul(&matmul(&q1, &d, 6, 6, 4), &q2, 6, 4, 4)
    }

    #[test]
    fn power_iteration_converges_to_the_largest_singular_value() {
        let device = Device::flex();
        let w: Vec<f32> = known_matrix().iter().map(|x| *x as f32).collect();
        let w = Tensor::<2>::from_data(TensorData::new(w, [6, 4]), &device);
        let u = Tensor::<2>::from_data(
            TensorData::new(vec![1f32, 0.2, -0.3, 0.4, 0.1, 0.7], [1, 6]),
            &device,
        );
        let (sigma, _) = power_iteration(w, u, 40);
        let sigma = sigma.into_scalar::<f32>();
        assert!((sigma - 3.0).abs() < 1e-3, "sigma {sigma}, expected 3");
    }

    #[test]
    fn capped_mode_keeps_small_weights_small() {
        let device = Device::flex();
        let w = Tensor::<2>::from_floats([[0.1, 0.0], [0.0, 0.05]], &device);
        let mut sn = SpectralNorm::new(2, 5, SpectralMode::Cap, &device);
        sn.u = RunningState::new(Tensor::from_floats([[1.0, 0.5]], &device));
        let out: Vec<f32> = sn
            .normalize(w.clone())
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        // sigma = 0.1 < 1: the weight is (almost) unchanged.
        assert!((out[0] - 0.1 * 0.1 / (0.1 + 1e-6)).abs() < 1e-6, "{out:?}");
        sn.cap_only = false;
        let out: Vec<f32> = sn.normalize(w).into_data().try_to_vec::<f32>().unwrap();
        assert!(
            (out[0] - 1.0).abs() < 1e-3 && (out[3] - 0.5).abs() < 1e-3,
            "{out:?}"
        );
    }
}
