//! A blob held by a container image: what makes `/v2/OWNER/IMAGE/blobs/DIGEST` answer, and the per-image
//! reference to the shared blob row.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "container_blob_links")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub owner_id: i64,
    /// The image's name within its owner, lower-cased.
    pub image: String,
    pub blob_id: i64,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
