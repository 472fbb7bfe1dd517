//! Gateway updates (webhooks, polling) applied to a waiting purchase.

use std::time::Duration;

use chrono::Utc;
use sea_orm::{IntoActiveModel, Set};

use entity::{empresa, purchase};

use crate::db::transacciones;
use crate::error::{ApiError, Problem};
use crate::gateways::{GatewayError, PaymentSnapshot, PaymentStatus};
use crate::state::AppState;

use super::compensation::{compensate, revoke};
use super::completion::{completed_body, finish_paid, Finish};
use super::gateway::gw_get;
use super::gateway_credential;
use crate::db::purchases;
use crate::purchase::{GatewayKind, SagaState};

/// What a gateway update did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpdateOutcome {
    /// No purchase of this company carries that payment.
    UnknownPayment,
    /// Nothing to do in the purchase's state.
    NoChange,
    /// The purchase stayed leased by someone else (a saga, the reconciler, another
    /// notification) for `webhook_lease_wait`: not applied; a webhook is answered 503 so the
    /// gateway sends it again.
    Busy,
    Completed,
    Declined,
    Revoked,
}

/// Takes the purchase's lease, polling until `wait` has passed; `false` if it stayed taken.
pub(super) async fn claim_within(
    state: &AppState,
    id: &str,
    wait: Duration,
) -> Result<bool, sea_orm::DbErr> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        if purchases::claim(
            &state.db,
            id,
            Utc::now(),
            state.config.purchase.reconcile_lease,
        )
        .await?
        {
            return Ok(true);
        }
        if tokio::time::Instant::now() >= deadline {
            return Ok(false);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Re-reads a payment from the gateway and drives its purchase: an approval completes a pending
/// purchase; a refund or chargeback revokes a completed one.
pub async fn on_gateway_update(
    state: &AppState,
    empresa: &empresa::Model,
    gateway: GatewayKind,
    payment_id: &str,
) -> Result<UpdateOutcome, ApiError> {
    let Some(cred) = gateway_credential(state, empresa, gateway) else {
        return Ok(UpdateOutcome::UnknownPayment);
    };
    let snap = match gw_get(state, gateway, &cred, payment_id).await {
        Ok(s) => s,
        Err(GatewayError::NotFound { .. }) => return Ok(UpdateOutcome::UnknownPayment),
        Err(e) => return Err(Problem::GatewayUpdateUnavailable(e).into()),
    };
    let mut p =
        purchases::by_gateway_payment(&state.db, &empresa.id, gateway, &snap.gateway_id).await?;
    if p.is_none() {
        if let Some(r) = snap.our_reference.as_deref() {
            p = purchases::find(&state.db, r)
                .await?
                .filter(|p| p.empresa_id == empresa.id && p.gateway == gateway);
        }
    }
    let Some(p) = p else {
        return Ok(UpdateOutcome::UnknownPayment);
    };
    let span = tracing::Span::current();
    span.record("purchase_id", p.id.as_str());
    span.record("router_id", p.router_id.as_str());
    let now = Utc::now();
    let lease = state.config.purchase.reconcile_lease;
    let snap = if purchases::claim(&state.db, &p.id, now, lease).await? {
        snap
    } else {
        // A saga, the reconciler or another notification holds the purchase: wait (bounded)
        // for it, then read the payment again — what the holder did may already cover it, or
        // the payment may have changed since (a refund right after the purchase).
        if !claim_within(state, &p.id, state.config.purchase.webhook_lease_wait).await? {
            return Ok(UpdateOutcome::Busy);
        }
        match gw_get(state, gateway, &cred, payment_id).await {
            Ok(s) => s,
            Err(e) => {
                purchases::unlock(&state.db, &p.id).await?;
                return Err(Problem::GatewayUpdateUnavailable(e).into());
            }
        }
    };
    let p = purchases::find(&state.db, &p.id).await?.unwrap_or(p);
    let id = p.id.clone();
    let out = apply_update(state, empresa, p, &snap, &cred).await;
    purchases::unlock(&state.db, &id).await?;
    // Keep the payment history in step with the gateway, the refunded amount included (a
    // partial refund keeps the access: docs/access-lifecycle.md).
    transacciones::sync_payment(&state.db, &id, &snap.raw_status, snap.amount_refunded, now)
        .await?;
    Ok(out)
}

pub(super) async fn apply_update(
    state: &AppState,
    empresa: &empresa::Model,
    p: purchase::Model,
    snap: &PaymentSnapshot,
    cred: &str,
) -> UpdateOutcome {
    match (p.state, &snap.status) {
        (
            SagaState::Pending | SagaState::Charging | SagaState::Charged | SagaState::Confirmed,
            PaymentStatus::Paid,
        ) => {
            let id = p.id.clone();
            let mut am = p.into_active_model();
            am.gateway_payment_id = Set(Some(snap.gateway_id.clone()));
            let Some(p) =
                purchases::best_effort("save the payment id", &id, purchases::save(&state.db, am))
                    .await
            else {
                return UpdateOutcome::NoChange;
            };
            match finish_paid(state, empresa, p, cred, None, None).await {
                Finish::Done(p, snap) => {
                    let body = completed_body(state, &p, &snap).await;
                    let id = p.id.clone();
                    purchases::best_effort(
                        "save the answer",
                        &id,
                        purchases::save_response(&state.db, p, 200, &body),
                    )
                    .await;
                    UpdateOutcome::Completed
                }
                Finish::Stopped(..) => UpdateOutcome::NoChange,
            }
        }
        (
            SagaState::Pending | SagaState::Charging,
            PaymentStatus::Declined | PaymentStatus::Cancelled,
        ) => {
            let id = p.id.clone();
            let mut am = p.into_active_model();
            am.gateway_payment_id = Set(Some(snap.gateway_id.clone()));
            am.gateway_status = Set(Some(snap.raw_status.chars().take(32).collect()));
            let Some(p) = purchases::best_effort(
                "save the gateway status",
                &id,
                purchases::save(&state.db, am),
            )
            .await
            else {
                return UpdateOutcome::NoChange;
            };
            compensate(state, empresa, p).await;
            UpdateOutcome::Declined
        }
        (
            SagaState::Completed | SagaState::Revoking,
            PaymentStatus::Refunded | PaymentStatus::ChargedBack | PaymentStatus::Cancelled,
        ) => {
            let id = p.id.clone();
            let mut am = p.into_active_model();
            am.gateway_status = Set(Some(snap.raw_status.chars().take(32).collect()));
            let Some(p) = purchases::best_effort(
                "save the gateway status",
                &id,
                purchases::save(&state.db, am),
            )
            .await
            else {
                return UpdateOutcome::NoChange;
            };
            let p = revoke(state, p).await;
            if p.state == SagaState::Revoked {
                UpdateOutcome::Revoked
            } else {
                UpdateOutcome::NoChange
            }
        }
        _ => UpdateOutcome::NoChange,
    }
}
