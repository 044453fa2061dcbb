//! How service errors become the API's GitHub-style answers.

use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderValue, WWW_AUTHENTICATE};
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use entrepot_service::ServiceError;
use entrepot_service::authz::Deny;

/// The API's error: the shared GitHub-style body, plus a Basic challenge on 401.
#[derive(Debug)]
pub struct ApiError(entrepot_http::error::ApiError);

impl ApiError {
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self(entrepot_http::error::ApiError::bad_request(message.into()))
    }

    pub fn unprocessable(message: impl Into<String>) -> Self {
        Self(entrepot_http::error::ApiError::unprocessable(
            message.into(),
        ))
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl From<ServiceError> for ApiError {
    fn from(error: ServiceError) -> Self {
        use entrepot_http::error::ApiError as E;
        Self(match error {
            ServiceError::Denied(Deny::Unauthenticated) => E::unauthorized(),
            ServiceError::Denied(Deny::NotFound) | ServiceError::NotFound(_) => E::not_found(),
            ServiceError::Denied(Deny::MissingScope(scopes)) => E::forbidden(format!(
                "This needs a token with the scope(s) {scopes}; create one with them."
            )),
            ServiceError::Denied(Deny::Forbidden(why)) => E::forbidden(why.to_string()),
            ServiceError::Conflict(message) => E::conflict(message),
            ServiceError::Invalid(message) => E::unprocessable(message),
            error @ ServiceError::Blob(_) if !error.is_internal() => E::new(
                StatusCode::from_u16(error.status()).unwrap_or(StatusCode::BAD_REQUEST),
                error.to_string(),
            ),
            error => E::internal(error),
        })
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.0.status()
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = self.0.error_response();
        if self.0.status() == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"Entrepot API\""),
            );
        }
        response
    }
}

pub(crate) fn json_error(
    error: actix_web::error::JsonPayloadError,
    _: &HttpRequest,
) -> actix_web::Error {
    ApiError(entrepot_http::error::ApiError::bad_request(format!(
        "Problems parsing JSON: {error}"
    )))
    .into()
}

pub(crate) fn path_error(error: actix_web::error::PathError, _: &HttpRequest) -> actix_web::Error {
    ApiError(entrepot_http::error::ApiError::not_found().with_source(error)).into()
}

pub(crate) async fn no_route() -> Result<HttpResponse, ApiError> {
    Err(ApiError(entrepot_http::error::ApiError::not_found()))
}
