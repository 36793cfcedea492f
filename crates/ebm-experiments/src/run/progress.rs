//! Training progress on stderr: a live line on a terminal, one line per log interval otherwise.

use std::io::Write;
use std::time::Instant;

use super::metrics::MetricsLine;

/// Progress on stderr: a live line on a terminal, one line per log interval otherwise.
pub struct Progress {
    /// Whether stderr is a terminal (a live line) or not (one line per report).
    pub terminal: bool,
    /// When this invocation started.
    pub start: Instant,
    /// Iteration this invocation started from.
    pub start_iter: usize,
    /// Iterations of the whole run.
    pub total: usize,
    /// The run's training-time limit in seconds, if any: the ETA is whichever ends first.
    pub time_limit_secs: Option<f64>,
}

impl Progress {
    /// Prints one metrics line with rate and ETA.
    pub fn report(&self, m: &MetricsLine) {
        let done = m.iteration - self.start_iter;
        let rate = done as f64 / self.start.elapsed().as_secs_f64().max(1e-9);
        let (eta, bound) = eta(
            self.total.saturating_sub(m.iteration),
            rate,
            self.time_limit_secs.map(|t| t - m.seconds),
        );
        let line = format!(
            "[{}/{}] {:.2} it/s, ETA {:.0} s{bound} | E+ {:+.4} E- {:+.4} loss {:+.4} |grad_x E| {:.2e}",
            m.iteration, self.total, rate, eta, m.e_pos, m.e_neg, m.loss, m.grad_x
        );
        if self.terminal {
            eprint!("\r{line}   ");
            let _ = std::io::stderr().flush();
        } else {
            eprintln!("{line}");
        }
    }

    /// Prints a message on a line of its own.
    pub fn say(&self, msg: &str) {
        if self.terminal {
            eprintln!();
        }
        eprintln!("{msg}");
    }
}

/// Seconds left and what bounds them: the iterations left at `rate`, or the training time left
/// under the time limit, whichever ends first (then marked " (time limit)").
fn eta(iters_left: usize, rate: f64, time_left: Option<f64>) -> (f64, &'static str) {
    let by_iters = iters_left as f64 / rate.max(1e-9);
    match time_left {
        Some(t) if t.max(0.0) < by_iters => (t.max(0.0), " (time limit)"),
        _ => (by_iters, ""),
    }
}

#[cfg(test)]
mod tests {
    use super::eta;

    #[test]
    fn eta_is_whichever_limit_ends_first() {
        assert_eq!(eta(100, 2.0, None), (50.0, ""));
        assert_eq!(eta(100, 2.0, Some(80.0)), (50.0, ""));
        assert_eq!(
            eta(usize::MAX / 2, 0.4, Some(30.0)),
            (30.0, " (time limit)")
        );
        assert_eq!(eta(100, 2.0, Some(-3.0)), (0.0, " (time limit)"));
    }
}
