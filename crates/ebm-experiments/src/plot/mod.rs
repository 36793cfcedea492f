//! Pictures: PNG grids of images, 2-D energy maps with samples on them, line charts.

pub mod chart;
pub mod grid;
pub mod samples;
