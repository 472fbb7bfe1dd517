//! Company-admin product (plan) management: `/api/v1/admin/products` (as in the original).
//!
//! A product belongs to a router of the caller's own company; everything else answers 404 with
//! the original's texts. Prices are parsed from the JSON number's text into a `Decimal` (no
//! float arithmetic) and validated (> 0, two decimals); the currency is checked on create and
//! update; every string is checked against its column before anything is written; every change
//! is audited in the same transaction.
//!
//! The hotspot profile a product sells is checked on its router when the product is created
//! and when it is switched back on (`activo: true`): a router that answers without that
//! profile refuses the save (400); a router that cannot answer (offline, busy, switched off)
//! does not block it: the product is saved with `perfil_verificado: false` and an
//! `advertencia`, and every sale checks the profile again (docs/access-lifecycle.md).

use std::str::FromStr;

use actix_web::{delete, get, post, put, web, HttpResponse};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::auth::session::ClienteAdmin;
use crate::db::audit::{self, AuditAction};
use crate::db::productos::{self, NewProducto, Producto, ProductoPatch};
use crate::db::routers;
use crate::error::{is_unique_violation, ApiError, ApiResult, BadField, Problem};
use crate::extract::{FieldAliases, JsonBody};
use crate::ids::{EmpresaId, RouterId};
use crate::routes::product_plan::{with_plan, PlanInput};
use crate::state::AppState;
use crate::validate;
use crate::wire;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_product)
        .service(list_products)
        .service(get_product)
        .service(update_product)
        .service(delete_product);
}

/// `ProductoCreateRequest`.
#[derive(Debug, Deserialize)]
struct CreateProduct {
    router_id: String,
    perfil_mikrotik_id: String,
    perfil_mikrotik_nombre: String,
    nombre_venta: String,
    #[serde(default)]
    descripcion: Option<String>,
    #[serde(default)]
    imagen_url: Option<String>,
    precio: Value,
    #[serde(default)]
    moneda: Option<String>,
    #[serde(default)]
    detalles: Vec<Map<String, Value>>,
    #[serde(default = "yes")]
    activo: bool,
    #[serde(default)]
    orden_visual: i32,
    #[serde(default)]
    destacado: bool,
    #[serde(flatten)]
    plan: PlanInput,
}
impl FieldAliases for CreateProduct {}

fn yes() -> bool {
    true
}

/// `ProductoUpdateRequest`: every key optional. `null` clears `descripcion`/`imagen_url`;
/// `null` for a required column is refused (the original answered 500).
#[derive(Debug, Deserialize)]
struct UpdateProduct {
    #[serde(default, deserialize_with = "validate::double_option")]
    nombre_venta: Option<Option<String>>,
    #[serde(default, deserialize_with = "validate::double_option")]
    descripcion: Option<Option<String>>,
    #[serde(default, deserialize_with = "validate::double_option")]
    imagen_url: Option<Option<String>>,
    #[serde(default, deserialize_with = "validate::double_option")]
    precio: Option<Option<Value>>,
    #[serde(default, deserialize_with = "validate::double_option")]
    moneda: Option<Option<String>>,
    #[serde(default, deserialize_with = "validate::double_option")]
    detalles: Option<Option<Vec<Map<String, Value>>>>,
    #[serde(default, deserialize_with = "validate::double_option")]
    activo: Option<Option<bool>>,
    #[serde(default, deserialize_with = "validate::double_option")]
    orden_visual: Option<Option<i32>>,
    #[serde(default, deserialize_with = "validate::double_option")]
    destacado: Option<Option<bool>>,
    #[serde(flatten)]
    plan: PlanInput,
}
impl FieldAliases for UpdateProduct {}

#[derive(Debug, Deserialize)]
struct ListQuery {
    router_id: Option<String>,
}

