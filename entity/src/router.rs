//! `routers`: a MikroTik router of a company.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "routers")]
pub struct Model {
    /// `RTR_` + 8 upper-case hex digits, set by the application.
    #[sea_orm(
        primary_key,
        auto_increment = false,
        column_type = "String(StringLen::N(50))"
    )]
    pub id: String,
    #[sea_orm(column_type = "String(StringLen::N(50))")]
    pub empresa_id: String,
    #[sea_orm(column_type = "String(StringLen::N(100))")]
    pub nombre: String,
    #[sea_orm(column_type = "String(StringLen::N(255))")]
    pub host: String,
    pub puerto: i32,
    /// RouterOS API user.
    #[sea_orm(column_type = "String(StringLen::N(100))")]
    pub usuario: String,
    /// Ciphertext of the RouterOS API password.
    #[sea_orm(column_type = "Text")]
    pub password_encrypted: String,
    #[sea_orm(column_type = "String(StringLen::N(200))", nullable)]
    pub ubicacion: Option<String>,
    /// SHA-256 hex of the current router API key.
    #[sea_orm(column_type = "String(StringLen::N(64))", unique)]
    pub api_key_hash: String,
    pub activo: bool,
    pub use_tls: bool,
    /// SHA-256 hex pin of the router's TLS certificate.
    #[sea_orm(column_type = "String(StringLen::N(128))", nullable)]
    pub tls_fingerprint: Option<String>,
    pub creado_en: DateTimeUtc,
    pub actualizado_en: DateTimeUtc,
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
    #[sea_orm(has_many = "super::producto::Entity")]
    Producto,
    #[sea_orm(has_many = "super::api_key::Entity")]
    ApiKey,
}

impl Related<super::empresa::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Empresa.def()
    }
}

impl Related<super::producto::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Producto.def()
    }
}

impl Related<super::api_key::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::ApiKey.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
