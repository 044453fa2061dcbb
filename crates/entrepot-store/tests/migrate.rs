//! Opening the store runs migrations exactly once: concurrently opened stores on a fresh database all succeed, and
//! opening an already migrated database changes nothing. On SQLite and on PostgreSQL.
//!
//! PostgreSQL comes from `ENTREPOT_TEST_POSTGRES` (default `postgres://postgres@127.0.0.1:5432/postgres`), as in
//! the testkit, which this crate cannot use (the testkit depends on it through the service layer). Unreachable
//! PostgreSQL fails the test under CI or with `ENTREPOT_REQUIRE_POSTGRES=1` and is skipped loudly otherwise.

use std::future::Future;
use std::io::Write;

use entrepot_migrations::{Migrator, MigratorTrait};
use entrepot_store::{Backend, ConnectionTrait, Store, accounts};
use sea_orm::{Database, DatabaseConnection, Statement};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Engine {
    Sqlite,
    Postgres,
}

fn postgres_admin_url() -> String {
    std::env::var("ENTREPOT_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// The testkit's rule: CI must exercise PostgreSQL; a laptop without it still runs the SQLite half.
fn postgres_required() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false")
        || std::env::var("ENTREPOT_REQUIRE_POSTGRES").is_ok_and(|v| v == "1")
}

/// Runs `body` with the URL of a database nobody has migrated yet, on each engine, and drops the PostgreSQL
/// database afterwards even when the body panics.
async fn on_fresh_database<F, Fut>(body: F)
where
    F: Fn(String) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    for engine in [Engine::Sqlite, Engine::Postgres] {
        match engine {
            Engine::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!(
                    "sqlite://{}?mode=rwc",
                    dir.path().join("fresh.db").display()
                );
                // On a task of its own so that a panic comes back as a value, like the PostgreSQL half below.
                if let Err(error) = tokio::spawn(body(url)).await {
                    eprintln!("the test failed on SQLite");
                    std::panic::resume_unwind(error.into_panic());
                }
            }
            Engine::Postgres => {
                let admin_url = postgres_admin_url();
                let admin = match Database::connect(admin_url.as_str()).await {
                    Ok(admin) => admin,
                    Err(error) if !postgres_required() => {
                        // Written to the stderr handle: the harness captures `eprintln!` of passing tests.
                        let _ = writeln!(
                            std::io::stderr().lock(),
                            "SKIPPED the PostgreSQL half of this test: {admin_url} is unreachable ({error}); CI requires it"
                        );
                        continue;
                    }
                    Err(error) => panic!(
                        "PostgreSQL is required (CI or ENTREPOT_REQUIRE_POSTGRES=1) but {admin_url} is unreachable: {error}"
                    ),
                };
                let name = format!("entrepot_migrate_{}", uuid::Uuid::new_v4().simple());
                admin
                    .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                    .await
                    .expect("create the database");
                let base = admin_url
                    .rsplit_once('/')
                    .map(|(base, _)| base)
                    .unwrap_or(&admin_url);
                let outcome = tokio::spawn(body(format!("{base}/{name}"))).await;
                // FORCE: the stores the body opened may still hold pooled connections.
                admin
                    .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                    .await
                    .expect("drop the database");
                admin.close().await.ok();
                if let Err(error) = outcome {
                    eprintln!("the test failed on PostgreSQL");
                    std::panic::resume_unwind(error.into_panic());
                }
            }
        }
    }
}

/// `(version, applied_at)` of every recorded migration, in order.
async fn recorded_migrations(db: &DatabaseConnection) -> Vec<(String, i64)> {
    let rows = db
        .query_all(Statement::from_string(
            db.get_database_backend(),
            "SELECT version, applied_at FROM seaql_migrations ORDER BY version",
        ))
        .await
        .expect("read seaql_migrations");
    rows.iter()
        .map(|row| {
            (
                row.try_get("", "version").unwrap(),
                row.try_get("", "applied_at").unwrap(),
            )
        })
        .collect()
}

