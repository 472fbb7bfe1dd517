//! The expiry job: ends the access of plans whose validity or budget is over, through the
//! broker (docs/access-lifecycle.md).
//!
//! Each pass reads the completed purchases that have a validity or a budget, groups them by
//! router and, per router, reads the router's users (their `uptime` and bytes against their
//! limits) and, while a `primer_login` validity waits for its first login, its active
//! sessions: one `print` each per router and pass. An access that is over is ended under the
//! purchase's lease (safe with several replicas, as the reconciler's): its sessions and MAC
//! cookies are removed and its user disabled (read back), then the user is removed unless the
//! company's `al_expirar` is `deshabilitar`; the purchase becomes `expired` with `ended_at`, its
//! transaction `estado_hotspot` `expired`, and an audit row is written.
//!
//! Pacing: at most [`PER_ROUTER`] expiries run at once on one router (removals bypass the
//! broker's queue bound, so the job bounds itself) and at most [`ROUTERS_AT_ONCE`] routers are
//! worked on at once. A router that cannot be reached is skipped; its purchases stay due and
//! are ended on a later pass, once it is back.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use futures_util::stream::{self, StreamExt};
use serde::Serialize;
use serde_json::json;

use entity::purchase;

use crate::db::audit::{self, AuditAction};
use crate::db::empresas::AL_EXPIRAR_DESHABILITAR;
use crate::db::{purchases, transacciones};
use crate::ids::EmpresaId;
use crate::purchase::lifecycle::{self, EndReason};
use crate::purchase::user_comment;
use crate::routeros::commands::{ActiveSession, HotspotUser};
use crate::routeros::{BrokerError, RouterError};
use crate::state::AppState;

/// Purchases looked at per pass at most.
const BATCH: u64 = 20_000;
/// Expiries in flight at once on one router.
pub const PER_ROUTER: usize = 4;
/// Routers worked on at once.
pub const ROUTERS_AT_ONCE: usize = 32;

/// What one pass did.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct ExpiryReport {
    /// Watched purchases looked at.
    pub examined: usize,
    /// `primer_login` validities whose first login was seen (their end is now set).
    pub first_logins: usize,
    /// Accesses ended.
    pub expired: usize,
    /// Over, but not ended this pass (router unreachable, lease held elsewhere): retried.
    pub unfinished: usize,
    /// Routers that could not be read.
    pub routers_unreachable: usize,
}

impl ExpiryReport {
    fn add(&mut self, o: &ExpiryReport) {
        self.examined += o.examined;
        self.first_logins += o.first_logins;
        self.expired += o.expired;
        self.unfinished += o.unfinished;
        self.routers_unreachable += o.routers_unreachable;
    }
}

/// One pass at `now` (tests pass a later `now` to move the service's clock forward).
pub async fn expire_once(state: &AppState, now: DateTime<Utc>) -> ExpiryReport {
    let watched = match purchases::watched(&state.db, now, BATCH).await {
        Ok(w) => w,
        Err(e) => {
            tracing::warn!(error = %e, "expiry: cannot list purchases");
            return ExpiryReport::default();
        }
    };
    let mut by_router: HashMap<String, Vec<purchase::Model>> = HashMap::new();
    for p in watched {
        by_router.entry(p.router_id.clone()).or_default().push(p);
    }
    let reports: Vec<ExpiryReport> = stream::iter(by_router)
        .map(|(router_id, ps)| router_pass(state, router_id, ps, now))
        .buffer_unordered(ROUTERS_AT_ONCE)
        .collect()
        .await;
    let mut report = ExpiryReport::default();
    for r in &reports {
        report.add(r);
    }
    if report.expired > 0 || report.first_logins > 0 || report.unfinished > 0 {
        tracing::info!(?report, "expiry pass");
    }
    report
}

/// Runs [`expire_once`] every `config.purchase.expiry_interval`.
pub fn spawn(state: actix_web::web::Data<AppState>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(state.config.purchase.expiry_interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            expire_once(&state, Utc::now()).await;
        }
    })
}

/// What the router shows of its users and sessions (only what the pass needs).
#[derive(Default)]
struct RouterView {
    users: HashMap<String, HotspotUser>,
    sessions: Vec<ActiveSession>,
}

