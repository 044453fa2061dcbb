//! The harness every real-client end-to-end test shares: a spawned `entrepot` binary on a fresh data directory
//! with the permission spec's world in it, and the lookup of client binaries (required in CI, skipped elsewhere).
//!
//! The tests in this folder are compiled as integration tests of the `entrepot` package (see its Cargo.toml), so
//! `CARGO_BIN_EXE_entrepot` is the binary just built. Each test is a plain `#[test]`: the clients are blocking
//! processes, and the harness keeps its own Tokio runtime for the few service calls a test makes directly.

#![allow(dead_code)] // each test file uses a different part of the harness

use std::ffi::OsStr;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use entrepot_service::{ServiceConfig, Services};
pub use entrepot_testkit::world::World;

const BIN: &str = env!("CARGO_BIN_EXE_entrepot");

/// Whether a missing client fails the test instead of skipping it: always in CI.
fn clients_required() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false")
        || std::env::var_os("ENTREPOT_REQUIRE_CLIENTS").is_some_and(|v| v == "1")
}

/// Where `deploy/dev/install-clients.sh` puts its wrappers.
fn clients_dir() -> PathBuf {
    match std::env::var_os("ENTREPOT_CLIENTS") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
            .join(".cache/entrepot/clients"),
    }
    .join("bin")
}

