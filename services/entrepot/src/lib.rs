//! The Entrepôt server binary's library: CLI, configuration, telemetry, the app and the server.
//!
//! This is the only crate that knows every other crate. `main.rs` parses the command line,
//! loads the configuration ([`config`]), installs logging and tracing ([`telemetry`]), and
//! dispatches to `serve` ([`server`]), `migrate`, or `admin` ([`admin`]). [`app`] holds the
//! shared state and the single place where routes are mounted.
//!
//! It is a library as well as a binary so that integration tests can start the real server
//! in-process on a free port.

pub mod admin;
pub mod app;
pub mod cli;
pub mod config;
pub mod server;
pub mod telemetry;
