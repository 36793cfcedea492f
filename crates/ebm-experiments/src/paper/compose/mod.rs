//! Compositional generation (reference section 5.4): independently trained attribute
//! models, one per attribute of the generated shapes ([`ebm_data::shapes`]), composed into one
//! energy ([`terms`]) and sampled by Langevin from noise; [`measure`] scores composed samples
//! with attribute classifiers on combinations seen in training and on held-out ones, against
//! a model of the joint label and an unconditional one ([`report`]).

pub mod measure;
pub mod report;
pub mod terms;

use std::path::Path;

use anyhow::Result;
use burn::tensor::{Device, Distribution, Tensor};
use ebm_sampler::{LangevinConfig, NoObserver};

use crate::data::shapes::SHAPE;
use crate::plot::grid::write_grid;
pub use terms::{LabelledRun, Request, composed_energy, parse_conditions};

/// The sampler of a composition: the first run's training sampler with `steps` steps.
pub fn sampler_for(runs: &[LabelledRun], steps: usize) -> LangevinConfig {
    runs[0].run.config.sampler.clone().with_steps(steps)
}

/// `n` chains from uniform noise (seeded) run under `energy`.
pub fn sample_from_noise(
    energy: &dyn Fn(Tensor<4>) -> Tensor<1>,
    sampler: &LangevinConfig,
    n: usize,
    seed: u64,
    device: &Device,
) -> Tensor<4> {
    device.seed(seed);
    let [c, h, w] = SHAPE;
    let x0 = Tensor::random([n, c, h, w], Distribution::Uniform(0.0, 1.0), device);
    sampler.run(energy, x0, None, &mut NoObserver)
}

/// `ebm compose`: `n` samples of `request` over `runs`, written as a grid PNG at `out`.
pub fn compose_grid(
    runs: &[LabelledRun],
    request: &Request,
    steps: usize,
    n: usize,
    seed: u64,
    out: &Path,
    device: &Device,
) -> Result<()> {
    let energy = composed_energy(runs, request)?;
    let x = sample_from_noise(&energy, &sampler_for(runs, steps), n, seed, device);
    write_grid(out, &super::values(x), SHAPE, 4)
}
