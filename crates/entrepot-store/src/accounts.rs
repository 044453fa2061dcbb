//! Queries on accounts (users and organizations share one login namespace).

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, Set,
};

use crate::entity::account::{self, Entity as Accounts};
use crate::{Result, conflict_as, now};

pub const KIND_USER: &str = "user";
pub const KIND_ORG: &str = "org";

pub struct NewAccount<'a> {
    pub login: &'a str,
    pub kind: &'static str,
    pub display_name: Option<&'a str>,
    pub email: Option<&'a str>,
    pub site_admin: bool,
    pub password_hash: Option<String>,
}

pub async fn insert(db: &impl ConnectionTrait, new: NewAccount<'_>) -> Result<account::Model> {
    let at = now();
    let login = new.login.to_owned();
    account::ActiveModel {
        login: Set(new.login.to_owned()),
        login_lower: Set(new.login.to_lowercase()),
        kind: Set(new.kind.to_owned()),
        display_name: Set(new.display_name.map(str::to_owned)),
        email: Set(new.email.map(str::to_owned)),
        site_admin: Set(new.site_admin),
        password_hash: Set(new.password_hash),
        created_at: Set(at),
        updated_at: Set(at),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(conflict_as(|| format!("the login {login:?} is taken")))
}

pub async fn by_login(db: &impl ConnectionTrait, login: &str) -> Result<Option<account::Model>> {
    Ok(Accounts::find()
        .filter(account::Column::LoginLower.eq(login.to_lowercase()))
        .one(db)
        .await?)
}

pub async fn by_id(db: &impl ConnectionTrait, id: i64) -> Result<Option<account::Model>> {
    Ok(Accounts::find_by_id(id).one(db).await?)
}

pub async fn list(db: &impl ConnectionTrait, kind: &str) -> Result<Vec<account::Model>> {
    Ok(Accounts::find()
        .filter(account::Column::Kind.eq(kind))
        .order_by_asc(account::Column::LoginLower)
        .all(db)
        .await?)
}

pub async fn count(db: &impl ConnectionTrait, kind: &str) -> Result<u64> {
    Ok(Accounts::find()
        .filter(account::Column::Kind.eq(kind))
        .count(db)
        .await?)
}

pub async fn set_password(db: &impl ConnectionTrait, id: i64, password_hash: String) -> Result<()> {
    account::ActiveModel {
        id: Set(id),
        password_hash: Set(Some(password_hash)),
        updated_at: Set(now()),
        ..Default::default()
    }
    .update(db)
    .await?;
    Ok(())
}
