//! The metadata store: sea-orm entities, connection setup and per-aggregate query modules.
//!
//! Every query function takes any `ConnectionTrait` (a connection or a transaction), so the service layer decides
//! the transaction boundaries. This crate decides nothing about access: `facts` only loads what the permission core
//! needs to decide.

pub mod accounts;
pub mod audit;
pub mod blobs;
mod connect;
pub mod container;
pub mod entity;
pub mod facts;
pub mod grants;
pub mod lifecycle;
pub mod maven;
pub mod npm;
pub mod orgs;
pub mod packages;
pub mod repos;
pub mod tokens;

pub use connect::{Backend, Store};
pub use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr, TransactionTrait,
};

/// Errors of the store. Conflicts are told apart because callers answer them with 409.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("already exists: {0}")]
    Conflict(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("corrupt row: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Db(#[from] DbErr),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Maps a unique-constraint violation to `Conflict`; every other database error stays as it is.
pub(crate) fn conflict_as(what: impl FnOnce() -> String) -> impl FnOnce(DbErr) -> StoreError {
    move |error| match error.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => StoreError::Conflict(what()),
        _ => StoreError::Db(error),
    }
}

/// Parses an enum stored as text, reporting a corrupt row rather than panicking.
pub(crate) fn parse_col<T: std::str::FromStr>(value: &str, column: &str) -> Result<T> {
    value
        .parse()
        .map_err(|_| StoreError::Corrupt(format!("{column} = {value:?}")))
}

pub(crate) fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}
