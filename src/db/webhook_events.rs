//! `webhook_events`: gateway notifications received, one row per (provider, event id), so a
//! replayed delivery is recognised.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel,
    QueryFilter, Set,
};

use entity::webhook_event::{ActiveModel, Column, Entity, Model};

use crate::error::is_unique_violation;
use crate::ids::EmpresaId;

/// A recorded notification.
pub type WebhookEvent = Model;

/// Longest event id kept (longer ones are cut).
const MAX_EVENT_ID: usize = 255;

/// Records a notification as `received`; `None` when this event was recorded already.
pub async fn record_new<C: ConnectionTrait>(
    db: &C,
    provider: &str,
    event_id: &str,
    empresa: EmpresaId<'_>,
    payload_sha256: String,
) -> Result<Option<Model>, DbErr> {
    let ev = ActiveModel {
        provider: Set(provider.into()),
        event_id: Set(event_id.chars().take(MAX_EVENT_ID).collect()),
        empresa_id: Set(Some(empresa.as_str().into())),
        received_at: Set(Utc::now()),
        payload_sha256: Set(payload_sha256),
        outcome: Set("received".into()),
        ..Default::default()
    };
    match ev.insert(db).await {
        Ok(m) => Ok(Some(m)),
        Err(e) if is_unique_violation(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Stores what processing the event led to.
pub async fn set_outcome<C: ConnectionTrait>(
    db: &C,
    event: Model,
    outcome: &str,
) -> Result<(), DbErr> {
    let mut m = event.into_active_model();
    m.outcome = Set(outcome.into());
    m.update(db).await?;
    Ok(())
}

/// Forgets the event, so that the gateway's next delivery of it is processed.
pub async fn forget<C: ConnectionTrait>(db: &C, event: &Model) -> Result<(), DbErr> {
    Entity::delete_by_id(event.id).exec(db).await?;
    Ok(())
}

/// Every event recorded for the company.
pub async fn list_for_empresa<C: ConnectionTrait>(
    db: &C,
    empresa: EmpresaId<'_>,
) -> Result<Vec<Model>, DbErr> {
    Entity::find()
        .filter(Column::EmpresaId.eq(empresa.as_str()))
        .all(db)
        .await
}
