//! Negatives of the transition energy: pairs `(s_t, s_t+1)` started fresh or from the replay
//! buffer, then moved by the sampler (Langevin on `s_t+1`, or MPPI).

use burn::tensor::{Device, Tensor};
use ebm_model::{EnergyModel, MlpEnergy};
use ebm_sampler::{NoObserver, SplitMix64};

use super::config::NegativeConfig;
use super::replay::RowBuffer;
use super::train::{host, rows};

/// The energy's negatives for positive pairs `pos` (host, `[n, 2D]`): fresh or replayed
/// starts, then the sampler; the result is pushed to the buffer.
pub fn negatives(
    cfg: &NegativeConfig,
    energy: &MlpEnergy,
    pos: &[f32],
    d: usize,
    buffer: &mut RowBuffer,
    rng: &mut SplitMix64,
    device: &Device,
) -> Tensor<2> {
    let n = pos.len() / (2 * d);
    let mut init = Vec::with_capacity(pos.len());
    for pair in pos.chunks_exact(2 * d) {
        let start = init.len();
        if buffer.len() > n && rng.next_f64() < cfg.reuse_prob {
            let replayed = buffer.draw(rng);
            if cfg.conditional {
                // The replayed move, made from this positive's first state.
                init.extend_from_slice(&pair[..d]);
                init.extend((0..d).map(|k| pair[k] + replayed[d + k] - replayed[k]));
            } else {
                init.extend_from_slice(replayed);
            }
            continue;
        }
        if cfg.conditional {
            init.extend_from_slice(&pair[..d]);
        } else {
            init.extend((0..d).map(|_| (2.0 * rng.next_f64() - 1.0) as f32));
        }
        init.extend_from_within(start..start + d);
        let r = cfg.fresh_radius;
        for v in &mut init[start + d..] {
            *v += (r * (2.0 * rng.next_f64() - 1.0)) as f32;
        }
    }
    let x0 = rows(init, 2 * d, device);
    let energy_fn = |x: Tensor<2>| energy.energy(x, None);
    let x = match &cfg.langevin {
        Some(langevin) => {
            // Only s_t+1 moves: the chain samples the next state given the current one.
            let mask = Tensor::<2>::ones([n, 2 * d], device)
                .slice_assign([0..n, 0..d], Tensor::zeros([n, d], device));
            langevin.run(&energy_fn, x0, Some(&mask), &mut NoObserver)
        }
        None => {
            let cost = |c: Tensor<3>| {
                let m = c.dims()[0];
                energy.energy(c.reshape([m, 2 * d]), None)
            };
            cfg.mppi
                .run(&cost, x0.reshape([n, 1, 2 * d]), 0)
                .reshape([n, 2 * d])
        }
    };
    buffer.push(&host(x.clone()));
    x
}

#[cfg(test)]
mod tests {
    use super::{RowBuffer, host, negatives};
    use crate::paper::plan::config::{NegativeConfig, PlanConfig};
    use burn::tensor::Device;
    use ebm_model::MlpEnergyConfig;
    use ebm_sampler::SplitMix64;

    const POS: [f32; 8] = [0.5, -0.5, 0.52, -0.49, -0.9, 0.3, -0.88, 0.31];

    /// Negatives without sampler steps for two positive pairs of 2-D states; `set` adjusts
    /// the settings, `replay` fills the buffer first.
    fn unsampled_negatives(set: impl Fn(&mut NegativeConfig), replay: &[f32]) -> Vec<f32> {
        let device = Device::flex();
        let mut cfg = PlanConfig::preset("particle").unwrap().negatives;
        cfg.fresh_radius = 0.01;
        cfg.reuse_prob = 0.0;
        cfg.conditional = false; // the reference's: uniform first states (the preset may differ)
        cfg.langevin = cfg.langevin.map(|l| l.with_steps(0));
        set(&mut cfg);
        let energy = MlpEnergyConfig::ebm_plan(2).init(&device);
        let mut buffer = RowBuffer::new(4, 16);
        buffer.push(replay);
        let mut rng = SplitMix64::new(3);
        host(negatives(
            &cfg,
            &energy,
            &POS,
            2,
            &mut buffer,
            &mut rng,
            &device,
        ))
    }

    fn within(a: f32, b: f32, r: f32) -> bool {
        (a - b).abs() <= r + 1e-6
    }

    #[test]
    fn fresh_negatives_start_at_a_uniform_state_or_at_the_positives_first_state() {
        // The reference: a uniform state and a small move from it, far from these positives.
        let neg = unsampled_negatives(|_| {}, &[]);
        assert!(
            POS.chunks(4)
                .zip(neg.chunks(4))
                .any(|(p, n)| !within(p[0], n[0], 0.05))
        );
        for n in neg.chunks(4) {
            assert!(
                within(n[2], n[0], 0.01) && within(n[3], n[1], 0.01),
                "{n:?}"
            );
        }
        // Conditional: the positive's first state and a small move from it.
        let neg = unsampled_negatives(|c| c.conditional = true, &[]);
        for (p, n) in POS.chunks(4).zip(neg.chunks(4)) {
            assert_eq!(p[..2], n[..2], "the first state is the positive's");
            assert!(
                within(n[2], p[0], 0.01) && within(n[3], p[1], 0.01),
                "{p:?} {n:?}"
            );
        }
    }

    #[test]
    fn conditional_negatives_replay_moves_from_the_positives_first_state() {
        // Three stored pairs, each a move of (0.1, -0.2), far from the positives.
        let replay = [
            0.0, 0.0, 0.1, -0.2, 0.3, 0.3, 0.4, 0.1, -0.5, 0.2, -0.4, 0.0,
        ];
        let always = |c: &mut NegativeConfig| c.reuse_prob = 1.0;
        let plain = unsampled_negatives(always, &replay);
        for n in plain.chunks(4) {
            assert!(
                replay.chunks(4).any(|r| r == n),
                "replayed as stored: {n:?}"
            );
        }
        let cond = unsampled_negatives(
            |c| {
                always(c);
                c.conditional = true;
            },
            &replay,
        );
        for (p, n) in POS.chunks(4).zip(cond.chunks(4)) {
            assert_eq!(p[..2], n[..2]);
            assert!(
                within(n[2] - n[0], 0.1, 0.0) && within(n[3] - n[1], -0.2, 0.0),
                "{n:?}"
            );
        }
    }
}
