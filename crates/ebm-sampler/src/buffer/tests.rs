//! Draws, pushes and the byte round trip of the replay buffer.

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
    let mut restored = ReplayBuffer::from_bytes(config(), &[2, 3], &bytes).unwrap();
    assert_eq!(restored.to_bytes(), bytes);
    for _ in 0..5 {
        assert_eq!(
            buffer.draw(8, Some(&[1; 8])),
            restored.draw(8, Some(&[1; 8]))
        );
    }
    assert!(matches!(
        ReplayBuffer::from_bytes(config(), &[2, 3], &bytes[..bytes.len() - 1]),
        Err(BufferError::Truncated { .. })
    ));
    assert!(matches!(
        ReplayBuffer::from_bytes(ReplayConfig::new().with_capacity(5), &[2, 3], &bytes),
        Err(BufferError::Mismatch { .. })
    ));
    assert!(matches!(
        ReplayBuffer::from_bytes(config(), &[2, 3], b"nonsense"),
        Err(BufferError::BadMagic { .. })
    ));
}

#[test]
fn a_file_for_another_shape_or_with_a_write_position_past_its_samples_is_refused() {
    let config = || ReplayConfig::new().with_capacity(20);
    let mut buffer = ReplayBuffer::new(config(), &[2, 3], false, 1);
    buffer.push(&[0.5; 4 * 6], None);
    let bytes = buffer.to_bytes();
    let err = ReplayBuffer::from_bytes(config(), &[3, 2], &bytes).unwrap_err();
    assert!(err.to_string().contains("[2, 3]"), "{err}");
    // Header: magic, then capacity, len, next as little-endian u64s.
    let next_at = b"EBMREPLAY1".len() + 16;
    let mut past = bytes.clone();
    past[next_at..next_at + 8].copy_from_slice(&7u64.to_le_bytes());
    assert!(matches!(
        ReplayBuffer::from_bytes(config(), &[2, 3], &past),
        Err(BufferError::Mismatch { .. })
    ));
    // The same position is fine once the ring is full.
    let mut full = ReplayBuffer::new(config(), &[2, 3], false, 1);
    full.push(&[0.5; 23 * 6], None);
    let restored = ReplayBuffer::from_bytes(config(), &[2, 3], &full.to_bytes()).unwrap();
    assert_eq!(restored.len(), 20);
}

#[test]
fn stored_draws_continue_every_chain_and_filter_by_class() {
    let mut buffer = ReplayBuffer::new(ReplayConfig::new().with_capacity(10), &[1], true, 5);
    assert_eq!(
        buffer.draw_stored(4, None).unwrap_err(),
        BufferError::Empty { label: None }
    );
    buffer.push(&[0.1, 0.9, 0.1], Some(&[0, 1, 0]));
    // Fewer stored samples than chains: every chain still continues a stored one.
    let draw = buffer.draw_stored(8, Some(1)).unwrap();
    assert_eq!(draw.labels, Some(vec![1; 8]));
    assert!(
        draw.values
            .iter()
            .all(|v| (v - 0.9).abs() < 1.0 / 256.0 + 1e-6)
    );
    assert_eq!(
        buffer.draw_stored(2, Some(7)).unwrap_err(),
        BufferError::Empty { label: Some(7) }
    );
}

/// Two tight Gaussians over 2 values: component 0 near (0.1, 0.1), component 1 near (0.9, 0.9).
fn two_gaussians() -> Arc<FittedGaussian> {
    let mut fit = GaussianFit::new(2, 2);
    for k in 0..10 {
        let e = k as f32 * 1e-3;
        fit.add(0, &[0.1 + e, 0.1 - e]);
        fit.add(1, &[0.9 - e, 0.9 + e]);
    }
    Arc::new(fit.finish(1e-6).unwrap())
}

#[test]
fn fitted_fresh_starts_follow_the_label_or_a_uniform_class() {
    let config = ReplayConfig::new().with_init(InitDistribution::Fitted { ridge: 1e-6 });
    let near = |v: &[f32], c: f32| v.iter().all(|x| (x - c).abs() < 0.05);
    // Conditional: each fresh start comes from its label's Gaussian.
    let mut buffer = ReplayBuffer::new(config.clone(), &[2], true, 4);
    buffer.set_fitted(two_gaussians());
    let draw = buffer.draw(3, Some(&[1, 0, 1]));
    let starts: Vec<&[f32]> = draw.values.chunks(2).collect();
    assert!(near(starts[0], 0.9) && near(starts[1], 0.1) && near(starts[2], 0.9));
    // Unconditional: both Gaussians, about half each.
    let mut buffer = ReplayBuffer::new(config, &[2], false, 4);
    buffer.set_fitted(two_gaussians());
    let draw = buffer.draw(400, None);
    let high = draw.values.chunks(2).filter(|s| near(s, 0.9)).count();
    let low = draw.values.chunks(2).filter(|s| near(s, 0.1)).count();
    assert_eq!(high + low, 400);
    assert!((150..250).contains(&high), "{high} of 400 from component 1");
}

#[test]
#[should_panic(expected = "set_fitted must come before a draw")]
fn fitted_fresh_starts_need_the_fit() {
    let config = ReplayConfig::new().with_init(InitDistribution::Fitted { ridge: 1e-3 });
    ReplayBuffer::new(config, &[2], false, 1).draw(1, None);
}
