//! PNG output: image grids and 2-D scatter/energy maps.

use std::path::Path;

use anyhow::{Context, Result};

/// Writes `n` images (`values`: `n * c * h * w` floats in [0, 1], NCHW) as a near-square grid
/// with a 1-pixel border, scaled up `scale` times.
pub fn write_grid(path: &Path, values: &[f32], shape: [usize; 3], scale: usize) -> Result<()> {
    let n = values.len() / shape.iter().product::<usize>().max(1);
    let cols = (n as f64).sqrt().ceil() as usize;
    write_grid_columns(path, values, shape, cols, scale)
}

/// [`write_grid`] with `cols` images per row, filled row by row (rows = examples, columns =
/// stages, for the experiments' before/after grids).
pub fn write_grid_columns(
    path: &Path,
    values: &[f32],
    [c, h, w]: [usize; 3],
    cols: usize,
    scale: usize,
) -> Result<()> {
    let per = c * h * w;
    let n = values.len() / per.max(1);
    anyhow::ensure!(
        n > 0 && cols > 0 && (c == 1 || c == 3),
        "cannot draw {n} images of {c} channels in {cols} columns"
    );
    let rows = n.div_ceil(cols);
    let (cell_w, cell_h) = (w * scale + 1, h * scale + 1);
    let mut img = image::RgbImage::from_pixel(
        (cols * cell_w + 1) as u32,
        (rows * cell_h + 1) as u32,
        image::Rgb([40, 40, 40]),
    );
    let byte = |v: f32| (v.clamp(0.0, 1.0) * 255.0).round() as u8;
    for k in 0..n {
        let (r0, c0) = (1 + (k / cols) * cell_h, 1 + (k % cols) * cell_w);
        let im = &values[k * per..(k + 1) * per];
        for y in 0..h * scale {
            for x in 0..w * scale {
                let p = (y / scale) * w + x / scale;
                let px = if c == 1 {
                    [byte(im[p]); 3]
                } else {
                    [byte(im[p]), byte(im[h * w + p]), byte(im[2 * h * w + p])]
                };
                img.put_pixel((c0 + x) as u32, (r0 + y) as u32, image::Rgb(px));
            }
        }
    }
    img.save(path)
        .with_context(|| format!("writing {}", path.display()))
}

/// Writes a `side x side` map of `energies` (row-major over [0, 1]^2, y up) as a heat map,
/// with `points` (pairs in [0, 1]^2) drawn on top.
pub fn write_energy_map(
    path: &Path,
    energies: &[f32],
    side: usize,
    points: &[f32],
    scale: usize,
) -> Result<()> {
    anyhow::ensure!(
        energies.len() == side * side,
        "{} energies for a {side}x{side} map",
        energies.len()
    );
    let lo = energies.iter().cloned().fold(f32::INFINITY, f32::min);
    let hi = energies.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
    let span = (hi - lo).max(1e-12);
    let size = (side * scale) as u32;
    let mut img = image::RgbImage::new(size, size);
    for y in 0..side * scale {
        for x in 0..side * scale {
            // Low energy (likely) is bright.
            let e = energies[(side - 1 - y / scale) * side + x / scale];
            let t = 1.0 - (e - lo) / span;
            let px = [
                (255.0 * t) as u8,
                (200.0 * t * t) as u8,
                (80.0 + 120.0 * (1.0 - t)) as u8,
            ];
            img.put_pixel(x as u32, y as u32, image::Rgb(px));
        }
    }
    for p in points.chunks_exact(2) {
        let x = (p[0].clamp(0.0, 1.0) * (size - 1) as f32) as u32;
        let y = ((1.0 - p[1].clamp(0.0, 1.0)) * (size - 1) as f32) as u32;
        img.put_pixel(x, y, image::Rgb([0, 255, 255]));
    }
    img.save(path)
        .with_context(|| format!("writing {}", path.display()))
}
