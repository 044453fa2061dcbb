//! Errors as Maven and Gradle clients see them: a status, a plain-text line they print, and the Basic challenge on
//! 401 that makes them retry with credentials.

use std::fmt;

use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_TYPE, WWW_AUTHENTICATE};
use actix_web::{HttpResponse, ResponseError};
use entrepot_http::error::{internal_error_message, log_internal_error};
use entrepot_http::request_id::RequestId;
use entrepot_service::ServiceError;
use entrepot_service::authz::Deny;

/// The realm of the challenge; Maven keys nothing on it, but it names the server in client logs.
pub const REALM: &str = "Basic realm=\"Entrepot Maven\"";

/// An error answer of the registry.
#[derive(Debug)]
pub struct MavenError {
    status: StatusCode,
    message: String,
    /// Kept for the log only (5xx).
    cause: Option<ServiceError>,
}

impl MavenError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            cause: None,
        }
    }

    pub fn bad_request(message: impl fmt::Display) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message.to_string())
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not found")
    }

    pub fn method_not_allowed(message: impl Into<String>) -> Self {
        Self::new(StatusCode::METHOD_NOT_ALLOWED, message)
    }

    pub fn too_large(limit: u64) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the file is larger than this registry accepts ({limit} bytes)"),
        )
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for MavenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.status.as_u16(), self.message)
    }
}

impl From<ServiceError> for MavenError {
    fn from(error: ServiceError) -> Self {
        let status =
            StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let message = match &error {
            ServiceError::Denied(Deny::Unauthenticated) => {
                "authentication required: use a personal access token as the password".to_owned()
            }
            // Not revealing whether the package exists is the point of the deny kind.
            ServiceError::Denied(Deny::NotFound) | ServiceError::NotFound(_) => {
                "not found".to_owned()
            }
            error if status.is_server_error() => {
                return Self {
                    status,
                    message: String::new(),
                    cause: Some(ServiceError::Internal(error.to_string())),
                };
            }
            error => error.to_string(),
        };
        Self {
            status,
            message,
            cause: None,
        }
    }
}

impl ResponseError for MavenError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        response.insert_header((CONTENT_TYPE, "text/plain; charset=utf-8"));
        if self.status == StatusCode::UNAUTHORIZED {
            response.insert_header((WWW_AUTHENTICATE, REALM));
        }
        if self.status.is_server_error() {
            if let Some(cause) = &self.cause {
                log_internal_error(cause);
            }
            return response.body(format!(
                "{}\n",
                internal_error_message(RequestId::current().as_ref())
            ));
        }
        if self.status == StatusCode::BAD_REQUEST || self.status == StatusCode::CONFLICT {
            // What the client did wrong is only shown to its user if the client prints bodies (Maven does not).
            tracing::info!(status = self.status.as_u16(), message = %self.message, "request refused");
        }
        response.body(format!("{}\n", self.message))
    }
}
