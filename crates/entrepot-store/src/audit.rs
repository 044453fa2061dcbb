//! Audit events: written in batches, read newest first, per owner account or site-wide.

use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use crate::Result;
use crate::entity::audit_event;

/// An event to record.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub action: String,
    pub actor_id: Option<i64>,
    pub actor_login: Option<String>,
    pub token_id: Option<i64>,
    pub owner_id: Option<i64>,
    pub target: String,
    pub outcome: String,
    pub request_id: Option<String>,
    pub details: Option<serde_json::Value>,
}

/// Inserts events in one statement.
pub async fn insert_many(db: &impl ConnectionTrait, events: Vec<NewEvent>) -> Result<()> {
    if events.is_empty() {
        return Ok(());
    }
    audit_event::Entity::insert_many(events.into_iter().map(|event| audit_event::ActiveModel {
        created_at: Set(event.created_at),
        action: Set(event.action),
        actor_id: Set(event.actor_id),
        actor_login: Set(event.actor_login),
        token_id: Set(event.token_id),
        owner_id: Set(event.owner_id),
        target: Set(event.target),
        outcome: Set(event.outcome),
        request_id: Set(event.request_id),
        details: Set(event.details),
        ..Default::default()
    }))
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// A page of events, newest first: of one owner account, or of every account with `None`. Returns the page and
/// whether more follow.
pub async fn list(
    db: &impl ConnectionTrait,
    owner_id: Option<i64>,
    page: u64,
    per_page: u64,
) -> Result<(Vec<audit_event::Model>, bool)> {
    let mut query = audit_event::Entity::find();
    if let Some(owner_id) = owner_id {
        query = query.filter(audit_event::Column::OwnerId.eq(owner_id));
    }
    let mut rows = query
        .order_by_desc(audit_event::Column::Id)
        .offset(page.saturating_sub(1) * per_page)
        .limit(per_page + 1)
        .all(db)
        .await?;
    let more = rows.len() as u64 > per_page;
    rows.truncate(per_page as usize);
    Ok((rows, more))
}

pub async fn count(db: &impl ConnectionTrait) -> Result<u64> {
    Ok(audit_event::Entity::find().count(db).await?)
}
