//! Hotspot helpers for the captive portal, secured:
//!
//! * `POST /api/v1/hotspot/auto-reconnect` logs a device in again, but only with the user's
//!   password (or, for a PIN user — empty stored password — with `password` absent or `null`),
//!   and never returns router records.
//! * `POST /api/v1/hotspot/user/profile-info` checks credentials and reports the user's profile;
//!   values stay strings (no leading-zero bug), `disabled` is read correctly, no password leaves.
//!
//! Both are rate limited per client IP (`limits.credential_check_ip`). A router outage is
//! reported as `router_no_disponible`, never as an expired user or bad credentials.

use actix_web::{post, web, HttpRequest, HttpResponse};
use chrono::Utc;
use serde::Deserialize;
use serde_json::{json, Value};
use subtle::ConstantTimeEq;

use crate::auth::api_key::PortalKey;
use crate::auth::client_ip;
use crate::error::ApiResult;
use crate::extract::{FieldAliases, JsonBody};
use crate::purchase::response::{MSG_CONNECTED, MSG_NOT_CONNECTED, MSG_SLOW};
use crate::purchase::{ip_field, mac_field, parse_mac};
use crate::routeros::commands::{ActiveLogin, HotspotUser};
use crate::routeros::BrokerError;
use crate::state::AppState;
use crate::validate;
use crate::wire;

pub const MSG_ROUTER_DOWN: &str =
    "No hay conexión con el router en este momento. Intente más tarde.";
pub const MSG_BAD_CREDENTIALS: &str = "Credenciales incorrectas o no autorizado";
pub const MSG_NOT_FOUND: &str = "Usuario no encontrado";
pub const MSG_DISABLED: &str = "El usuario está deshabilitado";
pub const MSG_NO_IP: &str = "No se pudo detectar IP del cliente";

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(auto_reconnect).service(profile_info);
}

/// Whether a username looks like a MAC address (the original's rule).
fn looks_like_mac(v: &str) -> bool {
    if parse_mac(v).is_some() {
        return true;
    }
    let n = v.to_ascii_uppercase().replace(['-', '.'], ":");
    let parts: Vec<&str> = n.split(':').filter(|p| !p.is_empty()).collect();
    n.matches(':').count() >= 5
        && parts.len() == 6
        && parts
            .iter()
            .all(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The password rule: a PIN user (empty stored password) passes only with `password` absent or
/// `null`; a password user needs an exact match.
fn password_ok(user: &HotspotUser, given: Option<&str>) -> bool {
    let stored = user.password.as_deref().unwrap_or("");
    match given {
        None => stored.is_empty(),
        Some(g) => !stored.is_empty() && bool::from(g.as_bytes().ct_eq(stored.as_bytes())),
    }
}

#[derive(Debug, Deserialize)]
struct ReconnectReq {
    username: String,
    #[serde(default)]
    password: Option<String>,
    current_mac: String,
    #[serde(default)]
    current_ip: Option<String>,
}
impl FieldAliases for ReconnectReq {}

fn reconnect_body(
    success: bool,
    estado: &str,
    conectado: bool,
    datos: Value,
    mac: &str,
    mensaje: Option<&str>,
    error: Option<&str>,
) -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "success": success,
        "estado": estado,
        "auto_conexion": if conectado { "conectado" } else { "no_conectado" },
        "datos_sesion": datos,
        "nueva_mac": mac,
        "tiempo_acumulado": Value::Null,
        "tiempo_restante": Value::Null,
        "primera_sesion": Value::Null,
        "mensaje": mensaje,
        "error_detalle": error,
        "timestamp": wire::iso(Utc::now()),
    }))
}

/// What both credential checks do first: the per-client-IP limit (they would otherwise be an
/// oracle for guessing PINs and passwords) and the field lengths.
fn admit(
    req: &HttpRequest,
    state: &AppState,
    username: &str,
    password: Option<&str>,
) -> ApiResult<()> {
    state
        .limits
        .credential_check_ip
        .check(&client_ip(req, state.config.trust_forwarded_for))?;
    validate::max_len("username", username, 64)?;
    if let Some(p) = password {
        validate::max_len("password", p, 64)?;
    }
    Ok(())
}

