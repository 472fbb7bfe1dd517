//! `idempotency_keys`: `Idempotency-Key` request records, keyed by (scope, key).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "idempotency_keys")]
pub struct Model {
    #[sea_orm(
        primary_key,
        auto_increment = false,
        column_type = "String(StringLen::N(100))"
    )]
    pub scope: String,
    #[sea_orm(
        primary_key,
        auto_increment = false,
        column_type = "String(StringLen::N(255))"
    )]
    pub key: String,
    /// SHA-256 hex of the request, to reject a reused key with a different body.
    #[sea_orm(column_type = "String(StringLen::N(64))")]
    pub request_hash: String,
    #[sea_orm(column_type = "String(StringLen::N(36))", nullable)]
    pub purchase_id: Option<String>,
    pub response_status: Option<i32>,
    pub response_body: Option<Json>,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
