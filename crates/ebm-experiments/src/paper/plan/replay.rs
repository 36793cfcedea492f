//! A FIFO ring of `f32` rows (transition pairs `[s_t, s_t+1]`), drawn uniformly with
//! replacement, as the reference's `utils.ReplayBuffer`.
//!
//! `ebm_sampler::ReplayBuffer` stores images as `u8` in `[0, 1]`; states here are unbounded
//! floats whose steps are 0.05, which 256 levels would blur, hence this small `f32` ring.

use ebm_sampler::SplitMix64;

/// Rows of `width` floats, at most `capacity` of them.
pub struct RowBuffer {
    width: usize,
    capacity: usize,
    rows: Vec<f32>,
    next: usize,
}

impl RowBuffer {
    /// An empty buffer.
    pub fn new(width: usize, capacity: usize) -> Self {
        Self {
            width,
            capacity,
            rows: Vec::new(),
            next: 0,
        }
    }

    /// Rows held.
    pub fn len(&self) -> usize {
        self.rows.len() / self.width
    }

    /// Whether the buffer is empty.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Adds rows (row-major), overwriting the oldest once full.
    pub fn push(&mut self, rows: &[f32]) {
        for row in rows.chunks_exact(self.width) {
            if self.len() < self.capacity {
                self.rows.extend_from_slice(row);
            } else {
                let at = self.next * self.width;
                self.rows[at..at + self.width].copy_from_slice(row);
            }
            self.next = (self.next + 1) % self.capacity;
        }
    }

    /// Row `i`.
    pub fn row(&self, i: usize) -> &[f32] {
        &self.rows[i * self.width..(i + 1) * self.width]
    }

    /// A uniformly drawn row.
    pub fn draw(&self, rng: &mut SplitMix64) -> &[f32] {
        self.row(rng.below(self.len()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifo_overwrites_the_oldest_rows() {
        let mut b = RowBuffer::new(2, 2);
        b.push(&[1.0, 1.0, 2.0, 2.0, 3.0, 3.0]);
        assert_eq!(b.len(), 2);
        assert_eq!((b.row(0), b.row(1)), (&[3.0, 3.0][..], &[2.0, 2.0][..]));
        let mut rng = SplitMix64::new(1);
        let drawn: Vec<f32> = (0..50).map(|_| b.draw(&mut rng)[0]).collect();
        assert!(drawn.contains(&2.0) && drawn.contains(&3.0) && !drawn.contains(&1.0));
    }
}