/// Parses a JSON number (or numeric string, as Pydantic's lax float did) into an exact
/// `Decimal` from its text, then applies [`validate::price`].
pub fn parse_price(field: &str, value: &Value) -> ApiResult<Decimal> {
    let text = match value {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.trim().to_string(),
        other => {
            return Err(ApiError::field(
                field,
                "float_type",
                "Input should be a valid number",
                other.clone(),
            ))
        }
    };
    let parsed = Decimal::from_str(&text)
        .or_else(|_| Decimal::from_scientific(&text))
        .map_err(|_| {
            ApiError::field(
                field,
                "float_parsing",
                "Input should be a valid number, unable to parse string as a number",
                value.clone(),
            )
        })?;
    validate::price(field, parsed.normalize())
}

/// Sent with a product saved while its router could not confirm the profile.
const PROFILE_UNVERIFIED: &str =
    "No se pudo verificar el perfil en el router (sin conexión). El producto se guardó; la venta fallará si el perfil no existe.";

/// Checks that the router has the hotspot profile: `Ok(true)` confirmed, `Ok(false)` the router
/// could not answer (saved unverified), `Err` the router answered without it.
async fn profile_on_router(state: &AppState, router_id: &str, perfil: &str) -> ApiResult<bool> {
    match state.routers.list_profiles(router_id).await {
        Ok(profiles) if profiles.iter().any(|p| p.name == perfil) => Ok(true),
        Ok(_) => Err(Problem::ProductProfileNotOnRouter {
            perfil: perfil.to_string(),
        }
        .into()),
        Err(e) => {
            tracing::warn!(router_id, error = %e, "product saved without checking its profile on the router");
            Ok(false)
        }
    }
}

/// A saved product's JSON, with the outcome of the profile check when one ran.
fn saved_json(p: &Producto, verified: Option<bool>) -> Value {
    let mut v = product_json(p);
    if let (Value::Object(m), Some(verified)) = (&mut v, verified) {
        m.insert("perfil_verificado".into(), json!(verified));
        if !verified {
            m.insert("advertencia".into(), json!(PROFILE_UNVERIFIED));
        }
    }
    v
}

fn null_refused(field: &str) -> ApiError {
    Problem::NullField(BadField::new(field, Value::Null)).into()
}

fn check_optional_text(field: &str, value: Option<&str>, max: Option<usize>) -> ApiResult<()> {
    if let (Some(v), Some(max)) = (value, max) {
        validate::max_len(field, v, max)?;
    }
    Ok(())
}

/// `detalles` as the admin API returns it: a list of strings (`texto` of each object).
pub fn admin_detalles(stored: &Value) -> Vec<String> {
    let Value::Array(items) = stored else {
        return Vec::new();
    };
    items
        .iter()
        .map(|item| match item {
            Value::String(s) => s.clone(),
            Value::Object(m) => match m.get("texto") {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Null) | None => String::new(),
                Some(other) => other.to_string(),
            },
            other => other.to_string(),
        })
        .collect()
}

/// `ProductoResponse`.
pub fn product_json(p: &Producto) -> Value {
    with_plan(product_json_base(p), p)
}

fn product_json_base(p: &Producto) -> Value {
    json!({
        "id": p.id,
        "router_id": p.router_id,
        "perfil_mikrotik_id": p.perfil_mikrotik_id,
        "perfil_mikrotik_nombre": p.perfil_mikrotik_nombre,
        "nombre_venta": p.nombre_venta,
        "descripcion": p.descripcion,
        "imagen_url": p.imagen_url,
        "precio": wire::money(p.precio),
        "moneda": p.moneda,
        "detalles": admin_detalles(&p.detalles),
        "activo": p.activo,
        "orden_visual": p.orden_visual,
        "destacado": p.destacado,
        "creado_en": wire::iso(p.creado_en),
    })
}

/// Audit details: the product's non-secret fields.
fn audit_details(p: &Producto) -> Value {
    json!({
        "router_id": p.router_id,
        "perfil_mikrotik_id": p.perfil_mikrotik_id,
        "nombre_venta": p.nombre_venta,
        "precio": p.precio.to_string(),
        "moneda": p.moneda,
        "activo": p.activo,
        "orden_visual": p.orden_visual,
        "destacado": p.destacado,
    })
}

