//! The replay buffer of persistent chains (IGEBM section 3.1, `ReplayBuffer` in the official
//! code): most Langevin chains restart where an earlier chain stopped.
//!
//! Samples live on the host as `u8`, 256 levels per element, in a FIFO ring; a draw picks slots
//! uniformly *with replacement* and dequantises them (`q / 256 + U(0, 1/256)`), so a round trip
//! moves a value in `[0, 1]` by less than 1/256. (The official code stores `floor(255 x)` and
//! reads back `q / 256`, shrinking images by 255/256 on every round trip; 256 levels avoid that
//! drift.)
//!
//! Labels: the official code stores none, and a replayed image continues under the *current*
//! batch's label, so a chain that started as a "cat" can be pushed towards "ship". Here a
//! conditional buffer stores each sample's label, and a replayed sample comes back with its
//! own label: every chain is conditioned on one class from start to end. Fresh samples take the
//! label the caller asked for.

mod bytes;
mod fitted;

use std::sync::Arc;

use burn::config::Config;
use burn::tensor::{Device, Tensor, TensorData};

use crate::rng::SplitMix64;

pub use fitted::{FitError, FittedGaussian, GaussianFit};

/// Where fresh (non-replayed) chains start.
#[derive(Config, Debug, Copy, PartialEq)]
pub enum InitDistribution {
    /// Uniform in `[low, high)` per element (IGEBM images: `U(0, 1)`).
    Uniform {
        /// Lower bound.
        low: f64,
        /// Upper bound.
        high: f64,
    },
    /// Gaussian per element (the official dSprites init `0.5 + 0.5 N(0, 1)`).
    Gaussian {
        /// Mean.
        mean: f64,
        /// Standard deviation.
        std: f64,
    },
    /// A Gaussian per class fitted to the training data, mean image and full covariance
    /// (JEM++'s informative initialisation; [`FittedGaussian`]): a fresh chain of a
    /// conditional buffer starts from its label's Gaussian, of an unconditional one from a
    /// class drawn uniformly. The trainer fits it and hands it over
    /// ([`ReplayBuffer::set_fitted`]).
    Fitted {
        /// Added to each covariance's diagonal (constant pixels would make it singular).
        ridge: f64,
    },
}

/// Configuration of a [`ReplayBuffer`].
#[derive(Config, Debug)]
pub struct ReplayConfig {
    /// Maximum stored samples; the oldest are overwritten first.
    #[config(default = 10000)]
    pub capacity: usize,
    /// Probability that a chain restarts from a stored sample rather than fresh noise, once the
    /// buffer holds more samples than are drawn (the official `uniform(0,1) > 0.05`).
    #[config(default = 0.95)]
    pub reuse_prob: f64,
    /// Distribution of fresh starts.
    #[config(default = "InitDistribution::Uniform { low: 0.0, high: 1.0 }")]
    pub init: InitDistribution,
}

/// Why a buffer cannot be used or restored.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BufferError {
    /// Not a buffer file, or a different version.
    #[error("replay buffer: bad header, expected magic {expected:?}")]
    BadMagic {
        /// The expected magic bytes.
        expected: &'static [u8],
    },
    /// Fewer bytes than the header promises.
    #[error("replay buffer: truncated: expected {expected} bytes, found {found}")]
    Truncated {
        /// Bytes the header implies.
        expected: usize,
        /// Bytes present.
        found: usize,
    },
    /// No stored sample to continue (of the class asked for, when one is).
    #[error("replay buffer: no stored sample{}", label.map_or(String::new(), |l| format!(" of class {l}")))]
    Empty {
        /// The class asked for.
        label: Option<usize>,
    },
    /// Saved for a different sample shape or capacity than the config asks.
    #[error("replay buffer: saved with {found}, expected {expected}")]
    Mismatch {
        /// What the configuration expects.
        expected: String,
        /// What the file holds.
        found: String,
    },
}

/// A batch drawn from the buffer.
#[derive(Debug, Clone, PartialEq)]
pub struct Draw {
    /// Start points, `n * sample_len` values, row-major.
    pub values: Vec<f32>,
    /// Each chain's label (conditional buffers only).
    pub labels: Option<Vec<usize>>,
    /// How many of the `n` starts were replayed.
    pub reused: usize,
}

/// FIFO ring of `u8` samples with a seeded, checkpointable RNG. See the module docs.
#[derive(Debug, Clone)]
pub struct ReplayBuffer {
    config: ReplayConfig,
    sample_shape: Vec<usize>,
    sample_len: usize,
    conditional: bool,
    data: Vec<u8>,
    labels: Vec<u32>,
    len: usize,
    next: usize,
    rng: SplitMix64,
    /// The Gaussians of [`InitDistribution::Fitted`], not stored with the buffer (the trainer
    /// fits them from the data again on resume).
    fitted: Option<Arc<FittedGaussian>>,
}

