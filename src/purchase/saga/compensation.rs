//! Compensation: undo what a failed purchase did (refund, cancel, remove the user).

use sea_orm::{IntoActiveModel, Set};

use entity::{empresa, purchase};

use crate::db::transacciones;
use crate::error::Problem;
use crate::gateways::messages::conekta_status_message;
use crate::gateways::PaymentStatus;
use crate::metrics::CompensationKind;
use crate::routeros::BrokerError;
use crate::routeros::RouterError;
use crate::state::AppState;

use super::find_own_user;
use super::gateway::{gw_cancel, gw_get, gw_refund};
use super::gateway_credential;
use crate::db::purchases;
use crate::purchase::response::Reply;
use crate::purchase::user_comment;
use crate::purchase::SagaState;

/// Undoes a purchase: returns money that moved (refund, or cancel of an authorization), then
/// removes the hotspot user. Ends in `refunded`, `declined` or `failed`; stays `compensating`
/// (for the reconciler) when a step fails.
pub(crate) async fn compensate(
    state: &AppState,
    empresa: &empresa::Model,
    p: purchase::Model,
) -> purchase::Model {
    let p = purchases::best_effort(
        "move the state",
        &p.id,
        purchases::set_state(&state.db, p.clone(), SagaState::Compensating),
    )
    .await
    .unwrap_or(p);
    let (p, refunded) = match return_money(state, empresa, p).await {
        Ok(v) => v,
        Err(p) => return p,
    };
    // Remove the user.
    if let Err(e) = remove_user(state, &p).await {
        tracing::warn!(purchase_id = %p.id, error = %e, "could not remove the hotspot user yet");
        return purchases::retry_later(
            &state.db,
            p.clone(),
            &format!("remove user: {e}"),
            state.config.purchase.retry_delay,
        )
        .await;
    }
    let final_state = end_state(refunded, p.gateway_status.as_deref());
    let mut am = p.clone().into_active_model();
    am.state = Set(final_state);
    am.router_user_id = Set(None);
    am.next_attempt_at = Set(None);
    let p = purchases::best_effort("save", &p.id, purchases::save(&state.db, am))
        .await
        .unwrap_or(p);
    // A portal retry of a purchase finished in the background learns how it ended.
    let saved = match (final_state, p.response_status) {
        (SagaState::Refunded, None) => Some(Problem::RefundedNoAccess),
        (SagaState::Declined, None) => Some(Problem::PaymentNotApproved {
            message: conekta_status_message("other").to_string(),
        }),
        _ => None,
    };
    match saved {
        Some(problem) => {
            let r = Reply::from(problem);
            purchases::best_effort(
                "save the answer",
                &p.id,
                purchases::save_response(&state.db, p.clone(), r.status, &r.body),
            )
            .await
            .unwrap_or(p)
        }
        None => p,
    }
}

/// Returns money that moved (refund, or cancel of an authorization) and says whether it was
/// refunded. `Err` is the purchase as left for a later retry.
async fn return_money(
    state: &AppState,
    empresa: &empresa::Model,
    mut p: purchase::Model,
) -> Result<(purchase::Model, bool), purchase::Model> {
    let mut refunded = p.gateway_status.as_deref() == Some("refunded");
    let Some(gid) = p.gateway_payment_id.clone() else {
        return Ok((p, refunded));
    };
    let Some(cred) = gateway_credential(state, empresa, p.gateway) else {
        return Err(purchases::retry_later(
            &state.db,
            p.clone(),
            "no gateway credential",
            state.config.purchase.retry_delay,
        )
        .await);
    };
    let snap = match gw_get(state, p.gateway, &cred, &gid).await {
        Ok(s) => s,
        Err(e) => {
            return Err(purchases::retry_later(
                &state.db,
                p.clone(),
                &format!("compensate: {e}"),
                state.config.purchase.retry_delay,
            )
            .await);
        }
    };
    let result = match snap.status {
        PaymentStatus::Paid | PaymentStatus::PartiallyRefunded => {
            let left = snap.amount - snap.amount_refunded;
            Some(
                gw_refund(
                    state,
                    p.gateway,
                    &cred,
                    &gid,
                    left,
                    &format!("refund-{}", p.id),
                )
                .await,
            )
        }
        PaymentStatus::Authorized | PaymentStatus::Pending => {
            Some(gw_cancel(state, p.gateway, &cred, &gid).await)
        }
        _ => None,
    };
    let status = match result {
        None => snap.raw_status.clone(),
        Some(Ok(s)) => s.raw_status.clone(),
        Some(Err(e)) => {
            tracing::warn!(purchase_id = %p.id, error = %e, "refund/cancel failed");
            return Err(purchases::retry_later(
                &state.db,
                p.clone(),
                &format!("refund: {e}"),
                state.config.purchase.retry_delay,
            )
            .await);
        }
    };
    if matches!(
        snap.status,
        PaymentStatus::Paid | PaymentStatus::PartiallyRefunded
    ) || status == "refunded"
    {
        refunded = true;
    }
    let mut am = p.clone().into_active_model();
    am.gateway_status = Set(Some(if refunded {
        "refunded".to_string()
    } else {
        status.chars().take(32).collect()
    }));
    p = purchases::best_effort("save", &p.id, purchases::save(&state.db, am))
        .await
        .unwrap_or(p);
    Ok((p, refunded))
}