impl RouterView {
    fn user_of(&self, p: &purchase::Model) -> Option<&HotspotUser> {
        self.users.get(&user_comment(&p.id))
    }

    fn sessions_of(&self, p: &purchase::Model) -> Vec<&ActiveSession> {
        let name = p.hotspot_username.as_deref().unwrap_or_default();
        self.sessions.iter().filter(|s| s.user == name).collect()
    }
}

/// Reads the users (and, when a first login is awaited, the sessions) of the router, when any
/// purchase needs the router's counters.
async fn read_router(
    state: &AppState,
    router_id: &str,
    ps: &[purchase::Model],
) -> Result<RouterView, BrokerError> {
    let counters = ps
        .iter()
        .any(|p| p.usage_minutes.is_some() || p.data_limit_mb.is_some());
    let first_login = ps.iter().any(lifecycle::awaits_first_login);
    let mut view = RouterView::default();
    if counters || first_login {
        view.users = state
            .routers
            .list_users(router_id)
            .await?
            .into_iter()
            .filter_map(|u| u.comment.clone().map(|c| (c, u)))
            .collect();
    }
    if first_login {
        view.sessions = state.routers.list_active(router_id).await?;
    }
    Ok(view)
}

/// One router's watched purchases: first logins recorded, accesses that are over ended.
async fn router_pass(
    state: &AppState,
    router_id: String,
    mut ps: Vec<purchase::Model>,
    now: DateTime<Utc>,
) -> ExpiryReport {
    let mut report = ExpiryReport {
        examined: ps.len(),
        ..ExpiryReport::default()
    };
    let view = match read_router(state, &router_id, &ps).await {
        Ok(v) => v,
        Err(e) => {
            tracing::info!(router_id, error = %e, "expiry: router not readable; retried next pass");
            report.routers_unreachable = 1;
            report.unfinished = ps
                .iter()
                .filter(|p| lifecycle::end_reason(p, None, now).is_some())
                .count();
            return report;
        }
    };
    for p in ps.iter_mut().filter(|p| lifecycle::awaits_first_login(p)) {
        let seen = lifecycle::first_login_seen(view.user_of(p), &view.sessions_of(p), now);
        if let Some(at) = seen.and_then(|at| lifecycle::expiry_from_first_login(p, at)) {
            if record_first_login(state, p, at).await {
                report.first_logins += 1;
            }
        }
    }
    record_usage(state, &ps, &view).await;
    let due: Vec<(purchase::Model, EndReason)> = ps
        .into_iter()
        .filter_map(|p| {
            let reason = lifecycle::end_reason(&p, view.user_of(&p), now)?;
            Some((p, reason))
        })
        .collect();
    let ended: Vec<bool> = stream::iter(due)
        .map(|(p, reason)| end_access(state, p, reason, now))
        .buffer_unordered(PER_ROUTER)
        .collect()
        .await;
    report.expired = ended.iter().filter(|e| **e).count();
    report.unfinished = ended.len() - report.expired;
    report
}

/// Keeps what the router shows each budget plan's user consumed (written only when it moved):
/// a router that loses the user gets it back with what is left.
async fn record_usage(state: &AppState, ps: &[purchase::Model], view: &RouterView) {
    for p in ps
        .iter()
        .filter(|p| p.usage_minutes.is_some() || p.data_limit_mb.is_some())
    {
        let Some(u) = view.user_of(p) else { continue };
        let (secs, bytes) = lifecycle::consumed(u);
        if p.uptime_used_secs != Some(secs) || p.bytes_used != Some(bytes) {
            purchases::best_effort(
                "record the usage",
                &p.id,
                purchases::set_usage(&state.db, &p.id, secs, bytes),
            )
            .await;
        }
    }
}

/// Writes the end of a `primer_login` validity to the purchase and its transaction.
async fn record_first_login(state: &AppState, p: &mut purchase::Model, at: DateTime<Utc>) -> bool {
    match purchases::set_expires_at(&state.db, &p.id, at).await {
        Ok(_) => {
            p.expires_at = Some(at);
            purchases::best_effort(
                "record the access's end",
                &p.id,
                transacciones::set_expiry(&state.db, &p.id, at),
            )
            .await;
            tracing::info!(purchase_id = %p.id, expires_at = %at, "first login seen; validity started");
            true
        }
        Err(e) => {
            tracing::warn!(purchase_id = %p.id, error = %e, "expiry: cannot record the first login");
            false
        }
    }
}

