//! The package lifecycle: blob leases for the garbage collector, the collector's lease, and audit events.
//!
//! - `blobs.touched_at`: when a writer last vouched for the bytes (staged them, or linked them). The collector
//!   never removes a blob touched within its grace period, and a writer touches under the shared side of the
//!   collector's lock, so a blob that a write is about to record is never collected (ARCHITECTURE.md, "Purge and
//!   blob collection"). NULL on rows older than this migration: their `created_at` stands in.
//! - `lifecycle_leases`: one row per background job; the replica holding an unexpired lease runs it, so that with
//!   several replicas only one collects at a time, on SQLite and PostgreSQL alike.
//! - `audit_events`: settings changes, deletes, restores, purges, transfers and refused token uses. `owner_id` is
//!   the account whose log shows the event (the package's or repository's owner), NULL for site-wide events.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Blobs {
    Table,
    TouchedAt,
}

#[derive(DeriveIden)]
enum LifecycleLeases {
    Table,
    Name,
    Holder,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    Id,
    CreatedAt,
    Action,
    ActorId,
    ActorLogin,
    TokenId,
    OwnerId,
    Target,
    Outcome,
    RequestId,
    Details,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Blobs::Table)
                    .add_column(
                        ColumnDef::new(Blobs::TouchedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(LifecycleLeases::Table)
                    .col(
                        ColumnDef::new(LifecycleLeases::Name)
                            .string()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(LifecycleLeases::Holder).string().not_null())
                    .col(
                        ColumnDef::new(LifecycleLeases::ExpiresAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AuditEvents::Table)
                    .col(
                        ColumnDef::new(AuditEvents::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(AuditEvents::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(AuditEvents::Action).string().not_null())
                    .col(ColumnDef::new(AuditEvents::ActorId).big_integer().null())
                    .col(ColumnDef::new(AuditEvents::ActorLogin).string().null())
                    .col(ColumnDef::new(AuditEvents::TokenId).big_integer().null())
                    .col(ColumnDef::new(AuditEvents::OwnerId).big_integer().null())
                    .col(ColumnDef::new(AuditEvents::Target).string().not_null())
                    .col(ColumnDef::new(AuditEvents::Outcome).string().not_null())
                    .col(ColumnDef::new(AuditEvents::RequestId).string().null())
                    .col(ColumnDef::new(AuditEvents::Details).json().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_audit_events_owner")
                    .table(AuditEvents::Table)
                    .col(AuditEvents::OwnerId)
                    .col(AuditEvents::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AuditEvents::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(LifecycleLeases::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Blobs::Table)
                    .drop_column(Blobs::TouchedAt)
                    .to_owned(),
            )
            .await
    }
}
