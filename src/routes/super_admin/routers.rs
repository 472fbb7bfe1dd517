//! `/admin/empresas/{empresa_id}/routers…`: routers and their API keys.

use actix_web::{delete, get, post, put, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{begin_write, json_body};
use crate::auth::api_key::{IssuedKey, KEY_TYPE};
use crate::auth::session::SuperAdmin;
use crate::db::api_keys::{self, ApiKey};
use crate::db::audit::{self, AuditAction};
use crate::db::routers::{self, create_router, NewRouter, Router};
use crate::db::{empresas, productos};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::FieldAliases;
use crate::ids::{EmpresaId, RouterId};
use crate::state::AppState;
use crate::validate;
use crate::wire::{iso, iso_opt};

/// Default RouterOS API ports (plain and TLS).
pub const DEFAULT_PORT: i64 = 8728;
pub const DEFAULT_TLS_PORT: i64 = 8729;
/// Longest RouterOS password accepted (plaintext).
const MAX_PASSWORD_LEN: usize = 255;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create)
        .service(list)
        .service(get_one)
        .service(toggle_activo)
        .service(regenerate_api_key)
        .service(list_api_keys)
        .service(revoke_api_key)
        .service(api_key_status)
        .service(delete_router);
}

/// The original's `RouterResponse`, plus the TLS settings (never `usuario` or `password`).
pub fn router_json(r: &Router) -> Value {
    json!({
        "id": r.id,
        "empresa_id": r.empresa_id,
        "nombre": r.nombre,
        "host": r.host,
        "puerto": r.puerto,
        "ubicacion": r.ubicacion,
        "activo": r.activo,
        "use_tls": r.use_tls,
        "tls_fingerprint": r.tls_fingerprint,
        "creado_en": iso(r.creado_en),
    })
}

fn key_info(k: &IssuedKey) -> Value {
    json!({
        "key_id": k.key_id,
        "issued_at": iso(k.issued_at),
        "expires_at": iso(k.expires_at),
        "type": KEY_TYPE,
    })
}

/// The company (404 `"Empresa no encontrada"`) and its router (404 when missing or when it
/// belongs to another company).
async fn find_router<C: ConnectionTrait>(
    db: &C,
    empresa_id: EmpresaId<'_>,
    router_id: RouterId<'_>,
) -> ApiResult<Router> {
    empresas::get(db, empresa_id).await?;
    routers::find_owned(db, empresa_id, router_id)
        .await?
        .ok_or_else(|| ApiError::from(Problem::RouterNotInEmpresa))
}

#[derive(Debug, Deserialize)]
pub struct CreateRouter {
    /// Required by the original but ignored (the path wins); optional here.
    #[serde(default)]
    pub empresa_id: Option<String>,
    pub nombre: String,
    pub host: String,
    #[serde(default)]
    pub puerto: Option<i64>,
    pub usuario: String,
    pub password: String,
    #[serde(default)]
    pub ubicacion: Option<String>,
    #[serde(default)]
    pub use_tls: Option<bool>,
    #[serde(default)]
    pub tls_fingerprint: Option<String>,
}
impl FieldAliases for CreateRouter {}

