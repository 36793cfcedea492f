//! Evaluation statistics: AUROC and the Frechet distance between Gaussian fits of features.

/// Area under the ROC curve for telling `positive` scores from `negative` ones (higher score =
/// more positive), by the Mann-Whitney rank statistic with ties counted half.
///
/// # Panics
///
/// If either set is empty.
pub fn auroc(positive: &[f64], negative: &[f64]) -> f64 {
    assert!(
        !positive.is_empty() && !negative.is_empty(),
        "AUROC needs both classes"
    );
    let mut all: Vec<(f64, bool)> = positive
        .iter()
        .map(|&s| (s, true))
        .chain(negative.iter().map(|&s| (s, false)))
        .collect();
    all.sort_by(|a, b| a.0.total_cmp(&b.0));
    // Average ranks over ties.
    let mut rank_sum_pos = 0.0;
    let mut i = 0;
    while i < all.len() {
        let mut j = i;
        while j < all.len() && all[j].0 == all[i].0 {
            j += 1;
        }
        let avg_rank = (i + j + 1) as f64 / 2.0; // ranks are 1-based: i+1 ..= j
        rank_sum_pos += avg_rank * all[i..j].iter().filter(|x| x.1).count() as f64;
        i = j;
    }
    let (np, nn) = (positive.len() as f64, negative.len() as f64);
    (rank_sum_pos - np * (np + 1.0) / 2.0) / (np * nn)
}

/// The ROC curve of telling `positive` from `negative` scores (higher = more positive): the
/// points `(false positive rate, true positive rate)` at every distinct threshold, from
/// `(0, 0)` to `(1, 1)`; ties move both rates at once, so the area under the polyline is
/// [`auroc`].
///
/// # Panics
///
/// If either set is empty.
pub fn roc_curve(positive: &[f64], negative: &[f64]) -> Vec<(f64, f64)> {
    assert!(
        !positive.is_empty() && !negative.is_empty(),
        "a ROC curve needs both classes"
    );
    let mut all: Vec<(f64, bool)> = positive
        .iter()
        .map(|&s| (s, true))
        .chain(negative.iter().map(|&s| (s, false)))
        .collect();
    // Highest score first: lowering the threshold admits more of both.
    all.sort_by(|a, b| b.0.total_cmp(&a.0));
    let (np, nn) = (positive.len() as f64, negative.len() as f64);
    let (mut tp, mut fp) = (0usize, 0usize);
    let mut out = vec![(0.0, 0.0)];
    let mut i = 0;
    while i < all.len() {
        let mut j = i;
        while j < all.len() && all[j].0 == all[i].0 {
            if all[j].1 {
                tp += 1;
            } else {
                fp += 1;
            }
            j += 1;
        }
        out.push((fp as f64 / nn, tp as f64 / np));
        i = j;
    }
    out
}

/// Mean of the rows (each `d` wide) of `rows`.
pub fn mean_rows(rows: &[f64], d: usize) -> Vec<f64> {
    let n = rows.len() / d;
    let mut mean = vec![0.0; d];
    for r in rows.chunks(d) {
        for (m, v) in mean.iter_mut().zip(r) {
            *m += v / n as f64;
        }
    }
    mean
}

/// Mean and covariance (unbiased) of `n` rows of dimension `d`.
pub fn mean_cov(rows: &[f64], d: usize) -> (Vec<f64>, Vec<f64>) {
    let n = rows.len() / d;
    assert!(n >= 2, "need at least two feature vectors");
    let mean = mean_rows(rows, d);
    let mut cov = vec![0.0; d * d];
    for r in rows.chunks(d) {
        for i in 0..d {
            let a = r[i] - mean[i];
            for j in i..d {
                cov[i * d + j] += a * (r[j] - mean[j]);
            }
        }
    }
    for i in 0..d {
        for j in i..d {
            let v = cov[i * d + j] / (n - 1) as f64;
            cov[i * d + j] = v;
            cov[j * d + i] = v;
        }
    }
    (mean, cov)
}

/// Eigen-decomposition of a symmetric `d x d` matrix by cyclic Jacobi rotations: returns
/// `(eigenvalues, eigenvectors as columns)`.
pub fn symmetric_eigen(a: &[f64], d: usize) -> (Vec<f64>, Vec<f64>) {
    let mut a = a.to_vec();
    let mut v = vec![0.0; d * d];
    for i in 0..d {
        v[i * d + i] = 1.0;
    }
    for _sweep in 0..100 {
        let off: f64 = (0..d)
            .flat_map(|i| (0..d).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| a[i * d + j].powi(2))
            .sum();
        let scale: f64 = (0..d)
            .map(|i| a[i * d + i].powi(2))
            .sum::<f64>()
            .max(1e-300);
        if off <= 1e-22 * scale {
            break;
        }
        for p in 0..d {
            for q in p + 1..d {
                let apq = a[p * d + q];
                if apq.abs() < 1e-300 {
                    continue;
                }
                let theta = (a[q * d + q] - a[p * d + p]) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..d {
                    let (akp, akq) = (a[k * d + p], a[k * d + q]);
                    a[k * d + p] = c * akp - s * akq;
                    a[k * d + q] = s * akp + c * akq;
                }
                for k in 0..d {
                    let (apk, aqk) = (a[p * d + k], a[q * d + k]);
                    a[p * d + k] = c * apk - s * aqk;
                    a[q * d + k] = s * apk + c * aqk;
                }
                for k in 0..d {
                    let (vkp, vkq) = (v[k * d + p], v[k * d + q]);
                    v[k * d + p] = c * vkp - s * vkq;
                    v[k * d + q] = s * vkp + c * vkq;
                }
            }
        }
    }
    ((0..d).map(|i| a[i * d + i]).collect(), v)
}

