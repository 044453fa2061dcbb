//! npm's error answers: status, `{"error": ...}` body, and the Basic challenge on every 401.
//!
//! The four deny kinds of the permission core map to 401 (with `WWW-Authenticate: Basic`), 404, 403 and 403; body
//! refusals keep the protocol crate's status (400, 413); a 5xx says "internal error" with the request id and logs
//! the cause.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use entrepot_http::request_id::RequestId;
use entrepot_npm::errors::{self, ErrorBody};
use entrepot_npm::publish::PublishError;
use entrepot_npm::route::RouteError;
use entrepot_npm::tags::TagError;
use entrepot_service::authz::Deny;
use entrepot_service::{NpmError, ServiceError};

/// The realm of the Basic challenge.
const REALM: &str = "Entrepot npm registry";

/// An npm error answer.
#[derive(Debug)]
pub struct NpmHttpError {
    status: StatusCode,
    message: String,
    cause: Option<NpmError>,
}

impl std::fmt::Display for NpmHttpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status, self.message)
    }
}

impl NpmHttpError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            cause: None,
        }
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    /// Maps a service or protocol error for a request about `package` (when there is one), sent to the registry at
    /// `registry_url` (named in login hints).
    pub fn from_npm(error: NpmError, package: Option<&str>, registry_url: &str) -> Self {
        let what = package.unwrap_or("this package");
        let (status, message) = match &error {
            NpmError::Service(service) => service_error(service, what, registry_url),
            NpmError::Publish(publish) => publish_error(publish),
            NpmError::Tag(tag) => (StatusCode::BAD_REQUEST, tag_error(tag)),
        };
        Self {
            status,
            message,
            cause: Some(error),
        }
    }

    /// A path that names no endpoint. A bad package name is a 400 for a write (the client sent something this
    /// registry refuses) and a 404 for a read (there is no such package).
    pub fn from_route(error: &RouteError, method: &actix_web::http::Method) -> Self {
        match error {
            RouteError::NotFound => Self::new(StatusCode::NOT_FOUND, "not found"),
            RouteError::BadName(name) => Self::new(
                if method == actix_web::http::Method::GET || method == actix_web::http::Method::HEAD
                {
                    StatusCode::NOT_FOUND
                } else {
                    StatusCode::BAD_REQUEST
                },
                format!(
                    "{name}: this registry serves scoped packages only, named @owner/name after the account that owns them"
                ),
            ),
            RouteError::MethodNotAllowed => {
                Self::new(StatusCode::METHOD_NOT_ALLOWED, "method not allowed")
            }
        }
    }
}

fn service_error(error: &ServiceError, what: &str, registry_url: &str) -> (StatusCode, String) {
    match error {
        ServiceError::Denied(deny) => match deny {
            Deny::Unauthenticated => (StatusCode::UNAUTHORIZED, errors::unauthorized(registry_url)),
            Deny::NotFound => (StatusCode::NOT_FOUND, errors::package_not_found(what)),
            Deny::MissingScope(scopes) => (
                StatusCode::FORBIDDEN,
                format!(
                    "your token lacks the scope(s) {scopes}: create a token with them and log in again"
                ),
            ),
            Deny::Forbidden(reason) => (
                StatusCode::FORBIDDEN,
                format!("{}: {reason}", errors::forbidden(what)),
            ),
        },
        ServiceError::NotFound(thing) => (StatusCode::NOT_FOUND, format!("{thing} not found")),
        ServiceError::Conflict(message) => (
            StatusCode::CONFLICT,
            format!("{message}: versions are immutable, bump the version in package.json"),
        ),
        ServiceError::Invalid(message) => (StatusCode::BAD_REQUEST, message.clone()),
        other => {
            let status =
                StatusCode::from_u16(other.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            if status.is_server_error() {
                (status, internal())
            } else {
                (status, other.to_string())
            }
        }
    }
}

fn publish_error(error: &PublishError) -> (StatusCode, String) {
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::BAD_REQUEST);
    let message = match error {
        PublishError::TooLarge { limit } => errors::too_large(*limit),
        PublishError::Tag(tag) => tag_error(tag),
        other => other.to_string(),
    };
    (status, message)
}

fn tag_error(error: &TagError) -> String {
    match error {
        TagError::IsRange(tag) => errors::tag_is_range(tag),
        other => other.to_string(),
    }
}

fn internal() -> String {
    entrepot_http::error::internal_error_message(RequestId::current().as_ref())
}

impl ResponseError for NpmHttpError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        if self.status.is_server_error() {
            match &self.cause {
                Some(cause) => entrepot_http::error::log_internal_error(cause),
                None => tracing::error!(message = %self.message, "internal error"),
            }
        }
        let mut response = HttpResponse::build(self.status);
        if self.status == StatusCode::UNAUTHORIZED {
            response.insert_header((
                header::WWW_AUTHENTICATE,
                HeaderValue::from_str(&errors::www_authenticate(REALM))
                    .unwrap_or(HeaderValue::from_static("Basic")),
            ));
        }
        response.json(ErrorBody::new(self.message.clone()))
    }
}
