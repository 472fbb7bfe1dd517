//! `transacciones`: the payment history shown to company admins.
//!
//! `router_id` and `producto_id` deliberately have no foreign key: the history must survive
//! the deletion of a router or a product.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "transacciones")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    /// Conekta `ord_…` or the Mercado Pago payment id.
    #[sea_orm(column_type = "String(StringLen::N(100))", nullable, unique)]
    pub transaccion_id: Option<String>,
    #[sea_orm(column_type = "String(StringLen::N(256))", nullable, unique)]
    pub external_reference: Option<String>,
    #[sea_orm(column_type = "String(StringLen::N(50))")]
    pub empresa_id: String,
    #[sea_orm(column_type = "String(StringLen::N(50))")]
    pub router_id: String,
    pub producto_id: Option<i32>,
    /// The purchase (saga) this row belongs to.
    #[sea_orm(column_type = "String(StringLen::N(36))", nullable, unique)]
    pub purchase_id: Option<String>,
    /// `conekta` | `mercado_pago`.
    #[sea_orm(column_type = "String(StringLen::N(20))", nullable)]
    pub gateway: Option<String>,
    #[sea_orm(column_type = "Decimal(Some((10, 2)))")]
    pub monto: Decimal,
    /// What the gateway reports as refunded (partial or full); `None`: nothing refunded.
    #[sea_orm(column_type = "Decimal(Some((10, 2)))", nullable)]
    pub monto_reembolsado: Option<Decimal>,
    #[sea_orm(column_type = "String(StringLen::N(3))")]
    pub moneda: String,
    #[sea_orm(column_type = "String(StringLen::N(100))", nullable)]
    pub cliente_nombre: Option<String>,
    #[sea_orm(column_type = "String(StringLen::N(100))", nullable)]
    pub cliente_email: Option<String>,
    #[sea_orm(column_type = "String(StringLen::N(20))", nullable)]
    pub cliente_telefono: Option<String>,
    #[sea_orm(column_type = "String(StringLen::N(50))", nullable)]
    pub usuario_hotspot: Option<String>,
    /// Ciphertext.
    #[sea_orm(column_type = "Text", nullable)]
    pub password_hotspot: Option<String>,
    pub expiracion_hotspot: Option<DateTimeUtc>,
    #[sea_orm(column_type = "String(StringLen::N(20))")]
    pub estado_pago: String,
    #[sea_orm(column_type = "String(StringLen::N(20))")]
    pub estado_hotspot: String,
    #[sea_orm(column_type = "String(StringLen::N(100))", nullable)]
    pub notification_id: Option<String>,
    pub webhook_processed: bool,
    pub metadata_json: Json,
    #[sea_orm(column_type = "String(StringLen::N(64))", nullable)]
    pub api_key_usada: Option<String>,
    pub creada_en: DateTimeUtc,
    pub pagada_en: Option<DateTimeUtc>,
    pub usuario_creado_en: Option<DateTimeUtc>,
    pub webhook_received_at: Option<DateTimeUtc>,
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
