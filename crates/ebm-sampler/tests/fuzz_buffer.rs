//! Property tests of the replay buffer's reader (the checkpoint's `buffer.bin`): random and
//! mutated bytes give an error or a buffer that can be used, never a panic, now or at the next
//! push or draw.

use ebm_sampler::{ReplayBuffer, ReplayConfig};
use proptest::prelude::*;

const SHAPE: [usize; 3] = [1, 2, 3];

fn config() -> ReplayConfig {
    ReplayConfig::new().with_capacity(8)
}

fn valid(conditional: bool, pushed: usize) -> Vec<u8> {
    let mut b = ReplayBuffer::new(config(), &SHAPE, conditional, 3);
    let values: Vec<f32> = (0..pushed * 6).map(|i| (i % 7) as f32 / 7.0).collect();
    let labels: Vec<usize> = (0..pushed).map(|i| i % 4).collect();
    b.push(&values, conditional.then_some(&labels[..]));
    b.to_bytes()
}

/// Reads `bytes`; a buffer that loads must then take a push and a draw.
fn read_and_use(bytes: &[u8]) {
    if let Ok(mut b) = ReplayBuffer::from_bytes(config(), &SHAPE, bytes) {
        let labels = [1usize; 3];
        let labels = b.is_conditional().then_some(&labels[..]);
        b.push(&[0.25; 3 * 6], labels);
        let draw = b.draw(3, labels);
        assert_eq!(draw.values.len(), 3 * 6);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        read_and_use(&bytes);
        let mut with_magic = b"EBMREPLAY1".to_vec();
        with_magic.extend(&bytes);
        read_and_use(&with_magic);
    }

    #[test]
    fn mutated_valid_files_never_panic(
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..6),
        cut in 0usize..12,
        conditional in any::<bool>(),
        pushed in 0usize..12,
    ) {
        let mut bytes = valid(conditional, pushed);
        for &(pos, val) in &edits {
            let i = pos % bytes.len();
            bytes[i] = val;
        }
        bytes.truncate(bytes.len().saturating_sub(cut));
        read_and_use(&bytes);
    }
}
