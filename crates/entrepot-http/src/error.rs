//! The REST API's GitHub-style error body, and the 5xx rule every protocol follows.
//!
//! Error policy: a 4xx body says what the client did wrong, in words meant for the client. A 5xx
//! body says `internal error` and the request id, nothing more: the cause (a database message, a
//! path on disk) is for the operator, so it goes to the log, with the same request id in the
//! span, as `%error`. Protocol front-ends with their own body shapes (OCI `errors`, npm
//! `error`) use [`internal_error_message`] and [`log_internal_error`] to follow the same rule.

use std::borrow::Cow;
use std::error::Error as StdError;
use std::fmt;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::{Deserialize, Serialize};

use crate::request_id::RequestId;

type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// The JSON body: `{"message": "...", "documentation_url": "..."}` as GitHub sends, plus
/// `request_id` on 5xx.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub documentation_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// An error answered by the REST API. Build it with a constructor per status; `internal`
/// keeps its cause for the log only.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: Cow<'static, str>,
    documentation_url: Option<Cow<'static, str>>,
    source: Option<BoxError>,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            status,
            message: message.into(),
            documentation_url: None,
            source: None,
        }
    }

    pub fn bad_request(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// GitHub's wording for a missing or bad credential.
    pub fn unauthorized() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "Requires authentication")
    }

    pub fn forbidden(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::FORBIDDEN, message)
    }

    /// GitHub's wording, also used when the caller may not know the thing exists.
    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "Not Found")
    }

    pub fn conflict(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::CONFLICT, message)
    }

    /// 422, GitHub's answer to a well-formed request with invalid content.
    pub fn unprocessable(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, message)
    }

    /// 500. The cause is logged when the response is rendered and never sent.
    pub fn internal(cause: impl Into<BoxError>) -> Self {
        Self {
            source: Some(cause.into()),
            ..Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
        }
    }

    pub fn with_documentation_url(mut self, url: impl Into<Cow<'static, str>>) -> Self {
        self.documentation_url = Some(url.into());
        self
    }

    /// Attaches a cause to log with any status (a 4xx keeps its message in the body).
    pub fn with_source(mut self, cause: impl Into<BoxError>) -> Self {
        self.source = Some(cause.into());
        self
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The message the body will carry (for a 5xx, not this text: see the module docs).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The body for this error, for the request being handled on this task.
    pub fn body(&self) -> ErrorBody {
        if self.status.is_server_error() {
            let request_id = RequestId::current();
            ErrorBody {
                message: internal_error_message(request_id.as_ref()),
                documentation_url: None,
                request_id: request_id.map(|id| id.to_string()),
            }
        } else {
            ErrorBody {
                message: self.message.to_string(),
                documentation_url: self.documentation_url.as_deref().map(str::to_owned),
                request_id: None,
            }
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.status, self.message)
    }
}

impl StdError for ApiError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|error| error as &(dyn StdError + 'static))
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        if self.status.is_server_error() {
            match &self.source {
                Some(cause) => log_internal_error(cause.as_ref()),
                None => log_internal_error(self),
            }
        } else if let Some(cause) = &self.source {
            let status = self.status.as_u16();
            tracing::debug!(error = %ErrorChain(cause.as_ref()), status, "request refused");
        }
        HttpResponse::build(self.status).json(self.body())
    }
}

/// What a 5xx body says, in any protocol: `internal error (request id …)`.
pub fn internal_error_message(request_id: Option<&RequestId>) -> String {
    match request_id {
        Some(id) => format!("internal error (request id {id})"),
        None => "internal error".to_owned(),
    }
}

/// Logs the cause of a 5xx with its whole source chain, as `%error`. The request id comes with
/// the request's span.
pub fn log_internal_error(error: &(dyn StdError + 'static)) {
    tracing::error!(error = %ErrorChain(error), "internal error");
}

/// Displays an error followed by its sources: `outer: middle: root cause`.
pub struct ErrorChain<'a>(pub &'a (dyn StdError + 'static));

impl fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(error) = source {
            write!(f, ": {error}")?;
            source = error.source();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request_id;
    use actix_web::middleware::from_fn;
    use actix_web::test as actix_test;
    use actix_web::{App, web};

    #[derive(Debug, thiserror::Error)]
    #[error("database is locked at /var/lib/entrepot/secret-path.db")]
    struct DbError;

    async fn fail_internal() -> Result<HttpResponse, ApiError> {
        Err(ApiError::internal(DbError))
    }

    async fn fail_not_found() -> Result<HttpResponse, ApiError> {
        Err(ApiError::not_found().with_documentation_url("https://docs.github.com/rest/packages"))
    }

    async fn fail_unprocessable() -> Result<HttpResponse, ApiError> {
        Err(ApiError::unprocessable("package_type is required").with_source(DbError))
    }

    async fn call(path: &str) -> (StatusCode, String, String) {
        let app = actix_test::init_service(
            App::new()
                .wrap(from_fn(request_id::middleware))
                .route("/internal", web::get().to(fail_internal))
                .route("/missing", web::get().to(fail_not_found))
                .route("/invalid", web::get().to(fail_unprocessable)),
        )
        .await;
        let response =
            actix_test::call_service(&app, actix_test::TestRequest::get().uri(path).to_request())
                .await;
        let status = response.status();
        let id = response
            .headers()
            .get("x-request-id")
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        let body = String::from_utf8(actix_test::read_body(response).await.to_vec()).unwrap();
        (status, id, body)
    }

    #[actix_web::test]
    async fn internal_errors_hide_the_cause_and_name_the_request() {
        let (status, id, body) = call("/internal").await;
        assert_eq!(status, 500);
        assert!(!body.contains("database"), "{body}");
        assert!(!body.contains("secret-path"), "{body}");
        let body: ErrorBody = serde_json::from_str(&body).unwrap();
        assert_eq!(
            body,
            ErrorBody {
                message: format!("internal error (request id {id})"),
                documentation_url: None,
                request_id: Some(id),
            }
        );
    }

    #[actix_web::test]
    async fn client_errors_say_what_is_wrong() {
        let (status, _, body) = call("/missing").await;
        assert_eq!(status, 404);
        assert_eq!(
            body,
            r#"{"message":"Not Found","documentation_url":"https://docs.github.com/rest/packages"}"#
        );

        let (status, _, body) = call("/invalid").await;
        assert_eq!(status, 422);
        assert_eq!(body, r#"{"message":"package_type is required"}"#);
    }

    #[test]
    fn without_the_middleware_there_is_no_id() {
        let body = ApiError::internal(DbError).body();
        assert_eq!(body.message, "internal error");
        assert_eq!(body.request_id, None);
    }

    #[test]
    fn error_chain() {
        let error = ApiError::internal(DbError);
        assert_eq!(
            ErrorChain(&error).to_string(),
            "500 Internal Server Error: internal error: database is locked at /var/lib/entrepot/secret-path.db"
        );
    }
}