#[utoipa::path(
    tag = "portal",
    summary = "Log a stored hotspot user in for a new MAC",
    request_body(content = inline(crate::openapi::schemas::AutoReconnect), content_type = "application/json"),
    responses((status = 200, description = "OK")),
    security(("apiKey" = []), ("apiKeyBearer" = [])),
)]
#[post("/api/v1/hotspot/auto-reconnect")]
async fn auto_reconnect(
    req: HttpRequest,
    key: PortalKey,
    state: web::Data<AppState>,
    body: JsonBody<ReconnectReq>,
) -> ApiResult<HttpResponse> {
    let b = body.into_inner();
    admit(&req, &state, &b.username, b.password.as_deref())?;
    let mac = mac_field("current_mac", Some(&b.current_mac))?.ok_or_else(|| {
        crate::error::ApiError::field(
            "current_mac",
            "missing",
            "Field required",
            json!(b.current_mac),
        )
    })?;
    let ip = ip_field("current_ip", b.current_ip.as_deref())?;
    let raw_mac = b.current_mac.trim().to_string();
    if !key.router.activo {
        return Ok(reconnect_body(
            false,
            "router_inactivo",
            false,
            Value::Null,
            &raw_mac,
            Some("Router inactivo"),
            Some("router_inactivo"),
        ));
    }
    let username = b.username.trim();
    if username.is_empty() || looks_like_mac(username) {
        return Ok(reconnect_body(
            false,
            "expirado",
            false,
            Value::Null,
            &raw_mac,
            Some(MSG_NOT_FOUND),
            Some("usuario_no_encontrado"),
        ));
    }
    let user = match state.routers.find_user(&key.router.id, username).await {
        Ok(Some(u)) => u,
        Ok(None) => {
            return Ok(reconnect_body(
                false,
                "expirado",
                false,
                Value::Null,
                &raw_mac,
                Some(MSG_NOT_FOUND),
                Some("usuario_no_encontrado"),
            ))
        }
        Err(e) => {
            tracing::warn!(error = %e, "auto-reconnect: router unavailable");
            return Ok(reconnect_body(
                false,
                "router_no_disponible",
                false,
                Value::Null,
                &raw_mac,
                Some(MSG_ROUTER_DOWN),
                Some("router_no_disponible"),
            ));
        }
    };
    if !password_ok(&user, b.password.as_deref()) {
        return Ok(reconnect_body(
            false,
            "credenciales_invalidas",
            false,
            Value::Null,
            &raw_mac,
            Some(MSG_BAD_CREDENTIALS),
            Some("credenciales_invalidas"),
        ));
    }
    if user.disabled {
        return Ok(reconnect_body(
            false,
            "deshabilitado",
            false,
            Value::Null,
            &raw_mac,
            Some(MSG_DISABLED),
            Some("usuario_deshabilitado"),
        ));
    }
    let Some(ip) = ip else {
        return Ok(reconnect_body(
            false,
            "activo",
            false,
            Value::Null,
            &raw_mac,
            Some(MSG_NO_IP),
            Some("ip_no_detectada"),
        ));
    };
    let login = ActiveLogin {
        user: user.name.clone(),
        password: user.password.clone().unwrap_or_default(),
        ip: ip.to_string(),
        mac_address: Some(mac.clone()),
    };
    match state.routers.active_login(&key.router.id, login).await {
        Ok(()) => Ok(reconnect_body(
            true,
            "activo",
            true,
            json!({ "user": user.name, "address": ip.to_string(), "mac_address": mac }),
            &raw_mac,
            Some(MSG_CONNECTED),
            None,
        )),
        Err(e) => {
            let slow = matches!(e, BrokerError::OutcomeUnknown);
            let detail = match &e {
                BrokerError::Router(re) => re.to_string(),
                BrokerError::OutcomeUnknown => "timeout".to_string(),
                _ => "router_no_disponible".to_string(),
            };
            Ok(reconnect_body(
                false,
                "login_fallido",
                false,
                Value::Null,
                &raw_mac,
                Some(if slow { MSG_SLOW } else { MSG_NOT_CONNECTED }),
                Some(&detail),
            ))
        }
    }
}

#[derive(Debug, Deserialize)]
struct ProfileInfoReq {
    username: String,
    #[serde(default)]
    password: Option<String>,
}
impl FieldAliases for ProfileInfoReq {}

