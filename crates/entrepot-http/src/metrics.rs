//! HTTP metrics through the `metrics` facade, and the Prometheus `/metrics` endpoint.

use std::sync::Mutex;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{Error, HttpResponse, web};
use metrics_exporter_prometheus::{BuildError, Matcher, PrometheusBuilder, PrometheusHandle};

/// Counter: `http_requests_total{method,route,status}`.
pub const REQUESTS_TOTAL: &str = "http_requests_total";
/// Histogram: `http_request_duration_seconds{method,route,status}`, time to the response head.
pub const REQUEST_DURATION: &str = "http_request_duration_seconds";
/// The `route` label of a request no route matched (404s of unknown paths, probes).
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// From 1 ms (a cached token check and a small read) to a minute (a large upload).
const DURATION_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];

static INSTALLED: Mutex<Option<PrometheusHandle>> = Mutex::new(None);

/// Installs the process-wide Prometheus recorder on the first call and returns its handle; later
/// calls return the same handle (the `metrics` facade allows one global recorder per process,
/// and tests start several servers in one process).
///
/// The caller runs [`PrometheusHandle::run_upkeep`] every few seconds, so that histogram samples
/// of an unscraped server do not pile up.
pub fn install_recorder() -> Result<PrometheusHandle, BuildError> {
    // A poisoned lock only means another thread panicked while installing; the Option is intact.
    let mut installed = INSTALLED
        .lock()
        .unwrap_or_else(|poison| poison.into_inner());
    if let Some(handle) = installed.as_ref() {
        return Ok(handle.clone());
    }
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Full(REQUEST_DURATION.to_owned()), DURATION_BUCKETS)?
        .install_recorder()?;
    metrics::describe_counter!(REQUESTS_TOTAL, "HTTP requests answered.");
    metrics::describe_histogram!(
        REQUEST_DURATION,
        metrics::Unit::Seconds,
        "Time from the request to its response head."
    );
    *installed = Some(handle.clone());
    Ok(handle)
}

/// The `/metrics` handler; needs the handle as `web::Data<PrometheusHandle>`.
pub async fn render(handle: web::Data<PrometheusHandle>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(handle.render())
}

/// The middleware: `App::wrap(actix_web::middleware::from_fn(metrics::middleware))`, inside
/// the request-id middleware.
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let method = method_label(req.method());
    let result = next.call(req).await;
    let (route, status) = match &result {
        Ok(response) => (
            response.request().match_pattern(),
            response.status().as_u16(),
        ),
        Err(error) => (None, error.as_response_error().status_code().as_u16()),
    };
    let labels = [
        ("method", method.to_owned()),
        ("route", route.unwrap_or_else(|| UNMATCHED_ROUTE.to_owned())),
        ("status", status.to_string()),
    ];
    metrics::counter!(REQUESTS_TOTAL, &labels).increment(1);
    metrics::histogram!(REQUEST_DURATION, &labels).record(started.elapsed().as_secs_f64());
    result
}

/// Clients may send any method token; only the standard ones become label values.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::App;
    use actix_web::middleware::from_fn;
    use actix_web::test as actix_test;

    #[actix_web::test]
    async fn records_route_patterns_not_paths() {
        let handle = install_recorder().unwrap();
        assert!(install_recorder().is_ok(), "a second install is harmless");
        let app = actix_test::init_service(
            App::new()
                .wrap(from_fn(middleware))
                .app_data(web::Data::new(handle))
                .route("/metrics", web::get().to(render))
                .route(
                    "/metrics-test/{owner}/{name}",
                    web::get().to(HttpResponse::Ok),
                ),
        )
        .await;

        for path in ["/metrics-test/acme/one", "/metrics-test/acme/two"] {
            let response = actix_test::call_service(
                &app,
                actix_test::TestRequest::get().uri(path).to_request(),
            )
            .await;
            assert_eq!(response.status(), 200);
        }
        let request = actix_test::TestRequest::default()
            .method(Method::from_bytes(b"BREW").unwrap())
            .uri("/metrics-test-nothing-here")
            .to_request();
        let response = actix_test::call_service(&app, request).await;
        assert_eq!(response.status(), 404);

        let response = actix_test::call_service(
            &app,
            actix_test::TestRequest::get().uri("/metrics").to_request(),
        )
        .await;
        assert_eq!(response.status(), 200);
        let content_type = response
            .headers()
            .get("content-type")
            .unwrap()
            .to_str()
            .unwrap();
        assert!(content_type.starts_with("text/plain"), "{content_type}");
        let body = String::from_utf8(actix_test::read_body(response).await.to_vec()).unwrap();

        let line = body
            .lines()
            .find(|line| {
                line.starts_with("http_requests_total{")
                    && line.contains(r#"route="/metrics-test/{owner}/{name}""#)
            })
            .unwrap_or_else(|| panic!("no counter line in:\n{body}"));
        assert!(line.contains(r#"method="GET""#), "{line}");
        assert!(line.contains(r#"status="200""#), "{line}");
        assert!(line.ends_with(" 2"), "{line}");
        assert!(
            !body.contains("/metrics-test/acme/one"),
            "raw paths must not be labels"
        );
        assert!(
            body.lines()
                .any(|line| line.starts_with("http_requests_total{")
                    && line.contains(r#"method="OTHER""#)
                    && line.contains(r#"route="unmatched""#)
                    && line.contains(r#"status="404""#)),
            "{body}"
        );
        assert!(
            body.contains("http_request_duration_seconds_bucket{"),
            "the duration is a histogram: {body}"
        );
    }
}
