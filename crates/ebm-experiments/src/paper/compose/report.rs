//! `compose.json` and its markdown table.

use serde::Serialize;

/// Accuracy of one method's samples on one split of the combinations.
#[derive(Clone, Debug, Serialize)]
pub struct Scores {
    /// `composed`, `joint label` or `unconditional`.
    pub method: String,
    /// `seen` (combinations in the training data) or `held-out`.
    pub split: String,
    /// Samples scored.
    pub samples: usize,
    /// Per attribute, in the order of `ComposeReport::attributes`: the fraction of samples
    /// the attribute's classifier assigns the requested value.
    pub attribute_accuracy: Vec<f64>,
    /// Fraction of samples with every requested value.
    pub joint_accuracy: f64,
}

/// Joint accuracy of one method on one combination.
#[derive(Clone, Debug, Serialize)]
pub struct CombinationScore {
    /// The method.
    pub method: String,
    /// `shape=circle,colour=red`.
    pub combination: String,
    /// Whether the combination was held out of training.
    pub held_out: bool,
    /// Fraction of its samples with every requested value.
    pub joint_accuracy: f64,
}

/// How much one method's samples look like the rendered images at all, whatever their
/// attributes: judges trained on clean renders can be fooled by patterns, and this shows it.
#[derive(Clone, Debug, Serialize)]
pub struct Realism {
    /// The method.
    pub method: String,
    /// Proxy FID of all its samples (every combination) against rendered images of every
    /// combination, in the first judge's 128-d features; compare with
    /// [`ComposeReport::real_proxy_fid`].
    pub proxy_fid: f64,
    /// Per judge (in the order of `ComposeReport::attributes`): its mean probability of the
    /// class it predicts.
    pub mean_confidence: Vec<f64>,
}

/// A model taking part.
#[derive(Clone, Debug, Serialize)]
pub struct RunInfo {
    /// Its role (`shape`, `colour`, `joint label`, `unconditional`).
    pub role: String,
    /// Its directory.
    pub path: String,
    /// Its preset.
    pub preset: String,
    /// Iterations it trained.
    pub iterations: usize,
}

/// An attribute classifier, the judge of the samples.
#[derive(Clone, Debug, Serialize)]
pub struct ClassifierInfo {
    /// The attribute.
    pub attribute: String,
    /// Its accuracy on generated test images of every combination.
    pub test_accuracy: f64,
}

/// What `ebm compose --measure` found.
#[derive(Clone, Debug, Serialize)]
pub struct ComposeReport {
    /// The attributes requested together.
    pub attributes: Vec<String>,
    /// The combinations held out of every model's training data.
    pub held_out: Vec<String>,
    /// The models.
    pub runs: Vec<RunInfo>,
    /// The judges.
    pub classifiers: Vec<ClassifierInfo>,
    /// Chains per combination and method.
    pub samples_per_combination: usize,
    /// Langevin steps from uniform noise of the composed chains (each evaluates every
    /// attribute model once).
    pub langevin_steps: usize,
    /// Langevin steps of the single-model baselines: as many model evaluations.
    pub baseline_steps: usize,
    /// Per method and split.
    pub scores: Vec<Scores>,
    /// Per method and combination.
    pub per_combination: Vec<CombinationScore>,
    /// Per method: how much its samples look like rendered images.
    pub realism: Vec<Realism>,
    /// Proxy FID of as many fresh rendered images as a method has samples: the floor of
    /// [`Realism::proxy_fid`].
    pub real_proxy_fid: f64,
    /// Chance level of the joint accuracy (one over the number of combinations).
    pub chance_joint: f64,
    /// Wall-clock seconds of the measurement (classifiers included).
    pub seconds: f64,
}

/// Table cells of `values`, three decimals each.
fn cells(values: &[f64]) -> String {
    values
        .iter()
        .map(|v| format!("{v:.3}"))
        .collect::<Vec<_>>()
        .join(" | ")
}

/// The tables of [`ComposeReport::scores`] and [`ComposeReport::realism`].
pub fn markdown(r: &ComposeReport) -> String {
    let mut s = format!(
        "| method | combinations | samples | {} | joint |\n|---|---|---|{}---|\n",
        r.attributes.join(" | "),
        "---|".repeat(r.attributes.len())
    );
    for row in &r.scores {
        s += &format!(
            "| {} | {} | {} | {} | {:.3} |\n",
            row.method,
            row.split,
            row.samples,
            cells(&row.attribute_accuracy),
            row.joint_accuracy
        );
    }
    s += &format!(
        "\n| method | proxy FID against renders (real renders: {:.1}) | {} |\n|---|---|{}\n",
        r.real_proxy_fid,
        r.attributes
            .iter()
            .map(|a| format!("{a} judge's mean confidence"))
            .collect::<Vec<_>>()
            .join(" | "),
        "---|".repeat(r.attributes.len())
    );
    for m in &r.realism {
        s += &format!(
            "| {} | {:.1} | {} |\n",
            m.method,
            m.proxy_fid,
            cells(&m.mean_confidence)
        );
    }
    s += &format!(
        "\nchance (joint): {:.3}; held out: {}; classifiers' test accuracy: {}\n",
        r.chance_joint,
        r.held_out.join("; "),
        r.classifiers
            .iter()
            .map(|c| format!("{} {:.3}", c.attribute, c.test_accuracy))
            .collect::<Vec<_>>()
            .join(", ")
    );
    s
}
