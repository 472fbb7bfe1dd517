//! The audit log: who changed what, and when, for every admin change.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};
use serde_json::Value;

use entity::audit_log;

use crate::auth::session::Session;

/// Records one admin change. Call it inside the same transaction as the change.
pub async fn record<C: ConnectionTrait>(
    db: &C,
    actor: &Session,
    empresa_id: Option<&str>,
    action: &str,
    target_type: &str,
    target_id: Option<&str>,
    details: Value,
) -> Result<(), sea_orm::DbErr> {
    audit_log::ActiveModel {
        at: Set(Utc::now()),
        actor_user_id: Set(Some(actor.user.id)),
        actor_email: Set(Some(actor.user.email.clone())),
        actor_role: Set(Some(actor.user.rol.clone())),
        empresa_id: Set(empresa_id.map(str::to_string)),
        action: Set(action.to_string()),
        target_type: Set(target_type.to_string()),
        target_id: Set(target_id.map(str::to_string)),
        details: Set(details),
        ..Default::default()
    }
    .insert(db)
    .await
    .map(|_| ())
}
