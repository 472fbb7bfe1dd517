//! `/admin/empresas`, `/admin/dashboard` and `/admin/empresas/{id}/stats`.

use actix_web::{get, post, put, web, HttpRequest, HttpResponse};
use chrono::Utc;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{begin_write, json_body};
use crate::auth::session::SuperAdmin;
use crate::db::audit::{self, AuditAction};
use crate::db::empresas::{self, Empresa, EmpresaPatch, NewEmpresa};
use crate::db::{api_keys, routers, usuarios};
use crate::error::{ApiResult, BadField, Problem};
use crate::extract::FieldAliases;
use crate::ids::EmpresaId;
use crate::state::AppState;
use crate::validate;
use crate::wire::iso;

/// Conekta modes a company may use.
pub const CONEKTA_MODES: [&str; 2] = ["test", "live"];
/// Longest gateway key accepted (plaintext).
const MAX_KEY_LEN: usize = 255;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_empresa)
        .service(list_empresas)
        .service(get_empresa)
        .service(update_empresa)
        .service(dashboard)
        .service(empresa_stats);
}

/// The original's `EmpresaResponse` (never any key or token).
pub fn empresa_json(e: &Empresa) -> Value {
    json!({
        "id": e.id,
        "nombre": e.nombre,
        "contacto_email": e.contacto_email,
        "contacto_telefono": e.contacto_telefono,
        "conekta_mode": e.conekta_mode,
        "activa": e.activa,
        "creada_en": iso(e.creada_en),
        "zona_horaria": e.zona_horaria,
    })
}

#[derive(Debug, Deserialize)]
pub struct CreateEmpresa {
    pub nombre: String,
    pub contacto_email: String,
    #[serde(default)]
    pub contacto_telefono: Option<String>,
    #[serde(default)]
    pub conekta_private_key: Option<String>,
    #[serde(default)]
    pub conekta_public_key: Option<String>,
    #[serde(default)]
    pub conekta_mode: Option<String>,
}
impl FieldAliases for CreateEmpresa {}

fn check_conekta_mode(mode: &str) -> ApiResult<()> {
    if CONEKTA_MODES.contains(&mode) {
        Ok(())
    } else {
        Err(Problem::InvalidConektaMode(BadField::new("conekta_mode", json!(mode))).into())
    }
}

/// Blank optional text becomes `None`.
fn non_blank(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

#[utoipa::path(
    tag = "super_admin",
    summary = "Create a company",
    request_body(content = inline(crate::openapi::schemas::NewEmpresa), content_type = "application/json"),
    responses((status = 200, description = "OK")),
    security(("session" = ["super_admin"])),
)]
#[post("/admin/empresas")]
async fn create_empresa(
    state: web::Data<AppState>,
    admin: SuperAdmin,
    req: HttpRequest,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let b: CreateEmpresa = json_body(&req, payload).await?;
    let nombre = b.nombre.trim().to_string();
    validate::required_text("nombre", &nombre, 100)?;
    let email = b.contacto_email.trim().to_string();
    validate::email("contacto_email", &email)?;
    let telefono = non_blank(b.contacto_telefono);
    if let Some(t) = &telefono {
        validate::max_len("contacto_telefono", t, 20)?;
    }
    let private_key = non_blank(b.conekta_private_key);
    if let Some(k) = &private_key {
        validate::max_len("conekta_private_key", k, MAX_KEY_LEN)?;
    }
    let public_key = non_blank(b.conekta_public_key);
    if let Some(k) = &public_key {
        validate::max_len("conekta_public_key", k, MAX_KEY_LEN)?;
    }
    let mode = b
        .conekta_mode
        .map(|m| m.trim().to_string())
        .unwrap_or_else(|| "test".into());
    check_conekta_mode(&mode)?;

    let txn = begin_write(&state.db).await?;
    let new = NewEmpresa {
        contacto_email: Some(email),
        contacto_telefono: telefono,
        conekta_private_key: private_key,
        conekta_public_key: public_key,
        conekta_mode: mode,
        ..NewEmpresa::named(nombre)
    };
    let model = empresas::insert(&txn, &state.secrets, new).await?;
    let id = model.id.clone();
    audit::record(
        &txn,
        &admin.0,
        Some(&id),
        AuditAction::EmpresaCreate,
        Some(&id),
        json!({
            "nombre": model.nombre,
            "conekta_mode": model.conekta_mode,
            "conekta_private_key_set": model.conekta_private_key.is_some(),
        }),
    )
    .await?;
    txn.commit().await?;
    tracing::info!(empresa_id = %id, "empresa created");
    Ok(HttpResponse::Ok().json(empresa_json(&model)))
}

#[utoipa::path(
    tag = "super_admin",
    summary = "List companies",
    responses((status = 200, description = "OK")),
    security(("session" = ["super_admin"])),
)]
#[get("/admin/empresas")]
async fn list_empresas(state: web::Data<AppState>, _admin: SuperAdmin) -> ApiResult<HttpResponse> {
    let rows = empresas::list(&state.db).await?;
    Ok(HttpResponse::Ok().json(rows.iter().map(empresa_json).collect::<Vec<_>>()))
}

#[utoipa::path(
    tag = "super_admin",
    summary = "Get a company",
    responses((status = 200, description = "OK")),
    security(("session" = ["super_admin"])),
)]
#[get("/admin/empresas/{empresa_id}")]
async fn get_empresa(
    state: web::Data<AppState>,
    _admin: SuperAdmin,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let e = empresas::get(&state.db, EmpresaId(&path.into_inner())).await?;
    Ok(HttpResponse::Ok().json(empresa_json(&e)))
}

