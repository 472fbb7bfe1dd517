//! The refund check: insurance against a refund or chargeback notice that never comes. Every
//! `REFUND_CHECK_INTERVAL_SECS` it reads, at the gateway, completed purchases of the last
//! `REFUND_CHECK_WINDOW_DAYS` (at most `REFUND_CHECK_MAX_READS` a pass, taking up where the
//! last pass stopped) and applies a refund or chargeback it finds as a notice would.

use chrono::{DateTime, Utc};

use crate::db::{empresas, purchases};
use crate::gateways::PaymentStatus;
use crate::ids::EmpresaId;
use crate::state::AppState;

use super::saga::{self, UpdateOutcome};

/// What one pass did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RefundCheckReport {
    /// Payments read at the gateway.
    pub read: usize,
    /// Purchases whose access was taken away (refund or chargeback found).
    pub revoked: usize,
}

/// Where the next pass starts: after the last purchase read (by creation time), or from the
/// start of the window.
#[derive(Debug, Default, Clone)]
pub struct Cursor(Option<DateTime<Utc>>);

/// One pass: reads up to `refund_check_max_reads` completed purchases after the cursor.
pub async fn check_once(state: &AppState, cursor: &mut Cursor) -> RefundCheckReport {
    let settings = &state.config.purchase;
    let mut report = RefundCheckReport::default();
    let window =
        chrono::Duration::from_std(settings.refund_check_window).unwrap_or(chrono::Duration::MAX);
    let since = Utc::now() - window;
    let after = cursor.0.filter(|c| *c >= since);
    let batch =
        match purchases::completed_since(&state.db, since, after, settings.refund_check_max_reads)
            .await
        {
            Ok(b) => b,
            Err(e) => {
                tracing::warn!(error = %e, "refund check: cannot list purchases");
                return report;
            }
        };
    // A short batch reached the end: the next pass starts over.
    cursor.0 = if (batch.len() as u64) < settings.refund_check_max_reads {
        None
    } else {
        batch.last().map(|p| p.created_at)
    };
    for p in batch {
        let Some(payment_id) = p.gateway_payment_id.clone() else {
            continue;
        };
        let Ok(Some(empresa)) = empresas::find(&state.db, EmpresaId(&p.empresa_id)).await else {
            continue;
        };
        let Some(cred) = saga::gateway_credential(state, &empresa, p.gateway) else {
            continue;
        };
        report.read += 1;
        let status = match saga::gw_get(state, p.gateway, &cred, &payment_id).await {
            Ok(snap) => snap.status,
            Err(e) => {
                tracing::warn!(purchase_id = %p.id, error = %e, "refund check: payment not read");
                continue;
            }
        };
        if !matches!(
            status,
            PaymentStatus::Refunded | PaymentStatus::PartiallyRefunded | PaymentStatus::ChargedBack
        ) {
            continue;
        }
        tracing::warn!(purchase_id = %p.id, "refund check: a refund or chargeback came without its notice");
        match saga::on_gateway_update(state, &empresa, p.gateway, &payment_id).await {
            Ok(UpdateOutcome::Revoked) => report.revoked += 1,
            Ok(_) => {}
            Err(e) => tracing::warn!(purchase_id = %p.id, error = %e, "refund check: not applied"),
        }
    }
    if report.read > 0 {
        tracing::info!(?report, "refund check pass");
    }
    report
}

/// Runs [`check_once`] every `config.purchase.refund_check_interval`.
pub fn spawn(state: actix_web::web::Data<AppState>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut cursor = Cursor::default();
        let mut tick = tokio::time::interval(state.config.purchase.refund_check_interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // The first tick fires at once: let the service start first.
        tick.tick().await;
        loop {
            tick.tick().await;
            check_once(&state, &mut cursor).await;
        }
    })
}
