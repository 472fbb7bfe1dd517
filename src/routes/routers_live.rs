//! Endpoints that talk to routers live, through the router broker:
//!
//! * `GET /api/v1/admin/routers/{router_id}/mikrotik-profiles` (cliente_admin) — every profile
//!   field filled in (the original left five of them null);
//! * `GET /api/v1/admin/routers/{router_id}/test-connection` (cliente_admin) — always 200;
//! * `GET /api/v1/admin/routers/{router_id}/status` (cliente_admin) — the session's state;
//! * `GET /admin/routers/status` (super_admin) — the same for every router;
//! * `POST /api/v1/routers/validar-empresa-router` (router API key) — always 200.

use actix_web::{get, post, web, HttpResponse};
use serde_json::{json, Value};

use crate::auth::portal_key::PortalKey;
use crate::auth::session::{ClienteAdmin, SuperAdmin};
use crate::crypto::field;
use crate::db::routers::{self, Router};
use crate::error::{ApiError, ApiResult, Problem};
use crate::ids::{EmpresaId, RouterId};
use crate::routeros::commands::UserProfile;
use crate::routeros::messages::{Op, OpOutput};
use crate::routeros::registry::FleetRouter;
use crate::routeros::{BrokerError, DirectRouter, RouterState};
use crate::state::AppState;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(mikrotik_profiles)
        .service(test_connection)
        .service(router_status)
        .service(fleet_status)
        .service(validar_empresa_router);
}

/// The original's naive local-time ISO format (`datetime.now().isoformat()`).
fn local_timestamp() -> String {
    chrono::Local::now()
        .naive_local()
        .format("%Y-%m-%dT%H:%M:%S%.6f")
        .to_string()
}

/// The caller's company's router, or `None`.
async fn own_router(
    state: &AppState,
    empresa_id: EmpresaId<'_>,
    router_id: RouterId<'_>,
) -> ApiResult<Option<Router>> {
    Ok(routers::find_owned(&state.db, empresa_id, router_id).await?)
}

fn credentials_complete(state: &AppState, r: &Router) -> bool {
    let password_ok = state
        .secrets
        .decrypt(field::ROUTER_PASSWORD, &r.password_encrypted)
        .map(|p| !p.is_empty())
        .unwrap_or(false);
    !r.host.trim().is_empty() && !r.usuario.trim().is_empty() && password_ok
}

fn profile_json(p: &UserProfile) -> Value {
    json!({
        "id": p.id,
        "name": p.name,
        "session_timeout": p.session_timeout,
        "idle_timeout": p.idle_timeout,
        "keepalive_timeout": p.keepalive_timeout,
        "status_autorefresh": p.status_autorefresh,
        "shared_users": p.shared_users,
        "rate_limit": p.rate_limit,
        "address_list": p.address_list,
        "mac_cookie_timeout": p.mac_cookie_timeout,
    })
}

/// A broker error with the original's `"Error al obtener perfiles: "` prefix.
fn profiles_error(e: BrokerError) -> ApiError {
    Problem::RouterProfiles(e).into()
}

#[utoipa::path(
    tag = "cliente_admin",
    summary = "Hotspot user profiles read live from the router",
    responses((status = 200, description = "OK")),
    security(("session" = ["cliente_admin"])),
)]
#[get("/api/v1/admin/routers/{router_id}/mikrotik-profiles")]
async fn mikrotik_profiles(
    ca: ClienteAdmin,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let router_id = path.into_inner();
    let r = own_router(&state, EmpresaId(&ca.empresa_id), RouterId(&router_id))
        .await?
        .ok_or_else(|| ApiError::from(Problem::RouterNotOwned))?;
    if !r.activo {
        return Err(ApiError::from(Problem::RouterInactive));
    }
    if !credentials_complete(&state, &r) {
        return Err(ApiError::from(Problem::RouterCredentialsMissing));
    }
    let profiles = state
        .routers
        .list_profiles(&r.id)
        .await
        .map_err(profiles_error)?;
    let items: Vec<Value> = profiles.iter().map(profile_json).collect();
    Ok(HttpResponse::Ok().json(items))
}

/// A broker error as the test-connection `error` text.
fn error_text(e: &BrokerError) -> String {
    match e {
        BrokerError::Unavailable { reason } => {
            format!("{} ({reason})", Problem::Router(e.clone()).detail())
        }
        other => Problem::Router(other.clone()).detail().into_owned(),
    }
}

