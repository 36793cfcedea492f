//! `ebm inpaint`: inpainting and denoising (reference section 5.3, `boxcorrupt` and
//! `anticorrupt`). Missing pixels are replaced by U(0, 1) noise and masked Langevin moves only
//! them; salt-and-pepper noise is removed by Langevin over the whole image (the sampler does not
//! know which pixels were hit). A conditional run samples its marginal energy
//! `-log sum_y exp(-E(x, y))`, so no label is given away. Reports the MSE of the restored images
//! against the originals beside that of the corrupted input and of a mean-fill baseline (the
//! training set's mean image in the corrupted pixels, given the mask); writes `inpaint-<mask>.json`
//! and `inpaint-<mask>.png` (rows = images: corrupted, restored, original).

use std::path::Path;
use std::time::Instant;

use anyhow::{Result, bail};
use burn::tensor::{Device, Tensor, TensorData};
use ebm_model::EnergyModel;
use ebm_sampler::{NoObserver, SplitMix64};
use serde::Serialize;

use super::{Experiment, first_images, values, write_json};
use crate::plot::grid::write_grid_columns;
use crate::run::model::EnergyNet;

/// How test images are damaged.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Corruption {
    /// The bottom half of the rows is missing (the paper's `boxcorrupt`).
    BottomHalf,
    /// The left half of the columns is missing.
    LeftHalf,
    /// Each pixel (all its channels) is missing with probability `p`.
    Random(f64),
    /// A fraction `p` of pixels is set to 0.1 or 0.9 (half each), the official `anticorrupt`
    /// values (5% + 5% there).
    SaltPepper(f64),
}

impl Corruption {
    /// Parses `bottom-half`, `left-half`, `random:P`, `salt-pepper:P` (0 < P <= 1).
    pub fn parse(s: &str) -> Result<Self> {
        let p = |v: &str| -> Result<f64> {
            match v.parse::<f64>() {
                Ok(p) if p > 0.0 && p <= 1.0 => Ok(p),
                _ => bail!("{s}: the fraction must be a number in (0, 1], got {v:?}"),
            }
        };
        Ok(match s {
            "bottom-half" => Corruption::BottomHalf,
            "left-half" => Corruption::LeftHalf,
            _ if s.starts_with("random:") => Corruption::Random(p(&s[7..])?),
            _ if s.starts_with("salt-pepper:") => Corruption::SaltPepper(p(&s[12..])?),
            _ => bail!(
                "unknown mask {s:?}: expected bottom-half, left-half, random:P or salt-pepper:P"
            ),
        })
    }

    /// The name in file names and reports.
    pub fn name(&self) -> String {
        match self {
            Corruption::BottomHalf => "bottom-half".into(),
            Corruption::LeftHalf => "left-half".into(),
            Corruption::Random(p) => format!("random-{p}"),
            Corruption::SaltPepper(p) => format!("salt-pepper-{p}"),
        }
    }

    /// Damages `x` (`n` images of `shape`, values in [0, 1]): returns the corrupted values and
    /// the mask (1 = corrupted pixel).
    pub fn apply(&self, x: &[f32], [c, h, w]: [usize; 3], seed: u64) -> (Vec<f32>, Vec<f32>) {
        let mut rng = SplitMix64::new(seed);
        let per = c * h * w;
        let mut out = x.to_vec();
        let mut mask = vec![0.0f32; x.len()];
        for img in 0..x.len() / per {
            for row in 0..h {
                for col in 0..w {
                    let (hit, value) = match *self {
                        Corruption::BottomHalf => (row >= h / 2, None),
                        Corruption::LeftHalf => (col < w / 2, None),
                        Corruption::Random(p) => (rng.next_f64() < p, None),
                        Corruption::SaltPepper(p) => {
                            let hit = rng.next_f64() < p;
                            let v = if rng.next_f64() < 0.5 { 0.1 } else { 0.9 };
                            (hit, Some(v))
                        }
                    };
                    if !hit {
                        continue;
                    }
                    for ch in 0..c {
                        let i = img * per + ch * h * w + row * w + col;
                        mask[i] = 1.0;
                        out[i] = value.unwrap_or_else(|| rng.next_f64() as f32);
                    }
                }
            }
        }
        (out, mask)
    }

    /// Whether the sampler is told which pixels are missing (not for salt-and-pepper noise).
    pub fn masked(&self) -> bool {
        !matches!(self, Corruption::SaltPepper(_))
    }
}

