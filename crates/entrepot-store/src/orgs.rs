//! Queries on organizations: settings, memberships, teams and team members.

use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};

use crate::entity::{membership, org_settings, team, team_member};
use crate::{Result, conflict_as, now};

pub async fn insert_settings(
    db: &impl ConnectionTrait,
    settings: org_settings::Model,
) -> Result<()> {
    org_settings::Entity::insert(org_settings::ActiveModel::from(settings))
        .exec_without_returning(db)
        .await?;
    Ok(())
}

pub async fn settings(
    db: &impl ConnectionTrait,
    org_id: i64,
) -> Result<Option<org_settings::Model>> {
    Ok(org_settings::Entity::find_by_id(org_id).one(db).await?)
}

pub async fn update_settings(
    db: &impl ConnectionTrait,
    settings: org_settings::Model,
) -> Result<()> {
    org_settings::ActiveModel::from(settings)
        .reset_all()
        .update(db)
        .await?;
    Ok(())
}

/// Adds a member or changes the role of an existing one.
pub async fn upsert_membership(
    db: &impl ConnectionTrait,
    org_id: i64,
    user_id: i64,
    role: &str,
) -> Result<()> {
    membership::Entity::insert(membership::ActiveModel {
        org_id: Set(org_id),
        user_id: Set(user_id),
        role: Set(role.to_owned()),
        created_at: Set(now()),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([membership::Column::OrgId, membership::Column::UserId])
            .update_column(membership::Column::Role)
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

pub async fn remove_membership(
    db: &impl ConnectionTrait,
    org_id: i64,
    user_id: i64,
) -> Result<bool> {
    let result = membership::Entity::delete_many()
        .filter(membership::Column::OrgId.eq(org_id))
        .filter(membership::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    Ok(result.rows_affected > 0)
}

pub async fn membership(
    db: &impl ConnectionTrait,
    org_id: i64,
    user_id: i64,
) -> Result<Option<membership::Model>> {
    Ok(membership::Entity::find()
        .filter(membership::Column::OrgId.eq(org_id))
        .filter(membership::Column::UserId.eq(user_id))
        .one(db)
        .await?)
}

pub async fn members(db: &impl ConnectionTrait, org_id: i64) -> Result<Vec<membership::Model>> {
    Ok(membership::Entity::find()
        .filter(membership::Column::OrgId.eq(org_id))
        .order_by_asc(membership::Column::Id)
        .all(db)
        .await?)
}

pub async fn insert_team(
    db: &impl ConnectionTrait,
    org_id: i64,
    slug: &str,
    name: &str,
) -> Result<team::Model> {
    team::ActiveModel {
        org_id: Set(org_id),
        slug: Set(slug.to_owned()),
        name: Set(name.to_owned()),
        created_at: Set(now()),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(conflict_as(|| format!("the team {slug:?} exists")))
}

pub async fn team(
    db: &impl ConnectionTrait,
    org_id: i64,
    slug: &str,
) -> Result<Option<team::Model>> {
    Ok(team::Entity::find()
        .filter(team::Column::OrgId.eq(org_id))
        .filter(team::Column::Slug.eq(slug.to_lowercase()))
        .one(db)
        .await?)
}

pub async fn teams(db: &impl ConnectionTrait, org_id: i64) -> Result<Vec<team::Model>> {
    Ok(team::Entity::find()
        .filter(team::Column::OrgId.eq(org_id))
        .order_by_asc(team::Column::Slug)
        .all(db)
        .await?)
}

pub async fn add_team_member(db: &impl ConnectionTrait, team_id: i64, user_id: i64) -> Result<()> {
    team_member::Entity::insert(team_member::ActiveModel {
        team_id: Set(team_id),
        user_id: Set(user_id),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([team_member::Column::TeamId, team_member::Column::UserId])
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

pub async fn remove_team_member(
    db: &impl ConnectionTrait,
    team_id: i64,
    user_id: i64,
) -> Result<bool> {
    let result = team_member::Entity::delete_many()
        .filter(team_member::Column::TeamId.eq(team_id))
        .filter(team_member::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    Ok(result.rows_affected > 0)
}
