//! An audit event (migration m0005): who did what to which target, with what outcome.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub created_at: DateTimeUtc,
    pub action: String,
    pub actor_id: Option<i64>,
    pub actor_login: Option<String>,
    pub token_id: Option<i64>,
    /// The account whose audit log shows the event; NULL for site-wide events.
    pub owner_id: Option<i64>,
    pub target: String,
    pub outcome: String,
    pub request_id: Option<String>,
    pub details: Option<Json>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
