//! Queries on tokens. Only the sha256 of a token's secret is ever stored.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};

use crate::entity::token;
use crate::{Result, now};

pub const KIND_PAT: &str = "pat";
pub const KIND_WORKFLOW: &str = "workflow";

pub struct NewToken<'a> {
    pub kind: &'static str,
    pub user_id: Option<i64>,
    pub repository_id: Option<i64>,
    pub name: &'a str,
    pub token_hash: &'a str,
    pub hint: &'a str,
    pub scopes: &'a str,
    pub level: Option<&'a str>,
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
}

pub async fn insert(db: &impl ConnectionTrait, new: NewToken<'_>) -> Result<token::Model> {
    Ok(token::ActiveModel {
        kind: Set(new.kind.to_owned()),
        user_id: Set(new.user_id),
        repository_id: Set(new.repository_id),
        name: Set(new.name.to_owned()),
        token_hash: Set(new.token_hash.to_owned()),
        hint: Set(new.hint.to_owned()),
        scopes: Set(new.scopes.to_owned()),
        level: Set(new.level.map(str::to_owned)),
        created_at: Set(now()),
        expires_at: Set(new.expires_at),
        last_used_at: Set(None),
        revoked_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

pub async fn by_hash(db: &impl ConnectionTrait, token_hash: &str) -> Result<Option<token::Model>> {
    Ok(token::Entity::find()
        .filter(token::Column::TokenHash.eq(token_hash))
        .one(db)
        .await?)
}

pub async fn by_id(db: &impl ConnectionTrait, id: i64) -> Result<Option<token::Model>> {
    Ok(token::Entity::find_by_id(id).one(db).await?)
}

pub async fn list_for_user(db: &impl ConnectionTrait, user_id: i64) -> Result<Vec<token::Model>> {
    Ok(token::Entity::find()
        .filter(token::Column::UserId.eq(user_id))
        .filter(token::Column::Kind.eq(KIND_PAT))
        .order_by_asc(token::Column::Id)
        .all(db)
        .await?)
}

pub async fn revoke(db: &impl ConnectionTrait, id: i64) -> Result<bool> {
    let result = token::Entity::update_many()
        .col_expr(token::Column::RevokedAt, Expr::value(Some(now())))
        .filter(token::Column::Id.eq(id))
        .filter(token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected > 0)
}

pub async fn touch(db: &impl ConnectionTrait, id: i64) -> Result<()> {
    token::ActiveModel {
        id: Set(id),
        last_used_at: Set(Some(now())),
        ..Default::default()
    }
    .update(db)
    .await?;
    Ok(())
}
