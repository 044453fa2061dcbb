//! Queries on packages, their versions and their files.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, Set,
};

use crate::entity::{blob, package, package_file, package_version};
use crate::{Result, conflict_as, now};

pub struct NewPackage<'a> {
    pub owner_id: i64,
    pub package_type: &'a str,
    pub name: &'a str,
    pub visibility: &'a str,
    pub repository_id: Option<i64>,
    pub inherit_access: bool,
}

pub async fn insert(db: &impl ConnectionTrait, new: NewPackage<'_>) -> Result<package::Model> {
    let at = now();
    let name = new.name.to_owned();
    package::ActiveModel {
        owner_id: Set(new.owner_id),
        package_type: Set(new.package_type.to_owned()),
        name: Set(new.name.to_owned()),
        name_lower: Set(new.name.to_lowercase()),
        visibility: Set(new.visibility.to_owned()),
        repository_id: Set(new.repository_id),
        inherit_access: Set(new.inherit_access),
        downloads: Set(0),
        created_at: Set(at),
        updated_at: Set(at),
        deleted_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(conflict_as(|| format!("the package {name:?} exists")))
}

/// The live (not deleted) package of that owner, type and name.
pub async fn find_live(
    db: &impl ConnectionTrait,
    owner_id: i64,
    package_type: &str,
    name: &str,
) -> Result<Option<package::Model>> {
    Ok(package::Entity::find()
        .filter(package::Column::OwnerId.eq(owner_id))
        .filter(package::Column::PackageType.eq(package_type))
        .filter(package::Column::NameLower.eq(name.to_lowercase()))
        .filter(package::Column::DeletedAt.is_null())
        .one(db)
        .await?)
}

/// Deleted packages of that name, newest first (candidates for restore).
pub async fn find_deleted(
    db: &impl ConnectionTrait,
    owner_id: i64,
    package_type: &str,
    name: &str,
) -> Result<Vec<package::Model>> {
    Ok(package::Entity::find()
        .filter(package::Column::OwnerId.eq(owner_id))
        .filter(package::Column::PackageType.eq(package_type))
        .filter(package::Column::NameLower.eq(name.to_lowercase()))
        .filter(package::Column::DeletedAt.is_not_null())
        .order_by_desc(package::Column::DeletedAt)
        .all(db)
        .await?)
}

pub async fn by_id(db: &impl ConnectionTrait, id: i64) -> Result<Option<package::Model>> {
    Ok(package::Entity::find_by_id(id).one(db).await?)
}

/// Live packages of an owner, optionally of one type and one repository, by name.
pub async fn list(
    db: &impl ConnectionTrait,
    owner_id: i64,
    package_type: Option<&str>,
    repository_id: Option<i64>,
) -> Result<Vec<package::Model>> {
    let mut condition = Condition::all()
        .add(package::Column::OwnerId.eq(owner_id))
        .add(package::Column::DeletedAt.is_null());
    if let Some(package_type) = package_type {
        condition = condition.add(package::Column::PackageType.eq(package_type));
    }
    if let Some(repository_id) = repository_id {
        condition = condition.add(package::Column::RepositoryId.eq(repository_id));
    }
    Ok(package::Entity::find()
        .filter(condition)
        .order_by_asc(package::Column::NameLower)
        .all(db)
        .await?)
}

pub async fn update(db: &impl ConnectionTrait, model: package::Model) -> Result<package::Model> {
    let mut active = package::ActiveModel::from(model).reset_all();
    active.updated_at = Set(now());
    Ok(active.update(db).await?)
}

pub async fn set_deleted(db: &impl ConnectionTrait, id: i64, deleted: bool) -> Result<()> {
    let at = now();
    package::Entity::update_many()
        .col_expr(
            package::Column::DeletedAt,
            Expr::value(deleted.then_some(at)),
        )
        .col_expr(package::Column::UpdatedAt, Expr::value(at))
        .filter(package::Column::Id.eq(id))
        .exec(db)
        .await
        .map_err(conflict_as(|| {
            "a package of that name was published since".to_owned()
        }))?;
    Ok(())
}

pub async fn count_download(
    db: &impl ConnectionTrait,
    package_id: i64,
    version_id: i64,
) -> Result<()> {
    count_downloads(db, package_id, version_id, 1).await
}

/// Adds `n` downloads to a version and its package.
pub async fn count_downloads(
    db: &impl ConnectionTrait,
    package_id: i64,
    version_id: i64,
    n: u64,
) -> Result<()> {
    let n = i64::try_from(n).unwrap_or(i64::MAX);
    package::Entity::update_many()
        .col_expr(
            package::Column::Downloads,
            Expr::col(package::Column::Downloads).add(n),
        )
        .filter(package::Column::Id.eq(package_id))
        .exec(db)
        .await?;
    package_version::Entity::update_many()
        .col_expr(
            package_version::Column::Downloads,
            Expr::col(package_version::Column::Downloads).add(n),
        )
        .filter(package_version::Column::Id.eq(version_id))
        .exec(db)
        .await?;
    Ok(())
}

pub struct NewVersion<'a> {
    pub package_id: i64,
    pub version: &'a str,
    pub metadata: serde_json::Value,
    pub publisher_id: Option<i64>,
}

