//! Planned and executed trajectories in the plane (the first two state coordinates), with the
//! environment's walls, start and goal: one panel per agent, side by side.

use std::path::Path;

use anyhow::{Context, Result};
use plotters::prelude::*;

/// A rectangle `(x0, y0, x1, y1)` in state coordinates.
pub type Box2 = (f64, f64, f64, f64);

/// One panel: a title-less picture of one agent's episodes.
pub struct Panel<'a> {
    /// Executed trajectories, one per episode (states, first two coordinates used).
    pub executed: &'a [Vec<Vec<f32>>],
    /// Plans made during the episodes.
    pub planned: &'a [Vec<Vec<f32>>],
    /// Colour of the executed paths; plans are drawn in a light tint of it.
    pub colour: RGBColor,
}

/// Pixels per panel side.
const SIDE: u32 = 480;

fn tint(c: RGBColor) -> RGBColor {
    let f = |v: u8| (v as u16 + (255 - v as u16) * 3 / 5) as u8;
    RGBColor(f(c.0), f(c.1), f(c.2))
}

/// Writes the panels side by side as a PNG: walls grey, plans light, executed paths dark,
/// starts black, the goal a green ring.
pub fn write_trajectories(
    path: &Path,
    panels: &[Panel],
    extent: Box2,
    walls: &[Box2],
    goal: (f64, f64),
) -> Result<()> {
    let (w, h) = (SIDE * panels.len() as u32, SIDE);
    let mut buffer = vec![255u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buffer, (w, h)).into_drawing_area();
        let areas = root.split_evenly((1, panels.len()));
        for (area, panel) in areas.iter().zip(panels) {
            draw_panel(area, panel, extent, walls, goal)
                .map_err(|e| anyhow::anyhow!("drawing trajectories: {e}"))?;
        }
        root.present()
            .map_err(|e| anyhow::anyhow!("drawing trajectories: {e}"))?;
    }
    let img = image::RgbImage::from_raw(w, h, buffer).context("trajectory picture buffer")?;
    img.save(path)
        .with_context(|| format!("writing {}", path.display()))
}

fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    panel: &Panel,
    (x0, y0, x1, y1): Box2,
    walls: &[Box2],
    goal: (f64, f64),
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let area = area.margin(8, 8, 8, 8);
    let chart = ChartBuilder::on(&area).build_cartesian_2d(x0..x1, y0..y1)?;
    let plot = chart.plotting_area();
    plot.draw(&Rectangle::new([(x0, y0), (x1, y1)], BLACK.stroke_width(2)))?;
    for &(a, b, c, d) in walls {
        plot.draw(&Rectangle::new(
            [(a, b), (c, d)],
            RGBColor(150, 150, 150).filled(),
        ))?;
    }
    let xy = |s: &Vec<f32>| (s[0] as f64, s[1] as f64);
    let light = tint(panel.colour);
    for p in panel.planned {
        plot.draw(&PathElement::new(
            p.iter().map(xy).collect::<Vec<_>>(),
            light.stroke_width(1),
        ))?;
    }
    for e in panel.executed {
        plot.draw(&PathElement::new(
            e.iter().map(xy).collect::<Vec<_>>(),
            panel.colour.stroke_width(2),
        ))?;
        if let Some(s) = e.first() {
            plot.draw(&Circle::new(xy(s), 4, BLACK.filled()))?;
        }
    }
    plot.draw(&Circle::new(goal, 7, RGBColor(0, 150, 0).stroke_width(3)))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_a_png_with_walls_and_paths() {
        let dir = std::env::temp_dir().join(format!("ebm-traj-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.png");
        let exec = vec![vec![vec![-0.5f32, -0.5], vec![0.5, 0.5]]];
        let plans = vec![vec![vec![-0.5f32, -0.5], vec![0.0, 0.6]]];
        let panel = Panel {
            executed: &exec,
            planned: &plans,
            colour: RGBColor(20, 60, 200),
        };
        write_trajectories(
            &path,
            &[panel],
            (-1.0, -1.0, 1.0, 1.0),
            &[(-0.2, -1.0, 0.2, 0.0)],
            (0.5, 0.5),
        )
        .unwrap();
        let img = image::open(&path).unwrap().to_rgb8();
        assert_eq!(img.dimensions(), (SIDE, SIDE));
        // The wall's middle is grey, a far corner stays white.
        let (px, py) = (SIDE / 2, SIDE * 3 / 4);
        assert_eq!(img.get_pixel(px, py).0, [150, 150, 150]);
        assert_eq!(img.get_pixel(20, 20).0, [255, 255, 255]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
