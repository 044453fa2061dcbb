//! A stored blob, keyed by its sha256 (the blob store's address).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "blobs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub sha256: String,
    pub sha512: Option<String>,
    pub size: i64,
    pub created_at: DateTimeUtc,
    /// When a writer last vouched for the bytes (m0005); the collector spares blobs touched within its grace.
    pub touched_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
