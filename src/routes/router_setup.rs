//! Putting the service on a router (cliente_admin, own routers):
//!
//! * `POST /api/v1/admin/routers/{router_id}/portal.zip` — the hotspot folder (`login.html`,
//!   `portal.js`, `portal.css`) with the API base (`PUBLIC_BASE_URL`, else this request's
//!   origin) and the given key of that router filled in;
//! * `GET /api/v1/admin/routers/{router_id}/setup.rsc` — the RouterOS setup script;
//! * `GET /api/v1/admin/routers/{router_id}/setup-check` — which of the script's steps the
//!   router has, read through the broker.
//!
//! `setup.rsc` and `setup-check` take `?source=203.0.113.7,198.51.100.0/24`, the addresses the
//! routers see the service connect from; without it, `ROUTER_SOURCE_ADDRESSES`.

use actix_web::http::header;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::Utc;
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde_json::json;

use crate::auth::api_key;
use crate::auth::session::ClienteAdmin;
use crate::db::routers::Router;
use crate::db::{api_keys, empresas, routers};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{FieldAliases, JsonBody};
use crate::hotspot_kit::setup::{self, RouterTables, SetupInput, MENUS};
use crate::hotspot_kit::site;
use crate::ids::{EmpresaId, RouterId};
use crate::state::AppState;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(portal_zip)
        .service(setup_rsc)
        .service(setup_check);
}

async fn own_router(state: &AppState, ca: &ClienteAdmin, router_id: &str) -> ApiResult<Router> {
    routers::find_owned(&state.db, EmpresaId(&ca.empresa_id), RouterId(router_id))
        .await?
        .ok_or_else(|| ApiError::from(Problem::RouterNotOwned))
}

/// `PUBLIC_BASE_URL`, else the origin this request came to.
fn api_base(state: &AppState, req: &HttpRequest) -> String {
    match &state.config.public_base_url {
        Some(b) => b.clone(),
        None => {
            let info = req.connection_info();
            format!("{}://{}", info.scheme(), info.host())
        }
    }
}

#[derive(Debug, Deserialize)]
struct PortalZipReq {
    api_key: String,
}
impl FieldAliases for PortalZipReq {}

/// Whether `key` is a live API key of this router (keys are stored only as hashes).
async fn live_key_of(state: &AppState, r: &Router, key: &str) -> ApiResult<bool> {
    let secret = state.config.jwt_apikey_secret.expose_secret();
    let Ok((hash, claims)) = api_key::decode(key.trim(), secret, Utc::now()) else {
        return Ok(false);
    };
    let Some(stored) = api_keys::find_active_by_hash(&state.db, &hash).await? else {
        return Ok(false);
    };
    Ok(stored.router_id == r.id
        && stored.empresa_id == r.empresa_id
        && claims.sub == r.id
        && claims.empresa == r.empresa_id)
}

#[utoipa::path(
    tag = "cliente_admin",
    summary = "The captive portal folder for a router, as a zip",
    description = "login.html, portal.js and portal.css for the router's hotspot/ folder, with the API base (PUBLIC_BASE_URL) and the given key filled in. The key must be a live key of that router (keys are stored only as hashes, so the admin supplies the one they were shown); anything else is 422.",
    request_body(content = inline(crate::openapi::schemas::PortalZipBody), content_type = "application/json"),
    responses(
        (status = 200, description = "The zip", content_type = "application/zip"),
        (status = 422, description = "Not a live key of this router"),
    ),
    security(("session" = ["cliente_admin"])),
)]
#[post("/api/v1/admin/routers/{router_id}/portal.zip")]
async fn portal_zip(
    ca: ClienteAdmin,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: JsonBody<PortalZipReq>,
) -> ApiResult<HttpResponse> {
    let r = own_router(&state, &ca, &path.into_inner()).await?;
    let key = body.into_inner().api_key;
    if !live_key_of(&state, &r, &key).await? {
        return Err(Problem::PortalKeyNotOfRouter.into());
    }
    let zip = site::hotspot_zip(&api_base(&state, &req), key.trim()).map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok()
        .content_type("application/zip")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"hotspot-{}.zip\"", r.id),
        ))
        .body(zip))
}

#[derive(Debug, Deserialize)]
struct SourceQuery {
    source: Option<String>,
}

/// `?source=` (comma list) or `ROUTER_SOURCE_ADDRESSES`.
fn sources(state: &AppState, q: &SourceQuery) -> ApiResult<Vec<String>> {
    match q.source.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(state.config.portal.router_source_addresses.clone()),
        Some(list) => list
            .split(',')
            .map(|s| crate::config::ipv4_cidr(s).ok_or_else(|| Problem::SetupSourceInvalid.into()))
            .collect(),
    }
}

