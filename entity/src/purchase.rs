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
    pub gateway: GatewayKind,
    /// Saga state.
    pub state: SagaState,
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
    /// The plan bought, copied from the product at purchase (a later edit of the product does
    /// not change what was sold): logged-in minutes (`limit-uptime`).
    pub usage_minutes: Option<i32>,
    /// Wall-clock validity in minutes.
    pub validity_minutes: Option<i32>,
    /// `compra` | `primer_login`.
    #[sea_orm(column_type = "String(StringLen::N(20))", nullable)]
    pub validity_from: Option<String>,
    /// Data budget in MB (`limit-bytes-total` = MB × 10^6).
    pub data_limit_mb: Option<i64>,
    /// When the access ends (validity plans; for `primer_login`, set once the first login is
    /// seen).
    pub expires_at: Option<DateTimeUtc>,
    /// When the service ended the access (state `expired`).
    pub ended_at: Option<DateTimeUtc>,
    /// Logged-in seconds and bytes (in + out) the router last showed for the user (read by the
    /// expiry job): what is left of a budget when a router that lost the user gets it back.
    pub uptime_used_secs: Option<i64>,
    pub bytes_used: Option<i64>,
}

/// Which gateway a payment belongs to, stored as its text (`conekta` | `mercado_pago`).
#[derive(
    Copy, Clone, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(20))")]
#[serde(rename_all = "snake_case")]
pub enum GatewayKind {
    #[sea_orm(string_value = "conekta")]
    Conekta,
    #[sea_orm(string_value = "mercado_pago")]
    MercadoPago,
}

impl GatewayKind {
    /// The stored text, also the metrics label.
    pub fn as_str(self) -> &'static str {
        match self {
            GatewayKind::Conekta => "conekta",
            GatewayKind::MercadoPago => "mercado_pago",
        }
    }
}

impl std::fmt::Display for GatewayKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A purchase's saga state, stored as its text. Each state is written BEFORE its step.
#[derive(
    Copy, Clone, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
#[serde(rename_all = "snake_case")]
pub enum SagaState {
    #[sea_orm(string_value = "created")]
    Created,
    #[sea_orm(string_value = "creating_user")]
    CreatingUser,
    #[sea_orm(string_value = "user_created")]
    UserCreated,
    #[sea_orm(string_value = "charging")]
    Charging,
    #[sea_orm(string_value = "pending")]
    Pending,
    #[sea_orm(string_value = "charged")]
    Charged,
    #[sea_orm(string_value = "confirmed")]
    Confirmed,
    #[sea_orm(string_value = "compensating")]
    Compensating,
    #[sea_orm(string_value = "revoking")]
    Revoking,
    #[sea_orm(string_value = "completed")]
    Completed,
    #[sea_orm(string_value = "declined")]
    Declined,
    #[sea_orm(string_value = "failed")]
    Failed,
    #[sea_orm(string_value = "refunded")]
    Refunded,
    #[sea_orm(string_value = "revoked")]
    Revoked,
    /// The plan's time, budget or validity ran out and the service ended the access.
    #[sea_orm(string_value = "expired")]
    Expired,
}

impl SagaState {
    /// States the reconciler drives forward.
    pub const INTERMEDIATE: [SagaState; 9] = [
        SagaState::Created,
        SagaState::CreatingUser,
        SagaState::UserCreated,
        SagaState::Charging,
        SagaState::Pending,
        SagaState::Charged,
        SagaState::Confirmed,
        SagaState::Compensating,
        SagaState::Revoking,
    ];

    /// The stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            SagaState::Created => "created",
            SagaState::CreatingUser => "creating_user",
            SagaState::UserCreated => "user_created",
            SagaState::Charging => "charging",
            SagaState::Pending => "pending",
            SagaState::Charged => "charged",
            SagaState::Confirmed => "confirmed",
            SagaState::Compensating => "compensating",
            SagaState::Revoking => "revoking",
            SagaState::Completed => "completed",
            SagaState::Declined => "declined",
            SagaState::Failed => "failed",
            SagaState::Refunded => "refunded",
            SagaState::Revoked => "revoked",
            SagaState::Expired => "expired",
        }
    }

    /// Whether the saga is over (nothing left for the reconciler).
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            SagaState::Completed
                | SagaState::Declined
                | SagaState::Failed
                | SagaState::Refunded
                | SagaState::Revoked
                | SagaState::Expired
        )
    }
}

impl std::fmt::Display for SagaState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Compares with the stored text (`state == "completed"`).
impl PartialEq<&str> for SagaState {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<str> for SagaState {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

/// Compares with the stored text (`gateway == "conekta"`).
impl PartialEq<&str> for GatewayKind {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