async fn own_product(
    state: &AppState,
    empresa_id: &str,
    producto_id: i32,
) -> ApiResult<Option<Producto>> {
    Ok(productos::find_owned(&state.db, EmpresaId(empresa_id), producto_id).await?)
}

#[utoipa::path(
    tag = "cliente_admin",
    summary = "Create a product",
    request_body(content = inline(crate::openapi::schemas::NewProduct), content_type = "application/json"),
    responses((status = 201, description = "Created")),
    security(("session" = ["cliente_admin"])),
)]
#[post("/api/v1/admin/products")]
async fn create_product(
    state: web::Data<AppState>,
    admin: ClienteAdmin,
    body: JsonBody<CreateProduct>,
) -> ApiResult<HttpResponse> {
    let req = body.into_inner();
    // Validate everything before touching the database.
    let plan = req.plan.patch()?.into_plan();
    validate::required_text("perfil_mikrotik_id", &req.perfil_mikrotik_id, 100)?;
    validate::required_text("perfil_mikrotik_nombre", &req.perfil_mikrotik_nombre, 100)?;
    validate::required_text("nombre_venta", &req.nombre_venta, 100)?;
    check_optional_text("imagen_url", req.imagen_url.as_deref(), Some(500))?;
    check_optional_text("descripcion", req.descripcion.as_deref(), None)?;
    let precio = parse_price("precio", &req.precio)?;
    let moneda = validate::currency(req.moneda.as_deref().unwrap_or("MXN"))?;
    let detalles = Value::Array(req.detalles.into_iter().map(Value::Object).collect());

    // The router must be one of the caller's company (same answer whether it is missing or
    // belongs to another company).
    if req.router_id.chars().count() > 50 {
        return Err(ApiError::from(Problem::RouterNotOursForProducts));
    }
    let empresa = EmpresaId(&admin.empresa_id);
    let router = routers::find_owned(&state.db, empresa, RouterId(&req.router_id))
        .await?
        .ok_or_else(|| ApiError::from(Problem::RouterNotOursForProducts))?;

    let duplicate = || {
        ApiError::from(Problem::ProductDuplicate {
            perfil: req.perfil_mikrotik_id.to_string(),
            router_id: router.id.clone(),
        })
    };
    let exists = productos::find_by_profile(
        &state.db,
        empresa,
        RouterId(&router.id),
        &req.perfil_mikrotik_id,
    )
    .await?;
    if exists.is_some() {
        return Err(duplicate());
    }
    let verified = profile_on_router(&state, &router.id, &req.perfil_mikrotik_nombre).await?;

    let txn = crate::db::begin_write(&state.db).await?;
    let new = NewProducto {
        empresa_id: admin.empresa_id.clone(),
        router_id: router.id.clone(),
        perfil_mikrotik_id: req.perfil_mikrotik_id.clone(),
        perfil_mikrotik_nombre: req.perfil_mikrotik_nombre,
        nombre_venta: req.nombre_venta,
        descripcion: req.descripcion,
        imagen_url: req.imagen_url,
        precio,
        moneda,
        detalles,
        activo: req.activo,
        orden_visual: req.orden_visual,
        destacado: req.destacado,
        plan,
    };
    let inserted = productos::insert(&txn, new).await;
    let product = match inserted {
        Ok(p) => p,
        Err(e) if is_unique_violation(&e) => return Err(duplicate()),
        Err(e) => return Err(e.into()),
    };
    audit::record(
        &txn,
        &admin.session,
        Some(&admin.empresa_id),
        AuditAction::ProductoCrear,
        Some(&product.id.to_string()),
        audit_details(&product),
    )
    .await?;
    txn.commit().await?;
    Ok(HttpResponse::Created().json(saved_json(&product, Some(verified))))
}

