//! Request ids, the per-request tracing span, and the one log line per completed request.

use std::fmt;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, FromRequest, HttpMessage, HttpRequest};
use tracing::Instrument;
use tracing::field::Empty;

/// The response (and accepted request) header.
pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// Longest incoming id we keep; longer ones are replaced, so logs stay bounded.
const MAX_INCOMING_LEN: usize = 128;

tokio::task_local! {
    /// The id of the request whose future is being polled. Lets an error rendered deep inside a
    /// handler name its request without every handler threading the id through.
    static CURRENT: RequestId;
}

/// The id of one request. Extract it in a handler (`id: RequestId`) or read
/// [`RequestId::current`] while the request is being handled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(String);

impl RequestId {
    /// A new UUIDv7: unique, and sortable by time, which helps when reading logs.
    pub fn generate() -> Self {
        Self(uuid::Uuid::now_v7().to_string())
    }

    /// Keeps an id set by a proxy or client when it is sane: 1 to 128 characters of letters,
    /// digits and `-_.:/+=@`. Anything else (empty, too long, spaces, control characters, which
    /// could forge log lines) is refused.
    pub fn from_incoming(value: &str) -> Option<Self> {
        let sane = |c: char| c.is_ascii_alphanumeric() || "-_.:/+=@".contains(c);
        (!value.is_empty() && value.len() <= MAX_INCOMING_LEN && value.chars().all(sane))
            .then(|| Self(value.to_owned()))
    }

    /// The id of the request being handled on this task, if it went through [`middleware`].
    pub fn current() -> Option<Self> {
        CURRENT.try_with(Clone::clone).ok()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromRequest for RequestId {
    type Error = std::convert::Infallible;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    /// Without the middleware (some unit tests), a fresh id rather than a failure.
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let id = req.extensions().get::<RequestId>().cloned();
        std::future::ready(Ok(id.unwrap_or_else(RequestId::generate)))
    }
}

/// The middleware: use with `App::wrap(actix_web::middleware::from_fn(request_id::middleware))`,
/// outermost, so that everything else runs inside the request's span.
///
/// It stores the [`RequestId`] in the request extensions, sets `X-Request-Id` on the response
/// (error responses included, unless an inner middleware fails outright), runs the request
/// inside an `http_request` span carrying the id, method and redacted path (and, once known, the
/// route pattern and status), and logs `request completed` at the end.
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let id = req
        .headers()
        .get(&REQUEST_ID_HEADER)
        .and_then(|value| value.to_str().ok())
        .and_then(RequestId::from_incoming)
        .unwrap_or_else(RequestId::generate);
    req.extensions_mut().insert(id.clone());

    let method = req.method().clone();
    let span = tracing::info_span!(
        "http_request",
        request_id = %id,
        method = %method,
        path = %redact_tokens_in_path(req.path()),
        route = Empty,
        status = Empty,
        // OpenTelemetry fixes a span's name when it starts, before routing has found the route;
        // the semantic conventions then call for the bare method, with the route as attribute.
        otel.name = %method,
        otel.kind = "server",
    );

    // The inner service's `call` may do work before returning its future, so it runs inside the
    // span and the task-local scope too.
    let future = span.in_scope(|| CURRENT.sync_scope(id.clone(), || next.call(req)));
    let result = CURRENT
        .scope(id.clone(), future)
        .instrument(span.clone())
        .await;

    let completed = |route: Option<String>, status: u16| {
        let route = route.as_deref().unwrap_or(crate::metrics::UNMATCHED_ROUTE);
        span.record("route", route);
        span.record("status", status);
        // Microsecond precision is plenty and keeps log lines short.
        let duration_ms = started.elapsed().as_micros() as f64 / 1000.0;
        span.in_scope(|| tracing::info!(duration_ms, "request completed"));
    };
    match result {
        Ok(mut response) => {
            if let Ok(value) = HeaderValue::from_str(id.as_str()) {
                response.headers_mut().insert(REQUEST_ID_HEADER, value);
            }
            completed(
                response.request().match_pattern(),
                response.status().as_u16(),
            );
            Ok(response)
        }
        // Only an inner middleware returns `Err` (handler errors arrive as responses). Building
        // a response here would need the request, which routing requires us not to hold on to,
        // so this rare response goes out without the header.
        Err(error) => {
            completed(None, error.as_response_error().status_code().as_u16());
            Err(error)
        }
    }
}

