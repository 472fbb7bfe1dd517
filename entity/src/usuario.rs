//! `usuarios`: admin users (`super_admin` or `cliente_admin`).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "usuarios")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    /// `super_admin` | `cliente_admin`.
    #[sea_orm(column_type = "String(StringLen::N(20))")]
    pub rol: String,
    /// Set for `cliente_admin`, null for `super_admin`.
    #[sea_orm(column_type = "String(StringLen::N(50))", nullable)]
    pub empresa_id: Option<String>,
    #[sea_orm(column_type = "String(StringLen::N(100))", unique)]
    pub email: String,
    #[sea_orm(column_type = "String(StringLen::N(255))")]
    pub password_hash: String,
    #[sea_orm(column_type = "String(StringLen::N(100))")]
    pub nombre: String,
    pub activo: bool,
    pub ultimo_login: Option<DateTimeUtc>,
    pub creado_en: DateTimeUtc,
    /// Session tokens issued before this instant are invalid.
    pub password_changed_at: Option<DateTimeUtc>,
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
}

impl Related<super::empresa::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Empresa.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
