//! Queries of the container registry: upload sessions, per-image blob links, tags and registry settings.
//!
//! An image is named by its owner's account id and its lower-cased name within the owner, because layers are
//! uploaded (and linked) before the first manifest creates the package row.

use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use crate::entity::{
    account, blob, container_blob_link, container_setting, container_tag, container_upload,
    package, package_version,
};
use crate::{Result, now};

/// Records a new upload session.
pub async fn insert_upload(
    db: &impl ConnectionTrait,
    id: &str,
    owner_id: i64,
    image: &str,
) -> Result<container_upload::Model> {
    Ok(container_upload::ActiveModel {
        id: Set(id.to_owned()),
        owner_id: Set(owner_id),
        image: Set(image.to_lowercase()),
        started_at: Set(now()),
    }
    .insert(db)
    .await?)
}

pub async fn upload(
    db: &impl ConnectionTrait,
    id: &str,
) -> Result<Option<container_upload::Model>> {
    Ok(container_upload::Entity::find_by_id(id.to_owned())
        .one(db)
        .await?)
}

pub async fn delete_upload(db: &impl ConnectionTrait, id: &str) -> Result<bool> {
    let result = container_upload::Entity::delete_by_id(id.to_owned())
        .exec(db)
        .await?;
    Ok(result.rows_affected > 0)
}

