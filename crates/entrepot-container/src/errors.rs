//! From service errors to the OCI error body and status, and the `WWW-Authenticate: Bearer` challenge.
//!
//! The permission core's four deny kinds render as the spec asks: unauthenticated → 401 `UNAUTHORIZED` with the
//! challenge, not found → 404 with the route's "unknown" code (nothing is revealed), missing scope and forbidden →
//! 403 `DENIED` with the reason. A 5xx says "internal error" and the request id; the cause goes to the log only.

use actix_web::http::StatusCode;
use actix_web::http::header::WWW_AUTHENTICATE;
use actix_web::{HttpRequest, HttpResponse};
use entrepot_blob::BlobError;
use entrepot_oci::errors::{ErrorCode, OciError};
use entrepot_oci::token_scope::{Action, Challenge, Scope};
use entrepot_service::ServiceError;
use entrepot_service::authz::Deny;

/// What a 401 on this request should ask for.
#[derive(Debug, Clone)]
pub struct ChallengeFor {
    pub realm: String,
    pub service: String,
    /// The repository and actions the request needs, for the challenge's `scope`.
    pub scope: Option<(String, Vec<&'static str>)>,
}

impl ChallengeFor {
    pub fn header(&self, insufficient_scope: bool) -> String {
        let scopes: Vec<Scope> = self
            .scope
            .iter()
            .map(|(name, actions)| {
                let actions: Vec<Action> = actions
                    .iter()
                    .map(|a| match *a {
                        "push" => Action::Push,
                        "delete" => Action::Delete,
                        _ => Action::Pull,
                    })
                    .collect();
                Scope::repository(name, &actions)
            })
            .collect();
        Challenge {
            realm: &self.realm,
            service: &self.service,
            scopes: &scopes,
            insufficient_scope,
        }
        .to_string()
    }
}

/// An OCI error response.
pub fn oci(error: OciError) -> HttpResponse {
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::BAD_REQUEST);
    HttpResponse::build(status)
        .content_type("application/json")
        .body(entrepot_oci::errors::render_body(&[error]))
}

/// 401 with the challenge.
pub fn unauthorized(
    challenge: &ChallengeFor,
    insufficient_scope: bool,
    message: &str,
) -> HttpResponse {
    let mut response = oci(OciError::new(ErrorCode::Unauthorized).with_message(message));
    if let Ok(value) = challenge.header(insufficient_scope).parse() {
        response.headers_mut().insert(WWW_AUTHENTICATE, value);
    }
    response
}

/// 500 without the cause, which is logged with the request id.
pub fn internal(req: &HttpRequest, cause: &dyn std::fmt::Display) -> HttpResponse {
    let request_id = req
        .extensions()
        .get::<entrepot_http::request_id::RequestId>()
        .map(|id| id.to_string())
        .unwrap_or_default();
    tracing::error!(error = %cause, request_id, "container registry internal error");
    HttpResponse::InternalServerError()
        .content_type("application/json")
        .body(entrepot_oci::errors::render_body(&[OciError::new(
            ErrorCode::Unsupported,
        )
        .with_status(500)
        .with_message(format!(
            "internal error (request id {request_id})"
        ))]))
}

use actix_web::HttpMessage as _;

/// Renders a service error; `unknown` is the code of a 404 on this route (`BLOB_UNKNOWN`, `MANIFEST_UNKNOWN`,
/// `NAME_UNKNOWN`, `BLOB_UPLOAD_UNKNOWN`).
pub fn service(
    req: &HttpRequest,
    challenge: &ChallengeFor,
    error: ServiceError,
    unknown: ErrorCode,
) -> HttpResponse {
    match error {
        ServiceError::Denied(Deny::Unauthenticated) => {
            unauthorized(challenge, false, "authentication required")
        }
        ServiceError::Denied(Deny::NotFound) => oci(OciError::new(unknown)),
        ServiceError::Denied(deny @ (Deny::MissingScope(_) | Deny::Forbidden(_))) => {
            oci(OciError::new(ErrorCode::Denied).with_detail(deny.to_string()))
        }
        ServiceError::NotFound(what) => oci(OciError::new(unknown).with_detail(what)),
        ServiceError::Invalid(message) => {
            oci(OciError::new(ErrorCode::DigestInvalid).with_message(message))
        }
        ServiceError::Conflict(message) => oci(OciError::new(ErrorCode::Denied)
            .with_status(409)
            .with_message(message)),
        ServiceError::Blob(error) => blob(req, error),
        error @ ServiceError::Internal(_) => internal(req, &error),
    }
}

fn blob(req: &HttpRequest, error: BlobError) -> HttpResponse {
    match error {
        BlobError::DigestMismatch { .. } => {
            oci(OciError::new(ErrorCode::DigestInvalid).with_detail(error.to_string()))
        }
        BlobError::SizeMismatch { .. } => {
            oci(OciError::new(ErrorCode::SizeInvalid).with_detail(error.to_string()))
        }
        BlobError::InvalidDigest(_) => oci(OciError::new(ErrorCode::DigestInvalid)
            .with_message("invalid digest")
            .with_detail(error.to_string())),
        BlobError::NotFound => oci(OciError::new(ErrorCode::BlobUnknown)),
        BlobError::UploadNotFound => oci(OciError::new(ErrorCode::BlobUploadUnknown)),
        BlobError::InvalidRange => oci(OciError::new(ErrorCode::RangeInvalid).with_status(416)),
        BlobError::BadOffset { expected, got } => {
            let mut response = oci(OciError::new(ErrorCode::RangeInvalid)
                .with_status(416)
                .with_detail(format!(
                    "the upload is at offset {expected}; this chunk starts at {got}"
                )));
            let range = if expected == 0 {
                "0-0".to_owned()
            } else {
                format!("0-{}", expected - 1)
            };
            if let Ok(value) = range.parse() {
                response.headers_mut().insert(
                    actix_web::http::header::HeaderName::from_static("range"),
                    value,
                );
            }
            response
        }
        BlobError::Body(ref inner) if inner.kind() == std::io::ErrorKind::FileTooLarge => {
            oci(OciError::new(ErrorCode::SizeInvalid)
                .with_status(413)
                .with_message(inner.to_string()))
        }
        BlobError::Body(ref inner) if inner.kind() == std::io::ErrorKind::TimedOut => {
            oci(OciError::new(ErrorCode::BlobUploadInvalid)
                .with_status(408)
                .with_message(inner.to_string()))
        }
        BlobError::Body(inner) => oci(OciError::new(ErrorCode::BlobUploadInvalid)
            .with_status(400)
            .with_message(format!("request body: {inner}"))),
        error @ (BlobError::Io(_) | BlobError::Backend(_)) => internal(req, &error),
    }
}
