//! `webhook_events`: received gateway webhooks, de-duplicated by (provider, event_id).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "webhook_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(column_type = "String(StringLen::N(20))")]
    pub provider: String,
    #[sea_orm(column_type = "String(StringLen::N(255))")]
    pub event_id: String,
    #[sea_orm(column_type = "String(StringLen::N(50))", nullable)]
    pub empresa_id: Option<String>,
    pub received_at: DateTimeUtc,
    #[sea_orm(column_type = "String(StringLen::N(64))")]
    pub payload_sha256: String,
    #[sea_orm(column_type = "String(StringLen::N(32))")]
    pub outcome: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
