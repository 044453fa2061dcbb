//! Opening the database (SQLite file or PostgreSQL) and running migrations.

use std::sync::Arc;
use std::time::Duration;

use entrepot_migrations::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend};
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

impl Store {
    /// Connects and runs every pending migration.
    pub async fn open(url: &str) -> Result<Self> {
        let mut options = ConnectOptions::new(url.to_owned());
        options
            .max_connections(16)
            .min_connections(1)
            .connect_timeout(Duration::from_secs(10))
            .sqlx_logging(false);
        let db = Database::connect(options).await?;
        let backend = match db.get_database_backend() {
            DbBackend::Sqlite => Backend::Sqlite,
            _ => Backend::Postgres,
        };
        Migrator::up(&db, None).await?;
        let write_lock = (backend == Backend::Sqlite).then(|| Arc::new(Mutex::new(())));
        Ok(Self { db, backend, write_lock })
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