/// The hosts a device must reach before login: the API, and each configured gateway's script,
/// API and card pages.
fn walled_garden_hosts(
    state: &AppState,
    api: &str,
    conekta: bool,
    mercado_pago: bool,
) -> Vec<(String, String)> {
    let c = &state.config;
    let mut urls: Vec<(String, &str)> = vec![(api.to_string(), "API del portal")];
    if conekta {
        urls.push((c.portal.conekta_js_url.clone(), "Conekta.js"));
        urls.push((c.conekta_api_base.clone(), "Conekta API (tokens)"));
    }
    if mercado_pago {
        urls.push((c.portal.mercadopago_js_url.clone(), "Mercado Pago SDK"));
        urls.push((
            c.mercadopago_api_base.clone(),
            "Mercado Pago API (tokens, BIN)",
        ));
        // What the real SDK v2 loads besides (not when the sandbox stands in for it).
        if c.mercadopago_api_base == crate::config::DEFAULT_MERCADOPAGO_API_BASE {
            for host in [
                "api-static.mercadopago.com",
                "http2.mlstatic.com",
                "www.mercadopago.com",
            ] {
                urls.push((format!("https://{host}"), "Mercado Pago SDK (recursos)"));
            }
        }
    }
    let mut out: Vec<(String, String)> = Vec::new();
    for (url, purpose) in urls {
        if let Some(host) = setup::url_host(&url) {
            match out.iter_mut().find(|(h, _)| *h == host) {
                Some((_, p)) if !p.contains(purpose) => {
                    p.push_str(", ");
                    p.push_str(purpose);
                }
                Some(_) => {}
                None => out.push((host, purpose.to_string())),
            }
        }
    }
    out
}

/// The caller's router and what its script is made from.
async fn setup_input(
    state: &AppState,
    ca: &ClienteAdmin,
    req: &HttpRequest,
    router_id: &str,
    query: &SourceQuery,
) -> ApiResult<(Router, SetupInput)> {
    let r = own_router(state, ca, router_id).await?;
    let sources = sources(state, query)?;
    let e = empresas::find(&state.db, EmpresaId(&r.empresa_id))
        .await?
        .ok_or_else(|| ApiError::from(Problem::RouterNotOwned))?;
    let has = |k: &Option<String>| k.as_deref().is_some_and(|k| !k.trim().is_empty());
    let api = api_base(state, req);
    let input = SetupInput {
        router_name: r.nombre.clone(),
        api_user: r.usuario.clone(),
        sources,
        hosts: walled_garden_hosts(
            state,
            &api,
            has(&e.conekta_public_key),
            has(&e.mercado_pago_public_key),
        ),
        api_base: api,
        router_id: r.id.clone(),
    };
    Ok((r, input))
}

#[utoipa::path(
    tag = "cliente_admin",
    summary = "RouterOS setup script for a router",
    description = "A script to paste into the router's terminal: the API user with the least policy (read, write, api), the api/api-ssl services restricted to the service's address (?source= or ROUTER_SOURCE_ADDRESSES), walled-garden entries for the API and the gateways, and how to upload the portal. It never carries the router's stored API password: a router without the API user needs the password written into the script's pagosApiPassword variable.",
    params(("source" = Option<String>, Query, description = "Comma list of IPv4 addresses or CIDR blocks the routers see the service connect from")),
    responses(
        (status = 200, description = "The script", content_type = "text/plain"),
        (status = 422, description = "A bad source address"),
    ),
    security(("session" = ["cliente_admin"])),
)]
#[get("/api/v1/admin/routers/{router_id}/setup.rsc")]
async fn setup_rsc(
    ca: ClienteAdmin,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    query: web::Query<SourceQuery>,
) -> ApiResult<HttpResponse> {
    let (r, input) = setup_input(&state, &ca, &req, &path.into_inner(), &query).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("inline; filename=\"setup-{}.rsc\"", r.id),
        ))
        .body(setup::script(&input)))
}

/// The menus the check reads, through the broker.
async fn read_tables(state: &AppState, router_id: &str) -> ApiResult<RouterTables> {
    let mut read = Vec::with_capacity(MENUS.len());
    for menu in MENUS {
        read.push(
            state
                .routers
                .print(router_id, menu)
                .await
                .map_err(Problem::Router)?,
        );
    }
    let mut it = read.into_iter();
    let mut next = || it.next().unwrap_or_default();
    Ok(RouterTables {
        groups: next(),
        users: next(),
        services: next(),
        walled_garden: next(),
        walled_garden_ip: next(),
    })
}

#[utoipa::path(
    tag = "cliente_admin",
    summary = "Which setup steps a router has",
    description = "Reads /user/group, /user, /ip/service and the walled garden through the broker; each step of setup.rsc is `ok` or `missing` with the line to run.",
    params(("source" = Option<String>, Query, description = "As for setup.rsc")),
    responses((status = 200, description = "OK", body = Object, example = json!({"router_id": "RTR_2E0A7278", "completo": false, "elementos": [{"nombre": "grupo", "estado": "ok", "ejecutar": null}, {"nombre": "servicio api", "estado": "missing", "ejecutar": "/ip service set api address=203.0.113.7/32"}]}))),
    security(("session" = ["cliente_admin"])),
)]
#[get("/api/v1/admin/routers/{router_id}/setup-check")]
async fn setup_check(
    ca: ClienteAdmin,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    query: web::Query<SourceQuery>,
) -> ApiResult<HttpResponse> {
    let (r, input) = setup_input(&state, &ca, &req, &path.into_inner(), &query).await?;
    if !r.activo {
        return Err(Problem::RouterInactive.into());
    }
    let tables = read_tables(&state, &r.id).await?;
    let items: Vec<_> = setup::steps(&input)
        .into_iter()
        .map(|step| {
            let ok = setup::present(&step.want, &tables);
            // What to run only where something is missing.
            json!({
                "nombre": step.name,
                "estado": if ok { "ok" } else { "missing" },
                "ejecutar": (!ok).then_some(step.command),
            })
        })
        .collect();
    let complete = items.iter().all(|i| i["estado"] == "ok");
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({ "router_id": r.id, "completo": complete, "elementos": items })))
}
