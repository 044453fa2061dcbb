//! Pure OCI Distribution 1.1 protocol parsing and validation for the container registry (no I/O).
//!
//! The container front-end answers every `/v2/...` request by first turning strings into values
//! with this crate, so the rules of the wire format live in one place and are tested without a
//! server:
//!
//! - [`name`]: repository names (the distribution spec's grammar, 255 bytes at most) and their
//!   split into Entrepôt's owner and package name (`acme/tools/app` → owner `acme`, package
//!   `tools/app`).
//! - [`reference`](mod@reference): tags, digests and the `Reference` a manifest URL carries. Digests are a small
//!   [`reference::DigestRef`] of our own rather than `entrepot_blob::Digest`: this crate stays a
//!   leaf with no dependency on the blob store, and the front-end converts through the canonical
//!   `algorithm:hex` string, which both types print identically.
//! - [`path`]: one dispatcher for every `/v2/` path. Names contain `/`, so it reads the path from
//!   the right instead of registering one route per depth.
//! - [`media`]: media type constants and `Accept` negotiation.
//! - [`manifest`]: validation of a pushed manifest and what it references.
//! - [`errors`]: the spec's error codes, each registered once with its HTTP status, and the JSON
//!   error body.
//! - [`range`]: upload `Content-Range` and blob `Range` headers.
//! - [`token_scope`]: Docker token-auth scopes and the `WWW-Authenticate: Bearer` challenge.
//! - [`pagination`]: `n`/`last` over sorted tag lists and the `Link` header.
//!
//! **Architecture Invariant:** this crate knows nothing about HTTP frameworks, async runtimes,
//! databases, permissions or the blob store; it takes strings and bytes and returns values.

pub mod errors;
pub mod manifest;
pub mod media;
pub mod name;
pub mod pagination;
pub mod path;
pub mod range;
pub mod reference;
pub mod token_scope;