#[utoipa::path(
    tag = "super_admin",
    summary = "Create a router and its API key",
    request_body(content = inline(crate::openapi::schemas::NewRouter), content_type = "application/json"),
    responses((status = 200, description = "OK")),
    security(("session" = ["super_admin"])),
)]
#[post("/admin/empresas/{empresa_id}/routers")]
async fn create(
    state: web::Data<AppState>,
    admin: SuperAdmin,
    path: web::Path<String>,
    req: HttpRequest,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let b: CreateRouter = json_body(&req, payload).await?;
    let nombre = b.nombre.trim().to_string();
    validate::required_text("nombre", &nombre, 100)?;
    validate::router_host("host", &b.host, state.config.router.allow_loopback)?;
    let use_tls = b.use_tls.unwrap_or(false);
    let default_port = if use_tls {
        DEFAULT_TLS_PORT
    } else {
        DEFAULT_PORT
    };
    let puerto = validate::port("puerto", b.puerto.unwrap_or(default_port))?;
    let usuario = b.usuario.trim().to_string();
    validate::required_text("usuario", &usuario, 100)?;
    if b.password.is_empty() {
        return Err(ApiError::field(
            "password",
            "string_too_short",
            "String should have at least 1 character",
            json!(""),
        ));
    }
    if b.password.chars().count() > MAX_PASSWORD_LEN {
        // Never echo the password back.
        return Err(ApiError::field(
            "password",
            "string_too_long",
            format!("String should have at most {MAX_PASSWORD_LEN} characters"),
            Value::Null,
        ));
    }
    let ubicacion = b
        .ubicacion
        .map(|u| u.trim().to_string())
        .filter(|u| !u.is_empty());
    if let Some(u) = &ubicacion {
        validate::max_len("ubicacion", u, 200)?;
    }
    let tls_fingerprint = b
        .tls_fingerprint
        .filter(|f| !f.trim().is_empty())
        .map(|f| validate::tls_fingerprint(&f))
        .transpose()?;

    let empresa_id = path.into_inner();
    let txn = begin_write(&state.db).await?;
    empresas::get(&txn, EmpresaId(&empresa_id)).await?;
    let (model, key) = create_router(
        &txn,
        &state.secrets,
        NewRouter {
            empresa_id: empresa_id.clone(),
            nombre,
            host: b.host,
            puerto,
            usuario,
            password: b.password,
            ubicacion,
            use_tls,
            tls_fingerprint,
        },
        state.config.jwt_apikey_secret.expose_secret(),
        state.config.apikey_ttl,
    )
    .await
    .map_err(ApiError::internal)?;
    audit::record(
        &txn,
        &admin.0,
        Some(&empresa_id),
        AuditAction::RouterCreate,
        Some(&model.id),
        json!({
            "nombre": model.nombre,
            "host": model.host,
            "puerto": model.puerto,
            "use_tls": model.use_tls,
            "key_id": key.key_id,
        }),
    )
    .await?;
    txn.commit().await?;
    tracing::info!(empresa_id = %empresa_id, router_id = %model.id, "router created");
    let mut out = router_json(&model);
    out["api_key"] = json!(key.api_key);
    out["api_key_info"] = key_info(&key);
    Ok(HttpResponse::Ok().json(out))
}

#[utoipa::path(
    tag = "super_admin",
    summary = "List a company's routers",
    responses((status = 200, description = "OK")),
    security(("session" = ["super_admin"])),
)]
#[get("/admin/empresas/{empresa_id}/routers")]
async fn list(
    state: web::Data<AppState>,
    _admin: SuperAdmin,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let empresa_id = path.into_inner();
    empresas::get(&state.db, EmpresaId(&empresa_id)).await?;
    let rows = routers::list_for_empresa(&state.db, EmpresaId(&empresa_id)).await?;
    Ok(HttpResponse::Ok().json(rows.iter().map(router_json).collect::<Vec<_>>()))
}

#[utoipa::path(
    tag = "super_admin",
    summary = "Get a router",
    responses((status = 200, description = "OK")),
    security(("session" = ["super_admin"])),
)]
#[get("/admin/empresas/{empresa_id}/routers/{router_id}")]
async fn get_one(
    state: web::Data<AppState>,
    _admin: SuperAdmin,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (empresa_id, router_id) = path.into_inner();
    let r = find_router(&state.db, EmpresaId(&empresa_id), RouterId(&router_id)).await?;
    Ok(HttpResponse::Ok().json(router_json(&r)))
}

