//! The npm registry's per-package state: dist-tags and a revision counter that every npm write bumps.
//!
//! The revision is what keeps cached packuments exact: a write bumps it in the same transaction as the rows it
//! changes, and a reader compares the cached rendering's revision with this row (one indexed read by primary key)
//! before serving it, on every replica.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum NpmPackages {
    Table,
    PackageId,
    Revision,
    DistTags,
    ModifiedAt,
}

#[derive(DeriveIden)]
enum Packages {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(NpmPackages::Table)
                    .col(
                        ColumnDef::new(NpmPackages::PackageId)
                            .big_integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(NpmPackages::Revision)
                            .big_integer()
                            .not_null()
                            .default(1),
                    )
                    .col(ColumnDef::new(NpmPackages::DistTags).json().not_null())
                    .col(
                        ColumnDef::new(NpmPackages::ModifiedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_npm_packages_package")
                            .from(NpmPackages::Table, NpmPackages::PackageId)
                            .to(Packages::Table, Packages::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(NpmPackages::Table).to_owned())
            .await
    }
}
