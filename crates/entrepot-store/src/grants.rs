//! Queries on a package's access list (user and team grants) and its Actions access (repository grants).

use sea_orm::sea_query::{OnConflict, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use crate::Result;
use crate::entity::{actions_access, package_grant, team, team_member};

pub async fn grant_user(
    db: &impl ConnectionTrait,
    package_id: i64,
    user_id: i64,
    role: &str,
) -> Result<()> {
    package_grant::Entity::insert(package_grant::ActiveModel {
        package_id: Set(package_id),
        user_id: Set(Some(user_id)),
        team_id: Set(None),
        role: Set(role.to_owned()),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([
            package_grant::Column::PackageId,
            package_grant::Column::UserId,
        ])
        .update_column(package_grant::Column::Role)
        .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

pub async fn grant_team(
    db: &impl ConnectionTrait,
    package_id: i64,
    team_id: i64,
    role: &str,
) -> Result<()> {
    package_grant::Entity::insert(package_grant::ActiveModel {
        package_id: Set(package_id),
        user_id: Set(None),
        team_id: Set(Some(team_id)),
        role: Set(role.to_owned()),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([
            package_grant::Column::PackageId,
            package_grant::Column::TeamId,
        ])
        .update_column(package_grant::Column::Role)
        .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

pub async fn revoke_user(db: &impl ConnectionTrait, package_id: i64, user_id: i64) -> Result<bool> {
    let result = package_grant::Entity::delete_many()
        .filter(package_grant::Column::PackageId.eq(package_id))
        .filter(package_grant::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    Ok(result.rows_affected > 0)
}

pub async fn revoke_team(db: &impl ConnectionTrait, package_id: i64, team_id: i64) -> Result<bool> {
    let result = package_grant::Entity::delete_many()
        .filter(package_grant::Column::PackageId.eq(package_id))
        .filter(package_grant::Column::TeamId.eq(team_id))
        .exec(db)
        .await?;
    Ok(result.rows_affected > 0)
}

/// Empties the user/team access list (turning inheritance on or off overwrites it).
pub async fn clear(db: &impl ConnectionTrait, package_id: i64) -> Result<()> {
    package_grant::Entity::delete_many()
        .filter(package_grant::Column::PackageId.eq(package_id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn list(db: &impl ConnectionTrait, package_id: i64) -> Result<Vec<package_grant::Model>> {
    Ok(package_grant::Entity::find()
        .filter(package_grant::Column::PackageId.eq(package_id))
        .order_by_asc(package_grant::Column::Id)
        .all(db)
        .await?)
}

/// The user's own grant on a package.
pub async fn user_role(
    db: &impl ConnectionTrait,
    package_id: i64,
    user_id: i64,
) -> Result<Option<String>> {
    Ok(package_grant::Entity::find()
        .select_only()
        .column(package_grant::Column::Role)
        .filter(package_grant::Column::PackageId.eq(package_id))
        .filter(package_grant::Column::UserId.eq(user_id))
        .into_tuple()
        .one(db)
        .await?)
}

/// Grants on a package to the teams (of `org_id`) that the user belongs to.
pub async fn user_team_roles(
    db: &impl ConnectionTrait,
    package_id: i64,
    org_id: i64,
    user_id: i64,
) -> Result<Vec<String>> {
    Ok(package_grant::Entity::find()
        .select_only()
        .column(package_grant::Column::Role)
        .filter(package_grant::Column::PackageId.eq(package_id))
        .filter(
            package_grant::Column::TeamId.in_subquery(
                Query::select()
                    .column((team_member::Entity, team_member::Column::TeamId))
                    .from(team_member::Entity)
                    .inner_join(
                        team::Entity,
                        sea_orm::sea_query::Expr::col((team::Entity, team::Column::Id))
                            .equals((team_member::Entity, team_member::Column::TeamId)),
                    )
                    .and_where(
                        sea_orm::sea_query::Expr::col((
                            team_member::Entity,
                            team_member::Column::UserId,
                        ))
                        .eq(user_id),
                    )
                    .and_where(
                        sea_orm::sea_query::Expr::col((team::Entity, team::Column::OrgId))
                            .eq(org_id),
                    )
                    .to_owned(),
            ),
        )
        .into_tuple()
        .all(db)
        .await?)
}

pub async fn set_actions_access(
    db: &impl ConnectionTrait,
    package_id: i64,
    repository_id: i64,
    role: &str,
) -> Result<()> {
    actions_access::Entity::insert(actions_access::ActiveModel {
        package_id: Set(package_id),
        repository_id: Set(repository_id),
        role: Set(role.to_owned()),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([
            actions_access::Column::PackageId,
            actions_access::Column::RepositoryId,
        ])
        .update_column(actions_access::Column::Role)
        .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

pub async fn remove_actions_access(
    db: &impl ConnectionTrait,
    package_id: i64,
    repository_id: i64,
) -> Result<bool> {
    let result = actions_access::Entity::delete_many()
        .filter(actions_access::Column::PackageId.eq(package_id))
        .filter(actions_access::Column::RepositoryId.eq(repository_id))
        .exec(db)
        .await?;
    Ok(result.rows_affected > 0)
}

pub async fn actions_access(
    db: &impl ConnectionTrait,
    package_id: i64,
) -> Result<Vec<actions_access::Model>> {
    Ok(actions_access::Entity::find()
        .filter(actions_access::Column::PackageId.eq(package_id))
        .order_by_asc(actions_access::Column::Id)
        .all(db)
        .await?)
}

pub async fn actions_role(
    db: &impl ConnectionTrait,
    package_id: i64,
    repository_id: i64,
) -> Result<Option<String>> {
    Ok(actions_access::Entity::find()
        .select_only()
        .column(actions_access::Column::Role)
        .filter(actions_access::Column::PackageId.eq(package_id))
        .filter(actions_access::Column::RepositoryId.eq(repository_id))
        .into_tuple()
        .one(db)
        .await?)
}
