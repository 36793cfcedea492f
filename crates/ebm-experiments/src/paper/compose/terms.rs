//! What `ebm compose` is asked for (`--want`, `--not`, `--or` conditions) and the composed
//! energy: AND as the sum of the attribute models' energies, OR as their log-sum-exp, NOT as a
//! weighted subtraction (`ebm_sampler::compose`).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use burn::tensor::Tensor;
use ebm_data::shapes::parse_condition;
use ebm_data::{Attribute, Labeling};
use ebm_model::{EnergyModel, one_hot};
use ebm_sampler::compose::{and, not, or};

use crate::data::shapes::labeling;
use crate::run::TrainedRun;
use crate::run::model::EnergyNet;

/// A trained run on the shapes data with the label it was trained on.
pub struct LabelledRun {
    /// Its directory.
    pub path: PathBuf,
    /// The run.
    pub run: TrainedRun,
    /// Its label (`shapes:<label>`).
    pub labeling: Labeling,
}

impl LabelledRun {
    /// Loads `path`, which must be a run on the shapes data.
    pub fn load(path: &Path, device: &burn::tensor::Device) -> Result<Self> {
        let run = TrainedRun::load(path, device)?;
        let spec = run
            .config
            .dataset
            .strip_prefix("shapes:")
            .with_context(|| {
                format!(
                    "{} was trained on {}, not on the shapes data (a shapes-* preset)",
                    path.display(),
                    run.config.dataset
                )
            })?;
        Ok(Self {
            path: path.to_path_buf(),
            labeling: labeling(spec)?,
            run,
        })
    }

    /// The energy of `x` under class `class` (any class for an unconditional run).
    pub fn energy(&self, x: Tensor<4>, class: usize) -> Tensor<1> {
        energy_of(&self.run.model, x, class)
    }
}

/// The energy of `x` under class `class` of `net` (no label for an unconditional network).
pub fn energy_of(net: &EnergyNet, x: Tensor<4>, class: usize) -> Tensor<1> {
    let y = net
        .num_classes()
        .map(|k| one_hot(&vec![class; x.dims()[0]], k, &x.device()));
    net.energy(x, y)
}

/// `attribute=value` conditions separated by commas.
pub fn parse_conditions(spec: &str) -> Result<Vec<(Attribute, usize)>> {
    spec.split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|item| parse_condition(item).map_err(anyhow::Error::from))
        .collect()
}

/// A composition: all of `want`, at least one of each `or` group, none of `not`.
#[derive(Clone, Debug, Default)]
pub struct Request {
    /// Conditions that must all hold (AND).
    pub want: Vec<(Attribute, usize)>,
    /// Groups of alternatives, one of each must hold (OR).
    pub or: Vec<Vec<(Attribute, usize)>>,
    /// Conditions that must not hold (NOT).
    pub not: Vec<(Attribute, usize)>,
    /// Weight of each NOT term (keep it below 1).
    pub not_weight: f64,
}

/// One energy term: a model under one class.
struct Term<'a> {
    model: &'a LabelledRun,
    class: usize,
}

impl Term<'_> {
    fn energy(&self, x: Tensor<4>) -> Tensor<1> {
        self.model.energy(x, self.class)
    }
}

/// The run trained on `attribute` alone, or an error naming what the runs were trained on.
fn term<'a>(runs: &'a [LabelledRun], (attribute, class): (Attribute, usize)) -> Result<Term<'a>> {
    match runs.iter().find(|r| r.labeling == Labeling::One(attribute)) {
        Some(model) => Ok(Term { model, class }),
        None => {
            let have: Vec<String> = runs
                .iter()
                .map(|r| format!("{} ({})", r.path.display(), r.run.config.dataset))
                .collect();
            bail!(
                "no run models {}: the runs given are {}",
                attribute.name(),
                have.join(", ")
            )
        }
    }
}

/// The composed energy of `request` over `runs`.
///
/// # Errors
///
/// An empty request, or a condition on an attribute no run models.
pub fn composed_energy<'a>(
    runs: &'a [LabelledRun],
    request: &Request,
) -> Result<impl Fn(Tensor<4>) -> Tensor<1> + 'a> {
    if request.want.is_empty() && request.or.is_empty() {
        bail!("nothing to compose: give --want and/or --or conditions");
    }
    let terms = |conds: &[(Attribute, usize)]| -> Result<Vec<Term<'a>>> {
        conds.iter().map(|&c| term(runs, c)).collect()
    };
    let want = terms(&request.want)?;
    let ors = request
        .or
        .iter()
        .map(|g| terms(g))
        .collect::<Result<Vec<_>>>()?;
    let nots = terms(&request.not)?;
    let w = request.not_weight;
    Ok(move |x: Tensor<4>| {
        let mut parts: Vec<(f64, Tensor<1>)> =
            want.iter().map(|t| (1.0, t.energy(x.clone()))).collect();
        for group in &ors {
            parts.push((1.0, or(group.iter().map(|t| t.energy(x.clone())).collect())));
        }
        nots.iter()
            .fold(and(parts), |e, t| not(e, t.energy(x.clone()), w))
    })
}
