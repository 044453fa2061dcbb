//! Queries of the package lifecycle: purging what is past the restore window, collecting unreferenced blobs,
//! the collector's lease, and repository transfer.
//!
//! The blob queries carry the collection's invariant in their conditions (see ARCHITECTURE.md, "Purge and blob
//! collection"): a blob row is removed only when no package file and no container image link references it and no
//! writer has touched it within the grace period, and both sides take [`blob_lock`] so that a writer's touch and
//! the collector's removal never interleave.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, Func, OnConflict, Query, SimpleExpr};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use crate::Result;
use crate::entity::{
    actions_access, blob, container_blob_link, lifecycle_lease, package, package_file,
    package_version, repository, team_repository,
};

/// Key of the PostgreSQL advisory lock between blob writers (shared) and the collector (exclusive).
const BLOB_LOCK: i64 = 7_310_593_858_820_747_637;

/// Takes the blob lock for the rest of the transaction `txn`: shared for a writer vouching for bytes, exclusive
/// for the collector removing them. PostgreSQL only; on SQLite every writer holds the store's write guard, which
/// serialises the same sections.
pub async fn blob_lock(txn: &impl ConnectionTrait, exclusive: bool) -> Result<()> {
    if txn.get_database_backend() == DbBackend::Postgres {
        let sql = if exclusive {
            format!("SELECT pg_advisory_xact_lock({BLOB_LOCK})")
        } else {
            format!("SELECT pg_advisory_xact_lock_shared({BLOB_LOCK})")
        };
        txn.execute_unprepared(&sql).await?;
    }
    Ok(())
}