fn matmul(a: &[f64], b: &[f64], d: usize) -> Vec<f64> {
    let mut c = vec![0.0; d * d];
    for i in 0..d {
        for k in 0..d {
            let aik = a[i * d + k];
            for j in 0..d {
                c[i * d + j] += aik * b[k * d + j];
            }
        }
    }
    c
}

/// Frechet distance between Gaussians `(mu1, s1)` and `(mu2, s2)`:
/// `|mu1 - mu2|^2 + tr(s1 + s2 - 2 (s1 s2)^(1/2))`, with the trace of the square root taken as
/// the sum of square roots of the eigenvalues of the symmetric `s1^(1/2) s2 s1^(1/2)`.
pub fn frechet_distance(mu1: &[f64], s1: &[f64], mu2: &[f64], s2: &[f64]) -> f64 {
    let d = mu1.len();
    let (l1, v1) = symmetric_eigen(s1, d);
    // sqrt(s1) = V diag(sqrt(l)) V^T
    let mut sqrt1 = vec![0.0; d * d];
    for i in 0..d {
        for j in 0..d {
            sqrt1[i * d + j] = (0..d)
                .map(|k| v1[i * d + k] * l1[k].max(0.0).sqrt() * v1[j * d + k])
                .sum();
        }
    }
    let m = matmul(&matmul(&sqrt1, s2, d), &sqrt1, d);
    let (lm, _) = symmetric_eigen(&m, d);
    let tr_sqrt: f64 = lm.iter().map(|l| l.max(0.0).sqrt()).sum();
    let diff: f64 = mu1.iter().zip(mu2).map(|(a, b)| (a - b).powi(2)).sum();
    let tr: f64 = (0..d).map(|i| s1[i * d + i] + s2[i * d + i]).sum();
    (diff + tr - 2.0 * tr_sqrt).max(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auroc_extremes_and_ties() {
        assert_eq!(auroc(&[3.0, 4.0], &[1.0, 2.0]), 1.0);
        assert_eq!(auroc(&[1.0, 2.0], &[3.0, 4.0]), 0.0);
        assert_eq!(auroc(&[1.0, 1.0], &[1.0, 1.0]), 0.5);
        assert!((auroc(&[1.0, 3.0], &[2.0, 0.0]) - 0.75).abs() < 1e-12);
    }

    #[test]
    fn roc_curve_area_is_the_auroc() {
        let pos = [0.9, 0.8, 0.8, 0.3, 0.1];
        let neg = [0.85, 0.8, 0.2, 0.05];
        let roc = roc_curve(&pos, &neg);
        assert_eq!(roc.first(), Some(&(0.0, 0.0)));
        assert_eq!(roc.last(), Some(&(1.0, 1.0)));
        let area: f64 = roc
            .windows(2)
            .map(|w| (w[1].0 - w[0].0) * (w[1].1 + w[0].1) / 2.0)
            .sum();
        assert!((area - auroc(&pos, &neg)).abs() < 1e-12, "{area}");
    }

    #[test]
    fn frechet_distance_of_known_gaussians() {
        let d = 3;
        let eye: Vec<f64> = (0..9).map(|i| if i % 4 == 0 { 1.0 } else { 0.0 }).collect();
        let four: Vec<f64> = eye.iter().map(|v| v * 4.0).collect();
        let z = vec![0.0; d];
        assert!(frechet_distance(&z, &eye, &z, &eye).abs() < 1e-9);
        assert!((frechet_distance(&z, &eye, &[1.0, 2.0, 2.0], &eye) - 9.0).abs() < 1e-9);
        // d * (sqrt(1) - sqrt(4))^2 = 3.
        assert!((frechet_distance(&z, &eye, &z, &four) - 3.0).abs() < 1e-9);
        // A non-diagonal covariance against itself, rotated data: distance 0.
        let s = vec![2.0, 0.5, 0.1, 0.5, 1.0, 0.3, 0.1, 0.3, 0.7];
        assert!(frechet_distance(&z, &s, &z, &s).abs() < 1e-8);
    }

    #[test]
    fn jacobi_reconstructs_the_matrix() {
        let s = vec![2.0, 0.5, 0.1, 0.5, 1.0, 0.3, 0.1, 0.3, 0.7];
        let (l, v) = symmetric_eigen(&s, 3);
        for i in 0..3 {
            for j in 0..3 {
                let r: f64 = (0..3).map(|k| v[i * 3 + k] * l[k] * v[j * 3 + k]).sum();
                assert!((r - s[i * 3 + j]).abs() < 1e-10);
            }
        }
    }
}
