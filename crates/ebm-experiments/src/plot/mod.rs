//! Pictures: PNG grids of images, 2-D energy maps with samples on them.

pub mod grid;
pub mod samples;
