//! A token's secret never reaches the logs: the real binary runs with every log level on, the token is sent in
//! every way clients send it (Bearer, Basic password, Basic user, NuGet API key, in a URL path as npm's logout
//! does, after revocation), and the whole log output is searched for it.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;

const BIN: &str = env!("CARGO_BIN_EXE_entrepot");

fn entrepot(data_dir: &std::path::Path) -> Command {
    let mut command = Command::new(BIN);
    command
        .arg("--data-dir")
        .arg(data_dir)
        .env("ENTREPOT_TELEMETRY__LOG_FILTER", "trace")
        .env_remove("DATABASE_URL")
        .env_remove("RUST_LOG");
    command
}

/// Runs an admin command; returns (stdout, stderr).
fn admin(data_dir: &std::path::Path, args: &[&str], stdin: Option<&str>) -> (String, String) {
    let mut child = entrepot(data_dir)
        .arg("admin")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run entrepot admin");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    let output = child.wait_with_output().unwrap();
    let (stdout, stderr) = (
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    );
    assert!(
        output.status.success(),
        "entrepot admin {args:?} failed: {stderr}"
    );
    (stdout, stderr)
}

/// One HTTP/1.1 request on its own connection; returns the status.
fn request(port: u16, path: &str, headers: &[(&str, String)]) -> u16 {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut text =
        format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n");
    for (name, value) in headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    text.push_str("\r\n");
    stream.write_all(text.as_bytes()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
        .split(' ')
        .nth(1)
        .and_then(|status| status.parse().ok())
        .unwrap_or(0)
}

fn wait_until_healthy(port: u16, server: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        assert!(
            server.try_wait().unwrap().is_none(),
            "the server exited early"
        );
        if TcpStream::connect(("127.0.0.1", port)).is_ok() && request(port, "/healthz", &[]) == 200
        {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("the server did not become healthy");
}

#[test]
fn no_log_line_holds_a_token_secret() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let mut logs = String::new();

    let (_, stderr) = admin(
        data,
        &[
            "user",
            "create",
            "alice",
            "--site-admin",
            "--password-stdin",
        ],
        Some("a long password\n"),
    );
    logs += &stderr;
    let (token, stderr) = admin(
        data,
        &[
            "token",
            "create",
            "alice",
            "--name",
            "t",
            "--scopes",
            "read:packages,write:packages,delete:packages,repo",
        ],
        None,
    );
    logs += &stderr;
    let token = token.trim().to_owned();
    assert!(token.starts_with("etp_"), "{token}");

    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = entrepot(data)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the server");
    wait_until_healthy(port, &mut server);

    let basic = |user: &str, password: &str| {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
        )
    };
    assert_eq!(
        request(
            port,
            "/api/v3/user",
            &[("Authorization", format!("Bearer {token}"))]
        ),
        200
    );
    assert_eq!(
        request(
            port,
            "/api/v3/user",
            &[("Authorization", basic("alice", &token))]
        ),
        200
    );
    assert_eq!(
        request(
            port,
            "/api/v3/user",
            &[("Authorization", basic(&token, ""))]
        ),
        200
    );
    assert_eq!(
        request(port, "/api/v3/user", &[("X-NuGet-ApiKey", token.clone())]),
        200
    );
    // npm's logout puts the token in the URL.
    request(
        port,
        &format!("/npm/-/user/token/{token}"),
        &[("Authorization", format!("Bearer {token}"))],
    );

    let (list, stderr) = admin(data, &["token", "list", "alice"], None);
    logs += &stderr;
    let listed: serde_json::Value = serde_json::from_str(&list).unwrap();
    assert!(
        !list.contains(&token[4..]),
        "a token listing shows the secret"
    );
    let id = listed[0]["id"].as_i64().unwrap().to_string();
    let (_, stderr) = admin(data, &["token", "revoke", "alice", &id], None);
    logs += &stderr;
    // The server's cache still holds the token until its TTL; a fresh server asks the database.
    Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    let output = server.wait_with_output().unwrap();
    logs += &String::from_utf8_lossy(&output.stdout);
    logs += &String::from_utf8_lossy(&output.stderr);

    let mut server = entrepot(data)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("restart the server");
    wait_until_healthy(port, &mut server);
    assert_eq!(
        request(
            port,
            "/api/v3/user",
            &[("Authorization", format!("Bearer {token}"))]
        ),
        401
    );
    Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    let output = server.wait_with_output().unwrap();
    logs += &String::from_utf8_lossy(&output.stdout);
    logs += &String::from_utf8_lossy(&output.stderr);

    // The logs are there, at every level, and the requests were logged...
    assert!(
        logs.contains("request completed"),
        "no request was logged:\n{logs}"
    );
    assert!(
        logs.matches("/api/v3/user").count() >= 5,
        "the requests were not logged:\n{logs}"
    );
    assert!(
        logs.contains("TRACE") || logs.contains("DEBUG"),
        "verbose levels were not on"
    );
    // ...but neither the token nor its random part is.
    assert!(
        !logs.contains(&token[4..34]),
        "a log line holds the token's secret:\n{logs}"
    );
}
