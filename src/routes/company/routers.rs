//! The company's own routers: list and edit (host, port, RouterOS credentials, TLS).

use actix_web::{get, put, web, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::non_null;
use crate::auth::session::ClienteAdmin;
use crate::db::audit::{self, AuditAction};
use crate::db::routers::{self, RouterPatch};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{FieldAliases, JsonBody};
use crate::ids::{EmpresaId, RouterId};
use crate::state::AppState;
use crate::validate;
use crate::wire::iso;

/// Longest RouterOS API password accepted.
const MAX_ROUTER_PASSWORD: usize = 255;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_routers).service(update_router);
}

#[utoipa::path(
    tag = "cliente_admin",
    summary = "My routers",
    responses((status = 200, description = "OK")),
    security(("session" = ["cliente_admin"])),
)]
#[get("/api/v1/admin/mi-empresa/routers")]
async fn list_routers(ca: ClienteAdmin, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let routers = routers::list_for_empresa(&state.db, EmpresaId(&ca.empresa_id)).await?;
    let items: Vec<_> = routers
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "nombre": r.nombre,
                "host": r.host,
                "ubicacion": r.ubicacion,
                "activo": r.activo,
                "creado_en": iso(r.creado_en),
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(json!({
        "empresa_id": ca.empresa_id,
        "total": items.len(),
        "routers": items,
    })))
}

#[derive(Debug, Deserialize)]
struct RouterUpdate {
    #[serde(default, deserialize_with = "crate::validate::double_option")]
    nombre: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::validate::double_option")]
    host: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::validate::double_option")]
    puerto: Option<Option<i64>>,
    #[serde(default, deserialize_with = "crate::validate::double_option")]
    usuario: Option<Option<String>>,
    /// The plaintext RouterOS password (the original's misleading field name).
    #[serde(default, deserialize_with = "crate::validate::double_option")]
    password_encrypted: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::validate::double_option")]
    ubicacion: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::validate::double_option")]
    use_tls: Option<Option<bool>>,
    #[serde(default, deserialize_with = "crate::validate::double_option")]
    tls_fingerprint: Option<Option<String>>,
}
impl FieldAliases for RouterUpdate {}

#[utoipa::path(
    tag = "cliente_admin",
    summary = "Edit my router",
    request_body(content = inline(crate::openapi::schemas::RouterUpdate), content_type = "application/json"),
    responses((status = 200, description = "OK")),
    security(("session" = ["cliente_admin"])),
)]
#[put("/api/v1/admin/mi-empresa/routers/{router_id}")]
async fn update_router(
    ca: ClienteAdmin,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: JsonBody<RouterUpdate>,
) -> ApiResult<HttpResponse> {
    let router_id = path.into_inner();
    let b = body.into_inner();
    let nombre = non_null("nombre", b.nombre, "string")?;
    if let Some(n) = &nombre {
        validate::required_text("nombre", n, 100)?;
    }
    let host = non_null("host", b.host, "string")?;
    if let Some(h) = &host {
        validate::router_host("host", h, state.config.router.allow_loopback)?;
    }
    let puerto = match non_null("puerto", b.puerto, "int")? {
        Some(p) => Some(validate::port("puerto", p)?),
        None => None,
    };
    let usuario = non_null("usuario", b.usuario, "string")?;
    if let Some(u) = &usuario {
        validate::required_text("usuario", u, 100)?;
    }
    let password = non_null("password_encrypted", b.password_encrypted, "string")?;
    if let Some(p) = &password {
        if p.is_empty() {
            return Err(ApiError::field(
                "password_encrypted",
                "string_too_short",
                "String should have at least 1 character",
                json!(""),
            ));
        }
        validate::max_len("password_encrypted", p, MAX_ROUTER_PASSWORD)?;
    }
    let ubicacion = b.ubicacion.map(super::blank_to_none);
    if let Some(Some(u)) = &ubicacion {
        validate::max_len("ubicacion", u, 200)?;
    }
    let use_tls = non_null("use_tls", b.use_tls, "bool")?;
    let tls_fingerprint = match b.tls_fingerprint.map(super::blank_to_none) {
        None => None,
        Some(None) => Some(None),
        Some(Some(f)) => Some(Some(validate::tls_fingerprint(&f)?)),
    };

    let txn = crate::db::begin_write(&state.db).await?;
    let current = routers::find_owned(&txn, EmpresaId(&ca.empresa_id), RouterId(&router_id))
        .await?
        .ok_or_else(|| ApiError::from(Problem::RouterNotOwned))?;
    let patch = RouterPatch {
        nombre: nombre.map(|n| n.trim().to_string()),
        host,
        puerto,
        usuario: usuario.map(|u| u.trim().to_string()),
        password,
        ubicacion,
        use_tls,
        tls_fingerprint,
    };
    let campos = patch_fields(&patch);
    let connection_changed = patch.changes_connection();
    let updated = if campos.is_empty() {
        current
    } else {
        let updated = routers::update(&txn, &state.secrets, current, patch).await?;
        audit::record(
            &txn,
            &ca.session,
            Some(&ca.empresa_id),
            AuditAction::RouterUpdate,
            Some(&router_id),
            json!({ "campos": campos }),
        )
        .await?;
        updated
    };
    txn.commit().await?;
    if connection_changed {
        state.routers.router_changed(&router_id).await;
    }
    Ok(HttpResponse::Ok().json(json!({
        "message": "Router actualizado correctamente",
        "router": {
            "id": updated.id,
            "nombre": updated.nombre,
            "host": updated.host,
            "puerto": updated.puerto,
            "usuario": updated.usuario,
            "ubicacion": updated.ubicacion,
            "activo": updated.activo,
            "use_tls": updated.use_tls,
            "tls_fingerprint": updated.tls_fingerprint,
        },
    })))
}

/// The audit names of the fields a patch sets, in the body's order.
fn patch_fields(p: &RouterPatch) -> Vec<&'static str> {
    [
        ("nombre", p.nombre.is_some()),
        ("host", p.host.is_some()),
        ("puerto", p.puerto.is_some()),
        ("usuario", p.usuario.is_some()),
        ("password", p.password.is_some()),
        ("ubicacion", p.ubicacion.is_some()),
        ("use_tls", p.use_tls.is_some()),
        ("tls_fingerprint", p.tls_fingerprint.is_some()),
    ]
    .into_iter()
    .filter_map(|(name, set)| set.then_some(name))
    .collect()
}
