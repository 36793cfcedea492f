//! The resolved configuration of a training run, saved as `config.json` in the run directory.

use burn::config::Config;
use ebm_sampler::{InitDistribution, LangevinConfig, ReplayConfig};

use super::model::ModelConfig;
use super::optim::OptimizerConfig;

/// What the divergence guard watches and what it does.
#[derive(Config, Debug)]
pub struct DivergenceConfig {
    /// An iteration whose mean positive or negative energy exceeds this in magnitude counts as
    /// diverged (as does any NaN or infinity). The L2 penalty keeps healthy energies near 0-10.
    #[config(default = 1000.0)]
    pub energy_limit: f64,
    /// Learning-rate multiplier applied after each rollback.
    #[config(default = 0.5)]
    pub lr_factor: f64,
    /// Rollbacks allowed before the run gives up.
    #[config(default = 5)]
    pub max_rollbacks: usize,
}

/// Everything a run needs; every field can be overridden with `--set path=value`.
#[derive(Config, Debug)]
pub struct TrainConfig {
    /// Name of the preset this run started from.
    pub preset: String,
    /// Dataset: `mnist-10k` (embedded), `mnist`, `fashion-mnist`, `cifar10`, or
    /// `toy2d:<8gaussians|spirals|checkerboard|rings>`.
    pub dataset: String,
    /// The energy network.
    pub model: ModelConfig,
    /// Langevin settings for the negatives.
    pub sampler: LangevinConfig,
    /// Replay buffer of persistent chains.
    pub replay: ReplayConfig,
    /// Optimiser.
    pub optimizer: OptimizerConfig,
    /// Coefficient of the energy penalty `E(x+)^2 + E(x-)^2` (IGEBM: 1).
    #[config(default = 1.0)]
    pub l2_coeff: f64,
    /// Positives per iteration (and as many negatives).
    #[config(default = 128)]
    pub batch_size: usize,
    /// Total iterations.
    #[config(default = 10000)]
    pub iterations: usize,
    /// Seed of every random choice (init, batches, noise, buffer).
    #[config(default = 0)]
    pub seed: u64,
    /// Iterations between lines of `metrics.jsonl` and of the progress log.
    #[config(default = 10)]
    pub log_every: usize,
    /// Iterations between sample grids in `samples/`.
    #[config(default = 100)]
    pub sample_every: usize,
    /// Iterations between checkpoints.
    #[config(default = 200)]
    pub checkpoint_every: usize,
    /// Samples in a grid.
    #[config(default = 64)]
    pub grid_size: usize,
    /// Stop (with a checkpoint and final samples) once this invocation has trained for this
    /// many seconds, even before `iterations`; a `--resume` gets the same budget again.
    /// `None`: no time limit.
    #[config(default = "None")]
    pub time_limit_secs: Option<f64>,
    /// Divergence guard.
    pub divergence: DivergenceConfig,
    /// Replayed samples are shifted by up to this many pixels (each its own random offset)
    /// before their chains continue (Du et al. 2021); 0: no augmentation (IGEBM).
    #[config(default = 0)]
    pub augment_shift: usize,
    /// Keep an exponential moving average of the weights with this decay per optimiser step,
    /// and sample the negatives (and later `sample` and `eval`) under it; `None`: no average
    /// (IGEBM).
    #[config(default = "None")]
    pub ema_decay: Option<f64>,
    /// The learning rate rises linearly to its value over this many first iterations
    /// (`run::warmup`); `None` (also what a run written before this field reads as): no
    /// warm-up (IGEBM).
    #[config(default = "None")]
    pub warmup_iters: Option<usize>,
    /// Conditional models: weight of a classification term beside contrastive divergence, the
    /// cross-entropy of classifying the training images by their lowest energy over the labels
    /// (JEM's `p(y|x)`, Grathwohl et al. 2020; `run::cd_step`). `None` (also what a run written
    /// before this field reads as) or 0: none (IGEBM).
    #[config(default = "None")]
    pub class_weight: Option<f64>,
    /// With `class_weight`: the standard deviation of Gaussian noise added to the images the
    /// classification term scores, so the label's energy answers to an image's content rather
    /// than to single pixels (`run::cd_step`). `None` (also what a run written before this
    /// field reads as) or 0: clean images.
    #[config(default = "None")]
    pub class_noise: Option<f64>,
    /// Conditional models: this fraction of each batch's chains starts at a real training
    /// image of another class (the batch's next image with a different label) under the
    /// positive's label, instead of at the replay buffer (`run::data_starts`; the chains of
    /// the continual-learning experiment's `ebm.data_starts`). Their negatives are not kept in
    /// the buffer. `None` (also what a run written before this field reads as) or 0: none
    /// (IGEBM).
    #[config(default = "None")]
    pub data_starts: Option<f64>,
    /// Weight of the KL term of Du et al. 2021 beside contrastive divergence: the negatives'
    /// energy under the weights held fixed, differentiated through the sampler's last step, so
    /// the weights learn to make a step land lower (`ebm_sampler::last_step`; Du et al. use
    /// 1). The `loss` column then includes it. Needs the chains to run under the trained
    /// weights (no `ema_decay`). `None` (also what a run written before this field reads as)
    /// or 0: none (IGEBM).
    #[config(default = "None")]
    pub kl_weight: Option<f64>,
    /// Weight of the entropy term of Du et al. 2021 (they use 0.3 beside a KL weight of 1):
    /// minus the mean log distance of each negative to its nearest neighbour among 100 stored
    /// samples, differentiated through the sampler's last step as the KL term, so the weights
    /// learn to spread the samples (`ebm_sampler::nearest`). Starts once the buffer holds
    /// 1 000 samples (or is full); the `loss` column then includes it. Not with `ema_decay`.
    /// `None` (also what a run written before this field reads as) or 0: none (IGEBM).
    #[config(default = "None")]
    pub entropy_weight: Option<f64>,
}

