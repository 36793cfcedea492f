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
}

impl Progress {
    /// Prints one metrics line with rate and ETA.
    pub fn report(&self, m: &MetricsLine) {
        let done = m.iteration - self.start_iter;
        let rate = done as f64 / self.start.elapsed().as_secs_f64().max(1e-9);
        let eta = (self.total - m.iteration) as f64 / rate.max(1e-9);
        let line = format!(
            "[{}/{}] {:.2} it/s, ETA {:.0} s | E+ {:+.4} E- {:+.4} loss {:+.4} |grad_x E| {:.2e}",
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
