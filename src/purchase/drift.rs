//! Router drift, detected and repaired (docs/access-lifecycle.md): the hotspot users we created
//! (`comment=purchase:<id>`) compared with our purchases.
//!
//! * a user missing on the router whose access is still valid (a router reset, a restored
//!   backup — the customer paid) is re-created, with what is left of its budgets;
//! * a user whose purchase is refunded, revoked or expired is removed (its sessions and cookies
//!   first) — except an expired one the company keeps disabled (`al_expirar = deshabilitar`),
//!   which is only disabled;
//! * a `purchase:` user we do not know is reported, never touched.
//!
//! Purchases a saga, the reconciler or the expiry job is working on (leased) are left alone.
//! Two replicas syncing the same router at once are harmless: every step is idempotent (a user
//! the other one re-created already exists with our comment; a removal finds nothing).
//! `POST /api/v1/admin/routers/{router_id}/sincronizar` runs it for one router; a periodic pass
//! (`SYNC_INTERVAL_SECS`) runs it for every active router that has purchases.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use serde::Serialize;

use entity::purchase;

use crate::crypto::field;
use crate::db::empresas::AL_EXPIRAR_DESHABILITAR;
use crate::db::{empresas, productos, purchases};
use crate::ids::EmpresaId;
use crate::purchase::lifecycle;
use crate::purchase::{purchase_id_of_comment, user_comment, SagaState};
use crate::routeros::commands::{HotspotUser, NewHotspotUser};
use crate::routeros::{BrokerError, RouterError};
use crate::state::AppState;

/// One repaired or reported user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DriftItem {
    pub usuario: String,
    pub purchase_id: String,
    /// Why (`recreado`, `eliminado`, `deshabilitado`, `desconocido`, or the error).
    pub detalle: String,
}

/// What a sync found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DriftReport {
    pub router_id: String,
    /// `purchase:` users found on the router.
    pub usuarios_en_router: usize,
    /// Purchases whose access is valid now.
    pub compras_vigentes: usize,
    pub recreados: Vec<DriftItem>,
    pub eliminados: Vec<DriftItem>,
    pub deshabilitados: Vec<DriftItem>,
    /// `purchase:` users we do not know: reported, not touched.
    pub desconocidos: Vec<DriftItem>,
    /// Repairs that failed (retried on the next sync).
    pub errores: Vec<DriftItem>,
}

fn item(p: &purchase::Model, detalle: impl Into<String>) -> DriftItem {
    DriftItem {
        usuario: p.hotspot_username.clone().unwrap_or_default(),
        purchase_id: p.id.clone(),
        detalle: detalle.into(),
    }
}

/// States whose user may be on the router and whose access is settled.
const SETTLED: [SagaState; 4] = [
    SagaState::Completed,
    SagaState::Revoked,
    SagaState::Refunded,
    SagaState::Expired,
];

fn leased(p: &purchase::Model, now: DateTime<Utc>) -> bool {
    p.locked_until.is_some_and(|l| l >= now)
}

/// Compares one router with our purchases and repairs the drift.
pub async fn sync_router(state: &AppState, router_id: &str) -> Result<DriftReport, BrokerError> {
    let now = Utc::now();
    let users = state.routers.list_users(router_id).await?;
    let ours: Vec<&HotspotUser> = users
        .iter()
        .filter(|u| {
            u.comment
                .as_deref()
                .and_then(purchase_id_of_comment)
                .is_some()
        })
        .collect();
    let ps = purchases::of_router_in(&state.db, router_id, &SETTLED)
        .await
        .map_err(|e| BrokerError::Unavailable {
            reason: format!("database: {e}"),
        })?;
    let known_ids = purchases::ids_of_router(&state.db, router_id)
        .await
        .map_err(|e| BrokerError::Unavailable {
            reason: format!("database: {e}"),
        })?;
    let known: HashSet<&str> = known_ids.iter().map(String::as_str).collect();
    let mut report = DriftReport {
        router_id: router_id.to_string(),
        usuarios_en_router: ours.len(),
        ..DriftReport::default()
    };
    let by_comment: HashMap<&str, &HotspotUser> = ours
        .iter()
        .filter_map(|u| u.comment.as_deref().map(|c| (c, *u)))
        .collect();
    for u in &ours {
        let id = u
            .comment
            .as_deref()
            .and_then(purchase_id_of_comment)
            .unwrap_or("");
        if !known.contains(id) {
            report.desconocidos.push(DriftItem {
                usuario: u.name.clone(),
                purchase_id: id.to_string(),
                detalle: "desconocido".into(),
            });
        }
    }
    let mut disable_only: HashMap<String, bool> = HashMap::new();
    for p in ps.iter().filter(|p| !leased(p, now)) {
        let on_router = by_comment.get(user_comment(&p.id).as_str()).copied();
        match (p.state, on_router) {
            (SagaState::Completed, None) => {
                if lifecycle::end_reason(p, None, now).is_some()
                    || lifecycle::remaining_limits(p).is_none()
                {
                    continue; // over: the expiry job records it
                }
                report.compras_vigentes += 1;
                recreate(state, p, &mut report).await;
            }
            (SagaState::Completed, Some(_)) => report.compras_vigentes += 1,
            (_, Some(u)) => {
                let keep = keeps_disabled(state, p, &mut disable_only).await;
                remove(state, p, u, keep, &mut report).await;
            }
            (_, None) => {}
        }
    }
    state.metrics.record_drift(&report);
    if !report.recreados.is_empty() || !report.eliminados.is_empty() {
        tracing::info!(
            router_id,
            recreated = report.recreados.len(),
            removed = report.eliminados.len(),
            unknown = report.desconocidos.len(),
            "router drift repaired"
        );
    }
    Ok(report)
}