/// Sessions started before `cutoff`, oldest first: what the janitor expires.
pub async fn uploads_started_before(
    db: &impl ConnectionTrait,
    cutoff: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<container_upload::Model>> {
    Ok(container_upload::Entity::find()
        .filter(container_upload::Column::StartedAt.lt(cutoff))
        .order_by_asc(container_upload::Column::StartedAt)
        .all(db)
        .await?)
}

/// Links a blob to an image (idempotent).
pub async fn link_blob(
    db: &impl ConnectionTrait,
    owner_id: i64,
    image: &str,
    blob_id: i64,
) -> Result<()> {
    container_blob_link::Entity::insert(container_blob_link::ActiveModel {
        owner_id: Set(owner_id),
        image: Set(image.to_lowercase()),
        blob_id: Set(blob_id),
        created_at: Set(now()),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([
            container_blob_link::Column::OwnerId,
            container_blob_link::Column::Image,
            container_blob_link::Column::BlobId,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// Whether a blob is linked to an image.
pub async fn is_linked(
    db: &impl ConnectionTrait,
    owner_id: i64,
    image: &str,
    blob_id: i64,
) -> Result<bool> {
    Ok(container_blob_link::Entity::find()
        .filter(container_blob_link::Column::OwnerId.eq(owner_id))
        .filter(container_blob_link::Column::Image.eq(image.to_lowercase()))
        .filter(container_blob_link::Column::BlobId.eq(blob_id))
        .one(db)
        .await?
        .is_some())
}

pub async fn unlink_blob(
    db: &impl ConnectionTrait,
    owner_id: i64,
    image: &str,
    blob_id: i64,
) -> Result<bool> {
    let result = container_blob_link::Entity::delete_many()
        .filter(container_blob_link::Column::OwnerId.eq(owner_id))
        .filter(container_blob_link::Column::Image.eq(image.to_lowercase()))
        .filter(container_blob_link::Column::BlobId.eq(blob_id))
        .exec(db)
        .await?;
    Ok(result.rows_affected > 0)
}

/// How many images hold a blob.
pub async fn link_count(db: &impl ConnectionTrait, blob_id: i64) -> Result<u64> {
    use sea_orm::PaginatorTrait;
    Ok(container_blob_link::Entity::find()
        .filter(container_blob_link::Column::BlobId.eq(blob_id))
        .count(db)
        .await?)
}

/// The blob row with this sha512 (lowercase hex), if one was recorded.
pub async fn blob_by_sha512(
    db: &impl ConnectionTrait,
    sha512: &str,
) -> Result<Option<blob::Model>> {
    Ok(blob::Entity::find()
        .filter(blob::Column::Sha512.eq(sha512))
        .one(db)
        .await?)
}

/// The version a tag points at.
pub async fn tag(
    db: &impl ConnectionTrait,
    package_id: i64,
    tag: &str,
) -> Result<Option<container_tag::Model>> {
    Ok(container_tag::Entity::find()
        .filter(container_tag::Column::PackageId.eq(package_id))
        .filter(container_tag::Column::Tag.eq(tag))
        .one(db)
        .await?)
}

/// Points a tag at a version, moving it when it exists.
pub async fn set_tag(
    db: &impl ConnectionTrait,
    package_id: i64,
    tag: &str,
    version_id: i64,
) -> Result<()> {
    container_tag::Entity::insert(container_tag::ActiveModel {
        package_id: Set(package_id),
        tag: Set(tag.to_owned()),
        version_id: Set(version_id),
        updated_at: Set(now()),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([container_tag::Column::PackageId, container_tag::Column::Tag])
            .update_columns([
                container_tag::Column::VersionId,
                container_tag::Column::UpdatedAt,
            ])
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// Every tag of a package (unsorted).
pub async fn tags(db: &impl ConnectionTrait, package_id: i64) -> Result<Vec<String>> {
    Ok(container_tag::Entity::find()
        .filter(container_tag::Column::PackageId.eq(package_id))
        .select_only()
        .column(container_tag::Column::Tag)
        .into_tuple()
        .all(db)
        .await?)
}

pub async fn tags_of_version(db: &impl ConnectionTrait, version_id: i64) -> Result<Vec<String>> {
    Ok(container_tag::Entity::find()
        .filter(container_tag::Column::VersionId.eq(version_id))
        .order_by_asc(container_tag::Column::Tag)
        .select_only()
        .column(container_tag::Column::Tag)
        .into_tuple()
        .all(db)
        .await?)
}

pub async fn delete_tags_of_version(db: &impl ConnectionTrait, version_id: i64) -> Result<u64> {
    Ok(container_tag::Entity::delete_many()
        .filter(container_tag::Column::VersionId.eq(version_id))
        .exec(db)
        .await?
        .rows_affected)
}

pub async fn delete_tag(db: &impl ConnectionTrait, package_id: i64, tag: &str) -> Result<bool> {
    Ok(container_tag::Entity::delete_many()
        .filter(container_tag::Column::PackageId.eq(package_id))
        .filter(container_tag::Column::Tag.eq(tag))
        .exec(db)
        .await?
        .rows_affected
        > 0)
}

/// Every live package of a type with its owner's login, for the catalog.
pub async fn live_packages_with_owner(
    db: &impl ConnectionTrait,
    package_type: &str,
) -> Result<Vec<(package::Model, account::Model)>> {
    let packages = package::Entity::find()
        .filter(package::Column::PackageType.eq(package_type))
        .filter(package::Column::DeletedAt.is_null())
        .all(db)
        .await?;
    let owner_ids: Vec<i64> = packages.iter().map(|p| p.owner_id).collect();
    let owners: std::collections::HashMap<i64, account::Model> = account::Entity::find()
        .filter(account::Column::Id.is_in(owner_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|a| (a.id, a))
        .collect();
    Ok(packages
        .into_iter()
        .filter_map(|package| {
            let owner = owners.get(&package.owner_id)?.clone();
            Some((package, owner))
        })
        .collect())
}

pub async fn setting(db: &impl ConnectionTrait, name: &str) -> Result<Option<String>> {
    Ok(container_setting::Entity::find_by_id(name.to_owned())
        .one(db)
        .await?
        .map(|row| row.value))
}

/// Stores a setting unless one of that name exists; returns the value in effect (another replica's may have won).
pub async fn setting_or_insert(
    db: &impl ConnectionTrait,
    name: &str,
    value: &str,
) -> Result<String> {
    container_setting::Entity::insert(container_setting::ActiveModel {
        name: Set(name.to_owned()),
        value: Set(value.to_owned()),
    })
    .on_conflict(
        OnConflict::column(container_setting::Column::Name)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(setting(db, name).await?.unwrap_or_else(|| value.to_owned()))
}

pub async fn version_by_id(
    db: &impl ConnectionTrait,
    id: i64,
) -> Result<Option<package_version::Model>> {
    Ok(package_version::Entity::find_by_id(id).one(db).await?)
}

pub async fn blob_count(db: &impl ConnectionTrait) -> Result<u64> {
    use sea_orm::PaginatorTrait;
    Ok(blob::Entity::find().count(db).await?)
}

pub async fn upload_count(db: &impl ConnectionTrait) -> Result<u64> {
    use sea_orm::PaginatorTrait;
    Ok(container_upload::Entity::find().count(db).await?)
}

/// A live manifest of a package as a pull needs it: its version row's digest and metadata, and its bytes' blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestRow {
    pub version_id: i64,
    pub version: String,
    pub metadata: serde_json::Value,
    pub sha256: String,
    pub size: i64,
    pub content_type: Option<String>,
}

/// The live manifest a tag (`by_tag`) or a digest names, with its file `file_name`, in one query: the hottest
/// lookup of a pull.
pub async fn manifest(
    db: &impl ConnectionTrait,
    package_id: i64,
    file_name: &str,
    reference: &str,
    by_tag: bool,
) -> Result<Option<ManifestRow>> {
    use sea_orm::{DbBackend, Statement};
    let backend = db.get_database_backend();
    let (p1, p2, p3) = match backend {
        DbBackend::Postgres => ("$1", "$2", "$3"),
        _ => ("?", "?", "?"),
    };
    let select = "SELECT v.id AS version_id, v.version AS version, v.metadata AS metadata, b.sha256 AS sha256, b.size AS size, \
                  f.content_type AS content_type";
    let joins = "JOIN package_files f ON f.version_id = v.id AND f.name = ";
    let sql = if by_tag {
        format!(
            "{select} FROM container_tags t JOIN package_versions v ON v.id = t.version_id \
             {joins}{p1} JOIN blobs b ON b.id = f.blob_id \
             WHERE t.package_id = {p2} AND v.package_id = t.package_id AND t.tag = {p3} AND v.deleted_at IS NULL"
        )
    } else {
        format!(
            "{select} FROM package_versions v {joins}{p1} JOIN blobs b ON b.id = f.blob_id \
             WHERE v.package_id = {p2} AND v.version = {p3} AND v.deleted_at IS NULL"
        )
    };
    let statement = Statement::from_sql_and_values(
        backend,
        sql,
        [
            file_name.to_owned().into(),
            package_id.into(),
            reference.to_owned().into(),
        ],
    );
    let Some(row) = db.query_one(statement).await? else {
        return Ok(None);
    };
    Ok(Some(ManifestRow {
        version_id: row.try_get("", "version_id")?,
        version: row.try_get("", "version")?,
        metadata: row.try_get("", "metadata")?,
        sha256: row.try_get("", "sha256")?,
        size: row.try_get("", "size")?,
        content_type: row.try_get("", "content_type")?,
    }))
}