/// Records a blob, or touches its row: the writer vouches for the bytes at `at`.
pub async fn lease_blob(
    db: &impl ConnectionTrait,
    sha256: &str,
    sha512: Option<&str>,
    size: u64,
    at: DateTime<Utc>,
) -> Result<blob::Model> {
    blob::Entity::insert(blob::ActiveModel {
        sha256: Set(sha256.to_owned()),
        sha512: Set(sha512.map(str::to_owned)),
        size: Set(size as i64),
        created_at: Set(at),
        touched_at: Set(Some(at)),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::column(blob::Column::Sha256)
            .update_column(blob::Column::TouchedAt)
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    crate::blobs::ensure(db, sha256, sha512, size).await
}

fn unreferenced() -> Condition {
    let files = Query::select()
        .expr(Expr::val(1))
        .from(package_file::Entity)
        .and_where(
            Expr::col((package_file::Entity, package_file::Column::BlobId))
                .equals((blob::Entity, blob::Column::Id)),
        )
        .to_owned();
    let links = Query::select()
        .expr(Expr::val(1))
        .from(container_blob_link::Entity)
        .and_where(
            Expr::col((
                container_blob_link::Entity,
                container_blob_link::Column::BlobId,
            ))
            .equals((blob::Entity, blob::Column::Id)),
        )
        .to_owned();
    Condition::all()
        .add(Expr::exists(files).not())
        .add(Expr::exists(links).not())
}

fn untouched_since(cutoff: DateTime<Utc>) -> SimpleExpr {
    Expr::expr(Func::coalesce([
        Expr::col((blob::Entity, blob::Column::TouchedAt)).into(),
        Expr::col((blob::Entity, blob::Column::CreatedAt)).into(),
    ]))
    .lt(cutoff)
}

/// Up to `limit` blobs after id `after` that nothing references and nobody touched since `cutoff`.
pub async fn collectable_blobs(
    db: &impl ConnectionTrait,
    cutoff: DateTime<Utc>,
    after: i64,
    limit: u64,
) -> Result<Vec<blob::Model>> {
    Ok(blob::Entity::find()
        .filter(blob::Column::Id.gt(after))
        .filter(unreferenced())
        .filter(untouched_since(cutoff))
        .order_by_asc(blob::Column::Id)
        .limit(limit)
        .all(db)
        .await?)
}

/// Removes the blob row if it is still collectable (re-checked in the statement itself). `cutoff` `None`
/// ignores the grace period: for a failed publish removing the row its own staging created.
pub async fn delete_blob_if_unreferenced(
    db: &impl ConnectionTrait,
    sha256: &str,
    cutoff: Option<DateTime<Utc>>,
) -> Result<bool> {
    let mut delete = blob::Entity::delete_many()
        .filter(blob::Column::Sha256.eq(sha256))
        .filter(unreferenced());
    if let Some(cutoff) = cutoff {
        delete = delete.filter(untouched_since(cutoff));
    }
    Ok(delete.exec(db).await?.rows_affected > 0)
}

/// Deleted versions of live packages whose restore window closed before `cutoff`.
pub async fn expired_versions(
    db: &impl ConnectionTrait,
    cutoff: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<package_version::Model>> {
    Ok(package_version::Entity::find()
        .filter(package_version::Column::DeletedAt.lt(cutoff))
        .order_by_asc(package_version::Column::Id)
        .limit(limit)
        .all(db)
        .await?)
}

/// Deleted packages whose restore window closed before `cutoff`.
pub async fn expired_packages(
    db: &impl ConnectionTrait,
    cutoff: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<package::Model>> {
    Ok(package::Entity::find()
        .filter(package::Column::DeletedAt.lt(cutoff))
        .order_by_asc(package::Column::Id)
        .limit(limit)
        .all(db)
        .await?)
}

/// Removes a version row for good; its files, tags and their references go with it (cascades).
pub async fn purge_version(db: &impl ConnectionTrait, id: i64) -> Result<()> {
    package_version::Entity::delete_by_id(id).exec(db).await?;
    Ok(())
}

/// Removes a package row for good with everything hanging from it (cascades), and, for an image no live package
/// holds any more, its blob links.
pub async fn purge_package(db: &impl ConnectionTrait, package: &package::Model) -> Result<()> {
    package::Entity::delete_by_id(package.id).exec(db).await?;
    if package.package_type == "container" {
        let live = package::Entity::find()
            .filter(package::Column::OwnerId.eq(package.owner_id))
            .filter(package::Column::PackageType.eq("container"))
            .filter(package::Column::NameLower.eq(package.name_lower.clone()))
            .one(db)
            .await?;
        if live.is_none() {
            container_blob_link::Entity::delete_many()
                .filter(container_blob_link::Column::OwnerId.eq(package.owner_id))
                .filter(container_blob_link::Column::Image.eq(package.name_lower.clone()))
                .exec(db)
                .await?;
        }
    }
    Ok(())
}

/// Takes or renews the lease `name` for `holder` until `until`, unless another holder's lease is still running.
pub async fn acquire_lease(
    db: &impl ConnectionTrait,
    name: &str,
    holder: &str,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<bool> {
    lifecycle_lease::Entity::insert(lifecycle_lease::ActiveModel {
        name: Set(name.to_owned()),
        holder: Set(String::new()),
        expires_at: Set(now),
    })
    .on_conflict(
        OnConflict::column(lifecycle_lease::Column::Name)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    let taken = lifecycle_lease::Entity::update_many()
        .col_expr(lifecycle_lease::Column::Holder, Expr::value(holder))
        .col_expr(lifecycle_lease::Column::ExpiresAt, Expr::value(until))
        .filter(lifecycle_lease::Column::Name.eq(name))
        .filter(
            Condition::any()
                .add(lifecycle_lease::Column::Holder.eq(holder))
                .add(lifecycle_lease::Column::ExpiresAt.lte(now)),
        )
        .exec(db)
        .await?;
    Ok(taken.rows_affected == 1)
}

/// Gives up the lease if `holder` has it.
pub async fn release_lease(db: &impl ConnectionTrait, name: &str, holder: &str) -> Result<()> {
    lifecycle_lease::Entity::update_many()
        .col_expr(
            lifecycle_lease::Column::ExpiresAt,
            Expr::value(DateTime::<Utc>::UNIX_EPOCH),
        )
        .filter(lifecycle_lease::Column::Name.eq(name))
        .filter(lifecycle_lease::Column::Holder.eq(holder))
        .exec(db)
        .await?;
    Ok(())
}

/// Live and deleted packages linked to, or living in, a repository.
pub async fn packages_of_repository(
    db: &impl ConnectionTrait,
    repository_id: i64,
) -> Result<Vec<package::Model>> {
    Ok(package::Entity::find()
        .filter(package::Column::RepositoryId.eq(repository_id))
        .all(db)
        .await?)
}

/// Moves a repository to another owner; the Actions-access grants and team roles it had go (teams belong to the
/// old owner, and Actions access is granted per owner).
pub async fn transfer_repository(
    db: &impl ConnectionTrait,
    repository: &repository::Model,
    new_owner_id: i64,
) -> Result<()> {
    let name = repository.name.clone();
    repository::Entity::update_many()
        .col_expr(repository::Column::OwnerId, Expr::value(new_owner_id))
        .col_expr(repository::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(repository::Column::Id.eq(repository.id))
        .exec(db)
        .await
        .map_err(crate::conflict_as(|| {
            format!("the new owner already has a repository named {name}")
        }))?;
    actions_access::Entity::delete_many()
        .filter(actions_access::Column::RepositoryId.eq(repository.id))
        .exec(db)
        .await?;
    team_repository::Entity::delete_many()
        .filter(team_repository::Column::RepositoryId.eq(repository.id))
        .exec(db)
        .await?;
    Ok(())
}

/// Moves a package to another owner (repository-scoped packages follow their repository).
pub async fn move_package(
    db: &impl ConnectionTrait,
    package: &package::Model,
    new_owner_id: i64,
) -> Result<()> {
    let name = package.name.clone();
    package::Entity::update_many()
        .col_expr(package::Column::OwnerId, Expr::value(new_owner_id))
        .col_expr(package::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(package::Column::Id.eq(package.id))
        .exec(db)
        .await
        .map_err(crate::conflict_as(|| {
            format!("the new owner already has a package named {name}")
        }))?;
    Ok(())
}
