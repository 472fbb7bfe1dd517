//! `audit_log`: who changed what (admin actions).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "audit_log")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub at: DateTimeUtc,
    pub actor_user_id: Option<i32>,
    #[sea_orm(column_type = "String(StringLen::N(100))", nullable)]
    pub actor_email: Option<String>,
    #[sea_orm(column_type = "String(StringLen::N(20))", nullable)]
    pub actor_role: Option<String>,
    #[sea_orm(column_type = "String(StringLen::N(50))", nullable)]
    pub empresa_id: Option<String>,
    #[sea_orm(column_type = "String(StringLen::N(64))")]
    pub action: String,
    #[sea_orm(column_type = "String(StringLen::N(32))")]
    pub target_type: String,
    #[sea_orm(column_type = "String(StringLen::N(64))", nullable)]
    pub target_id: Option<String>,
    pub details: Json,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
