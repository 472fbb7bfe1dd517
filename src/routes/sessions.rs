//! Live hotspot sessions of a company's router, read through the broker
//! (docs/access-lifecycle.md):
//!
//! * `GET /api/v1/admin/routers/{router_id}/sesiones` (cliente_admin, own routers) — the
//!   router's `/ip/hotspot/active` joined with our purchases;
//! * `DELETE /api/v1/admin/routers/{router_id}/sesiones/{id}` — ends one session; the device's
//!   MAC cookie for that user goes with it (so it is not logged in again on its next visit);
//! * `POST /api/v1/admin/routers/{router_id}/sincronizar` — compares the router's `purchase:`
//!   users with our purchases and repairs the drift; the answer is the report.

use std::collections::HashMap;

use actix_web::{delete, get, post, web, HttpResponse};
use serde_json::{json, Value};

use entity::purchase;

use crate::auth::session::ClienteAdmin;
use crate::db::audit::{self, AuditAction};
use crate::db::routers::{self, Router};
use crate::db::{productos, purchases};
use crate::error::{ApiError, ApiResult, Problem};
use crate::ids::{EmpresaId, RouterId};
use crate::routeros::commands::{parse_duration, ActiveSession};
use crate::state::AppState;
use crate::wire;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_sessions)
        .service(kick_session)
        .service(sync_router);
}

/// The caller's active router.
async fn own_active_router(state: &AppState, ca: &ClienteAdmin, id: &str) -> ApiResult<Router> {
    let r = routers::find_owned(&state.db, EmpresaId(&ca.empresa_id), RouterId(id))
        .await?
        .ok_or_else(|| ApiError::from(Problem::RouterNotOwned))?;
    if !r.activo {
        return Err(ApiError::from(Problem::RouterInactive));
    }
    Ok(r)
}

fn counter(v: Option<&str>) -> Option<u64> {
    v.and_then(|s| s.trim().parse().ok())
}

/// One session as the API shows it.
fn session_json(
    s: &ActiveSession,
    p: Option<&purchase::Model>,
    products: &HashMap<i32, String>,
) -> Value {
    json!({
        "id": s.id,
        "usuario": s.user,
        "mac": s.mac_address,
        "ip": s.address,
        "uptime": s.uptime.as_deref().and_then(parse_duration),
        "bytes_in": counter(s.bytes_in.as_deref()),
        "bytes_out": counter(s.bytes_out.as_deref()),
        "producto": p.and_then(|p| products.get(&p.producto_id)),
        "purchase_id": p.map(|p| p.id.clone()),
        "expira_en": p.and_then(|p| p.expires_at).map(wire::iso),
    })
}

#[utoipa::path(
    tag = "cliente_admin",
    summary = "Live hotspot sessions of a router, with their purchases",
    responses((status = 200, description = "OK", body = [Object], example = json!([{"id": "*1A", "usuario": "PT-AB3C9", "mac": "AA:BB:CC:DD:EE:01", "ip": "10.5.50.9", "uptime": 1260, "bytes_in": 1048576, "bytes_out": 52344, "producto": "1 hora", "purchase_id": "6f1c…", "expira_en": "2026-12-05T20:00:00"}]))),
    security(("session" = ["cliente_admin"])),
)]
#[get("/api/v1/admin/routers/{router_id}/sesiones")]
async fn list_sessions(
    ca: ClienteAdmin,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let r = own_active_router(&state, &ca, &path.into_inner()).await?;
    let sessions = state
        .routers
        .list_active(&r.id)
        .await
        .map_err(|e| ApiError::from(Problem::Router(e)))?;
    state.metrics.set_active_sessions(&r.id, sessions.len());
    let names: Vec<String> = sessions.iter().map(|s| s.user.clone()).collect();
    let bought = purchases::of_router_users(&state.db, &r.id, &names).await?;
    let by_name: HashMap<&str, &purchase::Model> = bought
        .iter()
        .filter_map(|p| p.hotspot_username.as_deref().map(|n| (n, p)))
        .collect();
    let mut products = HashMap::new();
    for p in &bought {
        if let std::collections::hash_map::Entry::Vacant(e) = products.entry(p.producto_id) {
            if let Some(x) = productos::find(&state.db, p.producto_id).await? {
                e.insert(x.nombre_venta);
            }
        }
    }
    let items: Vec<Value> = sessions
        .iter()
        .map(|s| session_json(s, by_name.get(s.user.as_str()).copied(), &products))
        .collect();
    Ok(HttpResponse::Ok().json(items))
}

/// A RouterOS `.id`: `*` and hex digits.
fn is_item_id(id: &str) -> bool {
    id.strip_prefix('*')
        .is_some_and(|h| !h.is_empty() && h.len() <= 8 && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[utoipa::path(
    tag = "cliente_admin",
    summary = "End one live hotspot session (and the device's MAC cookie)",
    responses((status = 200, description = "OK"), (status = 404, description = "No such session")),
    security(("session" = ["cliente_admin"])),
)]
#[delete("/api/v1/admin/routers/{router_id}/sesiones/{id}")]
async fn kick_session(
    ca: ClienteAdmin,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (router_id, id) = path.into_inner();
    let r = own_active_router(&state, &ca, &router_id).await?;
    if !is_item_id(&id) {
        return Err(ApiError::from(Problem::SessionNotFound));
    }
    let found = state
        .routers
        .kick_session(&r.id, &id)
        .await
        .map_err(|e| ApiError::from(Problem::Router(e)))?;
    if !found {
        return Err(ApiError::from(Problem::SessionNotFound));
    }
    audit::record(
        &state.db,
        &ca.session,
        Some(&ca.empresa_id),
        AuditAction::AccesoSesionCerrar,
        Some(&r.id),
        json!({ "sesion": id }),
    )
    .await?;
    Ok(HttpResponse::Ok().json(json!({"message": "Sesión cerrada", "id": id})))
}

#[utoipa::path(
    tag = "cliente_admin",
    summary = "Compare the router's users with our purchases and repair the drift",
    responses((status = 200, description = "The report: users re-created, removed, disabled, unknown (reported only), errors")),
    security(("session" = ["cliente_admin"])),
)]
#[post("/api/v1/admin/routers/{router_id}/sincronizar")]
async fn sync_router(
    ca: ClienteAdmin,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let r = own_active_router(&state, &ca, &path.into_inner()).await?;
    let report = crate::purchase::drift::sync_router(&state, &r.id)
        .await
        .map_err(|e| ApiError::from(Problem::Router(e)))?;
    Ok(HttpResponse::Ok().json(report))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn item_ids() {
        assert!(is_item_id("*1A"));
        assert!(!is_item_id("1A"));
        assert!(!is_item_id("*"));
        assert!(!is_item_id("*zz"));
        assert!(!is_item_id("*123456789"));
    }
}