/// An expired purchase of a company that keeps expired users disabled.
async fn keeps_disabled(
    state: &AppState,
    p: &purchase::Model,
    cache: &mut HashMap<String, bool>,
) -> bool {
    if p.state != SagaState::Expired {
        return false;
    }
    if let Some(k) = cache.get(&p.empresa_id) {
        return *k;
    }
    let k = matches!(
        empresas::find(&state.db, EmpresaId(&p.empresa_id)).await,
        Ok(Some(e)) if e.al_expirar == AL_EXPIRAR_DESHABILITAR
    );
    cache.insert(p.empresa_id.clone(), k);
    k
}

/// Re-creates a valid purchase's missing user with what is left of its budgets.
async fn recreate(state: &AppState, p: &purchase::Model, report: &mut DriftReport) {
    let Some((limit_uptime, limit_bytes_total)) = lifecycle::remaining_limits(p) else {
        return;
    };
    let password = match p.hotspot_password.as_deref() {
        None => String::new(),
        Some(c) => match state.secrets.decrypt(field::HOTSPOT_PASSWORD, c) {
            Ok(pw) => pw.to_string(),
            Err(_) => {
                report.errores.push(item(p, "contraseña ilegible"));
                return;
            }
        },
    };
    let profile = match productos::find(&state.db, p.producto_id).await {
        Ok(Some(x)) => x.perfil_mikrotik_nombre,
        _ => {
            report.errores.push(item(p, "producto no encontrado"));
            return;
        }
    };
    let user = NewHotspotUser {
        name: p.hotspot_username.clone().unwrap_or_default(),
        password: (!password.is_empty()).then_some(password),
        profile: Some(profile),
        limit_uptime,
        limit_bytes_total,
        comment: Some(user_comment(&p.id)),
        disabled: Some(false),
        ..Default::default()
    };
    match state.routers.create_user(&p.router_id, user).await {
        Ok(id) => {
            purchases::best_effort(
                "record the re-created user",
                &p.id,
                purchases::set_router_user_id(&state.db, &p.id, &id),
            )
            .await;
            report.recreados.push(item(p, "recreado"));
        }
        Err(BrokerError::Router(RouterError::AlreadyExists(_))) => {
            match crate::purchase::saga::find_own_user(state, p).await {
                // Ours: another replica's sync re-created it meanwhile.
                Ok(Some(_)) => {}
                // Someone else's user of that name: not touched.
                _ => report
                    .errores
                    .push(item(p, "el nombre está ocupado por otro usuario")),
            }
        }
        Err(e) => report.errores.push(item(p, e.to_string())),
    }
}

/// Removes (or, for `keep`, disables) the user of a purchase whose access is over.
async fn remove(
    state: &AppState,
    p: &purchase::Model,
    u: &HotspotUser,
    keep: bool,
    report: &mut DriftReport,
) {
    if keep && u.disabled {
        return;
    }
    let comment = user_comment(&p.id);
    let revoked = state
        .routers
        .revoke_access(&p.router_id, &u.name, Some(&comment))
        .await;
    let result = match revoked {
        Ok(r) if r.is_complete() && keep => Ok(()),
        Ok(r) if r.is_complete() => match state.routers.remove_user(&p.router_id, &u.id).await {
            Ok(()) | Err(BrokerError::Router(RouterError::NotFound(_))) => Ok(()),
            Err(e) => Err(e.to_string()),
        },
        Ok(_) => Err("el router aún muestra acceso".to_string()),
        Err(e) => Err(e.to_string()),
    };
    match (result, keep) {
        (Ok(()), true) => report.deshabilitados.push(item(p, "deshabilitado")),
        (Ok(()), false) => report.eliminados.push(item(p, "eliminado")),
        (Err(e), _) => report.errores.push(item(p, e)),
    }
}

/// Runs [`sync_router`] for every active router with purchases, every `interval`.
pub fn spawn(state: actix_web::web::Data<AppState>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(state.config.purchase.sync_interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        loop {
            tick.tick().await;
            sync_all(&state).await;
        }
    })
}

/// One periodic pass over the routers with purchases (one router at a time).
pub async fn sync_all(state: &AppState) {
    let routers = match purchases::routers_with_purchases(&state.db).await {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(error = %e, "drift sync: cannot list routers");
            return;
        }
    };
    for router_id in routers {
        if let Err(e) = sync_router(state, &router_id).await {
            tracing::info!(router_id, error = %e, "drift sync: router not reachable; next pass");
        }
    }
}