#[utoipa::path(
    tag = "super_admin",
    summary = "Enable or disable a router",
    responses((status = 200, description = "OK")),
    security(("session" = ["super_admin"])),
)]
#[put("/admin/empresas/{empresa_id}/routers/{router_id}/toggle-activo")]
async fn toggle_activo(
    state: web::Data<AppState>,
    admin: SuperAdmin,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (empresa_id, router_id) = path.into_inner();
    let txn = begin_write(&state.db).await?;
    // Flip in one statement, so concurrent toggles each take effect in turn.
    let (empresa, router) = (EmpresaId(&empresa_id), RouterId(&router_id));
    let flipped = routers::toggle_activo(&txn, empresa, router).await?;
    let r = find_router(&txn, empresa, router).await?;
    if !flipped {
        return Err(ApiError::from(Problem::RouterNotInEmpresa));
    }
    let activo = r.activo;
    audit::record(
        &txn,
        &admin.0,
        Some(&empresa_id),
        if activo {
            AuditAction::RouterActivate
        } else {
            AuditAction::RouterDeactivate
        },
        Some(&router_id),
        json!({ "activo": activo }),
    )
    .await?;
    txn.commit().await?;
    state.routers.router_changed(&router_id).await;
    Ok(HttpResponse::Ok().json(json!({
        "message": if activo { "Router activado correctamente" } else { "Router desactivado correctamente" },
        "router_id": router_id,
        "activo": activo,
    })))
}

/// Revokes every active key of the router, issues a new one and points `routers.api_key_hash`
/// at it, all in one transaction. The transaction starts by writing the router row, so two
/// concurrent regenerations are serialised and at most one key stays active.
#[utoipa::path(
    tag = "super_admin",
    summary = "Revoke the router's key and issue a new one",
    responses((status = 200, description = "OK")),
    security(("session" = ["super_admin"])),
)]
#[post("/admin/empresas/{empresa_id}/routers/{router_id}/regenerate-api-key")]
async fn regenerate_api_key(
    state: web::Data<AppState>,
    admin: SuperAdmin,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (empresa_id, router_id) = path.into_inner();
    let now = Utc::now();
    let txn = begin_write(&state.db).await?;
    let (empresa, router) = (EmpresaId(&empresa_id), RouterId(&router_id));
    let locked = routers::lock_active(&txn, empresa, router, now).await?;
    let r = find_router(&txn, empresa, router).await?;
    if !locked || !r.activo {
        return Err(ApiError::from(Problem::RegenerateInactiveRouter));
    }
    let revoked = api_keys::revoke_all_for_router(&txn, router, now).await?;
    let key = crate::auth::api_key::issue(
        &router_id,
        &empresa_id,
        state.config.jwt_apikey_secret.expose_secret(),
        state.config.apikey_ttl,
    )
    .map_err(ApiError::internal)?;
    api_keys::insert(&txn, empresa, router, &key).await?;
    routers::set_api_key_hash(&txn, router, &key.key_hash).await?;
    audit::record(
        &txn,
        &admin.0,
        Some(&empresa_id),
        AuditAction::RouterRegenerateApiKey,
        Some(&router_id),
        json!({ "new_key_id": key.key_id, "revoked_keys": revoked }),
    )
    .await?;
    txn.commit().await?;
    state.routers.router_changed(&router_id).await;
    tracing::info!(router_id = %router_id, key_id = %key.key_id, "router API key regenerated");
    Ok(HttpResponse::Ok().json(json!({
        "message": "API Key regenerada exitosamente",
        "router_id": router_id,
        "new_api_key": key.api_key,
        "api_key_info": key_info(&key),
        "previous_key_revoked": revoked > 0,
    })))
}

fn api_key_json(k: &ApiKey) -> Value {
    json!({
        "key_id": k.key_id,
        "router_id": k.router_id,
        "empresa_id": k.empresa_id,
        "issued_at": iso(k.issued_at),
        "expires_at": iso(k.expires_at),
        "revoked": k.revoked,
        "revoked_at": iso_opt(k.revoked_at),
        "last_used": iso_opt(k.last_used),
        "use_count": k.use_count,
    })
}

