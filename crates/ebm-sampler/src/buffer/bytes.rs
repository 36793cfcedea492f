//! The buffer as bytes, for checkpoints: samples, labels, write position and RNG state.

use super::{BufferError, ReplayBuffer, ReplayConfig};

const MAGIC: &[u8] = b"EBMREPLAY1";

impl ReplayBuffer {
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

    /// Restores a buffer written by [`to_bytes`](Self::to_bytes) for `config` and samples of
    /// `sample_shape`; a file saved for another capacity or shape, or whose write position does
    /// not fit its contents, is an error.
    pub fn from_bytes(
        config: ReplayConfig,
        sample_shape: &[usize],
        bytes: &[u8],
    ) -> Result<Self, BufferError> {
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
        // The ring fills slot by slot, so until it is full the next slot is the first empty one.
        let next_fits = if len < capacity {
            next == len
        } else {
            next < capacity
        };
        if capacity != config.capacity || len > capacity || !next_fits {
            return Err(BufferError::Mismatch {
                expected: format!("capacity {}", config.capacity),
                found: format!("capacity {capacity}, {len} stored, next slot {next}"),
            });
        }
        if shape != sample_shape {
            return Err(BufferError::Mismatch {
                expected: format!("samples of shape {sample_shape:?}"),
                found: format!("samples of shape {shape:?}"),
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
