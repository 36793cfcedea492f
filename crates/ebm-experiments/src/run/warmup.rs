//! Learning-rate warm-up: the rate rises linearly over the first iterations, so the first
//! updates of a fresh network, whose negatives are still noise, stay small.

/// The learning rate of iteration `iteration` (0-based) when the full rate `lr` is reached
/// after `warmup` iterations: `lr * (iteration + 1) / warmup` before, `lr` from then on;
/// `warmup = 0` is no warm-up.
pub fn warmed_up(lr: f64, iteration: usize, warmup: usize) -> f64 {
    if iteration >= warmup {
        lr
    } else {
        lr * (iteration + 1) as f64 / warmup as f64
    }
}

#[cfg(test)]
mod tests {
    use super::warmed_up;

    #[test]
    fn rises_linearly_then_holds() {
        assert_eq!(warmed_up(1e-3, 0, 0), 1e-3);
        assert_eq!(warmed_up(1e-3, 5, 0), 1e-3);
        let rates: Vec<f64> = (0..6).map(|i| warmed_up(1.0, i, 4)).collect();
        assert_eq!(rates, [0.25, 0.5, 0.75, 1.0, 1.0, 1.0]);
    }
}
