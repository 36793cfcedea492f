//! Pictures: PNG grids of images, 2-D energy maps with samples on them, line charts, heat maps
//! of matrices, planned and executed trajectories.

pub mod chart;
pub mod font;
pub mod grid;
pub mod heatmap;
pub mod samples;
pub mod trajectories;
