//! Test support: a fresh database per test on SQLite and on PostgreSQL, so one test body runs on both engines.
//!
//! PostgreSQL comes from `ENTREPOT_TEST_POSTGRES` (default `postgres://postgres@127.0.0.1:5432/postgres`); every
//! test creates its own database there and drops it afterwards. When PostgreSQL cannot be reached, the PostgreSQL
//! half of a test fails under CI (`CI` set) or with `ENTREPOT_REQUIRE_POSTGRES=1`, and is skipped with a loud
//! message otherwise, so `cargo test` still works on a laptop without PostgreSQL.

pub mod npm;
pub mod world;

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use entrepot_blob::{BlobStore, FsBlobStore};
use entrepot_service::{ServiceConfig, Services};
use entrepot_store::Store;
use futures_util::FutureExt;
use sea_orm::{ConnectionTrait, Database};
pub use world::World;

/// The database engines a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// A test's private world: its own database, its own blob directory, and the services over them.
pub struct TestEnv {
    pub engine: Engine,
    pub services: Services,
    pub blobs: Arc<dyn BlobStore>,
    pub database_url: String,
    /// Shared with the runner, which keeps the directory alive until the body is done: an `async move` body that
    /// uses only some fields of the environment drops the rest early.
    pub dir: Arc<tempfile::TempDir>,
}

