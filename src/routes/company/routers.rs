//! The company's own routers: list and edit (host, port, RouterOS credentials, TLS).

use actix_web::{get, put, web, HttpResponse};
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, Set,
};
use serde::Deserialize;
use serde_json::json;

use entity::router;

use super::{non_null, router_changed};
use crate::audit;
use crate::auth::session::ClienteAdmin;
use crate::crypto::field;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{FieldAliases, JsonBody};
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
    let routers = router::Entity::find()
        .filter(router::Column::EmpresaId.eq(ca.empresa_id.as_str()))
        .order_by_asc(router::Column::CreadoEn)
        .all(&state.db)
        .await?;
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
    let current = router::Entity::find_by_id(router_id.clone())
        .filter(router::Column::EmpresaId.eq(ca.empresa_id.as_str()))
        .one(&txn)
        .await?
        .ok_or_else(|| ApiError::from(Problem::RouterNotOwned))?;
    let unchanged = current.clone();
    let mut m = current.into_active_model();
    let mut campos: Vec<&str> = vec![];
    let mut connection_changed = false;
    if let Some(n) = nombre {
        m.nombre = Set(n.trim().to_string());
        campos.push("nombre");
    }
    if let Some(h) = host {
        m.host = Set(h);
        campos.push("host");
        connection_changed = true;
    }
    if let Some(p) = puerto {
        m.puerto = Set(p);
        campos.push("puerto");
        connection_changed = true;
    }
    if let Some(u) = usuario {
        m.usuario = Set(u.trim().to_string());
        campos.push("usuario");
        connection_changed = true;
    }
    if let Some(p) = password {
        m.password_encrypted = Set(state.secrets.encrypt(field::ROUTER_PASSWORD, &p));
        campos.push("password");
        connection_changed = true;
    }
    if let Some(u) = ubicacion {
        m.ubicacion = Set(u);
        campos.push("ubicacion");
    }
    if let Some(t) = use_tls {
        m.use_tls = Set(t);
        campos.push("use_tls");
        connection_changed = true;
    }
    if let Some(f) = tls_fingerprint {
        m.tls_fingerprint = Set(f);
        campos.push("tls_fingerprint");
        connection_changed = true;
    }
    let updated = if campos.is_empty() {
        unchanged
    } else {
        m.actualizado_en = Set(Utc::now());
        let updated = m.update(&txn).await?;
        audit::record(
            &txn,
            &ca.session,
            Some(&ca.empresa_id),
            "router.update",
            "router",
            Some(&router_id),
            json!({ "campos": campos }),
        )
        .await?;
        updated
    };
    txn.commit().await?;
    if connection_changed {
        router_changed(&state, &router_id).await;
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
