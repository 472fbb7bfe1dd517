//! Hotspot helpers for the captive portal, secured:
//!
//! * `POST /api/v1/hotspot/auto-reconnect` logs a device in again, but only with the user's
//!   password (or, for a PIN user — empty stored password — with `password` absent or `null`),
//!   or without a password from the very device that bought the purchase (the MAC recorded
//!   with it; the original accepted the username alone and portals rely on it), and never
//!   returns router records.
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

use crate::auth::client_ip;
use crate::auth::portal_key::PortalKey;
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

/// A refusal of either credential check: its `estado`, `mensaje` and `error_detalle`.
#[derive(Debug, Clone, Copy)]
struct Refusal {
    estado: &'static str,
    mensaje: &'static str,
    error: &'static str,
}

const ROUTER_INACTIVE: Refusal = Refusal {
    estado: "router_inactivo",
    mensaje: "Router inactivo",
    error: "router_inactivo",
};
const ROUTER_DOWN: Refusal = Refusal {
    estado: "router_no_disponible",
    mensaje: MSG_ROUTER_DOWN,
    error: "router_no_disponible",
};
/// An unknown user and a wrong password get this same answer (no user enumeration).
const BAD_CREDENTIALS: Refusal = Refusal {
    estado: "credenciales_invalidas",
    mensaje: MSG_BAD_CREDENTIALS,
    error: "credenciales_invalidas",
};
/// A username that cannot name a user (empty, or a MAC address): no router lookup happens.
const NOT_A_USER: Refusal = Refusal {
    estado: "expirado",
    mensaje: MSG_NOT_FOUND,
    error: "usuario_no_encontrado",
};
const DISABLED: Refusal = Refusal {
    estado: "deshabilitado",
    mensaje: MSG_DISABLED,
    error: "usuario_deshabilitado",
};
const NO_IP: Refusal = Refusal {
    estado: "activo",
    mensaje: MSG_NO_IP,
    error: "ip_no_detectada",
};

/// How an auto-reconnect ended.
#[derive(Debug)]
enum Reconnected {
    /// Logged in: the session data.
    Connected(Value),
    Refused(Refusal),
    /// The router did not log the device in (`error_detalle` is the router's reason).
    LoginFailed {
        slow: bool,
        detail: String,
    },
}

