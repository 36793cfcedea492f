//! Pictures: PNG grids of images, 2-D energy maps with samples on them, heat maps of matrices,
//! planned and executed trajectories.

pub mod grid;
pub mod heatmap;
pub mod samples;
pub mod trajectories;
