//! Queries the Maven registry needs beyond the shared package queries: the checksums kept beside each blob.

use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use crate::Result;
use crate::entity::{blob_checksum, package_file};

/// Records the md5 and sha1 of a blob; a row that exists keeps its values and gets missing ones filled in.
pub async fn record_checksums(
    db: &impl ConnectionTrait,
    sha256: &str,
    md5: Option<&str>,
    sha1: Option<&str>,
) -> Result<()> {
    blob_checksum::Entity::insert(blob_checksum::ActiveModel {
        sha256: Set(sha256.to_owned()),
        md5: Set(md5.map(str::to_owned)),
        sha1: Set(sha1.map(str::to_owned)),
    })
    .on_conflict(
        OnConflict::column(blob_checksum::Column::Sha256)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    let Some(row) = checksums(db, sha256).await? else {
        return Ok(());
    };
    if (row.md5.is_none() && md5.is_some()) || (row.sha1.is_none() && sha1.is_some()) {
        blob_checksum::Entity::update_many()
            .col_expr(
                blob_checksum::Column::Md5,
                row.md5.as_deref().or(md5).map(str::to_owned).into(),
            )
            .col_expr(
                blob_checksum::Column::Sha1,
                row.sha1.as_deref().or(sha1).map(str::to_owned).into(),
            )
            .filter(blob_checksum::Column::Sha256.eq(sha256))
            .exec(db)
            .await?;
    }
    Ok(())
}

pub async fn checksums(
    db: &impl ConnectionTrait,
    sha256: &str,
) -> Result<Option<blob_checksum::Model>> {
    Ok(blob_checksum::Entity::find_by_id(sha256.to_owned())
        .one(db)
        .await?)
}

/// Removes one file from its version (a file whose uploaded checksum contradicted it).
pub async fn delete_file(db: &impl ConnectionTrait, file_id: i64) -> Result<()> {
    package_file::Entity::delete_by_id(file_id).exec(db).await?;
    Ok(())
}