pub async fn insert_version(
    db: &impl ConnectionTrait,
    new: NewVersion<'_>,
) -> Result<package_version::Model> {
    let at = now();
    let version = new.version.to_owned();
    package_version::ActiveModel {
        package_id: Set(new.package_id),
        version: Set(new.version.to_owned()),
        metadata: Set(new.metadata),
        publisher_id: Set(new.publisher_id),
        downloads: Set(0),
        created_at: Set(at),
        updated_at: Set(at),
        deleted_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(conflict_as(|| format!("the version {version:?} exists")))
}

pub async fn find_live_version(
    db: &impl ConnectionTrait,
    package_id: i64,
    version: &str,
) -> Result<Option<package_version::Model>> {
    Ok(package_version::Entity::find()
        .filter(package_version::Column::PackageId.eq(package_id))
        .filter(package_version::Column::Version.eq(version))
        .filter(package_version::Column::DeletedAt.is_null())
        .one(db)
        .await?)
}

/// Versions of a package, oldest first; deleted ones only when asked.
pub async fn versions(
    db: &impl ConnectionTrait,
    package_id: i64,
    deleted: bool,
) -> Result<Vec<package_version::Model>> {
    let state = if deleted {
        package_version::Column::DeletedAt.is_not_null()
    } else {
        package_version::Column::DeletedAt.is_null()
    };
    Ok(package_version::Entity::find()
        .filter(package_version::Column::PackageId.eq(package_id))
        .filter(state)
        .order_by_asc(package_version::Column::Id)
        .all(db)
        .await?)
}

pub async fn count_live_versions(db: &impl ConnectionTrait, package_id: i64) -> Result<u64> {
    Ok(package_version::Entity::find()
        .filter(package_version::Column::PackageId.eq(package_id))
        .filter(package_version::Column::DeletedAt.is_null())
        .count(db)
        .await?)
}

pub async fn update_version_metadata(
    db: &impl ConnectionTrait,
    id: i64,
    metadata: serde_json::Value,
) -> Result<()> {
    package_version::Entity::update_many()
        .col_expr(package_version::Column::Metadata, Expr::value(metadata))
        .col_expr(package_version::Column::UpdatedAt, Expr::value(now()))
        .filter(package_version::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn set_version_deleted(db: &impl ConnectionTrait, id: i64, deleted: bool) -> Result<()> {
    let at = now();
    package_version::Entity::update_many()
        .col_expr(
            package_version::Column::DeletedAt,
            Expr::value(deleted.then_some(at)),
        )
        .col_expr(package_version::Column::UpdatedAt, Expr::value(at))
        .filter(package_version::Column::Id.eq(id))
        .exec(db)
        .await
        .map_err(conflict_as(|| {
            "that version was published again since".to_owned()
        }))?;
    Ok(())
}

pub async fn insert_file(
    db: &impl ConnectionTrait,
    version_id: i64,
    name: &str,
    blob: &blob::Model,
    content_type: Option<&str>,
) -> Result<package_file::Model> {
    package_file::ActiveModel {
        version_id: Set(version_id),
        name: Set(name.to_owned()),
        blob_id: Set(blob.id),
        size: Set(blob.size),
        content_type: Set(content_type.map(str::to_owned)),
        created_at: Set(now()),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(conflict_as(|| {
        format!("the file {name:?} exists in this version")
    }))
}

/// Points an existing file at new content (mutable files only, e.g. Maven SNAPSHOTs).
pub async fn replace_file_blob(
    db: &impl ConnectionTrait,
    file_id: i64,
    blob: &blob::Model,
) -> Result<()> {
    package_file::Entity::update_many()
        .col_expr(package_file::Column::BlobId, Expr::value(blob.id))
        .col_expr(package_file::Column::Size, Expr::value(blob.size))
        .filter(package_file::Column::Id.eq(file_id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn files(db: &impl ConnectionTrait, version_id: i64) -> Result<Vec<package_file::Model>> {
    Ok(package_file::Entity::find()
        .filter(package_file::Column::VersionId.eq(version_id))
        .order_by_asc(package_file::Column::Id)
        .all(db)
        .await?)
}

pub async fn file(
    db: &impl ConnectionTrait,
    version_id: i64,
    name: &str,
) -> Result<Option<package_file::Model>> {
    Ok(package_file::Entity::find()
        .filter(package_file::Column::VersionId.eq(version_id))
        .filter(package_file::Column::Name.eq(name))
        .one(db)
        .await?)
}