#[utoipa::path(
    tag = "super_admin",
    summary = "Key history",
    responses((status = 200, description = "OK")),
    security(("session" = ["super_admin"])),
)]
#[get("/admin/empresas/{empresa_id}/routers/{router_id}/api-keys")]
async fn list_api_keys(
    state: web::Data<AppState>,
    _admin: SuperAdmin,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (empresa_id, router_id) = path.into_inner();
    find_router(&state.db, EmpresaId(&empresa_id), RouterId(&router_id)).await?;
    let keys = api_keys::list_for_router(&state.db, RouterId(&router_id)).await?;
    Ok(HttpResponse::Ok().json(keys.iter().map(api_key_json).collect::<Vec<_>>()))
}

#[utoipa::path(
    tag = "super_admin",
    summary = "Revoke one key",
    responses((status = 200, description = "OK")),
    security(("session" = ["super_admin"])),
)]
#[post("/admin/empresas/{empresa_id}/routers/{router_id}/api-keys/{key_id}/revoke")]
async fn revoke_api_key(
    state: web::Data<AppState>,
    admin: SuperAdmin,
    path: web::Path<(String, String, String)>,
) -> ApiResult<HttpResponse> {
    let (empresa_id, router_id, key_id) = path.into_inner();
    let now = Utc::now();
    let txn = begin_write(&state.db).await?;
    find_router(&txn, EmpresaId(&empresa_id), RouterId(&router_id)).await?;
    let key = api_keys::get_for_router(&txn, RouterId(&router_id), &key_id).await?;
    if key.revoked || !api_keys::revoke(&txn, &key_id, now).await? {
        return Err(ApiError::from(Problem::ApiKeyAlreadyRevoked));
    }
    audit::record(
        &txn,
        &admin.0,
        Some(&empresa_id),
        AuditAction::RouterRevokeApiKey,
        Some(&key_id),
        json!({ "router_id": router_id }),
    )
    .await?;
    txn.commit().await?;
    tracing::info!(router_id = %router_id, key_id = %key_id, "router API key revoked");
    Ok(HttpResponse::Ok().json(json!({
        "message": "API Key revocada exitosamente",
        "key_id": key_id,
        "router_id": router_id,
        "revoked_at": iso(now),
    })))
}

/// Whole days from `now` until `until`, rounded down (Python's `timedelta.days`).
pub fn whole_days(until: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
    (until - now).num_seconds().div_euclid(86_400)
}

/// The diagnostics of a key: `(status, warning, recommendation)`.
pub fn key_advice(
    expires_in_days: i64,
    use_count: i64,
) -> (&'static str, Option<String>, Option<&'static str>) {
    if expires_in_days < 0 {
        return (
            "expired",
            Some("La API Key ha expirado".into()),
            Some("Generar una nueva API Key"),
        );
    }
    if use_count == 0 {
        return (
            "active",
            Some("Esta API Key nunca ha sido usada".into()),
            Some("Verificar que el cliente la esté usando correctamente"),
        );
    }
    if expires_in_days < 30 {
        return (
            "active",
            Some(format!("La API Key expira en {expires_in_days} días")),
            Some("Considerar regenerar la API Key pronto"),
        );
    }
    ("active", None, None)
}