/// Where a compensated purchase ends: `refunded`, `declined` (the gateway refused or the
/// payment never happened) or `failed`.
fn end_state(refunded: bool, gateway_status: Option<&str>) -> SagaState {
    if refunded {
        SagaState::Refunded
    } else if matches!(
        gateway_status,
        Some(
            "declined"
                | "rejected"
                | "cancelled"
                | "canceled"
                | "voided"
                | "expired"
                | "pre_authorized"
                | "pending_payment"
        )
    ) {
        SagaState::Declined
    } else {
        SagaState::Failed
    }
}

/// Removes the purchase's user, found by name and `purchase:<id>` comment (never by a stored
/// `.id` alone, which a router that lost its state gives to another user).
pub(super) async fn remove_user(state: &AppState, p: &purchase::Model) -> Result<(), BrokerError> {
    let Some(id) = find_own_user(state, p).await? else {
        return Ok(());
    };
    let r = state.routers.remove_user(&p.router_id, &id).await;
    state
        .metrics
        .record_compensation(CompensationKind::RemoveUser, r.is_ok());
    match r {
        Ok(()) | Err(BrokerError::Router(RouterError::NotFound(_))) => Ok(()),
        Err(BrokerError::OutcomeUnknown) => match find_own_user(state, p).await? {
            None => Ok(()),
            Some(_) => Err(BrokerError::OutcomeUnknown),
        },
        Err(e) => Err(e),
    }
}

/// Takes access away from a completed purchase whose payment was refunded or charged back: the
/// hotspot user is disabled, its active sessions and MAC cookies are removed, and the router's
/// state is read back. Idempotent; stays `revoking` (for the reconciler) until the router
/// confirms that no access is left.
pub(crate) async fn revoke(state: &AppState, p: purchase::Model) -> purchase::Model {
    let p = purchases::best_effort(
        "move the state",
        &p.id,
        purchases::set_state(&state.db, p.clone(), SagaState::Revoking),
    )
    .await
    .unwrap_or(p);
    let res = match p.hotspot_username.as_deref() {
        Some(name) => revoke_on_router(state, &p.router_id, name, &user_comment(&p.id)).await,
        None => Ok(()),
    };
    if let Err(e) = res {
        return purchases::retry_later(
            &state.db,
            p.clone(),
            &format!("revoke access: {e}"),
            state.config.purchase.retry_delay,
        )
        .await;
    }
    purchases::best_effort(
        "mark the transaction revoked",
        &p.id,
        transacciones::mark_revoked(&state.db, &p.id),
    )
    .await;
    tracing::info!(purchase_id = %p.id, "access revoked after a refund or chargeback");
    purchases::best_effort(
        "move the state",
        &p.id,
        purchases::set_state(&state.db, p.clone(), SagaState::Revoked),
    )
    .await
    .unwrap_or(p)
}

/// Runs the router's revocation and checks its read-back; `Err` says why it must be retried.
async fn revoke_on_router(
    state: &AppState,
    router_id: &str,
    name: &str,
    comment: &str,
) -> Result<(), String> {
    let r = state
        .routers
        .revoke_access(router_id, name, Some(comment))
        .await;
    let ok = r.as_ref().is_ok_and(|report| report.is_complete());
    state
        .metrics
        .record_compensation(CompensationKind::DisableUser, ok);
    match r {
        Ok(report) if report.is_complete() => {
            tracing::info!(
                router_id,
                sessions_removed = report.sessions_removed,
                cookies_removed = report.cookies_removed,
                user_found = report.user_found,
                foreign_user = report.foreign_user,
                "hotspot access revoked on the router"
            );
            Ok(())
        }
        Ok(report) => Err(format!(
            "the router still shows access (user enabled: {}, sessions: {}, cookies: {})",
            report.user_enabled, report.sessions_left, report.cookies_left
        )),
        Err(e) => Err(e.to_string()),
    }
}