/// Replaces every path segment that contains something shaped like one of our tokens with
/// `[redacted]`. `DELETE /-/user/token/<token>` (npm logout) is the known case. The shape is a
/// token prefix followed by at least 30 letters and digits, checksum or not, so a
/// mistyped or truncated token is hidden too, while names such as `etp_tools` stay readable.
pub fn redact_tokens_in_path(path: &str) -> String {
    path.split('/')
        .map(|segment| {
            if contains_token_shape(segment) {
                "[redacted]"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Letters and digits after the prefix from which a segment counts as a token.
const TOKEN_SHAPE_MIN_TAIL: usize = 30;

fn contains_token_shape(segment: &str) -> bool {
    use entrepot_identity::token::TokenKind;
    TokenKind::ALL.iter().any(|kind| {
        segment.match_indices(kind.prefix()).any(|(start, prefix)| {
            let rest = &segment.as_bytes()[start + prefix.len()..];
            rest.iter()
                .take_while(|b| b.is_ascii_alphanumeric())
                .count()
                >= TOKEN_SHAPE_MIN_TAIL
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::middleware::from_fn;
    use actix_web::test as actix_test;
    use actix_web::{App, HttpResponse, web};
    use entrepot_identity::token::{TokenKind, generate};

    #[test]
    fn incoming_ids() {
        let long = "a".repeat(MAX_INCOMING_LEN + 1);
        let cases = [
            ("abc-123", true),
            ("0190f3a2-7c1e-7b8e-9d3c-1f2e3d4c5b6a", true),
            ("Root=1-5759e988-bd862e3fe1be46a994272793", true),
            ("", false),
            ("has space", false),
            ("new\nline", false),
            ("ünïcode", false),
            (long.as_str(), false),
        ];
        for (input, accepted) in cases {
            assert_eq!(
                RequestId::from_incoming(input).is_some(),
                accepted,
                "{input:?}"
            );
        }
    }

    #[test]
    fn generated_ids_are_uuid_v7() {
        let id = RequestId::generate();
        let uuid = uuid::Uuid::parse_str(id.as_str()).unwrap();
        assert_eq!(uuid.get_version_num(), 7);
    }

    #[test]
    fn token_segments_are_redacted() {
        let token = generate(TokenKind::Personal);
        let token = token.secret.expose();
        let path = format!("/npm/-/user/token/{token}");
        assert_eq!(redact_tokens_in_path(&path), "/npm/-/user/token/[redacted]");
        let embedded = format!("/x/prefix{token}suffix/y");
        assert_eq!(redact_tokens_in_path(&embedded), "/x/[redacted]/y");
        // A mistyped or truncated token is still hidden.
        let typo = format!("/npm/-/user/token/{}x", &token[..38]);
        assert_eq!(redact_tokens_in_path(&typo), "/npm/-/user/token/[redacted]");
        // Things that merely start like a token stay readable.
        let ordinary = "/npm/@acme%2fetp_tools/-/etp_tools-1.0.0.tgz";
        assert_eq!(redact_tokens_in_path(ordinary), ordinary);
    }

    async fn echo_id(id: RequestId) -> HttpResponse {
        let current = RequestId::current().map(|id| id.to_string());
        HttpResponse::Ok().body(format!("{id} {}", current.unwrap_or_default()))
    }

    #[actix_web::test]
    async fn sets_header_extension_and_task_local() {
        let app = actix_test::init_service(
            App::new()
                .wrap(from_fn(middleware))
                .route("/echo", web::get().to(echo_id)),
        )
        .await;

        let response = actix_test::call_service(
            &app,
            actix_test::TestRequest::get().uri("/echo").to_request(),
        )
        .await;
        let header = response.headers().get(&REQUEST_ID_HEADER).unwrap();
        let header = header.to_str().unwrap().to_owned();
        assert!(uuid::Uuid::parse_str(&header).is_ok());
        let body = actix_test::read_body(response).await;
        assert_eq!(body, format!("{header} {header}"));
    }

    #[actix_web::test]
    async fn keeps_a_sane_incoming_id_and_replaces_a_bad_one() {
        let app = actix_test::init_service(
            App::new()
                .wrap(from_fn(middleware))
                .route("/echo", web::get().to(echo_id)),
        )
        .await;

        let request = actix_test::TestRequest::get()
            .uri("/echo")
            .insert_header(("X-Request-Id", "from-the-proxy-42"))
            .to_request();
        let response = actix_test::call_service(&app, request).await;
        assert_eq!(
            response.headers().get("x-request-id").unwrap(),
            "from-the-proxy-42"
        );

        let request = actix_test::TestRequest::get()
            .uri("/echo")
            .insert_header(("X-Request-Id", "bad id with spaces"))
            .to_request();
        let response = actix_test::call_service(&app, request).await;
        assert_ne!(
            response.headers().get("x-request-id").unwrap(),
            "bad id with spaces"
        );
    }

    #[actix_web::test]
    async fn unmatched_requests_get_an_id_too() {
        let app = actix_test::init_service(App::new().wrap(from_fn(middleware))).await;
        let response = actix_test::call_service(
            &app,
            actix_test::TestRequest::get().uri("/nope").to_request(),
        )
        .await;
        assert_eq!(response.status(), 404);
        assert!(response.headers().contains_key("x-request-id"));
    }
}
