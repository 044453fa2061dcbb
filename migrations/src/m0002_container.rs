//! The container registry's tables: upload sessions, per-image blob links, tags, and registry settings.
//!
//! - `container_uploads` records every open blob upload session (the bytes are in the blob store's resumable
//!   session of the same id), so that any replica and a restarted server can continue it and the janitor can
//!   expire it.
//! - `container_blob_links` says which blobs an image holds: a blob is visible through `/v2/OWNER/IMAGE/blobs/`
//!   only when linked to that image, and the links are the per-image reference count of the shared blob rows.
//!   Images are keyed by owner and lower-cased name rather than by package row, because layers are pushed before
//!   the first manifest creates the package.
//! - `container_tags` maps a tag of an image to a version (a manifest digest).
//! - `container_settings` holds the registry token signing key, shared by every replica.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ContainerUploads {
    Table,
    Id,
    OwnerId,
    Image,
    StartedAt,
}

#[derive(DeriveIden)]
enum ContainerBlobLinks {
    Table,
    Id,
    OwnerId,
    Image,
    BlobId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ContainerTags {
    Table,
    Id,
    PackageId,
    Tag,
    VersionId,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ContainerSettings {
    Table,
    Name,
    Value,
}

#[derive(DeriveIden)]
enum Accounts {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Blobs {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Packages {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum PackageVersions {
    Table,
    Id,
}

fn id<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col)
        .big_integer()
        .not_null()
        .auto_increment()
        .primary_key()
        .to_owned()
}

fn big<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col).big_integer().not_null().to_owned()
}

fn text<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col).string().not_null().to_owned()
}

fn at<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col)
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}

fn cascade<F: IntoIden + 'static, T: IntoIden + 'static>(
    name: &str,
    from: (F, impl IntoIden),
    to: (T, impl IntoIden),
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(from.0, from.1)
        .to(to.0, to.1)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ContainerUploads::Table)
                    .col(text(ContainerUploads::Id).primary_key().to_owned())
                    .col(big(ContainerUploads::OwnerId))
                    .col(text(ContainerUploads::Image))
                    .col(at(ContainerUploads::StartedAt))
                    .foreign_key(&mut cascade(
                        "fk_container_uploads_owner",
                        (ContainerUploads::Table, ContainerUploads::OwnerId),
                        (Accounts::Table, Accounts::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_container_uploads_started")
                    .table(ContainerUploads::Table)
                    .col(ContainerUploads::StartedAt)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ContainerBlobLinks::Table)
                    .col(id(ContainerBlobLinks::Id))
                    .col(big(ContainerBlobLinks::OwnerId))
                    .col(text(ContainerBlobLinks::Image))
                    .col(big(ContainerBlobLinks::BlobId))
                    .col(at(ContainerBlobLinks::CreatedAt))
                    .foreign_key(&mut cascade(
                        "fk_container_links_owner",
                        (ContainerBlobLinks::Table, ContainerBlobLinks::OwnerId),
                        (Accounts::Table, Accounts::Id),
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_container_links_blob")
                            .from(ContainerBlobLinks::Table, ContainerBlobLinks::BlobId)
                            .to(Blobs::Table, Blobs::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_container_blob_links")
                    .table(ContainerBlobLinks::Table)
                    .col(ContainerBlobLinks::OwnerId)
                    .col(ContainerBlobLinks::Image)
                    .col(ContainerBlobLinks::BlobId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_container_blob_links_blob")
                    .table(ContainerBlobLinks::Table)
                    .col(ContainerBlobLinks::BlobId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ContainerTags::Table)
                    .col(id(ContainerTags::Id))
                    .col(big(ContainerTags::PackageId))
                    .col(text(ContainerTags::Tag))
                    .col(big(ContainerTags::VersionId))
                    .col(at(ContainerTags::UpdatedAt))
                    .foreign_key(&mut cascade(
                        "fk_container_tags_package",
                        (ContainerTags::Table, ContainerTags::PackageId),
                        (Packages::Table, Packages::Id),
                    ))
                    .foreign_key(&mut cascade(
                        "fk_container_tags_version",
                        (ContainerTags::Table, ContainerTags::VersionId),
                        (PackageVersions::Table, PackageVersions::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_container_tags")
                    .table(ContainerTags::Table)
                    .col(ContainerTags::PackageId)
                    .col(ContainerTags::Tag)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_container_tags_version")
                    .table(ContainerTags::Table)
                    .col(ContainerTags::VersionId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ContainerSettings::Table)
                    .col(text(ContainerSettings::Name).primary_key().to_owned())
                    .col(text(ContainerSettings::Value))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            ContainerSettings::Table.into_iden(),
            ContainerTags::Table.into_iden(),
            ContainerBlobLinks::Table.into_iden(),
            ContainerUploads::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}
