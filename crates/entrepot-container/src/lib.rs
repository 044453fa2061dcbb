//! The container registry front-end: OCI Distribution 1.1 under `/v2/` and the Docker token endpoint `/token`.
//!
//! - [`routes`]: the one table of routes and what each needs (`pull`, `push`, `delete`).
//! - [`handlers`]: the `/v2/` dispatcher: parse the path with `entrepot_oci::path::Route`, authenticate, check the
//!   bearer token's granted scope, call the service, render the answer or the OCI error body.
//! - [`auth`]: `/token` and the per-request authentication (registry bearer token, or a PAT as Basic or Bearer).
//! - [`token`]: the signed, stateless registry bearer tokens.
//! - [`body`]: request bodies as `Send` byte streams with an idle timeout, for the blob store.
//! - [`errors`]: service errors to OCI error bodies and statuses, and the `WWW-Authenticate` challenge.
//!
//! **Architecture Invariant:** this crate decides no access: every "may they?" is a service call that asks the
//! permission core. It does not touch the database or the blob store except through the service layer.

pub mod auth;
pub mod body;
pub mod errors;
pub mod handlers;
pub mod routes;
pub mod token;

use std::sync::Arc;
use std::time::Duration;

use actix_web::web;
use entrepot_service::Services;
use serde::{Deserialize, Serialize};
use tokio::sync::OnceCell;

/// The `[container]` section of the configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ContainerConfig {
    /// The `service` of the token flow: what clients send back to `/token`.
    pub service: String,
    /// Lifetime of a registry bearer token.
    pub token_lifetime_secs: u64,
    /// An upload session started longer ago than this is expired with its bytes.
    pub upload_expiry_secs: u64,
    /// How often the janitor looks for expired upload sessions.
    pub janitor_interval_secs: u64,
    /// Largest blob (layer) accepted; unset: no limit.
    pub max_layer_bytes: Option<u64>,
    /// Largest manifest accepted (413 beyond).
    pub max_manifest_bytes: u64,
    /// A request body that sends nothing for this long is abandoned (the upload session keeps what arrived).
    pub body_idle_timeout_secs: u64,
    /// The HMAC key for registry bearer tokens (hex or any string). Unset: a key generated once and kept in the
    /// database, shared by every replica.
    pub token_signing_key: Option<String>,
}

impl Default for ContainerConfig {
    fn default() -> Self {
        Self {
            service: "entrepot".to_owned(),
            token_lifetime_secs: 900,
            upload_expiry_secs: 24 * 3600,
            janitor_interval_secs: 600,
            max_layer_bytes: None,
            max_manifest_bytes: entrepot_oci::manifest::MAX_MANIFEST_BYTES as u64,
            body_idle_timeout_secs: 60,
            token_signing_key: None,
        }
    }
}

impl ContainerConfig {
    pub fn token_lifetime(&self) -> Duration {
        Duration::from_secs(self.token_lifetime_secs.max(1))
    }

    pub fn body_idle_timeout(&self) -> Duration {
        Duration::from_secs(self.body_idle_timeout_secs.max(1))
    }
}

/// The front-end's shared state: its configuration and the signing key, fetched once.
#[derive(Clone)]
pub struct ContainerState {
    pub config: Arc<ContainerConfig>,
    key: Arc<OnceCell<Vec<u8>>>,
}

impl std::fmt::Debug for ContainerState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ContainerState")
            .field("config.service", &self.config.service)
            .finish_non_exhaustive()
    }
}

impl ContainerState {
    pub fn new(config: ContainerConfig) -> Self {
        Self {
            config: Arc::new(config),
            key: Arc::new(OnceCell::new()),
        }
    }

    /// The token signing key: configured, else the database's.
    pub async fn signing_key(&self, services: &Services) -> entrepot_service::Result<&[u8]> {
        self.key
            .get_or_try_init(|| async {
                match &self.config.token_signing_key {
                    Some(key) if !key.is_empty() => Ok(key.as_bytes().to_vec()),
                    _ => services
                        .container_signing_key()
                        .await
                        .map(|key| key.into_bytes()),
                }
            })
            .await
            .map(Vec::as_slice)
    }
}

/// Mounts `/v2` and `/token`. Needs `web::Data<Services>` registered by the caller.
pub fn configure(state: ContainerState) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg: &mut web::ServiceConfig| {
        cfg.app_data(web::Data::new(state))
            .service(
                web::resource("/token")
                    .route(web::get().to(auth::token_endpoint))
                    .route(web::post().to(auth::token_endpoint)),
            )
            .service(web::resource("/v2").to(handlers::dispatch))
            .service(web::resource("/v2/{tail:.*}").to(handlers::dispatch));
    }
}

/// Expires abandoned upload sessions every `janitor_interval_secs`, for the life of the process.
pub fn spawn_janitor(services: Services, config: &ContainerConfig) {
    let expiry = Duration::from_secs(config.upload_expiry_secs);
    let interval = Duration::from_secs(config.janitor_interval_secs.max(1));
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval);
        loop {
            ticker.tick().await;
            match services.container_expire_uploads(expiry).await {
                Ok(0) => {}
                Ok(removed) => tracing::info!(removed, "expired container upload sessions"),
                Err(error) => tracing::warn!(%error, "could not expire container upload sessions"),
            }
        }
    });
}