/// `floor(256 x)` clamped to `[0, 255]`.
pub fn quantize(x: f32) -> u8 {
    (x.clamp(0.0, 1.0) * 256.0).floor().min(255.0) as u8
}

impl ReplayBuffer {
    /// An empty buffer for samples of `sample_shape` (e.g. `[3, 32, 32]`), storing labels when
    /// `conditional`.
    ///
    /// # Panics
    ///
    /// If the capacity or a dimension is 0, or `reuse_prob` is outside `[0, 1]`.
    pub fn new(config: ReplayConfig, sample_shape: &[usize], conditional: bool, seed: u64) -> Self {
        assert!(
            config.capacity > 0,
            "replay buffer capacity must be positive"
        );
        assert!(
            (0.0..=1.0).contains(&config.reuse_prob),
            "reuse_prob {} outside [0, 1]",
            config.reuse_prob
        );
        let sample_len: usize = sample_shape.iter().product();
        assert!(sample_len > 0, "empty sample shape {sample_shape:?}");
        Self {
            config,
            sample_shape: sample_shape.to_vec(),
            sample_len,
            conditional,
            data: Vec::new(),
            labels: Vec::new(),
            len: 0,
            next: 0,
            rng: SplitMix64::new(seed),
            fitted: None,
        }
    }

    /// Hands over the Gaussians fresh starts are drawn from under [`InitDistribution::Fitted`].
    ///
    /// # Panics
    ///
    /// If they are fitted to samples of another size.
    pub fn set_fitted(&mut self, fitted: Arc<FittedGaussian>) {
        assert_eq!(
            fitted.dim(),
            self.sample_len,
            "Gaussians of {} values for samples of {}",
            fitted.dim(),
            self.sample_len
        );
        self.fitted = Some(fitted);
    }

    /// Samples stored.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Most samples it holds.
    pub fn capacity(&self) -> usize {
        self.config.capacity
    }

    /// Whether nothing is stored yet.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether the buffer stores a label with each sample.
    pub fn is_conditional(&self) -> bool {
        self.conditional
    }

    /// Per-sample shape.
    pub fn sample_shape(&self) -> &[usize] {
        &self.sample_shape
    }

    /// Draws `n` chain starts: each is a stored sample (slot uniform, with replacement) with
    /// probability `reuse_prob` once more than `n` samples are stored, else fresh from `init`.
    /// `labels` gives the label of each fresh start (required for conditional buffers).
    ///
    /// # Panics
    ///
    /// If a conditional buffer gets no labels (or not `n` of them), or an unconditional one
    /// gets labels.
    pub fn draw(&mut self, n: usize, labels: Option<&[usize]>) -> Draw {
        assert_eq!(
            self.conditional,
            labels.is_some(),
            "labels must be given exactly for a conditional buffer"
        );
        if let Some(l) = labels {
            assert_eq!(l.len(), n, "{} labels for {n} samples", l.len());
        }
        let use_buffer = self.len > n;
        let mut values = Vec::with_capacity(n * self.sample_len);
        let mut out_labels = labels.map(|l| l.to_vec());
        let mut reused = 0;
        for i in 0..n {
            if use_buffer && self.rng.next_f64() < self.config.reuse_prob {
                let slot = self.rng.below(self.len);
                let stored = &self.data[slot * self.sample_len..(slot + 1) * self.sample_len];
                for &q in stored {
                    values.push(((f64::from(q) + self.rng.next_f64()) / 256.0) as f32);
                }
                if let Some(l) = out_labels.as_mut() {
                    l[i] = self.labels[slot] as usize;
                }
                reused += 1;
            } else {
                self.fresh_start(labels.map(|l| l[i]), &mut values);
            }
        }
        Draw {
            values,
            labels: out_labels,
            reused,
        }
    }

    /// Appends one fresh start (of class `label` when given) to `out`.
    ///
    /// # Panics
    ///
    /// Under [`InitDistribution::Fitted`] before [`set_fitted`](Self::set_fitted).
    fn fresh_start(&mut self, label: Option<usize>, out: &mut Vec<f32>) {
        let rng = &mut self.rng;
        match self.config.init {
            InitDistribution::Uniform { low, high } => out
                .extend((0..self.sample_len).map(|_| (low + (high - low) * rng.next_f64()) as f32)),
            InitDistribution::Gaussian { mean, std } => {
                out.extend((0..self.sample_len).map(|_| (mean + std * rng.normal()) as f32))
            }
            InitDistribution::Fitted { .. } => {
                let fitted = self
                    .fitted
                    .as_ref()
                    .expect("InitDistribution::Fitted: set_fitted must come before a draw");
                let k = fitted.components();
                let component = match label {
                    Some(l) if l < k => l,
                    _ => rng.below(k),
                };
                fitted.draw(component, rng, out);
            }
        }
    }

