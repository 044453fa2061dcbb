//! The permission core's test binary: spec vectors, corner cases, admin rules, properties.
//!
//! One binary rather than one per file keeps link times down.

mod admin;
mod corners;
mod create;
mod fixtures;
mod props;
mod vectors;
