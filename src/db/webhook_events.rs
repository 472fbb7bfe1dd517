//! `webhook_events`: gateway notifications received, one row per (provider, event id), so a
//! replayed delivery is recognised.

use chrono::Utc;
use sea_orm::sea_query::Expr;
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

/// Outcome of an event recorded but not (yet) processed.
pub const RECEIVED: &str = "received";

/// Records a notification as `received`; `None` when this event was recorded already and is
/// done or being processed. An event left `received` for longer than `abandoned_after` (its
/// processing died with the service) is taken over: the caller processes it again, so a
/// redelivery of a notice whose effect was never committed is applied, not dropped.
pub async fn record_new<C: ConnectionTrait>(
    db: &C,
    provider: &str,
    event_id: &str,
    empresa: EmpresaId<'_>,
    payload_sha256: String,
    abandoned_after: chrono::Duration,
) -> Result<Option<Model>, DbErr> {
    let event_id: String = event_id.chars().take(MAX_EVENT_ID).collect();
    let ev = ActiveModel {
        provider: Set(provider.into()),
        event_id: Set(event_id.clone()),
        empresa_id: Set(Some(empresa.as_str().into())),
        received_at: Set(Utc::now()),
        payload_sha256: Set(payload_sha256),
        outcome: Set(RECEIVED.into()),
        ..Default::default()
    };
    match ev.insert(db).await {
        Ok(m) => Ok(Some(m)),
        Err(e) if is_unique_violation(&e) => {
            take_over_abandoned(db, provider, &event_id, abandoned_after).await
        }
        Err(e) => Err(e),
    }
}

/// The recorded event, when it was left unprocessed for longer than `abandoned_after`, claimed
/// for this caller (one conditional UPDATE: of two concurrent redeliveries, one takes it).
async fn take_over_abandoned<C: ConnectionTrait>(
    db: &C,
    provider: &str,
    event_id: &str,
    abandoned_after: chrono::Duration,
) -> Result<Option<Model>, DbErr> {
    let now = Utc::now();
    let claimed = Entity::update_many()
        .col_expr(Column::ReceivedAt, Expr::value(now))
        .filter(Column::Provider.eq(provider))
        .filter(Column::EventId.eq(event_id))
        .filter(Column::Outcome.eq(RECEIVED))
        .filter(Column::ReceivedAt.lt(now - abandoned_after))
        .exec(db)
        .await?;
    if claimed.rows_affected != 1 {
        return Ok(None);
    }
    Entity::find()
        .filter(Column::Provider.eq(provider))
        .filter(Column::EventId.eq(event_id))
        .one(db)
        .await
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