    /// `n` stored samples, every one continued (none restarts from noise), picked uniformly with
    /// replacement among the stored samples, or among those of class `label` when given: the
    /// chains of `ebm sample --from-buffer` and of the evaluation. Unlike [`draw`](Self::draw)
    /// it also serves a buffer holding fewer than `n` samples (so some repeat).
    ///
    /// # Errors
    ///
    /// [`BufferError::Empty`] when no stored sample qualifies.
    pub fn draw_stored(&mut self, n: usize, label: Option<usize>) -> Result<Draw, BufferError> {
        let slots: Vec<usize> = (0..self.len)
            .filter(|&s| label.is_none_or(|l| self.conditional && self.labels[s] as usize == l))
            .collect();
        if slots.is_empty() {
            return Err(BufferError::Empty { label });
        }
        let mut values = Vec::with_capacity(n * self.sample_len);
        let mut labels = Vec::with_capacity(n);
        for _ in 0..n {
            let slot = slots[self.rng.below(slots.len())];
            for &q in &self.data[slot * self.sample_len..(slot + 1) * self.sample_len] {
                values.push(((f64::from(q) + self.rng.next_f64()) / 256.0) as f32);
            }
            labels.push(self.labels[slot] as usize);
        }
        Ok(Draw {
            values,
            labels: self.conditional.then_some(labels),
            reused: n,
        })
    }

    /// A [`Draw`] as a tensor `[n, sample_shape...]` on `device`.
    ///
    /// # Panics
    ///
    /// If `D != 1 + sample_shape.len()`.
    pub fn to_tensor<const D: usize>(
        &self,
        draw: Draw,
        device: &Device,
    ) -> (Tensor<D>, Option<Vec<usize>>) {
        assert_eq!(
            D,
            1 + self.sample_shape.len(),
            "tensor rank vs sample shape {:?}",
            self.sample_shape
        );
        let n = draw.values.len() / self.sample_len;
        let mut shape = vec![n];
        shape.extend(&self.sample_shape);
        let x = Tensor::from_data(TensorData::new(draw.values, shape), device);
        (x, draw.labels)
    }

    /// [`draw`](Self::draw) as a tensor `[n, sample_shape...]` on `device`.
    ///
    /// # Panics
    ///
    /// As `draw`, and if `D != 1 + sample_shape.len()`.
    pub fn draw_tensor<const D: usize>(
        &mut self,
        n: usize,
        labels: Option<&[usize]>,
        device: &Device,
    ) -> (Tensor<D>, Option<Vec<usize>>) {
        let draw = self.draw(n, labels);
        self.to_tensor(draw, device)
    }

    /// Appends samples (`k * sample_len` values, FIFO: the oldest are overwritten when full).
    ///
    /// # Panics
    ///
    /// If the values are not a whole number of samples, or labels are missing/extra.
    pub fn push(&mut self, values: &[f32], labels: Option<&[usize]>) {
        assert_eq!(
            values.len() % self.sample_len,
            0,
            "{} values is not a whole number of samples",
            values.len()
        );
        let k = values.len() / self.sample_len;
        assert_eq!(
            self.conditional,
            labels.is_some(),
            "labels must be given exactly for a conditional buffer"
        );
        if let Some(l) = labels {
            assert_eq!(l.len(), k, "{} labels for {k} samples", l.len());
        }
        for (i, sample) in values.chunks(self.sample_len).enumerate() {
            let slot = self.next;
            let start = slot * self.sample_len;
            if slot == self.len {
                self.data.extend(sample.iter().map(|&v| quantize(v)));
                self.labels.push(0);
                self.len += 1;
            } else {
                for (dst, &v) in self.data[start..start + self.sample_len]
                    .iter_mut()
                    .zip(sample)
                {
                    *dst = quantize(v);
                }
            }
            if let Some(l) = labels {
                self.labels[slot] = l[i] as u32;
            }
            self.next = (self.next + 1) % self.config.capacity;
        }
    }

    /// [`push`](Self::push) from a tensor `[k, sample_shape...]`.
    pub fn push_tensor<const D: usize>(&mut self, x: Tensor<D>, labels: Option<&[usize]>) {
        let values = x
            .into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .expect("f32 tensor data");
        self.push(&values, labels);
    }
}

#[cfg(test)]
mod tests;
