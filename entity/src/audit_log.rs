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
    pub action: AuditAction,
    #[sea_orm(column_type = "String(StringLen::N(32))")]
    pub target_type: String,
    #[sea_orm(column_type = "String(StringLen::N(64))", nullable)]
    pub target_id: Option<String>,
    pub details: Json,
}

/// What an admin did, stored as its text (`empresa.create`, `router.revoke_api_key`…).
#[derive(
    Copy, Clone, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(64))")]
pub enum AuditAction {
    #[sea_orm(string_value = "empresa.create")]
    #[serde(rename = "empresa.create")]
    EmpresaCreate,
    #[sea_orm(string_value = "empresa.update")]
    #[serde(rename = "empresa.update")]
    EmpresaUpdate,
    #[sea_orm(string_value = "empresa.logo")]
    #[serde(rename = "empresa.logo")]
    EmpresaLogo,
    #[sea_orm(string_value = "empresa.conekta_config")]
    #[serde(rename = "empresa.conekta_config")]
    EmpresaConektaConfig,
    #[sea_orm(string_value = "empresa.conekta_webhook_key")]
    #[serde(rename = "empresa.conekta_webhook_key")]
    EmpresaConektaWebhookKey,
    #[sea_orm(string_value = "empresa.mercado_pago_config")]
    #[serde(rename = "empresa.mercado_pago_config")]
    EmpresaMercadoPagoConfig,
    #[sea_orm(string_value = "empresa.webhook_secret")]
    #[serde(rename = "empresa.webhook_secret")]
    EmpresaWebhookSecret,
    #[sea_orm(string_value = "producto.crear")]
    #[serde(rename = "producto.crear")]
    ProductoCrear,
    #[sea_orm(string_value = "producto.actualizar")]
    #[serde(rename = "producto.actualizar")]
    ProductoActualizar,
    #[sea_orm(string_value = "producto.desactivar")]
    #[serde(rename = "producto.desactivar")]
    ProductoDesactivar,
    #[sea_orm(string_value = "router.create")]
    #[serde(rename = "router.create")]
    RouterCreate,
    #[sea_orm(string_value = "router.update")]
    #[serde(rename = "router.update")]
    RouterUpdate,
    #[sea_orm(string_value = "router.activate")]
    #[serde(rename = "router.activate")]
    RouterActivate,
    #[sea_orm(string_value = "router.deactivate")]
    #[serde(rename = "router.deactivate")]
    RouterDeactivate,
    #[sea_orm(string_value = "router.delete")]
    #[serde(rename = "router.delete")]
    RouterDelete,
    #[sea_orm(string_value = "router.regenerate_api_key")]
    #[serde(rename = "router.regenerate_api_key")]
    RouterRegenerateApiKey,
    #[sea_orm(string_value = "router.revoke_api_key")]
    #[serde(rename = "router.revoke_api_key")]
    RouterRevokeApiKey,
    #[sea_orm(string_value = "usuario.create")]
    #[serde(rename = "usuario.create")]
    UsuarioCreate,
    #[sea_orm(string_value = "usuario.activate")]
    #[serde(rename = "usuario.activate")]
    UsuarioActivate,
    #[sea_orm(string_value = "usuario.deactivate")]
    #[serde(rename = "usuario.deactivate")]
    UsuarioDeactivate,
    /// The service ended a purchase's access (validity or budget over).
    #[sea_orm(string_value = "acceso.expirar")]
    #[serde(rename = "acceso.expirar")]
    AccesoExpirar,
    /// An admin ended a live hotspot session.
    #[sea_orm(string_value = "acceso.sesion_cerrar")]
    #[serde(rename = "acceso.sesion_cerrar")]
    AccesoSesionCerrar,
    /// An admin refunded a transaction (whole or part).
    #[sea_orm(string_value = "transaccion.reembolsar")]
    #[serde(rename = "transaccion.reembolsar")]
    TransaccionReembolsar,
}

impl AuditAction {
    /// The kind of object the action changes (`audit_log.target_type`).
    pub fn target_type(self) -> &'static str {
        match self {
            AuditAction::EmpresaCreate => "empresa",
            AuditAction::EmpresaUpdate => "empresa",
            AuditAction::EmpresaLogo => "empresa",
            AuditAction::EmpresaConektaConfig => "empresa",
            AuditAction::EmpresaConektaWebhookKey => "empresa",
            AuditAction::EmpresaMercadoPagoConfig => "empresa",
            AuditAction::EmpresaWebhookSecret => "empresa",
            AuditAction::ProductoCrear => "producto",
            AuditAction::ProductoActualizar => "producto",
            AuditAction::ProductoDesactivar => "producto",
            AuditAction::RouterCreate => "router",
            AuditAction::RouterUpdate => "router",
            AuditAction::RouterActivate => "router",
            AuditAction::RouterDeactivate => "router",
            AuditAction::RouterDelete => "router",
            AuditAction::RouterRegenerateApiKey => "router",
            AuditAction::RouterRevokeApiKey => "api_key",
            AuditAction::UsuarioCreate => "usuario",
            AuditAction::UsuarioActivate => "usuario",
            AuditAction::UsuarioDeactivate => "usuario",
            AuditAction::AccesoExpirar => "purchase",
            AuditAction::AccesoSesionCerrar => "router",
            AuditAction::TransaccionReembolsar => "transaccion",
        }
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
