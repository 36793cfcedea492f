//! Drawing one scene: coverage by 4x4 supersampling (anti-aliasing), the colour times the
//! covered fraction of each pixel, on black.

use super::{Attribute, SIDE, Scene};

/// Subsamples per pixel along each axis.
const SUPER: usize = 4;

/// Half-extent of each size level, in pixels.
const HALF: [f32; 3] = [2.5, 3.5, 4.5];

/// RGB of each colour, in [0, 1].
const RGB: [[f32; 3]; 4] = [
    [1.0, 0.0, 0.0],
    [0.0, 1.0, 0.0],
    [0.0, 0.0, 1.0],
    [1.0, 1.0, 0.0],
];

/// The centre `(x, y)` (pixels from the top-left corner) of the grid cell of `scene`.
pub fn scene_centre(scene: &Scene) -> [f32; 2] {
    let cell = scene.get(Attribute::Position);
    let at = |i: usize| SIDE as f32 / 2.0 + (i as f32 - 1.0) * 3.5;
    [at(cell % 3), at(cell / 3)]
}

/// Whether the point `(x, y)`, relative to the object's centre, lies inside a `shape` of
/// half-extent `r`.
fn inside(shape: usize, r: f32, x: f32, y: f32) -> bool {
    match shape {
        // Square, side 1.7 r: its area (2.9 r^2) between the circle's and the triangle's.
        0 => x.abs() <= 0.85 * r && y.abs() <= 0.85 * r,
        1 => x * x + y * y <= r * r,
        // Triangle pointing up: apex (0, -r), base from (-r, r) to (r, r).
        _ => y <= r && x.abs() <= (y + r) / 2.0,
    }
}

/// The image of `scene` with its centre moved by `jitter` pixels: `3 * SIDE * SIDE` bytes,
/// channel-major.
pub fn render(scene: &Scene, jitter: [f32; 2]) -> Vec<u8> {
    let [cx, cy] = scene_centre(scene);
    let (cx, cy) = (cx + jitter[0], cy + jitter[1]);
    let shape = scene.get(Attribute::Shape);
    let r = HALF[scene.get(Attribute::Size)];
    let rgb = RGB[scene.get(Attribute::Colour)];
    let plane = SIDE * SIDE;
    let mut out = vec![0u8; 3 * plane];
    let step = 1.0 / SUPER as f32;
    for py in 0..SIDE {
        for px in 0..SIDE {
            let mut hits = 0usize;
            for sy in 0..SUPER {
                for sx in 0..SUPER {
                    let x = px as f32 + (sx as f32 + 0.5) * step - cx;
                    let y = py as f32 + (sy as f32 + 0.5) * step - cy;
                    hits += usize::from(inside(shape, r, x, y));
                }
            }
            let cover = hits as f32 / (SUPER * SUPER) as f32;
            for (c, v) in rgb.iter().enumerate() {
                out[c * plane + py * SIDE + px] = (v * cover * 255.0).round() as u8;
            }
        }
    }
    out
}
