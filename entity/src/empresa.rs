//! `empresas`: a tenant (company) with its gateway and notification credentials.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "empresas")]
pub struct Model {
    /// `EMP_` + 10 upper-case hex digits, set by the application.
    #[sea_orm(
        primary_key,
        auto_increment = false,
        column_type = "String(StringLen::N(50))"
    )]
    pub id: String,
    #[sea_orm(column_type = "String(StringLen::N(100))")]
    pub nombre: String,
    #[sea_orm(column_type = "String(StringLen::N(100))", nullable)]
    pub contacto_email: Option<String>,
    #[sea_orm(column_type = "String(StringLen::N(20))", nullable)]
    pub contacto_telefono: Option<String>,
    #[sea_orm(column_type = "String(StringLen::N(255))", nullable)]
    pub logo_url: Option<String>,
    /// Ciphertext.
    #[sea_orm(column_type = "Text", nullable)]
    pub conekta_private_key: Option<String>,
    #[sea_orm(column_type = "String(StringLen::N(255))", nullable)]
    pub conekta_public_key: Option<String>,
    #[sea_orm(column_type = "String(StringLen::N(20))")]
    pub conekta_mode: String,
    /// Ciphertext.
    #[sea_orm(column_type = "Text", nullable)]
    pub mercado_pago_access_token: Option<String>,
    #[sea_orm(column_type = "String(StringLen::N(255))", nullable)]
    pub mercado_pago_public_key: Option<String>,
    #[sea_orm(column_type = "String(StringLen::N(20))")]
    pub mercado_pago_mode: String,
    /// Ciphertext.
    #[sea_orm(column_type = "Text", nullable)]
    pub mercado_pago_webhook_secret: Option<String>,
    /// Conekta's RSA public key (PEM) used to verify webhook `Digest` signatures. Not secret.
    #[sea_orm(column_type = "Text", nullable)]
    pub conekta_webhook_key: Option<String>,
    /// Ciphertext.
    #[sea_orm(column_type = "Text", nullable)]
    pub telegram_bot_token: Option<String>,
    #[sea_orm(column_type = "String(StringLen::N(50))", nullable)]
    pub telegram_chat_id: Option<String>,
    pub notificaciones_telegram: bool,
    pub activa: bool,
    pub creada_en: DateTimeUtc,
    /// What the service does with an expired hotspot user: `eliminar` (remove it, the
    /// default) | `deshabilitar` (disable it).
    #[sea_orm(column_type = "String(StringLen::N(20))")]
    pub al_expirar: String,
    /// IANA time zone the company's days are counted in (`America/Mexico_City`).
    #[sea_orm(column_type = "String(StringLen::N(64))")]
    pub zona_horaria: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::router::Entity")]
    Router,
    #[sea_orm(has_many = "super::usuario::Entity")]
    Usuario,
    #[sea_orm(has_many = "super::producto::Entity")]
    Producto,
    #[sea_orm(has_many = "super::transaccion::Entity")]
    Transaccion,
    #[sea_orm(has_many = "super::api_key::Entity")]
    ApiKey,
}

impl Related<super::router::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Router.def()
    }
}

impl Related<super::usuario::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Usuario.def()
    }
}

impl Related<super::producto::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Producto.def()
    }
}

impl Related<super::transaccion::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Transaccion.def()
    }
}

impl Related<super::api_key::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::ApiKey.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