#[utoipa::path(
    tag = "super_admin",
    summary = "Active key diagnostics",
    responses((status = 200, description = "OK")),
    security(("session" = ["super_admin"])),
)]
#[get("/admin/empresas/{empresa_id}/routers/{router_id}/api-key-status")]
async fn api_key_status(
    state: web::Data<AppState>,
    _admin: SuperAdmin,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (empresa_id, router_id) = path.into_inner();
    find_router(&state.db, EmpresaId(&empresa_id), RouterId(&router_id)).await?;
    let key = api_keys::newest_active(&state.db, RouterId(&router_id)).await?;
    let Some(k) = key else {
        return Ok(HttpResponse::Ok().json(json!({
            "router_id": router_id,
            "has_active_key": false,
            "key_id": null,
            "issued_at": null,
            "expires_at": null,
            "expires_in_days": null,
            "last_used": null,
            "use_count": null,
            "status": "no_key",
            "warning": null,
            "recommendation": "Generar una nueva API Key",
        })));
    };
    let days = whole_days(k.expires_at, Utc::now());
    let (status, warning, recommendation) = key_advice(days, k.use_count);
    Ok(HttpResponse::Ok().json(json!({
        "router_id": router_id,
        "has_active_key": true,
        "key_id": k.key_id,
        "issued_at": iso(k.issued_at),
        "expires_at": iso(k.expires_at),
        "expires_in_days": days,
        "last_used": iso_opt(k.last_used),
        "use_count": k.use_count,
        "status": status,
        "warning": warning,
        "recommendation": recommendation,
    })))
}

fn products_error(n: u64) -> ApiError {
    ApiError::from(Problem::RouterHasProducts { count: n })
}

/// Deletes a router without products, with its API keys, in one transaction. Its payment
/// history (`transacciones`, `purchases`) is kept.
#[utoipa::path(
    tag = "super_admin",
    summary = "Delete a router",
    responses((status = 200, description = "OK")),
    security(("session" = ["super_admin"])),
)]
#[delete("/admin/empresas/{empresa_id}/routers/{router_id}")]
async fn delete_router(
    state: web::Data<AppState>,
    admin: SuperAdmin,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (empresa_id, router_id) = path.into_inner();
    let txn = begin_write(&state.db).await?;
    let router = RouterId(&router_id);
    let r = find_router(&txn, EmpresaId(&empresa_id), router).await?;
    let products = productos::count_for_router(&txn, router).await?;
    if products > 0 {
        return Err(products_error(products));
    }
    let keys = api_keys::delete_for_router(&txn, router).await?;
    if !routers::delete(&txn, router).await? {
        // A product added concurrently: refuse like the up-front check.
        let n = productos::count_for_router(&state.db, router).await?;
        return Err(products_error(n.max(1)));
    }
    audit::record(
        &txn,
        &admin.0,
        Some(&empresa_id),
        AuditAction::RouterDelete,
        Some(&router_id),
        json!({ "nombre": r.nombre, "host": r.host, "deleted_keys": keys }),
    )
    .await?;
    txn.commit().await?;
    state.routers.router_changed(&router_id).await;
    tracing::info!(router_id = %router_id, "router deleted");
    Ok(HttpResponse::Ok().json(json!({
        "message": "Router eliminado exitosamente",
        "router_id": router_id,
        "empresa_id": empresa_id,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn days_round_down_like_python() {
        let now = Utc::now();
        assert_eq!(
            whole_days(now + Duration::days(10) + Duration::hours(5), now),
            10
        );
        assert_eq!(whole_days(now + Duration::hours(5), now), 0);
        assert_eq!(whole_days(now - Duration::hours(5), now), -1);
    }

    #[test]
    fn advice_follows_the_original_rules() {
        assert_eq!(key_advice(200, 5), ("active", None, None));
        let (s, w, r) = key_advice(10, 5);
        assert_eq!(s, "active");
        assert_eq!(w.as_deref(), Some("La API Key expira en 10 días"));
        assert_eq!(r, Some("Considerar regenerar la API Key pronto"));
        // never used replaces the expiry warning
        let (_, w, r) = key_advice(10, 0);
        assert_eq!(w.as_deref(), Some("Esta API Key nunca ha sido usada"));
        assert_eq!(
            r,
            Some("Verificar que el cliente la esté usando correctamente")
        );
        assert_eq!(key_advice(-1, 3).0, "expired");
    }
}