fn reconnect_body(mac: &str, outcome: Reconnected) -> HttpResponse {
    let (success, estado, datos, mensaje, error) = match outcome {
        Reconnected::Connected(datos) => (true, "activo", datos, Some(MSG_CONNECTED), None),
        Reconnected::Refused(r) => (
            false,
            r.estado,
            Value::Null,
            Some(r.mensaje),
            Some(r.error.to_string()),
        ),
        Reconnected::LoginFailed { slow, detail } => (
            false,
            "login_fallido",
            Value::Null,
            Some(if slow { MSG_SLOW } else { MSG_NOT_CONNECTED }),
            Some(detail),
        ),
    };
    HttpResponse::Ok().json(json!({
        "success": success,
        "estado": estado,
        "auto_conexion": if success { "conectado" } else { "no_conectado" },
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
    let outcome = reconnect(&state, &key, &b, mac, ip).await;
    Ok(reconnect_body(b.current_mac.trim(), outcome))
}

/// Without a password (as the original accepted, and portals rely on): the device is the one
/// that bought the user's purchase on this router — the MAC recorded with the purchase — and the
/// purchase still grants access. Any other MAC is refused as bad credentials.
async fn same_device(state: &AppState, key: &PortalKey, user: &HotspotUser, mac: &str) -> bool {
    let Some(purchase_id) = user
        .comment
        .as_deref()
        .and_then(crate::purchase::purchase_id_of_comment)
    else {
        return false;
    };
    let p = match crate::db::purchases::find(&state.db, purchase_id).await {
        Ok(Some(p)) => p,
        Ok(None) => return false,
        Err(e) => {
            tracing::warn!(error = %e, "auto-reconnect: cannot read the purchase");
            return false;
        }
    };
    let recorded = p.mac_address.as_deref().and_then(parse_mac);
    p.empresa_id == key.empresa.id
        && p.router_id == key.router.id
        && p.state == crate::purchase::SagaState::Completed
        && p.hotspot_username.as_deref() == Some(user.name.as_str())
        && recorded.is_some()
        && recorded == parse_mac(mac)
}

/// Checks the user on the router and logs the device in.
async fn reconnect(
    state: &AppState,
    key: &PortalKey,
    b: &ReconnectReq,
    mac: String,
    ip: Option<std::net::IpAddr>,
) -> Reconnected {
    if !key.router.activo {
        return Reconnected::Refused(ROUTER_INACTIVE);
    }
    let username = b.username.trim();
    if username.is_empty() || looks_like_mac(username) {
        return Reconnected::Refused(NOT_A_USER);
    }
    let user = match state.routers.find_user(&key.router.id, username).await {
        Ok(Some(u)) if password_ok(&u, b.password.as_deref()) => u,
        Ok(Some(u)) if b.password.is_none() && same_device(state, key, &u, &mac).await => u,
        Ok(_) => return Reconnected::Refused(BAD_CREDENTIALS),
        Err(e) => {
            tracing::warn!(error = %e, "auto-reconnect: router unavailable");
            return Reconnected::Refused(ROUTER_DOWN);
        }
    };
    if user.disabled {
        return Reconnected::Refused(DISABLED);
    }
    let Some(ip) = ip else {
        return Reconnected::Refused(NO_IP);
    };
    let login = ActiveLogin {
        user: user.name.clone(),
        password: user.password.clone().unwrap_or_default(),
        ip: ip.to_string(),
        mac_address: Some(mac.clone()),
    };
    match state.routers.active_login(&key.router.id, login).await {
        Ok(()) => Reconnected::Connected(
            json!({ "user": user.name, "address": ip.to_string(), "mac_address": mac }),
        ),
        Err(e) => Reconnected::LoginFailed {
            slow: matches!(e, BrokerError::OutcomeUnknown),
            detail: match &e {
                BrokerError::Router(re) => re.to_string(),
                BrokerError::OutcomeUnknown => "timeout".to_string(),
                _ => "router_no_disponible".to_string(),
            },
        },
    }
}

#[derive(Debug, Deserialize)]
struct ProfileInfoReq {
    username: String,
    #[serde(default)]
    password: Option<String>,
}
impl FieldAliases for ProfileInfoReq {}

/// What a profile check found: the user and its profile's MAC-cookie settings.
#[derive(Debug, Default)]
struct ProfileFound<'a> {
    user: Option<&'a HotspotUser>,
    mac_cookie_timeout: Option<String>,
    mac_authentication: Option<bool>,
}

fn profile_body(username: &str, found: ProfileFound<'_>, refusal: Option<Refusal>) -> HttpResponse {
    let user = found.user;
    let tipo = user.map(|u| {
        if u.password.as_deref().unwrap_or("").is_empty() {
            "pin"
        } else {
            "usuario_contrasena"
        }
    });
    HttpResponse::Ok().json(json!({
        "success": refusal.is_none(),
        "estado": refusal.map_or("ok", |r| r.estado),
        "username": username,
        "tipo_usuario": tipo,
        "profile": user.and_then(|u| u.profile.clone()),
        "mac_cookie_timeout": found.mac_cookie_timeout,
        "mac_authentication": found.mac_authentication,
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
        "mensaje": refusal.map(|r| r.mensaje),
        "error_detalle": refusal.map(|r| r.error),
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
    let refused = |r: Refusal| Ok(profile_body(&username, ProfileFound::default(), Some(r)));
    if !key.router.activo {
        return refused(ROUTER_INACTIVE);
    }
    let user = match state.routers.find_user(&key.router.id, &username).await {
        Ok(Some(u)) if !username.is_empty() && password_ok(&u, b.password.as_deref()) => u,
        Ok(_) => return refused(BAD_CREDENTIALS),
        Err(e) => {
            tracing::warn!(error = %e, "profile-info: router unavailable");
            return refused(ROUTER_DOWN);
        }
    };
    // The user profile's MAC-cookie settings (strings as the router sent them).
    let (mac_cookie_timeout, mac_authentication) = match (
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
    let found = ProfileFound {
        user: Some(&user),
        mac_cookie_timeout,
        mac_authentication,
    };
    Ok(profile_body(&username, found, None))
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
            mac_address: None,
            comment: None,
            disabled: false,
            ..HotspotUser::default()
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
