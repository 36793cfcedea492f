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
        let rate =
            (m.iteration - self.start_iter) as f64 / self.start.elapsed().as_secs_f64().max(1e-9);
        let line = self.line(m, rate);
        if self.terminal {
            eprint!("\r{line}   ");
            let _ = std::io::stderr().flush();
        } else {
            eprintln!("{line}");
        }
    }

    /// The progress line of `m` at `rate` iterations per second: the ETA is that of the
    /// iteration limit or of the time limit, whichever ends first.
    pub fn line(&self, m: &MetricsLine, rate: f64) -> String {
        let (eta, bound) = eta(
            self.total.saturating_sub(m.iteration),
            rate,
            self.time_limit_secs.map(|t| t - m.seconds),
        );
        let total = if self.total >= usize::MAX / 2 {
            "-".to_string()
        } else {
            self.total.to_string()
        };
        format!(
            "[{}/{total}] {rate:.2} it/s, ETA {eta:.0} s{bound} | E+ {:+.4} E- {:+.4} loss {:+.4} |grad_x E| {:.2e}",
            m.iteration, m.e_pos, m.e_neg, m.loss, m.grad_x
        )
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
    use super::*;

    #[test]
    fn the_line_shows_the_eta_of_the_time_limit_when_it_ends_first() {
        let m = MetricsLine {
            iteration: 100,
            e_pos: 0.1,
            e_neg: -0.2,
            loss: 0.3,
            grad_x: 1e-3,
            seconds: 40.0,
            lr: 1e-4,
        };
        let progress = |total: usize, limit: Option<f64>| Progress {
            terminal: false,
            start: Instant::now(),
            start_iter: 0,
            total,
            time_limit_secs: limit,
        };
        // 900 iterations left at 2 it/s: 450 s, but the 60 s time limit ends in 20 s.
        let line = progress(1000, Some(60.0)).line(&m, 2.0);
        assert!(
            line.starts_with("[100/1000] 2.00 it/s, ETA 20 s (time limit) |"),
            "{line}"
        );
        // Without a time limit, the iterations bound it.
        let line = progress(1000, None).line(&m, 2.0);
        assert!(
            line.starts_with("[100/1000] 2.00 it/s, ETA 450 s |"),
            "{line}"
        );
        // A run limited by time only (iterations unbounded) has no iteration total to show.
        let line = progress(usize::MAX, Some(60.0)).line(&m, 2.0);
        assert!(
            line.starts_with("[100/-] 2.00 it/s, ETA 20 s (time limit) |"),
            "{line}"
        );
    }

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
