//! Pictures: PNG grids of images, 2-D energy maps with samples on them, planned and executed
//! trajectories.

pub mod grid;
pub mod samples;
pub mod trajectories;
