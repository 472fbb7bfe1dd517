//! The captive portal's product catalogue (`/api/v1/catalogo_perfiles_venta`), read with
//! the router API key.
//!
//! * Only the active products of the key's company **and** the key's router are listed.
//! * When the key's router is inactive (disabled by an operator) the catalogue is empty and
//!   single products answer 404 `"Producto no encontrado o no disponible"`: nothing can be sold
//!   there, and the portal renders its normal "no plans" state instead of an error page.
//! * `/debug` is no longer public: it answers 404 `{"detail":"Not Found"}` unless the request
//!   also carries a cliente_admin session of the same company (`X-API-Key: jwt_…` for the
//!   key plus `Authorization: Bearer <session>`). Even then it shows only the key's router.

use actix_web::{get, web, FromRequest, HttpRequest, HttpResponse};
use serde_json::{json, Map, Value};

use crate::auth::portal_key::PortalKey;
use crate::auth::session::ClienteAdmin;
use crate::db::productos::{self, Producto};
use crate::error::{ApiError, ApiResult, Problem};
use crate::state::AppState;
use crate::wire;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    // `/debug` before `/{producto_id}`.
    cfg.service(catalog_debug)
        .service(catalog_list)
        .service(catalog_item);
}

/// Python's `str()` of a JSON scalar, as the original's fallback produced it.
fn py_str(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Null => "None".into(),
        other => other.to_string(),
    }
}

/// `detalles` as the portal receives it: a list of objects. Objects whose values are all
/// strings pass unchanged; other values are stringified; a string element `s` becomes
/// `{"value": s}`; a stored value that is not a list becomes `[]`.
pub fn portal_detalles(stored: &Value) -> Vec<Value> {
    let Value::Array(items) = stored else {
        return Vec::new();
    };
    items
        .iter()
        .map(|item| match item {
            Value::Object(m) => Value::Object(
                m.iter()
                    .map(|(k, v)| (k.clone(), Value::String(py_str(v))))
                    .collect::<Map<String, Value>>(),
            ),
            other => json!({ "value": py_str(other) }),
        })
        .collect()
}

/// `ProductoVentaResponse`.
pub fn venta_json(p: &Producto) -> Value {
    crate::routes::product_plan::with_plan(venta_json_base(p), p)
}

fn venta_json_base(p: &Producto) -> Value {
    json!({
        "id": p.id,
        "perfil_mikrotik_id": p.perfil_mikrotik_id,
        "perfil_mikrotik_nombre": p.perfil_mikrotik_nombre,
        "nombre_venta": p.nombre_venta,
        "descripcion": p.descripcion,
        "imagen_url": p.imagen_url,
        "precio": wire::money(p.precio),
        "moneda": p.moneda,
        "detalles": portal_detalles(&p.detalles),
        "destacado": p.destacado,
        "creado_en": wire::iso(p.creado_en),
    })
}

#[utoipa::path(
    tag = "portal",
    summary = "Active products of the key's router",
    responses((status = 200, description = "OK", body = [Object], example = json!([{"id": 1, "perfil_mikrotik_id": "*2", "perfil_mikrotik_nombre": "1h", "nombre_venta": "1 hora", "descripcion": "Una hora de Internet", "imagen_url": null, "precio": 15.0, "moneda": "MXN", "detalles": [{"texto": "Velocidad de bajada 5 Mbps"}], "destacado": false, "creado_en": "2026-01-01T10:00:00"}]))),
    security(("apiKey" = []), ("apiKeyBearer" = [])),
)]
#[get("/api/v1/catalogo_perfiles_venta")]
async fn catalog_list(state: web::Data<AppState>, key: PortalKey) -> ApiResult<HttpResponse> {
    if !key.router.activo {
        return Ok(HttpResponse::Ok().json(Vec::<Value>::new()));
    }
    let products = productos::list_for_sale(&state.db, key.empresa_id(), key.router_id()).await?;
    Ok(HttpResponse::Ok().json(products.iter().map(venta_json).collect::<Vec<_>>()))
}

#[utoipa::path(
    tag = "portal",
    summary = "One active product",
    responses((status = 200, description = "OK")),
    security(("apiKey" = []), ("apiKeyBearer" = [])),
)]
#[get("/api/v1/catalogo_perfiles_venta/{producto_id}")]
async fn catalog_item(
    state: web::Data<AppState>,
    key: PortalKey,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    // A non-numeric id cannot name a product: same 404 as a missing one.
    let id: i32 = path
        .parse()
        .map_err(|_| ApiError::from(Problem::ProductNotAvailable))?;
    if !key.router.activo {
        return Err(ApiError::from(Problem::ProductNotAvailable));
    }
    let product = productos::find_for_sale(&state.db, key.empresa_id(), key.router_id(), id)
        .await?
        .ok_or_else(|| ApiError::from(Problem::ProductNotAvailable))?;
    Ok(HttpResponse::Ok().json(venta_json(&product)))
}

/// The original's raw dump, for the company's own admin only (see the module docs).
#[utoipa::path(
    tag = "portal",
    summary = "Raw product dump (needs a cliente_admin session too)",
    responses((status = 200, description = "OK")),
    security(("apiKey" = []), ("apiKeyBearer" = [])),
)]
#[get("/api/v1/catalogo_perfiles_venta/debug")]
async fn catalog_debug(state: web::Data<AppState>, req: HttpRequest) -> ApiResult<HttpResponse> {
    let hidden = || ApiError::from(Problem::NotFound);
    let key = PortalKey::extract(&req).await.map_err(|_| hidden())?;
    let admin = ClienteAdmin::extract(&req).await.map_err(|_| hidden())?;
    if admin.empresa_id != key.empresa.id {
        return Err(hidden());
    }
    let products = productos::list_for_router(&state.db, key.empresa_id(), key.router_id()).await?;
    let productos: Vec<Value> = products
        .iter()
        .map(|p| {
            json!({
                "id": p.id,
                "nombre_venta": p.nombre_venta,
                "perfil_mikrotik_id": p.perfil_mikrotik_id,
                "detalles_raw": p.detalles,
                "detalles_tipo": python_type(&p.detalles),
                "detalles_normalizado": portal_detalles(&p.detalles),
                "creado_en": wire::iso(p.creado_en),
                "creado_en_tipo": "datetime",
                "activo": p.activo,
                "precio": wire::money(p.precio),
                "moneda": p.moneda,
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(json!({
        "empresa": key.empresa.nombre,
        "router": key.router.nombre,
        "router_id": key.router.id,
        "empresa_id": key.empresa.id,
        "total_productos": productos.len(),
        "productos": productos,
    })))
}

fn python_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "NoneType",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detalles_fallbacks() {
        assert_eq!(
            portal_detalles(&json!([{"texto": "a"}])),
            vec![json!({"texto": "a"})]
        );
        assert_eq!(
            portal_detalles(&json!(["• Conexión inmediata"])),
            vec![json!({"value": "• Conexión inmediata"})]
        );
        assert_eq!(
            portal_detalles(&json!([{"horas": 5, "ok": true, "n": null, "f": 1.5}])),
            vec![json!({"horas": "5", "ok": "True", "n": "None", "f": "1.5"})]
        );
        assert!(portal_detalles(&json!("x")).is_empty());
    }
}
