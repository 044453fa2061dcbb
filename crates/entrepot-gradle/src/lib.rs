//! Pure Gradle additions to the Maven repository layout (no I/O).
//!
//! Gradle publishes into a Maven repository and resolves from one; what it adds is its own:
//!
//! - [`module`]: Gradle module metadata (`.module`, JSON): parsed, validated against the path it is deployed to, and
//!   reduced to the variants and dependencies the server records on the version.
//! - [`dynamic`]: dynamic version selectors (`1.+`, `latest.release`, Maven ranges) resolved against the versions a
//!   `maven-metadata.xml` lists, in Maven's version order.

pub mod dynamic;
pub mod module;
