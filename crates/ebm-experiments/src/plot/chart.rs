//! Line charts as PNG (ROC curves, accuracy against epsilon), drawn with `plotters` into a
//! pixel buffer and written by `image`. Text uses the embedded font
//! (`plot::font`), so no system font is needed.

use std::path::Path;

use anyhow::{Context, Result, anyhow};
use plotters::prelude::*;

use super::font::register;

const SIZE: (u32, u32) = (760, 560);

/// One line of a chart.
#[derive(Clone, Debug)]
pub struct Series {
    /// Legend text.
    pub name: String,
    /// Points in data coordinates, drawn in order.
    pub points: Vec<(f64, f64)>,
}

/// Axes and titles of a chart.
#[derive(Clone, Debug)]
pub struct Chart {
    /// Title above the plot.
    pub title: String,
    /// X axis label.
    pub x_label: String,
    /// Y axis label.
    pub y_label: String,
    /// X range.
    pub x_range: (f64, f64),
    /// Y range.
    pub y_range: (f64, f64),
    /// Mark every point with a dot (few points: accuracy curves), or not (ROC curves).
    pub markers: bool,
    /// Draw the diagonal `y = x` in grey (chance level of a ROC curve).
    pub diagonal: bool,
}

impl Chart {
    /// A ROC chart titled `title`: both axes `[0, 1]`, the chance diagonal, no markers.
    pub fn roc(title: impl Into<String>, x_label: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            x_label: x_label.into(),
            y_label: "true positive rate".into(),
            x_range: (0.0, 1.0),
            y_range: (0.0, 1.0),
            markers: false,
            diagonal: true,
        }
    }
}

/// Writes `series` as a line chart PNG at `path`, one colour per series, with a legend.
pub fn write_line_chart(path: &Path, chart: &Chart, series: &[Series]) -> Result<()> {
    let img = line_chart(chart, series, SIZE)?;
    img.save(path)
        .with_context(|| format!("writing {}", path.display()))
}

/// Draws `series` as a `size` line chart, one colour per series, with a legend.
pub fn line_chart(chart: &Chart, series: &[Series], size: (u32, u32)) -> Result<image::RgbImage> {
    register();
    let (w, h) = size;
    let mut buf = vec![0u8; (w * h * 3) as usize];
    draw(&mut buf, size, chart, series)
        .map_err(|e| anyhow!("drawing the chart {:?}: {e}", chart.title))?;
    image::RgbImage::from_raw(w, h, buf).context("chart buffer size")
}

fn draw(
    buf: &mut [u8],
    size: (u32, u32),
    chart: &Chart,
    series: &[Series],
) -> Result<(), Box<dyn std::error::Error>> {
    let root = BitMapBackend::with_buffer(buf, size).into_drawing_area();
    root.fill(&WHITE)?;
    let (x0, x1) = chart.x_range;
    let (y0, y1) = chart.y_range;
    let mut ctx = ChartBuilder::on(&root)
        .caption(&chart.title, ("sans-serif", 22))
        .margin(14)
        .x_label_area_size(46)
        .y_label_area_size(58)
        .build_cartesian_2d(x0..x1, y0..y1)?;
    let mut mesh = ctx.configure_mesh();
    mesh.x_desc(&chart.x_label)
        .y_desc(&chart.y_label)
        .label_style(("sans-serif", 15))
        .axis_desc_style(("sans-serif", 17))
        .light_line_style(RGBColor(235, 235, 235));
    // Small values (learning rates) in scientific notation rather than runs of zeros.
    let scientific = |v: &f64| format!("{v:.2e}");
    if y0.abs().max(y1.abs()) < 1e-2 {
        mesh.y_label_formatter(&scientific);
    }
    mesh.draw()?;
    if chart.diagonal {
        let lo = x0.max(y0);
        let hi = x1.min(y1);
        ctx.draw_series(LineSeries::new(
            [(lo, lo), (hi, hi)],
            RGBColor(170, 170, 170).stroke_width(1),
        ))?;
    }
    for (i, s) in series.iter().enumerate() {
        let color = Palette99::pick(i).to_rgba();
        ctx.draw_series(LineSeries::new(
            s.points.iter().copied(),
            color.stroke_width(2),
        ))?
        .label(s.name.as_str())
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 22, y)], color.stroke_width(3)));
        if chart.markers {
            ctx.draw_series(s.points.iter().map(|&p| Circle::new(p, 3, color.filled())))?;
        }
    }
    ctx.configure_series_labels()
        .label_font(("sans-serif", 15))
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(120, 120, 120))
        .position(SeriesLabelPosition::LowerRight)
        .draw()?;
    root.present()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_lines_legend_and_text() {
        let path = std::env::temp_dir().join(format!("ebm-chart-{}.png", std::process::id()));
        let chart = Chart {
            markers: true,
            ..Chart::roc("ROC", "false positive rate")
        };
        let series = [Series {
            name: "uniform (AUROC 1.00)".into(),
            points: vec![(0.0, 0.0), (0.0, 1.0), (1.0, 1.0)],
        }];
        write_line_chart(&path, &chart, &series).unwrap();
        let img = image::open(&path).unwrap().to_rgb8();
        assert_eq!(img.dimensions(), SIZE);
        let coloured = img
            .pixels()
            .filter(|p| p[0] != p[1] || p[1] != p[2])
            .count();
        let dark = img
            .pixels()
            .filter(|p| p[0] < 80 && p[1] < 80 && p[2] < 80)
            .count();
        assert!(
            coloured > 500,
            "the series is drawn in colour ({coloured} pixels)"
        );
        assert!(dark > 500, "axes and text are drawn ({dark} dark pixels)");
        std::fs::remove_file(&path).ok();
    }
}
