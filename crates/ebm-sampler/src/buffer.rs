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

use burn::config::Config;
use burn::tensor::{Device, Tensor, TensorData};

use crate::rng::SplitMix64;

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
}

impl InitDistribution {
    fn draw(self, rng: &mut SplitMix64) -> f32 {
        match self {
            InitDistribution::Uniform { low, high } => (low + (high - low) * rng.next_f64()) as f32,
            InitDistribution::Gaussian { mean, std } => (mean + std * rng.normal()) as f32,
        }
    }
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
}

const MAGIC: &[u8] = b"EBMREPLAY1";

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
        }
    }

    /// Samples stored.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing is stored yet.
    pub fn is_empty(&self) -> bool {
        self.len == 0
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
                for _ in 0..self.sample_len {
                    values.push(self.config.init.draw(&mut self.rng));
                }
            }
        }
        Draw {
            values,
            labels: out_labels,
            reused,
        }
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
        assert_eq!(
            D,
            1 + self.sample_shape.len(),
            "tensor rank vs sample shape {:?}",
            self.sample_shape
        );
        let draw = self.draw(n, labels);
        let mut shape = vec![n];
        shape.extend(&self.sample_shape);
        let x = Tensor::from_data(TensorData::new(draw.values, shape), device);
        (x, draw.labels)
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

    /// Serialises samples, labels, write position and RNG state (not the config: that lives in
    /// the run's `config.json`).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 + self.data.len() + 4 * self.labels.len());
        out.extend(MAGIC);
        for v in [
            self.config.capacity,
            self.len,
            self.next,
            self.sample_shape.len(),
        ] {
            out.extend((v as u64).to_le_bytes());
        }
        for &d in &self.sample_shape {
            out.extend((d as u64).to_le_bytes());
        }
        out.push(u8::from(self.conditional));
        out.extend(self.rng.state.to_le_bytes());
        out.extend(&self.data);
        if self.conditional {
            for &l in &self.labels {
                out.extend(l.to_le_bytes());
            }
        }
        out
    }

    /// Restores a buffer written by [`to_bytes`](Self::to_bytes) for `config`.
    pub fn from_bytes(config: ReplayConfig, bytes: &[u8]) -> Result<Self, BufferError> {
        let mut pos = 0usize;
        let mut take = |n: usize| -> Result<&[u8], BufferError> {
            let slice = bytes.get(pos..pos + n).ok_or(BufferError::Truncated {
                expected: pos + n,
                found: bytes.len(),
            })?;
            pos += n;
            Ok(slice)
        };
        if take(MAGIC.len()).ok() != Some(MAGIC) {
            return Err(BufferError::BadMagic { expected: MAGIC });
        }
        let mut word =
            || -> Result<u64, BufferError> { Ok(u64::from_le_bytes(take(8)?.try_into().unwrap())) };
        let capacity = word()? as usize;
        let len = word()? as usize;
        let next = word()? as usize;
        let ndim = word()? as usize;
        if ndim > 8 {
            return Err(BufferError::Mismatch {
                expected: "at most 8 dimensions".into(),
                found: format!("{ndim}"),
            });
        }
        let shape = (0..ndim)
            .map(|_| word().map(|d| d as usize))
            .collect::<Result<Vec<_>, _>>()?;
        if capacity != config.capacity || len > capacity || next >= capacity.max(1) {
            return Err(BufferError::Mismatch {
                expected: format!("capacity {}", config.capacity),
                found: format!("capacity {capacity}, {len} stored, next slot {next}"),
            });
        }
        let conditional = take(1)?[0] == 1;
        let rng = u64::from_le_bytes(take(8)?.try_into().unwrap());
        let sample_len = shape
            .iter()
            .try_fold(1usize, |a, &d| a.checked_mul(d))
            .unwrap_or(usize::MAX);
        let data_len = len.checked_mul(sample_len).ok_or(BufferError::Truncated {
            expected: usize::MAX,
            found: bytes.len(),
        })?;
        let data = take(data_len)?.to_vec();
        let labels = if conditional {
            take(4 * len)?
                .chunks(4)
                .map(|c| u32::from_le_bytes(c.try_into().unwrap()))
                .collect()
        } else {
            vec![0; len]
        };
        let mut buffer = ReplayBuffer::new(config, &shape, conditional, rng);
        buffer.data = data;
        buffer.labels = labels;
        buffer.len = len;
        buffer.next = next;
        Ok(buffer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reused_fraction_matches_reuse_prob() {
        let mut buffer = ReplayBuffer::new(ReplayConfig::new().with_capacity(100), &[2], false, 1);
        let fresh = buffer.draw(64, None);
        assert_eq!(fresh.reused, 0, "an empty buffer cannot replay");
        buffer.push(&vec![0.5; 200], None);
        let (n, rounds) = (50, 400);
        let reused: usize = (0..rounds).map(|_| buffer.draw(n, None).reused).sum();
        let total = (n * rounds) as f64;
        let p = 0.95;
        let se = (p * (1.0 - p) / total).sqrt();
        let share = reused as f64 / total;
        assert!(
            (share - p).abs() < 4.0 * se,
            "reused {share}, expected {p} +- {}",
            4.0 * se
        );
    }

    #[test]
    fn u8_round_trip_moves_a_value_by_less_than_1_over_256() {
        let values: Vec<f32> = (0..=1000).map(|i| i as f32 / 1000.0).collect();
        let mut buffer = ReplayBuffer::new(
            ReplayConfig::new().with_capacity(1).with_reuse_prob(1.0),
            &[values.len()],
            false,
            3,
        );
        buffer.push(&values, None);
        for _ in 0..20 {
            let back = buffer.draw(0, None);
            assert!(back.values.is_empty());
        }
        // Force replay: the buffer must hold more samples than are drawn, so draw one from a
        // buffer of two copies.
        let mut buffer2 = ReplayBuffer::new(
            ReplayConfig::new().with_capacity(2).with_reuse_prob(1.0),
            &[values.len()],
            false,
            3,
        );
        buffer2.push(&values, None);
        buffer2.push(&values, None);
        for _ in 0..20 {
            let back = buffer2.draw(1, None);
            assert_eq!(back.reused, 1);
            let worst = back
                .values
                .iter()
                .zip(&values)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f32::max);
            assert!(worst < 1.0 / 256.0, "moved by {worst}");
        }
    }

    #[test]
    fn fifo_overwrites_oldest_and_labels_travel() {
        let mut buffer = ReplayBuffer::new(
            ReplayConfig::new().with_capacity(3).with_reuse_prob(1.0),
            &[1],
            true,
            9,
        );
        buffer.push(&[0.1, 0.2, 0.3], Some(&[1, 2, 3]));
        buffer.push(&[0.9], Some(&[7]));
        assert_eq!(buffer.len(), 3);
        for _ in 0..50 {
            let d = buffer.draw(2, Some(&[0, 0]));
            for (v, l) in d.values.iter().zip(d.labels.unwrap()) {
                let expected = match l {
                    7 => 0.9,
                    2 => 0.2,
                    3 => 0.3,
                    other => panic!("label {other} was overwritten or never stored"),
                };
                assert!((v - expected).abs() < 1.0 / 256.0);
            }
        }
    }

    #[test]
    fn save_and_load_restore_the_same_future_draws() {
        let config = || ReplayConfig::new().with_capacity(20);
        let mut buffer = ReplayBuffer::new(config(), &[2, 3], true, 42);
        let values: Vec<f32> = (0..30 * 6).map(|i| (i % 97) as f32 / 97.0).collect();
        let labels: Vec<usize> = (0..30).map(|i| i % 10).collect();
        buffer.push(&values, Some(&labels));
        let bytes = buffer.to_bytes();
        let mut restored = ReplayBuffer::from_bytes(config(), &bytes).unwrap();
        assert_eq!(restored.to_bytes(), bytes);
        for _ in 0..5 {
            assert_eq!(
                buffer.draw(8, Some(&[1; 8])),
                restored.draw(8, Some(&[1; 8]))
            );
        }
        assert!(matches!(
            ReplayBuffer::from_bytes(config(), &bytes[..bytes.len() - 1]),
            Err(BufferError::Truncated { .. })
        ));
        assert!(matches!(
            ReplayBuffer::from_bytes(ReplayConfig::new().with_capacity(5), &bytes),
            Err(BufferError::Mismatch { .. })
        ));
        assert!(matches!(
            ReplayBuffer::from_bytes(config(), b"nonsense"),
            Err(BufferError::BadMagic { .. })
        ));
    }
}
