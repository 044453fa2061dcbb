//! Queries on repositories, their collaborators and their teams.

use sea_orm::sea_query::{OnConflict, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use crate::entity::{collaborator, repository, team_member, team_repository};
use crate::{Result, conflict_as, now};

pub async fn insert(
    db: &impl ConnectionTrait,
    owner_id: i64,
    name: &str,
    visibility: &str,
) -> Result<repository::Model> {
    let at = now();
    repository::ActiveModel {
        owner_id: Set(owner_id),
        name: Set(name.to_owned()),
        name_lower: Set(name.to_lowercase()),
        visibility: Set(visibility.to_owned()),
        created_at: Set(at),
        updated_at: Set(at),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(conflict_as(|| format!("the repository {name:?} exists")))
}

pub async fn by_name(
    db: &impl ConnectionTrait,
    owner_id: i64,
    name: &str,
) -> Result<Option<repository::Model>> {
    let name = name.strip_suffix(".git").unwrap_or(name);
    Ok(repository::Entity::find()
        .filter(repository::Column::OwnerId.eq(owner_id))
        .filter(repository::Column::NameLower.eq(name.to_lowercase()))
        .one(db)
        .await?)
}

pub async fn by_id(db: &impl ConnectionTrait, id: i64) -> Result<Option<repository::Model>> {
    Ok(repository::Entity::find_by_id(id).one(db).await?)
}

pub async fn list_by_owner(
    db: &impl ConnectionTrait,
    owner_id: i64,
) -> Result<Vec<repository::Model>> {
    Ok(repository::Entity::find()
        .filter(repository::Column::OwnerId.eq(owner_id))
        .order_by_asc(repository::Column::NameLower)
        .all(db)
        .await?)
}

pub async fn set_visibility(db: &impl ConnectionTrait, id: i64, visibility: &str) -> Result<()> {
    repository::ActiveModel {
        id: Set(id),
        visibility: Set(visibility.to_owned()),
        updated_at: Set(now()),
        ..Default::default()
    }
    .update(db)
    .await?;
    Ok(())
}

pub async fn upsert_collaborator(
    db: &impl ConnectionTrait,
    repository_id: i64,
    user_id: i64,
    role: &str,
) -> Result<()> {
    collaborator::Entity::insert(collaborator::ActiveModel {
        repository_id: Set(repository_id),
        user_id: Set(user_id),
        role: Set(role.to_owned()),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([
            collaborator::Column::RepositoryId,
            collaborator::Column::UserId,
        ])
        .update_column(collaborator::Column::Role)
        .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

pub async fn remove_collaborator(
    db: &impl ConnectionTrait,
    repository_id: i64,
    user_id: i64,
) -> Result<bool> {
    let result = collaborator::Entity::delete_many()
        .filter(collaborator::Column::RepositoryId.eq(repository_id))
        .filter(collaborator::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    Ok(result.rows_affected > 0)
}

pub async fn collaborators(
    db: &impl ConnectionTrait,
    repository_id: i64,
) -> Result<Vec<collaborator::Model>> {
    Ok(collaborator::Entity::find()
        .filter(collaborator::Column::RepositoryId.eq(repository_id))
        .order_by_asc(collaborator::Column::Id)
        .all(db)
        .await?)
}

pub async fn collaborator_role(
    db: &impl ConnectionTrait,
    repository_id: i64,
    user_id: i64,
) -> Result<Option<String>> {
    Ok(collaborator::Entity::find()
        .select_only()
        .column(collaborator::Column::Role)
        .filter(collaborator::Column::RepositoryId.eq(repository_id))
        .filter(collaborator::Column::UserId.eq(user_id))
        .into_tuple()
        .one(db)
        .await?)
}

pub async fn upsert_team_role(
    db: &impl ConnectionTrait,
    repository_id: i64,
    team_id: i64,
    role: &str,
) -> Result<()> {
    team_repository::Entity::insert(team_repository::ActiveModel {
        repository_id: Set(repository_id),
        team_id: Set(team_id),
        role: Set(role.to_owned()),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([
            team_repository::Column::TeamId,
            team_repository::Column::RepositoryId,
        ])
        .update_column(team_repository::Column::Role)
        .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// The roles on `repository_id` of the teams `user_id` belongs to.
pub async fn user_team_roles(
    db: &impl ConnectionTrait,
    repository_id: i64,
    user_id: i64,
) -> Result<Vec<String>> {
    Ok(team_repository::Entity::find()
        .select_only()
        .column(team_repository::Column::Role)
        .filter(team_repository::Column::RepositoryId.eq(repository_id))
        .filter(
            team_repository::Column::TeamId.in_subquery(
                Query::select()
                    .column(team_member::Column::TeamId)
                    .from(team_member::Entity)
                    .and_where(team_member::Column::UserId.eq(user_id))
                    .to_owned(),
            ),
        )
        .into_tuple()
        .all(db)
        .await?)
}
