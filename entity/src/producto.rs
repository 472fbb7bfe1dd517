//! `productos`: a plan sold on a router (maps to a RouterOS hotspot user profile).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "productos")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    #[sea_orm(column_type = "String(StringLen::N(50))")]
    pub empresa_id: String,
    #[sea_orm(column_type = "String(StringLen::N(50))")]
    pub router_id: String,
    /// RouterOS `.id` of the profile, e.g. `*2`.
    #[sea_orm(column_type = "String(StringLen::N(100))")]
    pub perfil_mikrotik_id: String,
    #[sea_orm(column_type = "String(StringLen::N(100))")]
    pub perfil_mikrotik_nombre: String,
    #[sea_orm(column_type = "String(StringLen::N(100))")]
    pub nombre_venta: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub descripcion: Option<String>,
    #[sea_orm(column_type = "String(StringLen::N(500))", nullable)]
    pub imagen_url: Option<String>,
    #[sea_orm(column_type = "Decimal(Some((10, 2)))")]
    pub precio: Decimal,
    #[sea_orm(column_type = "String(StringLen::N(3))")]
    pub moneda: String,
    /// List of strings or of `{"texto": …}` objects.
    pub detalles: Json,
    pub activo: bool,
    pub orden_visual: i32,
    pub destacado: bool,
    pub creado_en: DateTimeUtc,
    /// Total logged-in minutes the plan gives (the user's `limit-uptime`); `None`: no budget.
    pub minutos_uso: Option<i32>,
    /// Wall-clock validity in minutes, counted from [`Self::vigencia_desde`]; `None`: none.
    pub vigencia_minutos: Option<i32>,
    /// `compra` | `primer_login`: when the validity starts (`None` with a validity: `compra`).
    #[sea_orm(column_type = "String(StringLen::N(20))", nullable)]
    pub vigencia_desde: Option<String>,
    /// Data budget in megabytes of 10^6 bytes (the user's `limit-bytes-total`).
    pub limite_mb: Option<i64>,
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
        on_delete = "NoAction"
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
