//! Per-step statistics for whoever is watching a chain; the library itself prints nothing.

/// What one sampler step did, averaged over the batch.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepStats {
    /// Step index, from 0.
    pub step: usize,
    /// Mean energy of the batch before the step.
    pub mean_energy: f64,
    /// Mean absolute input gradient (before clipping).
    pub mean_abs_grad: f64,
    /// Mean absolute change of an element over the step.
    pub mean_move: f64,
    /// Fraction of proposals accepted (MALA, HMC); `None` for unadjusted Langevin.
    pub acceptance: Option<f64>,
}

/// Receives [`StepStats`] after every step.
///
/// Computing the statistics reads values back from the device, which stalls an asynchronous
/// backend, so samplers compute them only when [`Observer::wants_stats`] says so.
pub trait Observer {
    /// Whether to compute statistics at all (default: yes).
    fn wants_stats(&self) -> bool {
        true
    }

    /// Called once per step with that step's statistics.
    fn on_step(&mut self, stats: &StepStats);
}

/// Ignores everything; samplers skip the statistics entirely.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoObserver;

impl Observer for NoObserver {
    fn wants_stats(&self) -> bool {
        false
    }

    fn on_step(&mut self, _stats: &StepStats) {}
}

/// Collects every step's statistics.
#[derive(Clone, Debug, Default)]
pub struct Recorder {
    /// One entry per step, in order.
    pub steps: Vec<StepStats>,
}

impl Observer for Recorder {
    fn on_step(&mut self, stats: &StepStats) {
        self.steps.push(*stats);
    }
}

impl<F: FnMut(&StepStats)> Observer for F {
    fn on_step(&mut self, stats: &StepStats) {
        self(stats)
    }
}