/// The tables of the database, by name, with their definitions where the engine keeps them as text.
async fn schema(db: &DatabaseConnection, backend: Backend) -> Vec<(String, String)> {
    let sql = match backend {
        Backend::Sqlite => {
            "SELECT name, COALESCE(sql, '') AS definition FROM sqlite_master ORDER BY type, name"
        }
        Backend::Postgres => {
            "SELECT table_name::text AS name, string_agg(column_name::text || ' ' || data_type::text, ', ' \
             ORDER BY ordinal_position) AS definition FROM information_schema.columns \
             WHERE table_schema = 'public' GROUP BY table_name ORDER BY table_name"
        }
    };
    let rows = db
        .query_all(Statement::from_string(db.get_database_backend(), sql))
        .await
        .expect("read the schema");
    rows.iter()
        .map(|row| {
            (
                row.try_get("", "name").unwrap(),
                row.try_get("", "definition").unwrap(),
            )
        })
        .collect()
}

/// Every migration is recorded once, none is pending, and the tables are there and usable.
async fn assert_migrated_once(store: &Store) {
    let db = store.db();
    let recorded = recorded_migrations(db).await;
    let expected: Vec<String> = Migrator::migrations()
        .iter()
        .map(|m| m.name().to_owned())
        .collect();
    assert_eq!(
        recorded
            .iter()
            .map(|(version, _)| version.clone())
            .collect::<Vec<_>>(),
        expected
    );
    assert!(
        Migrator::get_pending_migrations(db)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(accounts::count(db, accounts::KIND_USER).await.unwrap(), 0);
    if store.backend() == Backend::Sqlite {
        // A leftover row would mean a migration transaction committed without releasing the lock it took.
        let held = db
            .query_one(Statement::from_string(
                db.get_database_backend(),
                "SELECT COUNT(*) AS held FROM entrepot_migration_lock",
            ))
            .await
            .unwrap()
            .expect("a count");
        assert_eq!(held.try_get::<i64>("", "held").unwrap(), 0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_opens_of_a_fresh_database_all_succeed_and_migrate_once() {
    on_fresh_database(|url| async move {
        // Spawned, not joined on one task: the opens must really overlap, as replicas starting together do.
        let opens: Vec<_> = (0..4)
            .map(|_| {
                let url = url.clone();
                tokio::spawn(async move { Store::open(&url).await })
            })
            .collect();
        let mut stores = Vec::new();
        for (i, open) in opens.into_iter().enumerate() {
            match open.await.expect("the open task") {
                Ok(store) => stores.push(store),
                Err(error) => panic!("concurrent open {i} failed: {error}"),
            }
        }
        for store in &stores {
            assert_migrated_once(store).await;
        }
        let first = schema(stores[0].db(), stores[0].backend()).await;
        assert!(
            first.iter().any(|(name, _)| name == "accounts"),
            "no accounts table in {first:?}"
        );
        for store in stores {
            store.close().await.ok();
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opening_a_migrated_database_again_changes_nothing() {
    on_fresh_database(|url| async move {
        let store = Store::open(&url).await.expect("first open");
        assert_migrated_once(&store).await;
        let recorded = recorded_migrations(store.db()).await;
        let tables = schema(store.db(), store.backend()).await;
        accounts::insert(
            store.db(),
            accounts::NewAccount {
                login: "survivor",
                kind: accounts::KIND_USER,
                display_name: None,
                email: None,
                site_admin: false,
                password_hash: None,
            },
        )
        .await
        .expect("insert an account");
        store.close().await.ok();

        let again = Store::open(&url).await.expect("second open");
        // Same versions with the same timestamps: nothing was re-applied, nor rolled back and redone.
        assert_eq!(recorded_migrations(again.db()).await, recorded);
        assert_eq!(schema(again.db(), again.backend()).await, tables);
        assert!(
            Migrator::get_pending_migrations(again.db())
                .await
                .unwrap()
                .is_empty()
        );
        assert!(
            accounts::by_login(again.db(), "survivor")
                .await
                .unwrap()
                .is_some(),
            "the data did not survive"
        );
        again.close().await.ok();
    })
    .await;
}
