//! Continual learning on split MNIST (paper section 4.x, reference section 6.4; Hsu et al.
//! 2018's incremental-class protocol): five tasks of two digits trained in sequence, tested
//! on all ten digits with no task label. A class-conditional EBM (classification by the
//! lowest class energy) trained with contrastive divergence as in the paper, the same kind of
//! energy trained with the contrastive-over-classes objective of Li et al. 2020
//! ([`classes`]), softmax classifiers fine-tuned with Adam and SGD, and the offline upper
//! bound, on the same splits and seeds.

pub mod classes;
pub mod config;
pub mod ebm;
pub mod ensemble;
pub mod matrix;
pub mod memory;
pub mod report;
pub mod softmax;

use std::path::Path;
use std::time::Instant;

use anyhow::{Result, bail};
use burn::tensor::Device;

pub use config::ContinualConfig;
pub use report::ContinualReport;

use crate::data::{DatasetName, Splits, embedded_mnist10k, load};
use report::{MethodResult, Published, SeedRun};
use softmax::Optim;

/// The methods, in the table's order.
pub const METHODS: [&str; 5] = ["ebm", "ebm-classes", "adam", "sgd", "offline"];

/// The dataset of the experiment and where it came from.
pub struct ContinualData {
    /// Training and test images.
    pub splits: Splits,
    /// `mnist` or `mnist-10k`.
    pub name: String,
    /// Where it came from, in words.
    pub source: String,
}

/// Full MNIST when `data_dir/mnist` holds it (any of its files present: then all must load),
/// else the embedded 10 000-digit subset.
pub fn load_split_mnist(data_dir: &Path) -> Result<ContinualData> {
    let dir = data_dir.join("mnist");
    let any = ["t10k-images-idx3-ubyte", "train-images-idx3-ubyte"]
        .iter()
        .any(|f| dir.join(f).is_file() || dir.join(format!("{f}.gz")).is_file());
    Ok(if any {
        ContinualData {
            splits: load(DatasetName::Mnist, data_dir)?,
            name: "mnist".into(),
            source: format!("full MNIST from {}", dir.display()),
        }
    } else {
        ContinualData {
            splits: embedded_mnist10k(),
            name: "mnist-10k".into(),
            source: format!(
                "the embedded 10 000-digit MNIST subset (no MNIST in {})",
                dir.display()
            ),
        }
    })
}

fn published(mean: f64, std: f64, source: &str) -> Option<Published> {
    Some(Published {
        mean,
        std,
        source: source.into(),
    })
}

/// Runs `methods` (names from [`METHODS`]) for every seed, writes `continual.json` and the heat
/// maps into `out`, and returns the report.
pub fn run_continual(
    config: &ContinualConfig,
    data: &ContinualData,
    seeds: &[u64],
    methods: &[String],
    out: &Path,
    device: &Device,
    command: &str,
) -> Result<ContinualReport> {
    config.validate()?;
    for m in methods {
        if !METHODS.contains(&m.as_str()) {
            bail!(
                "unknown method {m:?}: expected some of {}",
                METHODS.join(", ")
            );
        }
    }
    let started = Instant::now();
    let all: Vec<usize> = config.tasks.iter().flatten().copied().collect();
    let (train_size, test_size) = (
        data.splits.train.filter_classes(&all).len(),
        data.splits.test.filter_classes(&all).len(),
    );
    eprintln!(
        "split MNIST on {}: {train_size} training and {test_size} test images, {} tasks, seeds {seeds:?}",
        data.source,
        config.tasks.len()
    );
    let mut results = Vec::new();
    for name in METHODS.iter().filter(|m| methods.iter().any(|x| x == *m)) {
        let settings = match *name {
            "ebm" => Some(&config.ebm),
            "ebm-classes" => Some(&config.ebm_classes),
            _ => None,
        };
        let members = settings.map_or(1, |s| s.members);
        let mut runs = Vec::new();
        for &seed in seeds {
            let t0 = Instant::now();
            let (matrix, energies) = match (*name, settings) {
                (_, Some(settings)) => {
                    let mut say = |m: usize, t: usize, row: &[f64]| {
                        let row: Vec<String> =
                            row.iter().map(|a| format!("{:.1}", 100.0 * a)).collect();
                        let who = if members > 1 {
                            format!("seed {seed} member {}/{members}", m + 1)
                        } else {
                            format!("seed {seed}")
                        };
                        eprintln!(
                            "  {name} {who}: after task {t} ({:.0} s): [{}]",
                            t0.elapsed().as_secs_f64(),
                            row.join(" ")
                        );
                    };
                    let o = ebm::run_ebm(config, settings, &data.splits, seed, device, &mut say)?;
                    (o.matrix, Some(o.energies))
                }
                ("adam", None) => (
                    softmax::run_sequential(config, &data.splits, seed, Optim::Adam, device)?,
                    None,
                ),
                ("sgd", None) => (
                    softmax::run_sequential(config, &data.splits, seed, Optim::Sgd, device)?,
                    None,
                ),
                _ => (
                    softmax::run_offline(config, &data.splits, seed, device)?,
                    None,
                ),
            };
            let last = matrix.last().cloned().unwrap_or_default();
            let final_average = last.iter().sum::<f64>() / last.len().max(1) as f64;
            let seconds = t0.elapsed().as_secs_f64();
            eprintln!(
                "{name} seed {seed}: final average {:.2} % in {seconds:.0} s",
                100.0 * final_average
            );
            runs.push(SeedRun {
                seed,
                matrix,
                final_average,
                seconds,
                energies,
            });
        }
        let (description, paper) = match *name {
            "ebm" => (
                "EBM (conditional, lowest energy)",
                published(64.99, 4.27, "Du & Mordatch 2019"),
            ),
            "ebm-classes" => (
                "EBM, contrastive over the task's classes (Li et al. 2020)",
                None,
            ),
            "adam" => (
                "softmax, Adam fine-tuned",
                published(19.71, 0.08, "Hsu et al. 2018"),
            ),
            "sgd" => (
                "softmax, SGD fine-tuned",
                published(19.46, 0.04, "Hsu et al. 2018"),
            ),
            _ => (
                "softmax, offline (all tasks at once)",
                published(97.94, 0.03, "Hsu et al. 2018"),
            ),
        };
        let description = if members > 1 {
            format!("{description}, ensemble of {members} networks (energies summed)")
        } else {
            description.to_string()
        };
        results.push(MethodResult::new(name, &description, runs, paper));
    }
    let report = ContinualReport {
        dataset: data.name.clone(),
        data_source: data.source.clone(),
        train_size,
        test_size,
        seeds: seeds.to_vec(),
        settings: config.clone(),
        methods: results,
        seconds: started.elapsed().as_secs_f64(),
        command: command.into(),
    };
    report.write(out)?;
    Ok(report)
}