/// Finds a client binary on `PATH` or among the installed wrappers. Missing: a failure in CI, a loud skip
/// elsewhere (`None`); install them with `bash deploy/dev/install-clients.sh`.
pub fn client(name: &str) -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .map(|path| {
            std::env::split_paths(&path)
                .map(|dir| dir.join(name))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    let found = on_path
        .into_iter()
        .chain(std::iter::once(clients_dir().join(name)))
        .find(|candidate| candidate.is_file());
    if found.is_none() {
        missing(&format!("the client `{name}`"));
    }
    found
}

/// A file the installer puts in its directory beside the wrappers, such as a library a test script imports
/// (`octokit/node_modules/@octokit/rest/package.json`); missing, it is reported as a missing client is.
pub fn client_file(relative: &str) -> Option<PathBuf> {
    let path = clients_dir().parent()?.join(relative);
    if path.is_file() {
        Some(path)
    } else {
        missing(&format!("`{relative}`"));
        None
    }
}

fn missing(what: &str) {
    let message = format!("{what} is not installed; run `bash deploy/dev/install-clients.sh`");
    assert!(!clients_required(), "{message}");
    entrepot_testkit::warn_skipped(&message);
}

/// Runs a client command to completion, with its output captured.
pub fn run(command: &mut Command) -> Output {
    let shown = format!("{command:?}");
    let output = command
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|error| panic!("cannot run {shown}: {error}"));
    eprintln!(
        "$ {shown}\n  -> {}\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Runs a command that must succeed; returns its stdout.
pub fn ok(command: &mut Command) -> String {
    let output = run(command);
    assert!(output.status.success(), "the command failed: {command:?}");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Runs a command that must fail; returns stdout and stderr together, for the error message.
pub fn fails(command: &mut Command) -> String {
    let output = run(command);
    assert!(
        !output.status.success(),
        "the command succeeded but should not have: {command:?}"
    );
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// A running server with the spec's world: org `acme` (owner olga, members mia and max, team devs = {mia}),
/// users ursula and outsider, repositories acme/web (private, max writes), acme/site (public), ursula/tools
/// (private); every user has an all-scopes token (`server.token("mia")`).
pub struct Server {
    pub port: u16,
    pub data: tempfile::TempDir,
    pub world: World,
    pub runtime: tokio::runtime::Runtime,
    child: Option<Child>,
    env: Vec<(String, String)>,
    log: PathBuf,
}

impl Server {
    /// A server on its embedded default (SQLite and a blob directory) with the default configuration.
    pub fn start() -> Server {
        Self::start_with(&[])
    }

    /// A server with extra `ENTREPOT_*` settings, e.g. `("ENTREPOT_POLICY__ANONYMOUS_READ", "[\"npm\"]")`.
    pub fn start_with(env: &[(&str, &str)]) -> Server {
        let data = tempfile::tempdir().expect("temp dir");
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let database_url = format!(
            "sqlite://{}?mode=rwc",
            data.path().join("entrepot.db").display()
        );
        let services = runtime
            .block_on(Services::open(ServiceConfig::new(
                database_url,
                data.path().join("blobs"),
            )))
            .expect("open services");
        let world = runtime.block_on(World::build(&services));
        let mut server = Server {
            port: 0,
            log: data.path().join("server.log"),
            data,
            world,
            runtime,
            child: None,
            env: env
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        };
        server.spawn();
        server
    }

    fn spawn(&mut self) {
        if self.port == 0 {
            self.port = TcpListener::bind("127.0.0.1:0")
                .and_then(|listener| listener.local_addr())
                .expect("a free port")
                .port();
        }
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("server log");
        let mut command = Command::new(BIN);
        command
            .args(["serve", "--listen", &format!("127.0.0.1:{}", self.port)])
            .arg("--data-dir")
            .arg(self.data.path())
            .env_remove("DATABASE_URL")
            .env_remove("RUST_LOG")
            .env("ENTREPOT_TELEMETRY__LOG_FILTER", "info")
            .stdout(log.try_clone().expect("log"))
            .stderr(log);
        for (key, value) in &self.env {
            command.env(key, value);
        }
        let child = command.spawn().expect("spawn entrepot");
        self.child = Some(child);
        self.wait_until_healthy();
    }

    fn wait_until_healthy(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Some(status) = self.child.as_mut().and_then(|c| c.try_wait().unwrap()) {
                panic!("the server exited early ({status}):\n{}", self.logs());
            }
            if http_status(self.port, "/healthz") == Some(200) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("the server did not become healthy:\n{}", self.logs());
    }

    /// Stops the server (SIGKILL when `crash`, else SIGTERM) and starts it again on the same port and data.
    pub fn restart(&mut self, crash: bool) {
        self.stop(crash);
        self.spawn();
    }

    fn stop(&mut self, crash: bool) {
        if let Some(mut child) = self.child.take() {
            let signal = if crash { "-KILL" } else { "-TERM" };
            let _ = Command::new("kill")
                .args([signal, &child.id().to_string()])
                .status();
            let _ = child.wait();
        }
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// `127.0.0.1:PORT`, as container clients name a registry.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The all-scopes token of one of the world's users.
    pub fn token(&self, login: &str) -> String {
        self.world.token(login).to_owned()
    }

    /// A REST call to `/api/v3{path}` with a token, through curl: the status and the body.
    pub fn api(&self, method: &str, path: &str, token: &str, body: Option<&str>) -> (u16, String) {
        let mut command = Command::new("curl");
        command.args([
            "-s",
            "-X",
            method,
            "-H",
            &format!("Authorization: Bearer {token}"),
        ]);
        command.args(["-w", "\n%{http_code}"]);
        if let Some(body) = body {
            command.args(["-H", "Content-Type: application/json", "--data", body]);
        }
        let output = command
            .arg(format!("{}/api/v3{path}", self.url()))
            .output()
            .expect("curl");
        let text = String::from_utf8_lossy(&output.stdout).into_owned();
        let (body, status) = text.rsplit_once('\n').unwrap_or(("", "0"));
        (status.trim().parse().unwrap_or(0), body.to_owned())
    }

    /// [`Server::api`], which must answer 2xx; the body.
    pub fn api_ok(&self, method: &str, path: &str, token: &str, body: Option<&str>) -> String {
        let (status, body) = self.api(method, path, token, body);
        assert!(
            (200..300).contains(&status),
            "{method} {path}: {status} {body}"
        );
        body
    }

    pub fn services(&self) -> &Services {
        &self.world.services
    }

    /// Runs a future on the harness's runtime (for direct service calls: minting workflow tokens, checking rows).
    pub fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    /// Everything the server logged so far.
    pub fn logs(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// A fresh directory inside the server's temp dir, for a client's home, cache or project.
    pub fn scratch(&self, name: &str) -> PathBuf {
        let dir = self.data.path().join("scratch").join(name);
        std::fs::create_dir_all(&dir).expect("scratch dir");
        dir
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop(false);
        if std::thread::panicking() {
            eprintln!("--- server log ---\n{}", self.logs());
        }
    }
}

/// The status of a plain GET, or `None` when nothing answers.
pub fn http_status(port: u16, path: &str) -> Option<u16> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    answer.split(' ').nth(1)?.parse().ok()
}

/// A command with `HOME` and the usual per-user config locations pointed into `home`, so that nothing a client
/// writes or reads leaks between tests or from the machine's own user.
pub fn isolated(program: impl AsRef<OsStr>, home: &Path) -> Command {
    let mut command = Command::new(program);
    command
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("XDG_CACHE_HOME", home.join(".cache"))
        .env("XDG_DATA_HOME", home.join(".local/share"))
        .env("XDG_RUNTIME_DIR", home.join(".run"))
        .current_dir(home);
    command
}
