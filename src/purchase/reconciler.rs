//! Drives purchases stuck in an intermediate state to a final state.
//!
//! Each due purchase is claimed with a lease (a conditional `UPDATE … WHERE locked_until IS NULL
//! OR locked_until < now`), so several replicas can run this at once on PostgreSQL or SQLite
//! without working on the same purchase. What happened at the gateway is asked by our reference;
//! the reconciler never starts a new charge.

use chrono::Utc;

use serde::Serialize;

use entity::{empresa, purchase};

use crate::gateways::PaymentStatus;
use crate::ids::EmpresaId;
use crate::metrics::ReconcilerAction;
use crate::state::AppState;

use super::saga::{self, Finish};
use crate::db::purchases;
use crate::purchase::SagaState;

/// Purchases looked at per pass.
const BATCH: u64 = 100;

/// What one pass did.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct ReconcileReport {
    /// Purchases claimed and worked on.
    pub examined: usize,
    pub completed: usize,
    pub refunded: usize,
    pub declined: usize,
    pub failed: usize,
    pub revoked: usize,
    /// Still intermediate after this pass (retried later).
    pub unfinished: usize,
}

impl ReconcileReport {
    fn count(&mut self, state: SagaState) {
        match state {
            SagaState::Completed => self.completed += 1,
            SagaState::Refunded => self.refunded += 1,
            SagaState::Declined => self.declined += 1,
            SagaState::Failed => self.failed += 1,
            SagaState::Revoked => self.revoked += 1,
            _ => self.unfinished += 1,
        }
    }
}

/// One pass over the due purchases.
pub async fn reconcile_once(state: &AppState) -> ReconcileReport {
    let mut report = ReconcileReport::default();
    let now = Utc::now();
    let due = match purchases::due(&state.db, now, BATCH).await {
        Ok(d) => d,
        Err(e) => {
            tracing::warn!(error = %e, "reconciler: cannot list purchases");
            return report;
        }
    };
    state.metrics.set_reconciler_backlog(due.len());
    for p in due {
        match purchases::claim(&state.db, &p.id, now, state.config.purchase.reconcile_lease).await {
            Ok(true) => {}
            Ok(false) => continue,
            Err(e) => {
                tracing::warn!(purchase_id = %p.id, error = %e, "reconciler: claim failed");
                continue;
            }
        }
        // Re-read under the lease.
        let p = match purchases::find(&state.db, &p.id).await {
            Ok(Some(p)) => p,
            _ => continue,
        };
        let id = p.id.clone();
        report.examined += 1;
        let end = drive(state, p).await;
        report.count(end);
        let action = match end {
            SagaState::Completed => ReconcilerAction::Completed,
            SagaState::Refunded => ReconcilerAction::Refunded,
            SagaState::Declined => ReconcilerAction::Cancelled,
            SagaState::Failed => ReconcilerAction::MarkedFailed,
            _ => ReconcilerAction::Retried,
        };
        state.metrics.record_reconciler_action(action);
        if let Err(e) = purchases::unlock(&state.db, &id).await {
            tracing::warn!(purchase_id = %id, error = %e, "reconciler: unlock failed");
        }
    }
    if report.examined > 0 {
        tracing::info!(?report, "reconciler pass");
    }
    report
}

/// Runs [`reconcile_once`] every `config.purchase.reconcile_interval`.
pub fn spawn(state: actix_web::web::Data<AppState>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(state.config.purchase.reconcile_interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            reconcile_once(&state).await;
        }
    })
}

fn older_than(p: &purchase::Model, d: std::time::Duration) -> bool {
    let age = Utc::now() - p.created_at;
    age.to_std().map(|a| a > d).unwrap_or(false)
}

/// Drives one claimed purchase; returns the state it ended in.
async fn drive(state: &AppState, p: purchase::Model) -> SagaState {
    let empresa = match crate::db::empresas::find(&state.db, EmpresaId(&p.empresa_id)).await {
        Ok(Some(e)) => e,
        _ => return p.state,
    };
    match p.state {
        // Never charged: undo the user; the portal may retry with the same key.
        SagaState::Created | SagaState::CreatingUser | SagaState::UserCreated => {
            undo_uncharged(state, &empresa, p).await
        }
        SagaState::Charging => drive_charging(state, &empresa, p).await,
        SagaState::Charged | SagaState::Confirmed => {
            let Some(cred) = saga::gateway_credential(state, &empresa, p.gateway) else {
                return p.state;
            };
            finish(state, &empresa, p, &cred).await
        }
        SagaState::Pending => drive_pending(state, &empresa, p).await,
        SagaState::Compensating => saga::compensate(state, &empresa, p).await.state,
        SagaState::Revoking
            if p.gateway_status.as_deref() == Some(super::refund::REFUND_REQUESTED) =>
        {
            super::refund::finish_requested(state, &empresa, p)
                .await
                .state
        }
        SagaState::Revoking => saga::revoke(state, p).await.state,
        _ => p.state,
    }
}

