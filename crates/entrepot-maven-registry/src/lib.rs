//! The Maven and Gradle registry front-end, mounted at `/maven/`: the Maven 2 repository layout over the service
//! layer, where every package lives in one repository and takes that repository's access and visibility.
//!
//! `/maven/OWNER/REPO/<group path>/<artifact>/<version>/<file>` is deployed with `PUT` and read with `GET`/`HEAD`;
//! checksums (`.md5 .sha1 .sha256 .sha512`) are served for every file; `maven-metadata.xml` at artifact and SNAPSHOT
//! version level is rendered from the stored versions and files. `/maven/OWNER/*/…` is the read-only owner-wide view.
//!
//! Every request is classified into one row of [`ROUTES`] (method × path kind × repository or owner-wide view),
//! which declares the operation it performs; the authorization test walks that table. Handlers parse the path and
//! body with the pure crates (`entrepot-maven`, `entrepot-gradle`), call the service layer, which asks the permission
//! core, and render errors as Maven clients expect them: plain text, and a `401` with `WWW-Authenticate: Basic`
//! because Maven and Gradle only send credentials for reads after a challenge.

mod error;
mod handlers;
mod routes;

use actix_web::web;
use entrepot_maven::coords::ArtifactIdRule;
use serde::{Deserialize, Serialize};

pub use error::MavenError;
pub use routes::{Declared, PathKind, ROUTES, Route, View, classify};

/// The `[maven]` configuration section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MavenConfig {
    /// GitHub's artifact id rule (lowercase letters, digits and hyphens; others get 422). Off: any id the layout
    /// can hold.
    pub lowercase_artifact_ids: bool,
    /// The largest file a deploy may upload, in bytes.
    pub max_file_size: u64,
}

impl Default for MavenConfig {
    fn default() -> Self {
        Self {
            lowercase_artifact_ids: true,
            max_file_size: 2 * 1024 * 1024 * 1024,
        }
    }
}

impl MavenConfig {
    fn artifact_id_rule(&self) -> ArtifactIdRule {
        if self.lowercase_artifact_ids {
            ArtifactIdRule::Lowercase
        } else {
            ArtifactIdRule::Any
        }
    }
}

/// Mounts the registry under `/maven`. Needs `web::Data<entrepot_service::Services>` in the app data.
pub fn configure(cfg: &mut web::ServiceConfig, config: MavenConfig) {
    cfg.service(
        web::scope("/maven")
            .app_data(web::Data::new(config))
            // A pattern, so that the metrics label the requests by it rather than as "unmatched".
            .route("/{path:.*}", web::route().to(handlers::dispatch))
            .default_service(web::to(handlers::dispatch)),
    );
}
