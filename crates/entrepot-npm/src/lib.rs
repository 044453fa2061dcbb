//! Pure npm protocol parsing and validation (no I/O).
//!
//! The npm front-end parses HTTP and calls into this crate; everything here is a function of its inputs (no network,
//! files, database or async), so the protocol's rules are tested without a server.
//!
//! - [`name`]: `@scope/name` from URL segments; scoped names only, the scope being the owner.
//! - [`publish`]: the publish body, verified against its tarball; [`put`] tells a publish from the deprecate and
//!   unpublish `PUT`s npm sends to the same URL.
//! - [`split`]: a publish body split as it streams in, its tarball decoded on the fly.
//! - [`tarball`]: package.json and facts from a `.tgz`, decoded in memory under a size limit.
//! - [`packument`]: full and abbreviated documents rendered from stored version objects.
//! - [`tags`]: dist-tag names and how `latest` moves.
//! - [`search`]: `/-/v1/search` ranking and response.
//! - [`errors`]: the `{"error": ...}` body and messages that name the fix.
//! - [`route`]: the one dispatcher from method and path to endpoint, and the table of endpoints.
//!
//! Whether a version already exists (409), who may write, and where bytes go are the service's business.

pub mod errors;
pub mod name;
pub mod packument;
pub mod publish;
pub mod put;
pub mod route;
pub mod search;
pub mod split;
pub mod tags;
pub mod tarball;
