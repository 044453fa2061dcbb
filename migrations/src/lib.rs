//! Database migrations for the metadata store; the same code runs on SQLite and PostgreSQL.

pub use sea_orm_migration::prelude::*;

mod m0001_initial;
mod m0002_container;
mod m0003_npm;
mod m0004_maven;
mod m0005_lifecycle;

/// Every migration, in order. The server runs them at start; `entrepot migrate` runs them alone.
#[derive(Debug)]
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m0001_initial::Migration),
            Box::new(m0002_container::Migration),
            Box::new(m0003_npm::Migration),
            Box::new(m0004_maven::Migration),
            Box::new(m0005_lifecycle::Migration),
        ]
    }
}