#[allow(clippy::too_many_arguments)]
fn profile_body(
    success: bool,
    estado: &str,
    username: &str,
    user: Option<&HotspotUser>,
    mac_cookie_timeout: Option<String>,
    mac_authentication: Option<bool>,
    mensaje: Option<&str>,
    error: Option<&str>,
) -> HttpResponse {
    let tipo = user.map(|u| {
        if u.password.as_deref().unwrap_or("").is_empty() {
            "pin"
        } else {
            "usuario_contrasena"
        }
    });
    HttpResponse::Ok().json(json!({
        "success": success,
        "estado": estado,
        "username": username,
        "tipo_usuario": tipo,
        "profile": user.and_then(|u| u.profile.clone()),
        "mac_cookie_timeout": mac_cookie_timeout,
        "mac_authentication": mac_authentication,
        "disabled": user.map(|u| u.disabled),
        "comment": user.and_then(|u| u.comment.clone()),
        "limit_uptime": user.and_then(|u| u.limit_uptime.clone()),
        "datos_completos": user.map(|u| json!({
            "name": u.name,
            "profile": u.profile,
            "disabled": u.disabled,
            "comment": u.comment,
            "limit-uptime": u.limit_uptime,
            "uptime": u.uptime,
            "mac-address": u.mac_address,
        })),
        "mensaje": mensaje,
        "error_detalle": error,
        "timestamp": wire::iso(Utc::now()),
    }))
}

#[utoipa::path(
    tag = "portal",
    summary = "Check hotspot credentials and return the user's profile",
    request_body(content = inline(crate::openapi::schemas::ProfileInfo), content_type = "application/json"),
    responses((status = 200, description = "OK")),
    security(("apiKey" = []), ("apiKeyBearer" = [])),
)]
#[post("/api/v1/hotspot/user/profile-info")]
async fn profile_info(
    req: HttpRequest,
    key: PortalKey,
    state: web::Data<AppState>,
    body: JsonBody<ProfileInfoReq>,
) -> ApiResult<HttpResponse> {
    let b = body.into_inner();
    admit(&req, &state, &b.username, b.password.as_deref())?;
    let username = b.username.trim().to_string();
    if !key.router.activo {
        return Ok(profile_body(
            false,
            "router_inactivo",
            &username,
            None,
            None,
            None,
            Some("Router inactivo"),
            Some("router_inactivo"),
        ));
    }
    let bad = || {
        profile_body(
            false,
            "credenciales_invalidas",
            &username,
            None,
            None,
            None,
            Some(MSG_BAD_CREDENTIALS),
            Some("credenciales_invalidas"),
        )
    };
    let user = match state.routers.find_user(&key.router.id, &username).await {
        Ok(Some(u)) => u,
        Ok(None) => return Ok(bad()),
        Err(e) => {
            tracing::warn!(error = %e, "profile-info: router unavailable");
            return Ok(profile_body(
                false,
                "router_no_disponible",
                &username,
                None,
                None,
                None,
                Some(MSG_ROUTER_DOWN),
                Some("router_no_disponible"),
            ));
        }
    };
    if username.is_empty() || !password_ok(&user, b.password.as_deref()) {
        return Ok(bad());
    }
    // The user profile's MAC-cookie settings (strings as the router sent them).
    let (cookie_timeout, mac_auth) = match (
        &user.profile,
        state.routers.list_profiles(&key.router.id).await,
    ) {
        (Some(name), Ok(profiles)) => profiles
            .into_iter()
            .find(|p| &p.name == name)
            .map(|p| (p.mac_cookie_timeout, Some(p.add_mac_cookie)))
            .unwrap_or((None, None)),
        _ => (None, None),
    };
    Ok(profile_body(
        true,
        "ok",
        &username,
        Some(&user),
        cookie_timeout,
        mac_auth,
        None,
        None,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mac_like_usernames() {
        assert!(looks_like_mac("AA:BB:CC:DD:EE:FF"));
        assert!(looks_like_mac("aa-bb-cc-dd-ee-ff"));
        assert!(looks_like_mac("aa.bb.cc.dd.ee.ff"));
        assert!(!looks_like_mac("PT-AB3C9"));
        assert!(!looks_like_mac("PT-01234567"));
    }

    #[test]
    fn password_rules() {
        let mut u = HotspotUser {
            id: "*1".into(),
            name: "PT-00000001".into(),
            password: Some(String::new()),
            profile: None,
            server: None,
            limit_uptime: None,
            uptime: None,
            mac_address: None,
            comment: None,
            disabled: false,
        };
        assert!(password_ok(&u, None), "PIN with no password");
        assert!(
            !password_ok(&u, Some("")),
            "PIN with an empty string counts as sent"
        );
        u.password = Some("0457".into());
        assert!(password_ok(&u, Some("0457")), "leading zero kept");
        assert!(!password_ok(&u, Some("457")));
        assert!(!password_ok(&u, None));
    }
}
