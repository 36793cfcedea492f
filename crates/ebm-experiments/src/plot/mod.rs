//! Pictures: PNG grids of images, 2-D energy maps with samples on them, heat maps of matrices.

pub mod grid;
pub mod heatmap;
pub mod samples;