/// Ends one access under the purchase's lease; whether it is over now.
async fn end_access(
    state: &AppState,
    p: purchase::Model,
    reason: EndReason,
    now: DateTime<Utc>,
) -> bool {
    let lease = state.config.purchase.reconcile_lease;
    match purchases::claim(&state.db, &p.id, Utc::now(), lease).await {
        Ok(true) => {}
        Ok(false) => return false,
        Err(e) => {
            tracing::warn!(purchase_id = %p.id, error = %e, "expiry: claim failed");
            return false;
        }
    }
    // Re-read under the lease: a refund may have revoked it meanwhile.
    let p = match purchases::find(&state.db, &p.id).await {
        Ok(Some(p)) if p.state == purchase::SagaState::Completed => p,
        _ => {
            release(state, &p.id).await;
            return false;
        }
    };
    let disable_only = match crate::db::empresas::find(&state.db, EmpresaId(&p.empresa_id)).await {
        Ok(Some(e)) => e.al_expirar == AL_EXPIRAR_DESHABILITAR,
        _ => false,
    };
    if let Err(e) = end_on_router(state, &p, disable_only).await {
        tracing::info!(purchase_id = %p.id, error = %e, "expiry: not ended on the router; retried next pass");
        release(state, &p.id).await;
        return false;
    }
    finish(state, &p, reason, disable_only, now).await
}

async fn release(state: &AppState, id: &str) {
    if let Err(e) = purchases::unlock(&state.db, id).await {
        tracing::warn!(purchase_id = %id, error = %e, "expiry: unlock failed");
    }
}

/// On the router: sessions and cookies removed and the user disabled (read back), then the user
/// removed unless `disable_only`.
async fn end_on_router(
    state: &AppState,
    p: &purchase::Model,
    disable_only: bool,
) -> Result<(), String> {
    let Some(name) = p.hotspot_username.as_deref() else {
        return Ok(());
    };
    let comment = user_comment(&p.id);
    let report = state
        .routers
        .revoke_access(&p.router_id, name, Some(&comment))
        .await
        .map_err(|e| e.to_string())?;
    if !report.is_complete() {
        return Err(format!(
            "the router still shows access (user enabled: {}, sessions: {}, cookies: {})",
            report.user_enabled, report.sessions_left, report.cookies_left
        ));
    }
    if disable_only || report.foreign_user || !report.user_found {
        return Ok(());
    }
    let id = crate::purchase::saga::find_own_user(state, p)
        .await
        .map_err(|e| e.to_string())?;
    match id {
        None => Ok(()),
        Some(id) => match state.routers.remove_user(&p.router_id, &id).await {
            Ok(()) | Err(BrokerError::Router(RouterError::NotFound(_))) => Ok(()),
            Err(e) => Err(e.to_string()),
        },
    }
}

/// Records the end: state, time, transaction, audit, metric.
async fn finish(
    state: &AppState,
    p: &purchase::Model,
    reason: EndReason,
    disable_only: bool,
    now: DateTime<Utc>,
) -> bool {
    let at = now.max(Utc::now());
    match purchases::mark_expired(&state.db, &p.id, at).await {
        Ok(true) => {}
        Ok(false) => {
            release(state, &p.id).await;
            return false;
        }
        Err(e) => {
            tracing::warn!(purchase_id = %p.id, error = %e, "expiry: cannot record the end; retried next pass");
            release(state, &p.id).await;
            return false;
        }
    }
    purchases::best_effort(
        "mark the transaction expired",
        &p.id,
        transacciones::mark_expired(&state.db, &p.id),
    )
    .await;
    let details = json!({
        "motivo": reason.as_str(),
        "router_id": p.router_id,
        "usuario_hotspot": p.hotspot_username,
        "accion": if disable_only { "deshabilitar" } else { "eliminar" },
    });
    purchases::best_effort(
        "audit the expiry",
        &p.id,
        audit::record_system(
            &state.db,
            &p.empresa_id,
            AuditAction::AccesoExpirar,
            &p.id,
            details,
        ),
    )
    .await;
    state.metrics.record_expiration(reason.as_str());
    tracing::info!(purchase_id = %p.id, reason = reason.as_str(), "access expired");
    true
}