/// A partial update: absent keys stay as they are; `contacto_telefono: null` clears it.
#[derive(Debug, Deserialize)]
pub struct UpdateEmpresa {
    #[serde(default)]
    pub nombre: Option<String>,
    #[serde(default)]
    pub contacto_email: Option<String>,
    #[serde(default, deserialize_with = "crate::validate::double_option")]
    pub contacto_telefono: Option<Option<String>>,
    #[serde(default)]
    pub activa: Option<bool>,
}
impl FieldAliases for UpdateEmpresa {}

#[utoipa::path(
    tag = "super_admin",
    summary = "Update a company (partial)",
    request_body(content = inline(crate::openapi::schemas::EmpresaUpdate), content_type = "application/json"),
    responses((status = 200, description = "OK")),
    security(("session" = ["super_admin"])),
)]
#[put("/admin/empresas/{empresa_id}")]
async fn update_empresa(
    state: web::Data<AppState>,
    admin: SuperAdmin,
    path: web::Path<String>,
    req: HttpRequest,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let b: UpdateEmpresa = json_body(&req, payload).await?;
    let nombre = b.nombre.map(|n| n.trim().to_string());
    if let Some(n) = &nombre {
        validate::required_text("nombre", n, 100)?;
    }
    let email = b.contacto_email.map(|e| e.trim().to_string());
    if let Some(e) = &email {
        validate::email("contacto_email", e)?;
    }
    let telefono = b.contacto_telefono.map(non_blank);
    if let Some(Some(t)) = &telefono {
        validate::max_len("contacto_telefono", t, 20)?;
    }

    let empresa_id = path.into_inner();
    let txn = begin_write(&state.db).await?;
    let current = empresas::get(&txn, EmpresaId(&empresa_id)).await?;
    let mut patch = EmpresaPatch::default();
    let mut changed: Vec<&str> = Vec::new();
    if let Some(n) = nombre.filter(|n| *n != current.nombre) {
        patch.nombre = Some(n);
        changed.push("nombre");
    }
    if let Some(e) = email.filter(|e| current.contacto_email.as_deref() != Some(e.as_str())) {
        patch.contacto_email = Some(Some(e));
        changed.push("contacto_email");
    }
    if let Some(t) = telefono.filter(|t| *t != current.contacto_telefono) {
        patch.contacto_telefono = Some(t);
        changed.push("contacto_telefono");
    }
    let activa_changed = b.activa.is_some_and(|a| a != current.activa);
    if let Some(a) = b.activa.filter(|_| activa_changed) {
        patch.activa = Some(a);
        changed.push("activa");
    }
    if changed.is_empty() {
        txn.rollback().await?;
        return Ok(HttpResponse::Ok().json(empresa_json(&current)));
    }
    let updated = empresas::update(&txn, current, patch).await?;
    audit::record(
        &txn,
        &admin.0,
        Some(&empresa_id),
        AuditAction::EmpresaUpdate,
        Some(&empresa_id),
        json!({ "fields": changed, "activa": updated.activa }),
    )
    .await?;
    let routers = if activa_changed {
        routers::list_for_empresa(&txn, EmpresaId(&empresa_id)).await?
    } else {
        Vec::new()
    };
    txn.commit().await?;
    for r in &routers {
        state.routers.router_changed(&r.id).await;
    }
    tracing::info!(empresa_id = %empresa_id, "empresa updated");
    Ok(HttpResponse::Ok().json(empresa_json(&updated)))
}

#[utoipa::path(
    tag = "super_admin",
    summary = "Global counts",
    responses((status = 200, description = "OK")),
    security(("session" = ["super_admin"])),
)]
#[get("/admin/dashboard")]
async fn dashboard(state: web::Data<AppState>, _admin: SuperAdmin) -> ApiResult<HttpResponse> {
    let (total_empresas, empresas_activas) = empresas::counts(&state.db).await?;
    let total_usuarios = usuarios::count(&state.db, None).await?;
    Ok(HttpResponse::Ok().json(json!({
        "estadisticas": {
            "total_empresas": total_empresas,
            "empresas_activas": empresas_activas,
            "total_usuarios": total_usuarios,
        },
        "timestamp": iso(Utc::now()),
    })))
}

#[utoipa::path(
    tag = "super_admin",
    summary = "Per-company counts",
    responses((status = 200, description = "OK")),
    security(("session" = ["super_admin"])),
)]
#[get("/admin/empresas/{empresa_id}/stats")]
async fn empresa_stats(
    state: web::Data<AppState>,
    _admin: SuperAdmin,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let e = empresas::get(&state.db, EmpresaId(&path.into_inner())).await?;
    let id = EmpresaId(&e.id);
    let (total_routers, routers_activos) = routers::counts_for_empresa(&state.db, id).await?;
    let total_usuarios_admin = usuarios::count(&state.db, Some(id)).await?;
    let api_keys_activas = api_keys::count_usable(&state.db, id).await?;
    Ok(HttpResponse::Ok().json(json!({
        "empresa": {
            "id": e.id,
            "nombre": e.nombre,
            "activa": e.activa,
            "creada_en": iso(e.creada_en),
            "contacto_email": e.contacto_email,
        },
        "estadisticas": {
            "total_routers": total_routers,
            "routers_activos": routers_activos,
            "routers_inactivos": total_routers.saturating_sub(routers_activos),
            "total_usuarios_admin": total_usuarios_admin,
            "api_keys_activas": api_keys_activas,
        },
    })))
}