#[utoipa::path(
    tag = "cliente_admin",
    summary = "List products (inactive included)",
    params(
        ("router_id" = Option<String>, Query, description = "Only this router's products."),
    ),
    responses((status = 200, description = "OK")),
    security(("session" = ["cliente_admin"])),
)]
#[get("/api/v1/admin/products")]
async fn list_products(
    state: web::Data<AppState>,
    admin: ClienteAdmin,
    query: web::Query<ListQuery>,
) -> ApiResult<HttpResponse> {
    let empresa = EmpresaId(&admin.empresa_id);
    let router = query.router_id.as_deref().map(RouterId);
    if let Some(r) = router {
        if routers::find_owned(&state.db, empresa, r).await?.is_none() {
            return Err(ApiError::from(Problem::RouterNotFound));
        }
    }
    let products = productos::list_for_admin(&state.db, empresa, router).await?;
    Ok(HttpResponse::Ok().json(products.iter().map(product_json).collect::<Vec<_>>()))
}

#[utoipa::path(
    tag = "cliente_admin",
    summary = "Get a product",
    responses((status = 200, description = "OK")),
    security(("session" = ["cliente_admin"])),
)]
#[get("/api/v1/admin/products/{producto_id}")]
async fn get_product(
    state: web::Data<AppState>,
    admin: ClienteAdmin,
    path: web::Path<i32>,
) -> ApiResult<HttpResponse> {
    let product = own_product(&state, &admin.empresa_id, path.into_inner())
        .await?
        .ok_or_else(|| ApiError::from(Problem::ProductNotFound))?;
    Ok(HttpResponse::Ok().json(product_json(&product)))
}

/// The update body, validated, as the columns to set.
fn validated_patch(req: UpdateProduct) -> ApiResult<ProductoPatch> {
    let nombre_venta = match req.nombre_venta {
        Some(None) => return Err(null_refused("nombre_venta")),
        Some(Some(v)) => {
            validate::required_text("nombre_venta", &v, 100)?;
            Some(v)
        }
        None => None,
    };
    if let Some(Some(v)) = &req.imagen_url {
        validate::max_len("imagen_url", v, 500)?;
    }
    let precio = match &req.precio {
        Some(None) => return Err(null_refused("precio")),
        Some(Some(v)) => Some(parse_price("precio", v)?),
        None => None,
    };
    let moneda = match &req.moneda {
        // `null` is not a currency: the original's 422 text.
        Some(v) => Some(validate::currency(v.as_deref().unwrap_or(""))?),
        None => None,
    };
    let detalles = match req.detalles {
        Some(None) => return Err(null_refused("detalles")),
        Some(Some(list)) => Some(Value::Array(list.into_iter().map(Value::Object).collect())),
        None => None,
    };
    let plan = req.plan.patch()?;
    Ok(ProductoPatch {
        plan,
        nombre_venta,
        descripcion: req.descripcion,
        imagen_url: req.imagen_url,
        precio,
        moneda,
        detalles,
        activo: flatten_required("activo", req.activo)?,
        orden_visual: flatten_required("orden_visual", req.orden_visual)?,
        destacado: flatten_required("destacado", req.destacado)?,
    })
}

/// The audit names of the columns a patch sets, in the body's order.
fn patch_fields(p: &ProductoPatch) -> Vec<&'static str> {
    [
        ("nombre_venta", p.nombre_venta.is_some()),
        ("descripcion", p.descripcion.is_some()),
        ("imagen_url", p.imagen_url.is_some()),
        ("precio", p.precio.is_some()),
        ("moneda", p.moneda.is_some()),
        ("detalles", p.detalles.is_some()),
        ("activo", p.activo.is_some()),
        ("orden_visual", p.orden_visual.is_some()),
        ("destacado", p.destacado.is_some()),
    ]
    .into_iter()
    .filter_map(|(name, set)| set.then_some(name))
    .chain(p.plan.fields())
    .collect()
}

