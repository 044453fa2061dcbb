//! Checksums of stored blobs beyond the sha256 key (and the optional sha512 of `blobs`): the md5 and sha1 that the
//! Maven layout serves as `.md5` and `.sha1` side files for every file, whether or not its client uploaded them.
//!
//! Keyed by the blob's sha256, the blob store's address, rather than by a `blobs` row: the upload computes them
//! while streaming, before the transaction that records the blob, and a checksum of some bytes stays true forever,
//! so a row for bytes that were never recorded is harmless.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum BlobChecksums {
    Table,
    Sha256,
    Md5,
    Sha1,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(BlobChecksums::Table)
                    .col(
                        ColumnDef::new(BlobChecksums::Sha256)
                            .string()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(BlobChecksums::Md5).string().null())
                    .col(ColumnDef::new(BlobChecksums::Sha1).string().null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(BlobChecksums::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}