#[utoipa::path(
    tag = "cliente_admin",
    summary = "Live connection test",
    responses((status = 200, description = "OK")),
    security(("session" = ["cliente_admin"])),
)]
#[get("/api/v1/admin/routers/{router_id}/test-connection")]
async fn test_connection(
    ca: ClienteAdmin,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let router_id = path.into_inner();
    let Some(r) = own_router(&state, EmpresaId(&ca.empresa_id), RouterId(&router_id)).await? else {
        return Ok(HttpResponse::Ok().json(json!({
            "success": false,
            "message": "Router no encontrado",
            "error": Problem::RouterNotOwned.detail(),
        })));
    };
    let router_json = json!({
        "id": r.id,
        "nombre": r.nombre,
        "host": r.host,
        "puerto": r.puerto,
        "activo": r.activo,
    });
    // Like the original, this does not require the router to be active: a disabled router is
    // tested on a one-off session instead of through its (stopped) actor.
    let result: Result<(String, usize), BrokerError> = if r.activo {
        match state.routers.identity(&r.id).await {
            Ok(name) => state
                .routers
                .list_profiles(&r.id)
                .await
                .map(|p| (name, p.len())),
            Err(e) => Err(e),
        }
    } else {
        match state.routers.connect_options(&routers::record(&r)) {
            Ok(opts) => {
                let direct = DirectRouter::new(opts);
                match direct.call(&Op::Identity).await {
                    Ok(OpOutput::Identity(name)) => match direct.call(&Op::ListProfiles).await {
                        Ok(OpOutput::Profiles(p)) => Ok((name, p.len())),
                        Ok(_) => Err(BrokerError::OutcomeUnknown),
                        Err(e) => Err(e),
                    },
                    Ok(_) => Err(BrokerError::OutcomeUnknown),
                    Err(e) => Err(e),
                }
            }
            Err(e) => Err(e),
        }
    };
    let body = match result {
        Ok((name, n)) => json!({
            "success": true,
            "message": "Conexión exitosa",
            "router": router_json,
            "perfiles_encontrados": n,
            "router_name": name,
            "error": null,
            "timestamp": local_timestamp(),
        }),
        Err(e) => json!({
            "success": false,
            "message": "Error de conexión",
            "router": router_json,
            "error": error_text(&e),
            "timestamp": local_timestamp(),
        }),
    };
    Ok(HttpResponse::Ok().json(body))
}

fn fleet_json(f: &FleetRouter) -> Value {
    let mut v = serde_json::to_value(&f.status).unwrap_or_else(|_| json!({}));
    if let Some(o) = v.as_object_mut() {
        o.insert("empresa_id".into(), json!(f.empresa_id));
        o.insert("nombre".into(), json!(f.nombre));
        o.insert("host".into(), json!(f.host));
        o.insert("puerto".into(), json!(f.puerto));
        o.insert("activo".into(), json!(f.activo));
    }
    v
}

#[utoipa::path(
    tag = "cliente_admin",
    summary = "State of the router's session",
    responses((status = 200, description = "OK")),
    security(("session" = ["cliente_admin"])),
)]
#[get("/api/v1/admin/routers/{router_id}/status")]
async fn router_status(
    ca: ClienteAdmin,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let router_id = path.into_inner();
    let r = own_router(&state, EmpresaId(&ca.empresa_id), RouterId(&router_id))
        .await?
        .ok_or_else(|| ApiError::from(Problem::RouterNotOwned))?;
    let status = state.routers.status(&r.id).await.map_err(ApiError::from)?;
    let f = FleetRouter {
        empresa_id: r.empresa_id,
        nombre: r.nombre,
        host: r.host,
        puerto: r.puerto,
        activo: r.activo,
        status,
    };
    Ok(HttpResponse::Ok().json(fleet_json(&f)))
}

#[utoipa::path(
    tag = "super_admin",
    summary = "State of every router's session",
    responses((status = 200, description = "OK")),
    security(("session" = ["super_admin"])),
)]
#[get("/admin/routers/status")]
async fn fleet_status(_sa: SuperAdmin, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let fleet = state.routers.fleet_status().await?;
    let mut by_state = serde_json::Map::new();
    for f in &fleet {
        let key = serde_json::to_value(f.status.state)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        let n = by_state.get(&key).and_then(Value::as_u64).unwrap_or(0);
        by_state.insert(key, json!(n + 1));
    }
    let routers: Vec<Value> = fleet.iter().map(fleet_json).collect();
    Ok(HttpResponse::Ok().json(json!({
        "total": routers.len(),
        "por_estado": by_state,
        "routers": routers,
    })))
}

#[utoipa::path(
    tag = "portal",
    summary = "Probe the key's router",
    responses((status = 200, description = "OK")),
    security(("apiKey" = []), ("apiKeyBearer" = [])),
)]
#[post("/api/v1/routers/validar-empresa-router")]
async fn validar_empresa_router(key: PortalKey, state: web::Data<AppState>) -> HttpResponse {
    let router_id = key.router.id.clone();
    let online = match state.routers.resource(&router_id).await {
        Ok(_) => true,
        // A full queue means the router is answering.
        Err(BrokerError::Busy { .. }) => matches!(
            state.routers.status(&router_id).await.map(|s| s.state),
            Ok(RouterState::Connected)
        ),
        Err(e) => {
            tracing::info!(router_id = %router_id, error = %e, "router validation failed");
            false
        }
    };
    let body = if online {
        json!({
            "success": true,
            "estado": "activo",
            "mensaje": "Router en línea y responde correctamente",
            "error_detalle": null,
            "conexion_ok": true,
            "timestamp": local_timestamp(),
        })
    } else {
        json!({
            "success": false,
            "estado": "router_inactivo",
            "mensaje": "El router no está en línea (conexión fallida)",
            "error_detalle": "router_inactivo",
            "conexion_ok": false,
            "timestamp": local_timestamp(),
        })
    };
    HttpResponse::Ok().json(body)
}