#[utoipa::path(
    tag = "cliente_admin",
    summary = "Update a product (partial)",
    request_body(content = inline(crate::openapi::schemas::ProductUpdate), content_type = "application/json"),
    responses((status = 200, description = "OK")),
    security(("session" = ["cliente_admin"])),
)]
#[put("/api/v1/admin/products/{producto_id}")]
async fn update_product(
    state: web::Data<AppState>,
    admin: ClienteAdmin,
    path: web::Path<i32>,
    body: JsonBody<UpdateProduct>,
) -> ApiResult<HttpResponse> {
    let producto_id = path.into_inner();
    // Validate the whole body first.
    let patch = validated_patch(body.into_inner())?;
    let existing = own_product(&state, &admin.empresa_id, producto_id)
        .await?
        .ok_or_else(|| ApiError::from(Problem::ProductNotOwned))?;
    let changed = patch_fields(&patch);
    let activo = patch.activo;
    if changed.is_empty() {
        return Ok(HttpResponse::Ok().json(product_json(&existing)));
    }
    // Switching a product on puts it back on sale: its profile must (still) be on the router.
    let verified = match activo {
        Some(true) => Some(
            profile_on_router(
                &state,
                &existing.router_id,
                &existing.perfil_mikrotik_nombre,
            )
            .await?,
        ),
        _ => None,
    };

    let txn = crate::db::begin_write(&state.db).await?;
    let updated = productos::update(&txn, existing, patch).await?;
    let mut details = audit_details(&updated);
    if let Value::Object(m) = &mut details {
        m.insert("campos".into(), json!(changed));
    }
    audit::record(
        &txn,
        &admin.session,
        Some(&admin.empresa_id),
        AuditAction::ProductoActualizar,
        Some(&updated.id.to_string()),
        details,
    )
    .await?;
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(saved_json(&updated, verified)))
}

#[utoipa::path(
    tag = "cliente_admin",
    summary = "Deactivate a product (soft delete)",
    responses((status = 200, description = "OK")),
    security(("session" = ["cliente_admin"])),
)]
#[delete("/api/v1/admin/products/{producto_id}")]
async fn delete_product(
    state: web::Data<AppState>,
    admin: ClienteAdmin,
    path: web::Path<i32>,
) -> ApiResult<HttpResponse> {
    let existing = own_product(&state, &admin.empresa_id, path.into_inner())
        .await?
        .ok_or_else(|| ApiError::from(Problem::ProductNotFound))?;
    let txn = crate::db::begin_write(&state.db).await?;
    let patch = ProductoPatch {
        activo: Some(false),
        ..Default::default()
    };
    let updated = productos::update(&txn, existing, patch).await?;
    audit::record(
        &txn,
        &admin.session,
        Some(&admin.empresa_id),
        AuditAction::ProductoDesactivar,
        Some(&updated.id.to_string()),
        audit_details(&updated),
    )
    .await?;
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(json!({
        "message": "Producto desactivado",
        "producto_id": updated.id,
        "activo": false,
    })))
}

fn flatten_required<T>(field: &str, v: Option<Option<T>>) -> ApiResult<Option<T>> {
    match v {
        Some(None) => Err(null_refused(field)),
        Some(Some(v)) => Ok(Some(v)),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_parse_exactly() {
        assert_eq!(
            parse_price("precio", &json!(19.99)).unwrap(),
            Decimal::new(1999, 2)
        );
        assert_eq!(
            parse_price("precio", &json!(0.1)).unwrap(),
            Decimal::new(1, 1)
        );
        assert_eq!(
            parse_price("precio", &json!("15")).unwrap(),
            Decimal::new(15, 0)
        );
        assert_eq!(
            parse_price("precio", &json!(1e2)).unwrap(),
            Decimal::new(100, 0)
        );
        for bad in [json!(0), json!(-5), json!(1.999), json!("abc"), json!(true)] {
            assert!(parse_price("precio", &bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn admin_detalles_shapes() {
        assert_eq!(
            admin_detalles(&json!([{"texto": "a"}, {"otro": 1}, "b", {"texto": 5}])),
            vec!["a", "", "b", "5"]
        );
        assert!(admin_detalles(&json!({"x": 1})).is_empty());
    }
}
