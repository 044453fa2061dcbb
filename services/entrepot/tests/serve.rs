//! Starts the real server in-process on a free port and talks HTTP/1.1 to it over TCP.

use std::net::SocketAddr;

use entrepot::app::AppState;
use entrepot::config::Config;
use entrepot::server;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// A deliberately minimal client: one request per connection, `Connection: close`, so the
/// response ends where the stream ends.
async fn get(addr: SocketAddr, path: &str, extra_headers: &[(&str, &str)]) -> Response {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in extra_headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let raw = String::from_utf8(raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_owned(), value.trim().to_owned()))
        .collect();
    Response {
        status,
        headers,
        body: body.to_owned(),
    }
}

#[actix_web::test]
async fn serves_health_readiness_metrics_and_request_ids() {
    let data_dir = tempfile::tempdir().unwrap();
    let config = Config {
        listen: "127.0.0.1:0".to_owned(),
        data_dir: data_dir.path().to_path_buf(),
        shutdown_timeout_secs: 1,
        ..Config::default()
    };
    let state = AppState::open(config.clone()).await.unwrap();
    let running = server::start(&config, state).unwrap();
    let addr = running.addrs()[0];
    assert_ne!(addr.port(), 0, "port 0 resolves to the bound port");
    let handle = running.handle();
    let served = actix_web::rt::spawn(running.wait());

    let health = get(addr, "/healthz", &[]).await;
    assert_eq!(health.status, 200);
    assert_eq!(health.body, "ok");
    let generated = health.header("x-request-id").expect("a request id");
    assert_eq!(generated.len(), 36, "a UUID: {generated}");

    let ready = get(addr, "/readyz", &[]).await;
    assert_eq!(ready.status, 200);
    assert_eq!(ready.body, "ready");

    let echoed = get(addr, "/healthz", &[("X-Request-Id", "trace-me-123")]).await;
    assert_eq!(echoed.header("x-request-id"), Some("trace-me-123"));

    let missing = get(addr, "/no/such/route", &[]).await;
    assert_eq!(missing.status, 404);
    assert!(missing.header("x-request-id").is_some());

    let metrics = get(addr, "/metrics", &[]).await;
    assert_eq!(metrics.status, 200);
    assert!(
        metrics
            .header("content-type")
            .is_some_and(|value| value.starts_with("text/plain")),
        "{:?}",
        metrics.headers
    );
    let healthz_line = metrics
        .body
        .lines()
        .find(|line| {
            line.starts_with("http_requests_total{")
                && line.contains(r#"route="/healthz""#)
                && line.contains(r#"status="200""#)
        })
        .unwrap_or_else(|| panic!("no /healthz counter in:\n{}", metrics.body));
    assert!(healthz_line.ends_with(" 2"), "{healthz_line}");
    assert!(
        metrics.body.contains(r#"route="unmatched""#),
        "{}",
        metrics.body
    );
    assert!(!metrics.body.contains("/no/such/route"));

    handle.stop(true).await;
    served.await.unwrap().unwrap();
}

#[actix_web::test]
async fn a_taken_port_is_a_clear_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let data_dir = tempfile::tempdir().unwrap();
    let config = Config {
        listen: taken.local_addr().unwrap().to_string(),
        data_dir: data_dir.path().to_path_buf(),
        ..Config::default()
    };
    let state = AppState::open(config.clone()).await.unwrap();
    let error = server::start(&config, state)
        .err()
        .expect("the port is taken");
    assert!(error.to_string().contains("cannot listen on"), "{error:#}");
}
