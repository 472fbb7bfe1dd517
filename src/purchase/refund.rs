//! Refunds an admin asks for (`POST /api/v1/admin/mi-empresa/transacciones/{id}/reembolso`),
//! through the gateway's refund API (docs/access-lifecycle.md).
//!
//! A partial refund keeps the access (as a partial refund notice does). A refund of everything
//! that is left revokes the access at once, as a refund notice does: before the gateway is
//! called the purchase is written `revoking` with `gateway_status = refund_requested`, so a
//! crash anywhere after that is finished by the reconciler ([`finish_requested`]): it reads the
//! payment back, refunds what is still left (never twice: the gateway's own refunded amount
//! says what is left), records it, then revokes.

use chrono::Utc;
use rust_decimal::Decimal;
use sea_orm::{IntoActiveModel, Set};

use entity::{empresa, purchase};

use crate::db::{purchases, transacciones};
use crate::error::{ApiError, Problem};
use crate::gateways::{PaymentSnapshot, PaymentStatus};
use crate::purchase::saga::{self, gw_get, gw_refund};
use crate::purchase::SagaState;
use crate::state::AppState;

/// `gateway_status` of a purchase whose full refund was asked and not finished yet.
pub const REFUND_REQUESTED: &str = "refund_requested";

/// What a refund did.
#[derive(Debug, Clone)]
pub struct Refunded {
    /// The amount refunded now.
    pub amount: Decimal,
    /// The payment as the gateway shows it after the refund.
    pub snapshot: PaymentSnapshot,
    /// Everything is refunded now (the access is revoked).
    pub full: bool,
    /// The purchase as left (`revoked`, or `revoking` when the router could not confirm yet).
    pub purchase: purchase::Model,
}

/// Refunds `amount` (everything left when `None`) of the purchase's payment. The caller holds
/// the purchase's lease.
pub async fn refund(
    state: &AppState,
    empresa: &empresa::Model,
    p: purchase::Model,
    amount: Option<Decimal>,
) -> Result<Refunded, ApiError> {
    if !matches!(p.state, SagaState::Completed | SagaState::Expired) {
        return Err(Problem::RefundNotAllowed.into());
    }
    let gid = p
        .gateway_payment_id
        .clone()
        .ok_or_else(|| ApiError::from(Problem::RefundNotAllowed))?;
    let cred = saga::gateway_credential(state, empresa, p.gateway).ok_or_else(|| {
        ApiError::from(match p.gateway {
            crate::gateways::GatewayKind::Conekta => Problem::ConektaNotConfigured,
            crate::gateways::GatewayKind::MercadoPago => Problem::MercadoPagoNotConfigured,
        })
    })?;
    let snap = gw_get(state, p.gateway, &cred, &gid)
        .await
        .map_err(|e| ApiError::from(Problem::Gateway(e)))?;
    let left = (snap.amount - snap.amount_refunded).max(Decimal::ZERO);
    if left <= Decimal::ZERO
        || !matches!(
            snap.status,
            PaymentStatus::Paid | PaymentStatus::PartiallyRefunded
        )
    {
        return Err(Problem::RefundNotAllowed.into());
    }
    let amount = amount.unwrap_or(left);
    if amount > left {
        return Err(Problem::RefundTooLarge {
            left: left.round_dp(2).to_string(),
        }
        .into());
    }
    let full = amount == left;
    let revokes = full && p.state == SagaState::Completed;
    let before = p.clone();
    let p = if revokes {
        mark_requested(state, p).await?
    } else {
        p
    };
    let key = format!("admin-refund-{}-{}", p.id, snap.amount_refunded.round_dp(2));
    let after = match gw_refund(state, p.gateway, &cred, &gid, amount, &key).await {
        Ok(s) => s,
        Err(e) => {
            if revokes && !e.outcome_unknown() {
                // Refused: nothing moved; the purchase goes back to how it was.
                restore(state, before).await;
            }
            // An unknown outcome stays `refund_requested`: the reconciler reads the payment
            // back and finishes.
            return Err(Problem::Gateway(e).into());
        }
    };
    let p = record(state, p, &after, revokes).await;
    let p = if revokes {
        saga::revoke(state, p).await
    } else {
        p
    };
    Ok(Refunded {
        amount,
        snapshot: after,
        full,
        purchase: p,
    })
}

/// `revoking` + `refund_requested`, written before the gateway is called.
async fn mark_requested(state: &AppState, p: purchase::Model) -> Result<purchase::Model, ApiError> {
    let mut am = p.into_active_model();
    am.state = Set(SagaState::Revoking);
    am.gateway_status = Set(Some(REFUND_REQUESTED.into()));
    Ok(purchases::save(&state.db, am).await?)
}

async fn restore(state: &AppState, before: purchase::Model) {
    let id = before.id.clone();
    let mut am = before.clone().into_active_model();
    am.state = Set(before.state);
    am.gateway_status = Set(before.gateway_status.clone());
    purchases::best_effort(
        "restore after a refused refund",
        &id,
        purchases::save(&state.db, am),
    )
    .await;
}

/// Records the refund: the payment history's status and refunded amount, and the purchase's
/// `gateway_status` (no longer `refund_requested`).
async fn record(
    state: &AppState,
    p: purchase::Model,
    snap: &PaymentSnapshot,
    revokes: bool,
) -> purchase::Model {
    purchases::best_effort(
        "record the refund",
        &p.id,
        transacciones::sync_payment(
            &state.db,
            &p.id,
            &snap.raw_status,
            snap.amount_refunded,
            Utc::now(),
        ),
    )
    .await;
    if !revokes {
        return p;
    }
    let mut am = p.clone().into_active_model();
    am.gateway_status = Set(Some(snap.raw_status.chars().take(32).collect()));
    purchases::best_effort("save the refund", &p.id, purchases::save(&state.db, am))
        .await
        .unwrap_or(p)
}

/// The reconciler's part: a full refund asked for and interrupted (`revoking` +
/// `refund_requested`). Refunds what is still left, records it, then revokes.
pub async fn finish_requested(
    state: &AppState,
    empresa: &empresa::Model,
    p: purchase::Model,
) -> purchase::Model {
    let retry = |p: purchase::Model, e: String| async move {
        purchases::retry_later(&state.db, p, &e, state.config.purchase.retry_delay).await
    };
    let (Some(gid), Some(cred)) = (
        p.gateway_payment_id.clone(),
        saga::gateway_credential(state, empresa, p.gateway),
    ) else {
        return retry(p, "refund: no payment or credential".into()).await;
    };
    let snap = match gw_get(state, p.gateway, &cred, &gid).await {
        Ok(s) => s,
        Err(e) => return retry(p, format!("refund: {e}")).await,
    };
    let left = snap.amount - snap.amount_refunded;
    let snap = if left > Decimal::ZERO
        && matches!(
            snap.status,
            PaymentStatus::Paid | PaymentStatus::PartiallyRefunded
        ) {
        let key = format!("admin-refund-{}-{}", p.id, snap.amount_refunded.round_dp(2));
        match gw_refund(state, p.gateway, &cred, &gid, left, &key).await {
            Ok(s) => s,
            Err(e) => return retry(p, format!("refund: {e}")).await,
        }
    } else {
        snap
    };
    let p = record(state, p, &snap, true).await;
    saga::revoke(state, p).await
}