/// A configuration value outside its valid range.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid config: {field} = {value}: {why}")]
pub struct ConfigError {
    /// Dotted path of the field.
    pub field: &'static str,
    /// The value found.
    pub value: String,
    /// What is expected.
    pub why: &'static str,
}

impl TrainConfig {
    /// Checks the values a run cannot work with.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let err = |field, value: String, why| Err(ConfigError { field, value, why });
        if self.batch_size == 0 {
            return err("batch_size", "0".into(), "must be positive");
        }
        if !(self.optimizer.lr > 0.0 && self.optimizer.lr.is_finite()) {
            return err(
                "optimizer.lr",
                self.optimizer.lr.to_string(),
                "must be positive",
            );
        }
        if !(0.0..1.0).contains(&self.optimizer.beta1)
            || !(0.0..1.0).contains(&self.optimizer.beta2)
        {
            return err(
                "optimizer.beta1/beta2",
                format!("{}/{}", self.optimizer.beta1, self.optimizer.beta2),
                "must be in [0, 1)",
            );
        }
        if self.sampler.step_size < 0.0 || self.sampler.noise_std < 0.0 {
            return err(
                "sampler.step_size/noise_std",
                format!("{}/{}", self.sampler.step_size, self.sampler.noise_std),
                "must be >= 0",
            );
        }
        if !(0.0..=1.0).contains(&self.replay.reuse_prob) {
            return err(
                "replay.reuse_prob",
                self.replay.reuse_prob.to_string(),
                "must be in [0, 1]",
            );
        }
        if self.replay.capacity == 0 {
            return err("replay.capacity", "0".into(), "must be positive");
        }
        if let Some(d) = self.ema_decay
            && !(0.0..1.0).contains(&d)
        {
            return err("ema_decay", d.to_string(), "must be in [0, 1)");
        }
        if let Some(w) = self.class_weight
            && !(w >= 0.0 && w.is_finite())
        {
            return err("class_weight", w.to_string(), "must be finite and >= 0");
        }
        if let Some(w) = self.class_noise
            && !(w >= 0.0 && w.is_finite())
        {
            return err("class_noise", w.to_string(), "must be finite and >= 0");
        }
        if let Some(f) = self.data_starts
            && !(0.0..1.0).contains(&f)
        {
            return err("data_starts", f.to_string(), "must be in [0, 1)");
        }
        if let InitDistribution::Fitted { ridge } = self.replay.init
            && !(ridge > 0.0 && ridge.is_finite())
        {
            return err(
                "replay.init.Fitted.ridge",
                ridge.to_string(),
                "must be finite and > 0",
            );
        }
        for (field, value) in [
            ("kl_weight", self.kl_weight),
            ("entropy_weight", self.entropy_weight),
        ] {
            let Some(w) = value else { continue };
            if !(w >= 0.0 && w.is_finite()) {
                return err(field, w.to_string(), "must be finite and >= 0");
            }
            if w > 0.0 && self.ema_decay.is_some() {
                return err(
                    field,
                    w.to_string(),
                    "differentiates the chains' last step, which must then run under the trained weights: not with ema_decay",
                );
            }
        }
        // Both act through the labels: a positive value needs a conditional model.
        for (field, value) in [
            ("class_weight", self.class_weight),
            ("data_starts", self.data_starts),
        ] {
            if let Some(v) = value
                && v > 0.0
                && self.model.num_classes().is_none()
            {
                return err(
                    field,
                    v.to_string(),
                    "needs a conditional model (num_classes set); this one is unconditional",
                );
            }
        }
        if self.l2_coeff < 0.0 {
            return err("l2_coeff", self.l2_coeff.to_string(), "must be >= 0");
        }
        for (field, v) in [
            ("log_every", self.log_every),
            ("sample_every", self.sample_every),
            ("checkpoint_every", self.checkpoint_every),
        ] {
            if v == 0 {
                return err(field, "0".into(), "must be positive");
            }
        }
        if !(self.divergence.lr_factor > 0.0 && self.divergence.lr_factor < 1.0) {
            return err(
                "divergence.lr_factor",
                self.divergence.lr_factor.to_string(),
                "must be in (0, 1)",
            );
        }
        Ok(())
    }

    /// Applies `path=value` overrides (`optimizer.lr=3e-4`, `sampler.steps=40`,
    /// `model.MnistNet.filters=32`): see [`apply_overrides`].
    pub fn with_overrides(self, overrides: &[String]) -> anyhow::Result<Self> {
        apply_overrides(self, overrides, "--set")
    }
}

