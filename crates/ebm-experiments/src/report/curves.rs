//! The training curves of `metrics.jsonl`: energies, loss, |grad_x E|, learning rate and
//! iterations per second against the iteration, each a PNG line chart (`plot::chart`).

use std::io::Cursor;

use anyhow::{Context, Result};

use crate::plot::chart::{Chart, Series, line_chart};
use crate::run::metrics::MetricsLine;

/// Pixel size of one curve chart.
pub const CURVE_SIZE: (u32, u32) = (560, 380);

/// One chart of the report: its title and PNG bytes.
pub struct Curve {
    /// What it shows.
    pub title: String,
    /// The chart as PNG.
    pub png: Vec<u8>,
}

/// Iterations per second between consecutive logged lines (training seconds, so checkpoint
/// and sample writing are not counted), at the later line's iteration.
pub fn rates(lines: &[MetricsLine]) -> Vec<(f64, f64)> {
    lines
        .windows(2)
        .filter_map(|w| {
            let dt = w[1].seconds - w[0].seconds;
            let di = w[1].iteration as f64 - w[0].iteration as f64;
            (dt > 0.0 && di > 0.0).then(|| (w[1].iteration as f64, di / dt))
        })
        .collect()
}

/// The charts of `lines` (none when there are no lines).
pub fn curves(lines: &[MetricsLine]) -> Result<Vec<Curve>> {
    if lines.is_empty() {
        return Ok(Vec::new());
    }
    let of = |f: fn(&MetricsLine) -> f64| -> Vec<(f64, f64)> {
        lines.iter().map(|m| (m.iteration as f64, f(m))).collect()
    };
    let series = |name: &str, points: Vec<(f64, f64)>| Series {
        name: name.into(),
        points,
    };
    let specs = [
        (
            "Energies",
            "mean energy",
            vec![
                series("E+ (data)", of(|m| m.e_pos)),
                series("E- (samples)", of(|m| m.e_neg)),
            ],
        ),
        ("Loss", "loss", vec![series("loss", of(|m| m.loss))]),
        (
            "|grad_x E| over the Langevin steps",
            "mean |grad_x E|",
            vec![series("|grad_x E|", of(|m| m.grad_x))],
        ),
        (
            "Learning rate",
            "learning rate",
            vec![series("lr", of(|m| m.lr))],
        ),
        (
            "Training speed",
            "iterations / s",
            vec![series("it/s", rates(lines))],
        ),
    ];
    let mut out = Vec::new();
    for (title, y_label, series) in specs {
        let series: Vec<Series> = series
            .into_iter()
            .map(|s| Series {
                points: s
                    .points
                    .into_iter()
                    .filter(|(_, y)| y.is_finite())
                    .collect(),
                ..s
            })
            .filter(|s| !s.points.is_empty())
            .collect();
        if series.is_empty() {
            continue;
        }
        let points = series.iter().flat_map(|s| s.points.iter());
        let chart = Chart {
            title: title.into(),
            x_label: "iteration".into(),
            y_label: y_label.into(),
            x_range: padded(points.clone().map(|p| p.0), 0.0),
            y_range: padded(points.map(|p| p.1), 0.06),
            markers: series.iter().all(|s| s.points.len() <= 30),
            diagonal: false,
        };
        let img = line_chart(&chart, &series, CURVE_SIZE)?;
        let mut png = Vec::new();
        img.write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png)
            .with_context(|| format!("encoding the chart {title:?}"))?;
        out.push(Curve {
            title: title.into(),
            png,
        });
    }
    Ok(out)
}

/// The range of `values`, widened by `margin` of its span on each side; a single value gets a
/// range around it.
fn padded(values: impl Iterator<Item = f64>, margin: f64) -> (f64, f64) {
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    let span = hi - lo;
    if span > 1e-12 * hi.abs().max(lo.abs()).max(1e-300) {
        (lo - margin * span, hi + margin * span)
    } else {
        let half = (lo.abs() * 0.1).max(1e-9);
        (lo - half, hi + half)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(iteration: usize, seconds: f64) -> MetricsLine {
        MetricsLine {
            iteration,
            e_pos: -0.1 * iteration as f64,
            e_neg: 0.1,
            loss: f64::NAN,
            grad_x: 1e-3,
            seconds,
            lr: 1e-4,
        }
    }

    #[test]
    fn speed_is_iterations_over_training_seconds() {
        let r = rates(&[line(10, 1.0), line(20, 3.0), line(30, 3.0)]);
        assert_eq!(r, vec![(20.0, 5.0)]);
    }

    #[test]
    fn every_curve_with_finite_values_is_drawn() {
        let lines: Vec<_> = (1..=5).map(|i| line(10 * i, i as f64)).collect();
        let titles: Vec<String> = curves(&lines)
            .unwrap()
            .into_iter()
            .map(|c| c.title)
            .collect();
        // The loss is all NaN: skipped; the constant learning rate still gets a chart.
        assert_eq!(titles.len(), 4, "{titles:?}");
        assert!(titles.iter().any(|t| t == "Learning rate"));
        assert!(curves(&[]).unwrap().is_empty());
        let (lo, hi) = padded([1e-4, 1e-4].into_iter(), 0.06);
        assert!(lo < 1e-4 && hi > 1e-4);
    }
}
