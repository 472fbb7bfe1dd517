//! `purchases`: one row per portal purchase, carrying the saga state. Written before every
//! external step so the reconciler can finish or undo it after a crash.
//!
//! No foreign keys: a purchase outlives its router and product.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "purchases")]
pub struct Model {
    /// UUID (hyphenated text).
    #[sea_orm(
        primary_key,
        auto_increment = false,
        column_type = "String(StringLen::N(36))"
    )]
    pub id: String,
    #[sea_orm(column_type = "String(StringLen::N(50))")]
    pub empresa_id: String,
    #[sea_orm(column_type = "String(StringLen::N(50))")]
    pub router_id: String,
    pub producto_id: i32,
    #[sea_orm(column_type = "String(StringLen::N(20))")]
    pub gateway: String,
    /// Saga state.
    #[sea_orm(column_type = "String(StringLen::N(32))")]
    pub state: String,
    #[sea_orm(column_type = "Decimal(Some((10, 2)))")]
    pub amount: Decimal,
    #[sea_orm(column_type = "String(StringLen::N(3))")]
    pub currency: String,
    #[sea_orm(column_type = "String(StringLen::N(20))")]
    pub user_type: String,
    #[sea_orm(column_type = "String(StringLen::N(50))", nullable)]
    pub hotspot_username: Option<String>,
    /// Ciphertext.
    #[sea_orm(column_type = "Text", nullable)]
    pub hotspot_password: Option<String>,
    /// RouterOS `.id` of the hotspot user.
    #[sea_orm(column_type = "String(StringLen::N(32))", nullable)]
    pub router_user_id: Option<String>,
    #[sea_orm(column_type = "String(StringLen::N(100))")]
    pub customer_name: String,
    #[sea_orm(column_type = "String(StringLen::N(100))")]
    pub customer_email: String,
    #[sea_orm(column_type = "String(StringLen::N(20))", nullable)]
    pub customer_phone: Option<String>,
    #[sea_orm(column_type = "String(StringLen::N(17))", nullable)]
    pub mac_address: Option<String>,
    #[sea_orm(column_type = "String(StringLen::N(45))", nullable)]
    pub ip_address: Option<String>,
    pub auto_connect: bool,
    #[sea_orm(column_type = "String(StringLen::N(255))", nullable)]
    pub idempotency_key: Option<String>,
    /// SHA-256 hex of the card token (dedupe without storing the token).
    #[sea_orm(column_type = "String(StringLen::N(64))", nullable)]
    pub card_token_hash: Option<String>,
    /// Our reference sent to the gateway.
    #[sea_orm(column_type = "String(StringLen::N(64))", nullable)]
    pub gateway_reference: Option<String>,
    #[sea_orm(column_type = "String(StringLen::N(100))", nullable)]
    pub gateway_payment_id: Option<String>,
    #[sea_orm(column_type = "String(StringLen::N(32))", nullable)]
    pub gateway_status: Option<String>,
    pub response_status: Option<i32>,
    /// The saved response, replayed for a retried idempotent request.
    pub response_body: Option<Json>,
    #[sea_orm(column_type = "Text", nullable)]
    pub last_error: Option<String>,
    pub attempts: i32,
    pub next_attempt_at: Option<DateTimeUtc>,
    pub locked_until: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