/// Undoes a purchase that was never charged and frees its key once the undo is over.
async fn undo_uncharged(
    state: &AppState,
    empresa: &empresa::Model,
    p: purchase::Model,
) -> SagaState {
    let p = saga::compensate(state, empresa, p).await;
    if p.state.is_terminal() {
        purchases::free_key(&state.db, &p).await;
    }
    p.state
}

/// A charge whose outcome is unknown: look it up by our reference, then finish, wait or undo.
async fn drive_charging(
    state: &AppState,
    empresa: &empresa::Model,
    p: purchase::Model,
) -> SagaState {
    let settings = &state.config.purchase;
    let Some(cred) = saga::gateway_credential(state, empresa, p.gateway) else {
        return p.state;
    };
    let found = saga::gw_find(state, p.gateway, &cred, &p.id).await;
    match found {
        Ok(Some(snap)) => {
            let status = snap.status.clone();
            let mut am = sea_orm::IntoActiveModel::into_active_model(p.clone());
            am.gateway_payment_id = sea_orm::Set(Some(snap.gateway_id.clone()));
            am.gateway_status = sea_orm::Set(Some(snap.raw_status.chars().take(32).collect()));
            am.state = sea_orm::Set(match status {
                PaymentStatus::Paid => SagaState::Charged,
                PaymentStatus::Pending | PaymentStatus::Authorized => SagaState::Pending,
                _ => SagaState::Charging,
            });
            let Some(p) = purchases::best_effort(
                "save the gateway answer",
                &p.id,
                purchases::save(&state.db, am),
            )
            .await
            else {
                return p.state;
            };
            match status {
                PaymentStatus::Paid => finish(state, empresa, p, &cred).await,
                PaymentStatus::Pending | PaymentStatus::Authorized => p.state,
                _ => saga::compensate(state, empresa, p).await.state,
            }
        }
        Ok(None) if older_than(&p, settings.unknown_charge_deadline) => {
            // Nothing was charged under our reference: undo.
            undo_uncharged(state, empresa, p).await
        }
        Ok(None) => {
            purchases::retry_later(
                &state.db,
                p.clone(),
                "charge not found yet",
                settings.retry_delay,
            )
            .await;
            p.state
        }
        Err(e) => {
            purchases::retry_later(&state.db, p.clone(), &e.to_string(), settings.retry_delay)
                .await;
            p.state
        }
    }
}

/// A payment the gateway left pending: finish it once paid, undo it once refused or too old.
async fn drive_pending(
    state: &AppState,
    empresa: &empresa::Model,
    p: purchase::Model,
) -> SagaState {
    let settings = &state.config.purchase;
    let Some(cred) = saga::gateway_credential(state, empresa, p.gateway) else {
        return p.state;
    };
    let Some(gid) = p.gateway_payment_id.clone() else {
        return p.state;
    };
    match saga::gw_get(state, p.gateway, &cred, &gid).await {
        Ok(snap) => match snap.status {
            PaymentStatus::Paid => {
                let p = purchases::best_effort(
                    "move the state",
                    &p.id,
                    purchases::set_state(&state.db, p.clone(), SagaState::Charged),
                )
                .await
                .unwrap_or(p);
                finish(state, empresa, p, &cred).await
            }
            PaymentStatus::Pending | PaymentStatus::Authorized
                if !older_than(&p, settings.pending_deadline) =>
            {
                purchases::retry_later(
                    &state.db,
                    p.clone(),
                    "payment still pending",
                    settings.retry_delay,
                )
                .await;
                p.state
            }
            _ => {
                let mut am = sea_orm::IntoActiveModel::into_active_model(p.clone());
                am.gateway_status = sea_orm::Set(Some(snap.raw_status.chars().take(32).collect()));
                let p = purchases::best_effort("save", &p.id, purchases::save(&state.db, am))
                    .await
                    .unwrap_or(p);
                saga::compensate(state, empresa, p).await.state
            }
        },
        Err(e) => {
            purchases::retry_later(&state.db, p.clone(), &e.to_string(), settings.retry_delay)
                .await;
            p.state
        }
    }
}

/// Confirm, enable, record; past the enable deadline, refund instead.
async fn finish(
    state: &AppState,
    empresa: &empresa::Model,
    p: purchase::Model,
    cred: &str,
) -> SagaState {
    match saga::finish_paid(state, empresa, p, cred, None, None).await {
        Finish::Done(p, snap) => {
            let body = saga::completed_body(state, &p, &snap).await;
            purchases::best_effort(
                "save the answer",
                &p.id,
                purchases::save_response(&state.db, p.clone(), 200, &body),
            )
            .await;
            p.state
        }
        Finish::Stopped(p, _) => {
            if (p.state == SagaState::Confirmed || p.state == SagaState::Charged)
                && older_than(&p, state.config.purchase.enable_deadline)
            {
                tracing::warn!(purchase_id = %p.id, "enable deadline passed; refunding");
                saga::compensate(state, empresa, p).await.state
            } else {
                p.state
            }
        }
    }
}