/// Settings of `ebm inpaint`.
#[derive(Clone, Debug)]
pub struct InpaintOptions {
    /// The damage.
    pub corruption: Corruption,
    /// Test images.
    pub n: usize,
    /// Langevin steps (`None`: ten times the run's training steps, as the official sandbox
    /// runs 10 x `num_steps`).
    pub steps: Option<usize>,
    /// Seed of the damage and the chains.
    pub seed: u64,
}

/// The contents of `inpaint-<mask>.json`. MSEs are per pixel value, over whole images and over
/// the corrupted pixels alone.
#[derive(Debug, Serialize)]
pub struct InpaintReport {
    /// Checkpoint iteration.
    pub iteration: usize,
    /// Dataset of the run.
    pub dataset: String,
    /// The damage.
    pub mask: String,
    /// Images restored.
    pub n: usize,
    /// Langevin steps.
    pub steps: usize,
    /// Energy sampled: `E(x)` or the marginal `-log sum_y exp(-E(x, y))`.
    pub energy: String,
    /// Fraction of pixel values corrupted.
    pub corrupted_fraction: f64,
    /// MSE of the restored images against the originals.
    pub mse_restored: f64,
    /// MSE of the corrupted input.
    pub mse_corrupted: f64,
    /// MSE of the mean-fill baseline.
    pub mse_mean_fill: f64,
    /// The same three over the corrupted pixels only.
    pub mse_restored_region: f64,
    /// See `mse_restored_region`.
    pub mse_corrupted_region: f64,
    /// See `mse_restored_region`.
    pub mse_mean_fill_region: f64,
    /// Seconds taken.
    pub seconds: f64,
}

/// Per-sample energy to sample for restoration: `E(x)`, or for a conditional network the
/// marginal `-log sum_y exp(-E(x, y))` (computed stably around the lowest class energy).
pub fn restoration_energy(plain: &EnergyNet, x: Tensor<4>) -> Tensor<1> {
    match plain.num_classes() {
        None => plain.energy(x, None),
        Some(_) => {
            let neg = -plain.class_energies(x); // [n, K]
            let m = neg.clone().max_dim(1); // [n, 1]
            let lse = (neg - m.clone()).exp().sum_dim(1).log() + m;
            -lse.squeeze_dim::<1>(1)
        }
    }
}

fn mse(a: &[f32], b: &[f32], mask: Option<&[f32]>) -> f64 {
    let (mut sum, mut count) = (0.0f64, 0.0f64);
    for i in 0..a.len() {
        let w = mask.map_or(1.0, |m| f64::from(m[i]));
        sum += w * f64::from(a[i] - b[i]).powi(2);
        count += w;
    }
    sum / count.max(1.0)
}

