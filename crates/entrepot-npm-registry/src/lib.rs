//! The npm registry front-end under `/npm`: parses npm's HTTP surface, calls the service layer once per request,
//! and renders npm's answers and `{"error": ...}` bodies.
//!
//! One dispatcher (`entrepot_npm::route`) turns method and path into an endpoint; `entrepot_npm::route::ENDPOINTS`
//! declares what each endpoint needs and the authorization test walks it. Handlers never decide access: every
//! package operation is a service call, and the service asks the permission core.
//!
//! **Architecture Invariant:** no SQL, no blob store, no role comparison here.

mod error;
mod handlers;

use actix_web::web;

pub use error::NpmHttpError;

/// The npm registry's configuration (`[npm]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct NpmConfig {
    /// The largest tarball a publish may carry, in bytes (413 above it).
    pub max_tarball_bytes: u64,
}

impl Default for NpmConfig {
    fn default() -> Self {
        Self {
            max_tarball_bytes: 256 * 1024 * 1024,
        }
    }
}

impl NpmConfig {
    /// The largest publish body: the tarball in base64 plus room for the JSON around it.
    pub fn max_body_bytes(&self) -> u64 {
        self.max_tarball_bytes
            .div_ceil(3)
            .saturating_mul(4)
            .saturating_add(8 * 1024 * 1024)
    }
}

/// The path the registry is mounted at.
pub const BASE_PATH: &str = "/npm";

/// Mounts the registry under `/npm`. Needs `web::Data<entrepot_service::Services>` in the app data.
pub fn configure(config: NpmConfig) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| {
        cfg.service(
            web::scope(BASE_PATH)
                .app_data(web::Data::new(config))
                // A pattern, so that the metrics label the requests by it rather than as "unmatched".
                .route("/{path:.*}", web::route().to(handlers::dispatch))
                .default_service(web::to(handlers::dispatch)),
        );
    }
}
