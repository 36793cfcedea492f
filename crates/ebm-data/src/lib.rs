//! Dataset parsers: functions of bytes with typed errors.

pub mod idx;
