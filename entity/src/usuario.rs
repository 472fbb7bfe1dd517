//! `usuarios`: admin users (`super_admin` or `cliente_admin`).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "usuarios")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub rol: Role,
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

/// An admin's role, stored as its text (`super_admin` | `cliente_admin`).
#[derive(
    Copy, Clone, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(20))")]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The operator: runs companies and routers.
    #[sea_orm(string_value = "super_admin")]
    SuperAdmin,
    /// A company's admin: its plans, credentials, routers and reports.
    #[sea_orm(string_value = "cliente_admin")]
    ClienteAdmin,
}

impl Role {
    /// The stored and wire text.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::SuperAdmin => "super_admin",
            Role::ClienteAdmin => "cliente_admin",
        }
    }

    /// The role named by `text`, if any.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "super_admin" => Some(Role::SuperAdmin),
            "cliente_admin" => Some(Role::ClienteAdmin),
            _ => None,
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
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
