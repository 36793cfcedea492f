//! A heat map of a matrix of values in [0, 1] (accuracy matrices), drawn with `plotters` on a
//! bitmap and written as PNG: one cell per entry with its value in per cent, row and column
//! labels, and a title. Text uses the embedded font (`plot::font`).

use std::path::Path;

use anyhow::{Context, Result};
use plotters::prelude::*;
use plotters::style::colors::colormaps::ViridisRGB;

use super::font::{FAMILY, register};

/// The labels and title of a heat map.
pub struct HeatmapText<'a> {
    /// Above the map.
    pub title: &'a str,
    /// Left of each row.
    pub rows: &'a [String],
    /// Above each column.
    pub cols: &'a [String],
    /// Along the left edge (what the rows are).
    pub row_axis: &'a str,
    /// Along the top edge (what the columns are).
    pub col_axis: &'a str,
}

/// Writes `matrix` (rows of equal length, values in [0, 1]) as a PNG heat map (viridis).
pub fn write_heatmap(path: &Path, matrix: &[Vec<f64>], text: &HeatmapText) -> Result<()> {
    let rows = matrix.len();
    let cols = matrix.first().map_or(0, Vec::len);
    anyhow::ensure!(
        rows > 0 && cols > 0 && matrix.iter().all(|r| r.len() == cols),
        "a heat map needs a non-empty rectangular matrix"
    );
    anyhow::ensure!(
        text.rows.len() == rows && text.cols.len() == cols,
        "{} row and {} column labels for a {rows}x{cols} matrix",
        text.rows.len(),
        text.cols.len()
    );
    register();
    let (cell, left, top) = (72u32, 150u32, 90u32);
    let w = (left + cell * cols as u32 + 20).max(10 + 9 * text.title.chars().count() as u32 + 10);
    let h = top + cell * rows as u32 + 20;
    let mut buf = vec![255u8; (w * h * 3) as usize];
    {
        let area = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
        let draw = |r: Result<(), DrawingAreaErrorKind<_>>| {
            r.map_err(|e| anyhow::anyhow!("drawing the heat map: {e:?}"))
        };
        draw(area.fill(&WHITE))?;
        let font = |size: f64| (FAMILY, size).into_font().color(&BLACK);
        draw(area.draw(&Text::new(text.title.to_string(), (10, 10), font(16.0))))?;
        draw(area.draw(&Text::new(
            text.col_axis.to_string(),
            (left as i32, 36),
            font(14.0),
        )))?;
        draw(area.draw(&Text::new(
            text.row_axis.to_string(),
            (10, top as i32 - 22),
            font(14.0),
        )))?;
        for (j, label) in text.cols.iter().enumerate() {
            let x = (left + cell * j as u32 + 8) as i32;
            draw(area.draw(&Text::new(label.clone(), (x, top as i32 - 22), font(14.0))))?;
        }
        for (i, row) in matrix.iter().enumerate() {
            let y0 = (top + cell * i as u32) as i32;
            draw(area.draw(&Text::new(
                text.rows[i].clone(),
                (10, y0 + cell as i32 / 2 - 8),
                font(14.0),
            )))?;
            for (j, &v) in row.iter().enumerate() {
                let x0 = (left + cell * j as u32) as i32;
                let color = ViridisRGB.get_color(v.clamp(0.0, 1.0) as f32);
                let rect = [(x0, y0), (x0 + cell as i32 - 2, y0 + cell as i32 - 2)];
                draw(area.draw(&Rectangle::new(rect, color.filled())))?;
                let ink = if v > 0.6 { BLACK } else { WHITE };
                let label = format!("{:.1}", 100.0 * v);
                let style = (FAMILY, 16.0).into_font().color(&ink);
                draw(area.draw(&Text::new(
                    label,
                    (x0 + 12, y0 + cell as i32 / 2 - 10),
                    style,
                )))?;
            }
        }
        draw(area.present())?;
    }
    let img = image::RgbImage::from_raw(w, h, buf).context("heat-map buffer size")?;
    img.save(path)
        .with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_take_the_colour_of_their_value() {
        let dir = std::env::temp_dir().join(format!("ebm-heatmap-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("m.png");
        let labels = |n: usize| (0..n).map(|i| format!("t{i}")).collect::<Vec<_>>();
        let text = HeatmapText {
            title: "test",
            rows: &labels(2),
            cols: &labels(2),
            row_axis: "after",
            col_axis: "on",
        };
        write_heatmap(&path, &[vec![0.0, 1.0], vec![0.5, 0.25]], &text).unwrap();
        let img = image::open(&path).unwrap().to_rgb8();
        // A cell's corner (away from its text) has the colour map's value.
        let at = |i: u32, j: u32| img.get_pixel(150 + 72 * j + 3, 90 + 72 * i + 3).0;
        let expect = |v: f32| {
            let c = ViridisRGB.get_color(v);
            [c.0, c.1, c.2]
        };
        assert_eq!(at(0, 0), expect(0.0));
        assert_eq!(at(0, 1), expect(1.0));
        assert_eq!(at(1, 0), expect(0.5));
        // Some text was drawn: the title area is not all white.
        let dark = (10..200).any(|x| (10..30).any(|y| img.get_pixel(x, y).0[0] < 128));
        assert!(dark, "no title text drawn");
        assert!(write_heatmap(&path, &[vec![0.1], vec![0.1, 0.2]], &text).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
