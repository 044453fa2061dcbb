//! Shared actix-web glue: credentials, request ids, metrics, error bodies.
//!
//! Every registry front-end and the REST API sit behind the same two middlewares and use the same
//! extractors, so each concern is solved once:
//!
//! - [`request_id`]: every request gets an id (a sane incoming `X-Request-Id`, else a UUIDv7),
//!   echoed in the response, carried by the request's tracing span, and logged once when the
//!   request completes. The path in that span has anything shaped like a token redacted, because
//!   npm puts the token in the URL when it logs out.
//! - [`metrics`]: `http_requests_total{method,route,status}` and
//!   `http_request_duration_seconds{method,route}`, labelled by the *matched route pattern* so that
//!   per-package paths cannot blow up the label cardinality, plus the `/metrics` handler.
//! - [`credentials`]: the [`credentials::Credentials`] extractor over `Authorization` and
//!   `X-NuGet-ApiKey`, by way of `entrepot_identity::credential::extract`.
//! - [`base_url`]: the absolute base every handed-out URL is built from.
//! - [`error`]: the GitHub-style JSON error body of the REST API, and the rule every protocol
//!   follows for 5xx: the body says "internal error" and the request id, the log gets the cause.
//!
//! Wiring, outermost last:
//!
//! ```text
//! App::new()
//!     .wrap(from_fn(entrepot_http::metrics::middleware))
//!     .wrap(from_fn(entrepot_http::request_id::middleware))
//! ```
//!
//! **Architecture Invariant:** this crate knows HTTP and nothing about packages, the store or
//! permissions. It never logs a header value.

pub mod base_url;
pub mod credentials;
pub mod error;
pub mod metrics;
pub mod request_id;