/// Restores the first `opts.n` test images of `exp`: the report, and the values of the grid
/// (up to 10 images, each as corrupted, restored, original).
pub fn inpaint(
    exp: &Experiment,
    opts: &InpaintOptions,
    device: &Device,
) -> Result<(InpaintReport, Vec<f32>)> {
    let started = Instant::now();
    anyhow::ensure!(opts.n > 0, "--n must be positive");
    let shape = exp.data.test.image_shape();
    let [c, h, w] = shape;
    let per = c * h * w;
    let (x, _) = first_images(&exp.data.test, opts.n, device);
    let n = x.dims()[0];
    let orig = values(x);
    let (bad, mask) = opts.corruption.apply(&orig, shape, opts.seed);

    let train = &exp.data.train;
    let mut mean = vec![0.0f64; per];
    for i in 0..train.len() {
        for (m, &v) in mean.iter_mut().zip(train.image(i)) {
            *m += f64::from(v);
        }
    }
    let mean: Vec<f32> = mean
        .iter()
        .map(|m| (m / (255.0 * train.len().max(1) as f64)) as f32)
        .collect();
    let mean_fill: Vec<f32> = bad
        .iter()
        .zip(&mask)
        .enumerate()
        .map(|(i, (&b, &m))| if m > 0.0 { mean[i % per] } else { b })
        .collect();

    let steps = opts.steps.unwrap_or(10 * exp.run.config.sampler.steps);
    let sampler = exp.run.config.sampler.clone().with_steps(steps);
    let plain = &exp.run.model;
    device.seed(opts.seed);
    let chunk = 100;
    let mut restored = Vec::with_capacity(bad.len());
    for start in (0..n).step_by(chunk) {
        let end = (start + chunk).min(n);
        let t = |v: &[f32]| {
            Tensor::<4>::from_data(
                TensorData::new(v[start * per..end * per].to_vec(), [end - start, c, h, w]),
                device,
            )
        };
        let free = opts.corruption.masked().then(|| t(&mask));
        let energy = |x: Tensor<4>| restoration_energy(plain, x);
        let x = sampler.run(&energy, t(&bad), free.as_ref(), &mut NoObserver);
        restored.extend(values(x));
        eprintln!("restored {end}/{n} images");
    }

    let mut grid = Vec::new();
    for i in 0..n.min(10) {
        for v in [&bad, &restored, &orig] {
            grid.extend_from_slice(&v[i * per..(i + 1) * per]);
        }
    }
    let report = InpaintReport {
        iteration: exp.run.iteration,
        dataset: exp.run.config.dataset.clone(),
        mask: opts.corruption.name(),
        n,
        steps,
        energy: match plain.num_classes() {
            Some(_) => "-log sum_y exp(-E(x, y))".into(),
            None => "E(x)".into(),
        },
        corrupted_fraction: mask.iter().map(|&m| f64::from(m)).sum::<f64>() / mask.len() as f64,
        mse_restored: mse(&restored, &orig, None),
        mse_corrupted: mse(&bad, &orig, None),
        mse_mean_fill: mse(&mean_fill, &orig, None),
        mse_restored_region: mse(&restored, &orig, Some(&mask)),
        mse_corrupted_region: mse(&bad, &orig, Some(&mask)),
        mse_mean_fill_region: mse(&mean_fill, &orig, Some(&mask)),
        seconds: started.elapsed().as_secs_f64(),
    };
    Ok((report, grid))
}

/// Runs `ebm inpaint` on the latest checkpoint of `run`.
pub fn run_inpaint(
    run: &Path,
    data_dir: &Path,
    opts: &InpaintOptions,
    device: &Device,
) -> Result<InpaintReport> {
    let exp = Experiment::load(run, data_dir, device)?;
    let (report, grid) = inpaint(&exp, opts, device)?;
    let stem = format!("inpaint-{}", report.mask);
    write_json(&run.join(format!("{stem}.json")), &report)?;
    let shape = exp.data.test.image_shape();
    write_grid_columns(&run.join(format!("{stem}.png")), &grid, shape, 3, 2)?;
    Ok(report)
}

/// The markdown table: the three MSEs over whole images and over the corrupted pixels.
pub fn markdown(r: &InpaintReport) -> String {
    format!(
        "| {} ({} images, {} steps) | MSE, whole image | MSE, corrupted pixels |\n|---|---|---|\n\
         | restored (Langevin) | {:.4} | {:.4} |\n\
         | corrupted input | {:.4} | {:.4} |\n\
         | mean-fill | {:.4} | {:.4} |\n",
        r.mask,
        r.n,
        r.steps,
        r.mse_restored,
        r.mse_restored_region,
        r.mse_corrupted,
        r.mse_corrupted_region,
        r.mse_mean_fill,
        r.mse_mean_fill_region
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_parse_and_hit_what_they_say() {
        assert_eq!(
            Corruption::parse("random:0.3").unwrap(),
            Corruption::Random(0.3)
        );
        for bad in ["random:0", "random:1.5", "salt-pepper:x", "top-half"] {
            assert!(Corruption::parse(bad).is_err(), "{bad}");
        }
        let x = vec![0.5f32; 2 * 4 * 4];
        let (bad, mask) = Corruption::BottomHalf.apply(&x, [2, 4, 4], 1);
        assert_eq!(mask.iter().sum::<f32>(), 16.0, "two rows of two channels");
        assert!(mask[..8].iter().all(|&m| m == 0.0) && mask[8..16].iter().all(|&m| m == 1.0));
        assert!(bad[..8].iter().all(|&v| v == 0.5));
        let (sp, mask) = Corruption::SaltPepper(1.0).apply(&x, [1, 4, 8], 2);
        assert!(sp.iter().all(|&v| v == 0.1 || v == 0.9) && mask.iter().all(|&m| m == 1.0));
        assert!(!Corruption::SaltPepper(0.1).masked() && Corruption::LeftHalf.masked());
    }
}