fn postgres_admin_url() -> String {
    std::env::var("ENTREPOT_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

fn postgres_required() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false")
        || std::env::var("ENTREPOT_REQUIRE_POSTGRES").is_ok_and(|v| v == "1")
}

/// Says once per test process that PostgreSQL tests are skipped. Written to the stderr handle itself: the test
/// harness captures `eprintln!` of passing tests, and a skip nobody sees is a silent one.
pub fn warn_skipped(message: &str) {
    use std::io::Write;
    static WARNED: std::sync::Once = std::sync::Once::new();
    WARNED.call_once(|| {
        let _ = writeln!(std::io::stderr().lock(), "\nWARNING: {message}\n");
    });
}

/// Set once PostgreSQL was found unreachable, so that later tests of the process skip at once.
static UNREACHABLE: AtomicBool = AtomicBool::new(false);

/// Creates an empty PostgreSQL database for one test; `None` when PostgreSQL is unreachable and not required.
async fn create_postgres_database() -> Option<(String, String)> {
    let admin_url = postgres_admin_url();
    if UNREACHABLE.load(Ordering::Relaxed) && !postgres_required() {
        return None;
    }
    // A refused connection should not wait out the pool's 30-second default, once per test.
    let mut options = sea_orm::ConnectOptions::new(admin_url.clone());
    options
        .connect_timeout(Duration::from_secs(2))
        .acquire_timeout(Duration::from_secs(2))
        .sqlx_logging(false);
    let admin = match Database::connect(options).await {
        Ok(admin) => admin,
        Err(error) if !postgres_required() => {
            UNREACHABLE.store(true, Ordering::Relaxed);
            warn_skipped(&format!(
                "SKIPPED the PostgreSQL half of the tests: {admin_url} is unreachable ({error}); \
                 `bash deploy/dev/ensure-postgres.sh` starts one; CI requires it"
            ));
            return None;
        }
        Err(error) => panic!(
            "PostgreSQL is required (CI or ENTREPOT_REQUIRE_POSTGRES=1) but {admin_url} is unreachable: {error}"
        ),
    };
    let name = format!("entrepot_test_{}", uuid::Uuid::new_v4().simple());
    admin
        .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
        .await
        .expect("create the test database");
    admin.close().await.ok();
    let base = admin_url
        .rsplit_once('/')
        .map(|(base, _)| base)
        .unwrap_or(&admin_url);
    Some((name.clone(), format!("{base}/{name}")))
}

/// Drops a database that [`TestEnv::new`] created; for callers that hold an environment outside [`on_both`]
/// (benchmarks), which would otherwise leave it behind.
pub async fn drop_postgres_database(name: &str) {
    if let Ok(admin) = Database::connect(postgres_admin_url().as_str()).await {
        let _ = admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
            .await;
        admin.close().await.ok();
    }
}

impl TestEnv {
    /// A fresh environment on `engine`, or `None` when that engine is unavailable and may be skipped.
    pub async fn new(engine: Engine) -> Option<(Self, Option<String>)> {
        Self::with_config(engine, |_| {}).await
    }

    /// Like [`TestEnv::new`], with a chance to adjust the service configuration.
    pub async fn with_config(
        engine: Engine,
        adjust: impl FnOnce(&mut ServiceConfig),
    ) -> Option<(Self, Option<String>)> {
        let dir = tempfile::tempdir().expect("temp dir");
        let (database_url, pg_name) = match engine {
            Engine::Sqlite => (
                format!(
                    "sqlite://{}?mode=rwc",
                    dir.path().join("entrepot.db").display()
                ),
                None,
            ),
            Engine::Postgres => {
                let (name, url) = create_postgres_database().await?;
                (url, Some(name))
            }
        };
        let store = Store::open(&database_url)
            .await
            .expect("open and migrate the test database");
        let blobs: Arc<dyn BlobStore> = Arc::new(
            FsBlobStore::open(dir.path().join("blobs"))
                .await
                .expect("blob store"),
        );
        let mut config = ServiceConfig::new(database_url.clone(), dir.path().join("blobs"));
        config.base_url = Some("http://entrepot.test".to_owned());
        adjust(&mut config);
        let services = Services::with_parts(store, blobs.clone(), config);
        Some((
            Self {
                engine,
                services,
                blobs,
                database_url,
                dir: Arc::new(dir),
            },
            pg_name,
        ))
    }
}

/// Runs `body` once on SQLite and once on PostgreSQL, each on a fresh database, and drops the PostgreSQL database
/// afterwards even when the body panics.
pub async fn on_both<F, Fut>(body: F)
where
    F: Fn(TestEnv) -> Fut,
    Fut: Future<Output = ()>,
{
    on_both_with(|_| {}, body).await
}

/// [`on_both`] with a configuration adjustment.
pub async fn on_both_with<A, F, Fut>(adjust: A, body: F)
where
    A: Fn(&mut ServiceConfig),
    F: Fn(TestEnv) -> Fut,
    Fut: Future<Output = ()>,
{
    for engine in [Engine::Sqlite, Engine::Postgres] {
        let Some((env, pg_name)) = TestEnv::with_config(engine, &adjust).await else {
            continue;
        };
        let _dir = env.dir.clone();
        let outcome = AssertUnwindSafe(body(env)).catch_unwind().await;
        if let Some(name) = pg_name {
            drop_postgres_database(&name).await;
        }
        if let Err(panic) = outcome {
            eprintln!("the test failed on {engine:?}");
            std::panic::resume_unwind(panic);
        }
    }
}

/// Stages `content` and publishes it as the one file `file_name` of `version`: the publish most tests need.
pub async fn publish_file(
    services: &Services,
    principal: &entrepot_service::authz::Principal,
    key: &entrepot_service::PackageKey,
    version: &str,
    file_name: &str,
    content: &[u8],
    repository_url: Option<&str>,
) -> entrepot_service::Result<(entrepot_service::PackageView, entrepot_service::VersionView)> {
    let blob = services
        .stage_blob(
            entrepot_blob::bytes_stream(content.to_vec()),
            entrepot_blob::PutOptions::new(),
        )
        .await?;
    let request = entrepot_service::PublishRequest {
        key: key.clone(),
        version: version.to_owned(),
        metadata: serde_json::json!({ "version": version }),
        files: vec![entrepot_service::NewFile {
            name: file_name.to_owned(),
            blob,
            content_type: None,
            mutable: false,
        }],
        repository_url: repository_url.map(str::to_owned),
        visibility: None,
        existing_version: entrepot_service::ExistingVersion::Conflict,
    };
    services.publish(principal, request).await
}
