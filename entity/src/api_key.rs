//! `api_keys_tracking`: every router API key ever issued (the `key_id` is the JWT `jti`).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "api_keys_tracking")]
pub struct Model {
    #[sea_orm(
        primary_key,
        auto_increment = false,
        column_type = "String(StringLen::N(50))"
    )]
    pub key_id: String,
    #[sea_orm(column_type = "String(StringLen::N(50))")]
    pub empresa_id: String,
    #[sea_orm(column_type = "String(StringLen::N(50))")]
    pub router_id: String,
    /// SHA-256 hex of the key.
    #[sea_orm(column_type = "String(StringLen::N(64))", unique)]
    pub key_hash: String,
    pub issued_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub revoked: bool,
    pub revoked_at: Option<DateTimeUtc>,
    pub last_used: Option<DateTimeUtc>,
    pub use_count: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::empresa::Entity",
        from = "Column::EmpresaId",
        to = "super::empresa::Column::Id",
        on_update = "NoAction",
        on_delete = "NoAction"
    )]
    Empresa,
    #[sea_orm(
        belongs_to = "super::router::Entity",
        from = "Column::RouterId",
        to = "super::router::Column::Id",
        on_update = "NoAction",
        on_delete = "Cascade"
    )]
    Router,
}

impl Related<super::empresa::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Empresa.def()
    }
}

impl Related<super::router::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Router.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
