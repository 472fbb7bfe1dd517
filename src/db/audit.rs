//! `audit_log`: who changed what, and when, for every admin change.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde_json::Value;

use entity::audit_log::{ActiveModel, Column, Entity, Model};

pub use entity::audit_log::AuditAction;

use crate::auth::session::Session;
use crate::ids::EmpresaId;

/// An audit row.
pub type AuditEntry = Model;

/// Records one admin change. Call it inside the same transaction as the change.
pub async fn record<C: ConnectionTrait>(
    db: &C,
    actor: &Session,
    empresa_id: Option<&str>,
    action: AuditAction,
    target_id: Option<&str>,
    details: Value,
) -> Result<(), DbErr> {
    ActiveModel {
        at: Set(Utc::now()),
        actor_user_id: Set(Some(actor.user.id)),
        actor_email: Set(Some(actor.user.email.clone())),
        actor_role: Set(Some(actor.user.rol.as_str().to_string())),
        empresa_id: Set(empresa_id.map(str::to_string)),
        action: Set(action),
        target_type: Set(action.target_type().to_string()),
        target_id: Set(target_id.map(str::to_string)),
        details: Set(details),
        ..Default::default()
    }
    .insert(db)
    .await
    .map(|_| ())
}

/// Records a change the service made by itself (a background job): no actor user, role
/// `system`.
pub async fn record_system<C: ConnectionTrait>(
    db: &C,
    empresa_id: &str,
    action: AuditAction,
    target_id: &str,
    details: Value,
) -> Result<(), DbErr> {
    ActiveModel {
        at: Set(Utc::now()),
        actor_user_id: Set(None),
        actor_email: Set(None),
        actor_role: Set(Some("system".into())),
        empresa_id: Set(Some(empresa_id.to_string())),
        action: Set(action),
        target_type: Set(action.target_type().to_string()),
        target_id: Set(Some(target_id.to_string())),
        details: Set(details),
        ..Default::default()
    }
    .insert(db)
    .await
    .map(|_| ())
}

/// One page of audit entries (of one company when given), newest first, and how many match.
pub async fn page<C: ConnectionTrait>(
    db: &C,
    empresa: Option<EmpresaId<'_>>,
    limit: u64,
    offset: u64,
) -> Result<(u64, Vec<Model>), DbErr> {
    let mut select = Entity::find();
    if let Some(e) = empresa {
        select = select.filter(Column::EmpresaId.eq(e.as_str()));
    }
    let total = select.clone().count(db).await?;
    let rows = select
        .order_by_desc(Column::At)
        .order_by_desc(Column::Id)
        .limit(limit)
        .offset(offset)
        .all(db)
        .await?;
    Ok((total, rows))
}
