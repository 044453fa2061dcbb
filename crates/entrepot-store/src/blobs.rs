//! Queries on blob rows: the database's record of what the blob store holds and who references it.

use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use crate::entity::blob;
use crate::{Result, StoreError, now};

/// Records a blob (idempotent: a row that exists is returned as it is, with a missing sha512 filled in).
pub async fn ensure(
    db: &impl ConnectionTrait,
    sha256: &str,
    sha512: Option<&str>,
    size: u64,
) -> Result<blob::Model> {
    blob::Entity::insert(blob::ActiveModel {
        sha256: Set(sha256.to_owned()),
        sha512: Set(sha512.map(str::to_owned)),
        size: Set(size as i64),
        created_at: Set(now()),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::column(blob::Column::Sha256)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    let row = by_sha256(db, sha256)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("blob {sha256}")))?;
    if row.sha512.is_none() && sha512.is_some() {
        blob::Entity::update_many()
            .col_expr(blob::Column::Sha512, sha512.into())
            .filter(blob::Column::Id.eq(row.id))
            .exec(db)
            .await?;
        return Ok(blob::Model {
            sha512: sha512.map(str::to_owned),
            ..row
        });
    }
    Ok(row)
}

pub async fn by_sha256(db: &impl ConnectionTrait, sha256: &str) -> Result<Option<blob::Model>> {
    Ok(blob::Entity::find()
        .filter(blob::Column::Sha256.eq(sha256))
        .one(db)
        .await?)
}

pub async fn by_id(db: &impl ConnectionTrait, id: i64) -> Result<Option<blob::Model>> {
    Ok(blob::Entity::find_by_id(id).one(db).await?)
}
