//! The EBM as a classifier (logits `-E(x, y)`), the paper's defence (Langevin purification of
//! the input under each class, reference section 6.3), and the input gradients the attacks
//! follow: through the classifier alone, or (BPDA/EOT) through the purification.
//!
//! Everything works on "rows": the `n` images tiled over `chains x classes`, row
//! `(chain * classes + y) * n + i` holding image `i` under class `y`, so one chunked pass
//! serves every class and chain.

use burn::tensor::Tensor;
use burn::tensor::activation::softmax;
use ebm_model::{EnergyModel, one_hot};
use ebm_sampler::{LangevinConfig, NoObserver, energy_and_grad};
use serde::Serialize;

use crate::run::model::EnergyNet;

/// Rows per forward pass (memory bound).
const CHUNK: usize = 500;

/// The purification: `sampler` (its `steps` are the purification steps) from the input under
/// each class, each step projected into `[x - radius, x + radius]` when a radius is given, with
/// `chains` independent chains whose energies are averaged.
#[derive(Clone, Debug, Serialize)]
pub struct Purify {
    /// The Langevin chain.
    pub sampler: LangevinConfig,
    /// Half-width of the box around the input each step is projected into (the official
    /// 8/255), or `None`.
    pub radius: Option<f64>,
    /// Chains per image and class.
    pub chains: usize,
}

fn tile(x: &Tensor<4>, classes: usize, chains: usize) -> (Tensor<4>, Vec<usize>) {
    let n = x.dims()[0];
    let rows = x.clone().repeat_dim(0, classes * chains);
    let labels = (0..classes * chains * n)
        .map(|r| (r / n) % classes)
        .collect();
    (rows, labels)
}

/// Runs `purify` on `rows` under `labels`, chunked.
fn purify_rows(plain: &EnergyNet, rows: Tensor<4>, labels: &[usize], p: &Purify) -> Tensor<4> {
    let classes = plain.num_classes().expect("a conditional network");
    let total = rows.dims()[0];
    let one = p.sampler.clone().with_steps(1);
    let mut out = Vec::new();
    for start in (0..total).step_by(CHUNK) {
        let end = (start + CHUNK).min(total);
        let x0 = rows.clone().slice(start..end);
        let y = one_hot(&labels[start..end], classes, &x0.device());
        let energy = |x: Tensor<4>| plain.energy(x, Some(y.clone()));
        let mut x = x0.clone();
        for _ in 0..p.sampler.steps {
            x = one.run(&energy, x, None, &mut NoObserver);
            if let Some(r) = p.radius {
                x = x.max_pair(x0.clone() - r).min_pair(x0.clone() + r);
            }
        }
        out.push(x);
    }
    Tensor::cat(out, 0)
}

/// Energies `[rows]` and their input gradients, chunked.
fn energies_and_grads(
    plain: &EnergyNet,
    rows: Tensor<4>,
    labels: &[usize],
) -> (Tensor<1>, Tensor<4>) {
    let classes = plain.num_classes().expect("a conditional network");
    let total = rows.dims()[0];
    let (mut es, mut gs) = (Vec::new(), Vec::new());
    for start in (0..total).step_by(CHUNK) {
        let end = (start + CHUNK).min(total);
        let x = rows.clone().slice(start..end);
        let y = one_hot(&labels[start..end], classes, &x.device());
        let (e, g) = energy_and_grad(&|x| plain.energy(x, Some(y.clone())), x);
        es.push(e);
        gs.push(g);
    }
    (Tensor::cat(es, 0), Tensor::cat(gs, 0))
}

/// Logits `[n, classes]`: `-E(x, y)`, or with purification `-mean over chains of E(x~_y, y)`.
pub fn logits(plain: &EnergyNet, x: &Tensor<4>, purify: Option<&Purify>) -> Tensor<2> {
    let classes = plain.num_classes().expect("a conditional network");
    let n = x.dims()[0];
    let chains = purify.map_or(1, |p| p.chains);
    let (rows, labels) = tile(x, classes, chains);
    let rows = match purify {
        Some(p) => purify_rows(plain, rows, &labels, p),
        None => rows,
    };
    let mut es = Vec::new();
    for start in (0..rows.dims()[0]).step_by(CHUNK) {
        let end = (start + CHUNK).min(rows.dims()[0]);
        let y = one_hot(&labels[start..end], classes, &x.device());
        es.push(plain.energy(rows.clone().slice(start..end), Some(y)));
    }
    let e = Tensor::cat(es, 0).reshape([chains, classes, n]);
    -e.mean_dim(0).reshape([classes, n]).transpose()
}

/// Input gradient of the cross-entropy of the EBM classifier at `x` against `labels`. With
/// `purify`, BPDA: the rows are purified, the gradient is taken at the purified rows and
/// passed straight through the purification (its Jacobian taken as the identity), averaged
/// over the purification's chains (EOT).
///
/// With logits `l_y = -(1/C) sum_c E(x~_{c,y}, y)` and softmax `p`, `dCE/dx~_{c,y} =
/// -(p_y - t_y) / C * dE(x~_{c,y}, y)/dx~`; the image's gradient is their sum.
pub fn ce_grad(
    plain: &EnergyNet,
    x: &Tensor<4>,
    labels: &[usize],
    purify: Option<&Purify>,
) -> Tensor<4> {
    let classes = plain.num_classes().expect("a conditional network");
    let [n, c, h, w] = x.dims();
    let chains = purify.map_or(1, |p| p.chains);
    let (rows, row_labels) = tile(x, classes, chains);
    let rows = match purify {
        Some(p) => purify_rows(plain, rows, &row_labels, p),
        None => rows,
    };
    let (e, g) = energies_and_grads(plain, rows, &row_labels);
    let device = x.device();
    let logits = -e
        .reshape([chains, classes, n])
        .mean_dim(0)
        .reshape([classes, n])
        .transpose();
    let delta = softmax(logits, 1) - one_hot(labels, classes, &device); // [n, classes]
    // Weight of row (c, y, i): -delta[i, y] / C.
    let weights = -(delta
        .transpose()
        .reshape([1, classes, n])
        .repeat_dim(0, chains))
    .div_scalar(chains as f64);
    let weights = weights.reshape([chains * classes * n, 1, 1, 1]);
    (g * weights)
        .reshape([chains * classes, n, c, h, w])
        .sum_dim(0)
        .reshape([n, c, h, w])
}

/// Fraction of rows of `logits` whose argmax is the label.
pub fn accuracy(logits: Tensor<2>, labels: &[usize]) -> f64 {
    let pred: Vec<i64> = logits
        .argmax(1)
        .into_data()
        .convert::<i64>()
        .try_into_vec::<i64>()
        .unwrap_or_default();
    let hits = pred
        .iter()
        .zip(labels)
        .filter(|(p, y)| **p as usize == **y)
        .count();
    hits as f64 / labels.len().max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accuracy_counts_argmax_hits() {
        let l = Tensor::<2>::from_floats([[0.1, 0.9], [0.8, 0.2]], &burn::tensor::Device::flex());
        assert_eq!(accuracy(l, &[1, 1]), 0.5);
    }
}