/// Applies `path=value` overrides to any serialisable configuration, through its JSON form:
/// the value is read as JSON, else taken as a string; an unknown field is an error that lists
/// the known ones. `flag` names the option in messages.
pub fn apply_overrides<T>(value: T, overrides: &[String], flag: &str) -> anyhow::Result<T>
where
    T: serde::Serialize + serde::de::DeserializeOwned,
{
    if overrides.is_empty() {
        return Ok(value);
    }
    let mut json = serde_json::to_value(&value)?;
    for item in overrides {
        let (path, raw) = item
            .split_once('=')
            .ok_or_else(|| anyhow::anyhow!("{flag} {item:?}: expected path=value"))?;
        let value: serde_json::Value = serde_json::from_str(raw)
            .unwrap_or_else(|_| serde_json::Value::String(raw.to_string()));
        let mut node = &mut json;
        let parts: Vec<&str> = path.split('.').collect();
        for (i, part) in parts.iter().enumerate() {
            let obj = node.as_object_mut().ok_or_else(|| {
                anyhow::anyhow!(
                    "{flag} {path}: {} is not a group of fields",
                    parts[..i].join(".")
                )
            })?;
            if !obj.contains_key(*part) {
                let known: Vec<&String> = obj.keys().collect();
                anyhow::bail!("{flag} {path}: no field {part:?} here (fields: {known:?})");
            }
            node = obj.get_mut(*part).expect("checked");
        }
        *node = value;
    }
    serde_json::from_value(json).map_err(|e| anyhow::anyhow!("{flag}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::{InitDistribution, ModelConfig, TrainConfig};
    use crate::run::presets::preset;

    #[test]
    fn overrides_reach_nested_fields_and_unknown_ones_are_named() {
        let c = preset("mnist-10k").unwrap();
        let c = c
            .with_overrides(&[
                "optimizer.lr=0.001".into(),
                "sampler.steps=7".into(),
                "batch_size=16".into(),
            ])
            .unwrap();
        assert_eq!(
            (c.optimizer.lr, c.sampler.steps, c.batch_size),
            (0.001, 7, 16)
        );
        let err = c
            .with_overrides(&["optimizer.learning_rate=1".into()])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("learning_rate") && err.contains("\"lr\""),
            "{err}"
        );
    }

    #[test]
    fn a_config_saved_before_class_head_existed_still_loads() {
        let c = preset("shapes-shape").unwrap();
        let mut json = serde_json::to_value(&c).unwrap();
        let resnet = json["model"]["ResNet"].as_object_mut().unwrap();
        assert!(resnet.remove("class_head").is_some());
        let old: TrainConfig = serde_json::from_value(json).unwrap();
        let ModelConfig::ResNet(r) = old.model else {
            panic!("shapes-shape is a ResNet")
        };
        assert_eq!(r.class_head, None);
        let c = c
            .with_overrides(&["model.ResNet.class_head=true".into()])
            .unwrap();
        let ModelConfig::ResNet(r) = c.model else {
            panic!("shapes-shape is a ResNet")
        };
        assert_eq!(r.class_head, Some(true));
    }

    #[test]
    fn a_mnist_net_saved_before_it_had_classes_loads_as_unconditional() {
        let c = preset("mnist-10k").unwrap();
        let mut json = serde_json::to_value(&c).unwrap();
        let net = json["model"]["MnistNet"].as_object_mut().unwrap();
        assert!(net.remove("num_classes").is_some());
        let old: TrainConfig = serde_json::from_value(json).unwrap();
        assert_eq!(old.model.num_classes(), None);
        let c = c
            .with_overrides(&["model.MnistNet.num_classes=3".into()])
            .unwrap();
        assert_eq!(c.model.num_classes(), Some(3));
    }

    #[test]
    fn validation_names_the_field() {
        let mut c = preset("toy2d").unwrap();
        c.optimizer.lr = -1.0;
        assert_eq!(c.validate().unwrap_err().field, "optimizer.lr");
        let mut c = preset("shapes-shape").unwrap();
        c.class_weight = Some(-0.5);
        assert_eq!(c.validate().unwrap_err().field, "class_weight");
        c.class_weight = Some(1.0);
        c.validate().unwrap();
        c.class_noise = Some(f64::NAN);
        assert_eq!(c.validate().unwrap_err().field, "class_noise");
        c.class_noise = Some(0.1);
        c.validate().unwrap();
        let mut c = preset("mnist-10k").unwrap();
        c.class_weight = Some(1.0);
        let e = c.validate().unwrap_err();
        assert!(
            e.field == "class_weight" && e.why.contains("conditional"),
            "{e}"
        );
        c.class_weight = None;
        c.data_starts = Some(0.25);
        let e = c.validate().unwrap_err();
        assert!(
            e.field == "data_starts" && e.why.contains("conditional"),
            "{e}"
        );
        let mut c = preset("shapes-shape").unwrap();
        c.data_starts = Some(0.25);
        c.validate().unwrap();
        c.data_starts = Some(1.0);
        assert_eq!(c.validate().unwrap_err().field, "data_starts");
        let mut c = preset("mnist-10k").unwrap();
        c.kl_weight = Some(1.0);
        c.validate().unwrap();
        c.kl_weight = Some(f64::NAN);
        assert_eq!(c.validate().unwrap_err().field, "kl_weight");
        c.kl_weight = Some(1.0);
        c.ema_decay = Some(0.99);
        let e = c.validate().unwrap_err();
        assert!(e.field == "kl_weight" && e.why.contains("ema_decay"), "{e}");
        c.kl_weight = None;
        c.entropy_weight = Some(0.3);
        let e = c.validate().unwrap_err();
        assert!(
            e.field == "entropy_weight" && e.why.contains("ema_decay"),
            "{e}"
        );
        c.ema_decay = None;
        c.validate().unwrap();
        c.entropy_weight = Some(-1.0);
        assert_eq!(c.validate().unwrap_err().field, "entropy_weight");
        c.entropy_weight = None;
        c.replay.init = InitDistribution::Fitted { ridge: 0.0 };
        assert_eq!(c.validate().unwrap_err().field, "replay.init.Fitted.ridge");
        c.replay.init = InitDistribution::Fitted { ridge: 1e-3 };
        c.validate().unwrap();
        for name in crate::run::presets::PRESETS {
            preset(name).unwrap().validate().unwrap();
        }
    }
}
