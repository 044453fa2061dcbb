//! Queries on the npm state of packages (`npm_packages`): dist-tags and the packument revision.
//!
//! Every npm write calls [`bump`] inside its transaction before it reads the dist-tags it rewrites: the `UPDATE`
//! takes the row lock on PostgreSQL (SQLite writers are serialised by the store's write guard), so two writes to one
//! package never compute their tags from the same stale state.

use sea_orm::sea_query::{Alias, Expr, Query};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use crate::entity::{npm_package, package};
use crate::{Result, StoreError, now};

/// Creates the npm state of a package at its first publish.
pub async fn insert(
    db: &impl ConnectionTrait,
    package_id: i64,
    dist_tags: serde_json::Value,
) -> Result<npm_package::Model> {
    Ok(npm_package::ActiveModel {
        package_id: Set(package_id),
        revision: Set(1),
        dist_tags: Set(dist_tags),
        modified_at: Set(now()),
    }
    .insert(db)
    .await?)
}

/// Bumps the revision and `modified` of a package, locking its row until the transaction ends, and returns the
/// state as it is now. `None` when the package has no npm state yet.
pub async fn bump(
    db: &impl ConnectionTrait,
    package_id: i64,
) -> Result<Option<npm_package::Model>> {
    let updated = npm_package::Entity::update_many()
        .col_expr(
            npm_package::Column::Revision,
            Expr::col(npm_package::Column::Revision).add(1),
        )
        .col_expr(npm_package::Column::ModifiedAt, Expr::value(now()))
        .filter(npm_package::Column::PackageId.eq(package_id))
        .exec(db)
        .await?;
    if updated.rows_affected == 0 {
        return Ok(None);
    }
    Ok(npm_package::Entity::find_by_id(package_id).one(db).await?)
}

pub async fn set_dist_tags(
    db: &impl ConnectionTrait,
    package_id: i64,
    dist_tags: serde_json::Value,
) -> Result<()> {
    npm_package::Entity::update_many()
        .col_expr(npm_package::Column::DistTags, Expr::value(dist_tags))
        .filter(npm_package::Column::PackageId.eq(package_id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn state(
    db: &impl ConnectionTrait,
    package_id: i64,
) -> Result<Option<npm_package::Model>> {
    Ok(npm_package::Entity::find_by_id(package_id).one(db).await?)
}

/// The revision of a live package: the one query a cached packument costs. `None` when the package was deleted
/// (or has no npm state).
pub async fn live_revision(db: &impl ConnectionTrait, package_id: i64) -> Result<Option<i64>> {
    let npm = Alias::new("npm_packages");
    let packages = Alias::new("packages");
    let statement = Query::select()
        .column((npm.clone(), Alias::new("revision")))
        .from(npm.clone())
        .inner_join(
            packages.clone(),
            Expr::col((packages.clone(), Alias::new("id")))
                .equals((npm.clone(), Alias::new("package_id"))),
        )
        .and_where(Expr::col((npm, Alias::new("package_id"))).eq(package_id))
        .and_where(Expr::col((packages, Alias::new("deleted_at"))).is_null())
        .to_owned();
    let row = db
        .query_one(db.get_database_backend().build(&statement))
        .await?;
    match row {
        Some(row) => Ok(Some(row.try_get::<i64>("", "revision").map_err(
            |error| StoreError::Corrupt(format!("npm_packages.revision: {error}")),
        )?)),
        None => Ok(None),
    }
}

/// Every live npm package, for search (the caller filters by what the principal may read).
pub async fn live_packages(db: &impl ConnectionTrait) -> Result<Vec<package::Model>> {
    Ok(package::Entity::find()
        .filter(package::Column::PackageType.eq("npm"))
        .filter(package::Column::DeletedAt.is_null())
        .all(db)
        .await?)
}
