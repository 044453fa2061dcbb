//! Opening the database (SQLite file or PostgreSQL) and running migrations.

use std::sync::Arc;
use std::time::Duration;

use entrepot_migrations::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr,
    TransactionTrait,
};
use tokio::sync::{Mutex, MutexGuard};

use crate::Result;

/// Which database engine a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A connection pool plus what the service needs to know about the engine behind it.
#[derive(Debug, Clone)]
pub struct Store {
    db: DatabaseConnection,
    backend: Backend,
    /// SQLite allows one writer at a time, and a deferred transaction that upgrades to a write can fail with
    /// SQLITE_BUSY without waiting. Serialising write transactions in-process avoids that; PostgreSQL needs no such lock.
    write_lock: Option<Arc<Mutex<()>>>,
}

/// Runs pending migrations in one transaction that only one process at a time can hold: replicas starting
/// together, or `serve` and `admin` on a fresh SQLite file, would otherwise both try to create the tables.
async fn migrate(db: &DatabaseConnection, backend: Backend) -> Result<()> {
    Ok(retry_while_locked(backend == Backend::Sqlite, || migrate_once(db, backend)).await?)
}

async fn migrate_once(db: &DatabaseConnection, backend: Backend) -> Result<(), DbErr> {
    let txn = db.begin().await?;
    match backend {
        // Held until the transaction ends; the key is arbitrary but fixed ("entrepot" in ASCII).
        Backend::Postgres => {
            txn.execute_unprepared("SELECT pg_advisory_xact_lock(7310593858820747636)")
                .await?;
        }
        // A write as the first statement takes SQLite's write lock before anything is read.
        Backend::Sqlite => {
            txn.execute_unprepared(
                "CREATE TABLE IF NOT EXISTS entrepot_migration_lock (held INTEGER)",
            )
            .await?;
            txn.execute_unprepared("INSERT INTO entrepot_migration_lock VALUES (1)")
                .await?;
        }
    }
    Migrator::up(&txn, None).await?;
    if backend == Backend::Sqlite {
        txn.execute_unprepared("DELETE FROM entrepot_migration_lock")
            .await?;
    }
    txn.commit().await
}

/// Connects. The first connections to a fresh SQLite file switch it to WAL, which takes an exclusive lock that
/// SQLite refuses at once, without its busy timeout, to others doing the same (processes starting together, or
/// one process opening several stores).
async fn connect(options: ConnectOptions) -> Result<DatabaseConnection> {
    let sqlite = options.get_url().starts_with("sqlite:");
    Ok(retry_while_locked(sqlite, || Database::connect(options.clone())).await?)
}

/// Runs `attempt` again while SQLite answers "database is locked" (for up to about five seconds): SQLite answers
/// a competing writer, or a competing switch to WAL, at once rather than after its busy timeout, and the winner
/// finishes soon. Other engines and other errors are answered at the first failure.
async fn retry_while_locked<T, F, Fut>(sqlite: bool, mut attempt: F) -> Result<T, DbErr>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, DbErr>>,
{
    let mut retries = 0;
    loop {
        match attempt().await {
            Err(error) if sqlite && retries < 50 && error.to_string().contains("locked") => {
                retries += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            outcome => return outcome,
        }
    }
}

impl Store {
    /// Connects and runs every pending migration.
    pub async fn open(url: &str) -> Result<Self> {
        let mut options = ConnectOptions::new(url.to_owned());
        options
            .max_connections(16)
            .min_connections(1)
            .connect_timeout(Duration::from_secs(10))
            .sqlx_logging(false)
            // WAL lets readers go on while one writer commits, and with it `synchronous = NORMAL` is still safe
            // against corruption (a power cut can lose only the last commits, never tear the file). sqlx's
            // default is the rollback journal with a full sync per commit, several times slower to write.
            .map_sqlx_sqlite_opts(|opts| {
                opts.journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(10))
                    .foreign_keys(true)
            });
        let db = connect(options).await?;
        let backend = match db.get_database_backend() {
            DbBackend::Sqlite => Backend::Sqlite,
            _ => Backend::Postgres,
        };
        migrate(&db, backend).await?;
        let write_lock = (backend == Backend::Sqlite).then(|| Arc::new(Mutex::new(())));
        Ok(Self {
            db,
            backend,
            write_lock,
        })
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Held for the duration of a write transaction (a no-op guard on PostgreSQL).
    pub async fn write_guard(&self) -> Option<MutexGuard<'_, ()>> {
        match &self.write_lock {
            Some(lock) => Some(lock.lock().await),
            None => None,
        }
    }

    /// Answers when the database does; used by `/readyz`.
    pub async fn ping(&self) -> Result<()> {
        self.db.ping().await?;
        Ok(())
    }

    pub async fn close(self) -> Result<()> {
        self.db.close().await?;
        Ok(())
    }
}
