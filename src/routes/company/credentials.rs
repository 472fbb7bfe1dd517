//! Payment gateway credentials of the session's company: Conekta keys and webhook public key,
//! Mercado Pago access token / public key / webhook secret (and the Telegram fields that the
//! original's `/payments/configurar-credenciales` also took). Secrets are encrypted at rest and
//! only ever returned masked.

use actix_web::{get, post, put, web, HttpResponse};
use rsa::pkcs1::DecodeRsaPublicKey;
use rsa::pkcs8::DecodePublicKey;
use serde::Deserialize;
use serde_json::json;

use super::empresa::{bot_token, MAX_CHAT_ID};
use super::{blank_to_none, gateway_mode};
use crate::auth::session::ClienteAdmin;
use crate::crypto::{field, mask, SecretBox};
use crate::db::audit::{self, AuditAction};
use crate::db::empresas::{self, Empresa, EmpresaPatch};
use crate::error::{ApiError, ApiResult, BadField, Problem};
use crate::extract::{FieldAliases, JsonBody};
use crate::ids::EmpresaId;
use crate::state::AppState;
use crate::validate;

/// Longest gateway secret accepted (real ones are well under 200 characters).
const MAX_SECRET: usize = 500;
/// Column limit of the public keys.
const MAX_PUBLIC_KEY: usize = 255;
/// Longest PEM accepted for the Conekta webhook key (a 4096-bit key is ~800 bytes).
const MAX_PEM: usize = 8192;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(conekta_config)
        .service(configurar_conekta)
        .service(get_conekta)
        .service(conekta_webhook_key)
        .service(get_mercado_pago)
        .service(admin_configurar_credenciales)
        .service(payments_configurar_credenciales);
}

// ---------------------------------------------------------------- Conekta

#[derive(Debug, Deserialize)]
struct ConektaConfig {
    #[serde(default)]
    conekta_private_key: Option<String>,
    #[serde(default)]
    conekta_public_key: Option<String>,
    #[serde(default)]
    conekta_mode: Option<String>,
}
impl FieldAliases for ConektaConfig {}

/// Empty or absent keys stay unchanged; an absent mode stays unchanged (the original reset it).
async fn save_conekta(ca: &ClienteAdmin, state: &AppState, body: ConektaConfig) -> ApiResult<()> {
    let private_key = blank_to_none(body.conekta_private_key);
    if let Some(k) = &private_key {
        validate::max_len("conekta_private_key", k, MAX_SECRET)?;
    }
    let public_key = blank_to_none(body.conekta_public_key);
    if let Some(k) = &public_key {
        validate::max_len("conekta_public_key", k, MAX_PUBLIC_KEY)?;
    }
    let mode = match body.conekta_mode.as_deref() {
        None => None,
        Some(m) => Some(gateway_mode("conekta_mode", m)?),
    };
    let txn = crate::db::begin_write(&state.db).await?;
    let current = empresas::get(&txn, EmpresaId(&ca.empresa_id)).await?;
    let mut patch = EmpresaPatch::default();
    let mut campos: Vec<&str> = vec![];
    if let Some(k) = private_key {
        patch.conekta_private_key =
            Some(Some(state.secrets.encrypt(field::CONEKTA_PRIVATE_KEY, &k)));
        campos.push("conekta_private_key");
    }
    if let Some(k) = public_key {
        patch.conekta_public_key = Some(Some(k));
        campos.push("conekta_public_key");
    }
    if let Some(mode) = mode {
        patch.conekta_mode = Some(mode);
        campos.push("conekta_mode");
    }
    if !campos.is_empty() {
        empresas::update(&txn, current, patch).await?;
        audit::record(
            &txn,
            &ca.session,
            Some(&ca.empresa_id),
            AuditAction::EmpresaConektaConfig,
            Some(&ca.empresa_id),
            json!({ "campos": campos }),
        )
        .await?;
    }
    txn.commit().await?;
    Ok(())
}

#[utoipa::path(
    tag = "cliente_admin",
    summary = "Set Conekta keys",
    request_body(content = inline(crate::openapi::schemas::ConektaKeys), content_type = "application/json"),
    responses((status = 200, description = "OK")),
    security(("session" = ["cliente_admin"])),
)]
#[put("/api/v1/admin/mi-empresa/conekta-config")]
async fn conekta_config(
    ca: ClienteAdmin,
    state: web::Data<AppState>,
    body: JsonBody<ConektaConfig>,
) -> ApiResult<HttpResponse> {
    save_conekta(&ca, &state, body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(json!({"message": "Configuración de Conekta actualizada"})))
}

#[utoipa::path(
    tag = "cliente_admin",
    summary = "Set Conekta keys",
    request_body(content = inline(crate::openapi::schemas::ConektaKeys), content_type = "application/json"),
    responses((status = 200, description = "OK")),
    security(("session" = ["cliente_admin"])),
)]
#[post("/api/v1/admin/mi-empresa/configurar-conekta")]
async fn configurar_conekta(
    ca: ClienteAdmin,
    state: web::Data<AppState>,
    body: JsonBody<ConektaConfig>,
) -> ApiResult<HttpResponse> {
    save_conekta(&ca, &state, body.into_inner()).await?;
    Ok(HttpResponse::Ok()
        .json(json!({"message": "Credenciales de Conekta actualizadas correctamente"})))
}

#[utoipa::path(
    tag = "cliente_admin",
    summary = "Conekta configuration (masked)",
    responses((status = 200, description = "OK")),
    security(("session" = ["cliente_admin"])),
)]
#[get("/api/v1/admin/mi-empresa/conekta")]
async fn get_conekta(ca: ClienteAdmin, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let e = empresas::get(&state.db, EmpresaId(&ca.empresa_id)).await?;
    Ok(HttpResponse::Ok().json(json!({
        "message": "Configuración cargada",
        "configuracion_actual": {
            "conekta_public_key": e.conekta_public_key,
            "conekta_mode": e.conekta_mode,
            "conekta_private_key": mask(e.conekta_private_key.as_deref()),
            "conekta_webhook_key_configurada": e.conekta_webhook_key.is_some(),
        },
    })))
}

#[derive(Debug, Deserialize)]
struct ConektaWebhookKey {
    #[serde(default, deserialize_with = "crate::validate::double_option")]
    public_key_pem: Option<Option<String>>,
}
impl FieldAliases for ConektaWebhookKey {}

/// Parses a PEM RSA public key (SPKI `PUBLIC KEY` or PKCS#1 `RSA PUBLIC KEY`).
pub fn parse_rsa_public_key(pem: &str) -> Option<rsa::RsaPublicKey> {
    let pem = pem.trim();
    rsa::RsaPublicKey::from_public_key_pem(pem)
        .ok()
        .or_else(|| rsa::RsaPublicKey::from_pkcs1_pem(pem).ok())
}

/// Sets (or, with `null`/`""`, clears) the RSA public key that verifies Conekta webhooks.
#[utoipa::path(
    tag = "cliente_admin",
    summary = "Set the RSA public key that verifies Conekta webhooks",
    request_body(content = inline(crate::openapi::schemas::ConektaWebhookKey), content_type = "application/json"),
    responses((status = 200, description = "OK")),
    security(("session" = ["cliente_admin"])),
)]
#[put("/api/v1/admin/mi-empresa/conekta-webhook-key")]
async fn conekta_webhook_key(
    ca: ClienteAdmin,
    state: web::Data<AppState>,
    body: JsonBody<ConektaWebhookKey>,
) -> ApiResult<HttpResponse> {
    let pem = match body.into_inner().public_key_pem {
        None => {
            return Err(ApiError::field(
                "public_key_pem",
                "missing",
                "Field required",
                json!({}),
            ))
        }
        Some(v) => blank_to_none(v),
    };
    if let Some(p) = &pem {
        validate::max_len("public_key_pem", p, MAX_PEM)?;
        if parse_rsa_public_key(p).is_none() {
            return Err(
                Problem::InvalidPublicKey(BadField::new("public_key_pem", json!(p))).into(),
            );
        }
    }
    let configured = pem.is_some();
    let txn = crate::db::begin_write(&state.db).await?;
    let current = empresas::get(&txn, EmpresaId(&ca.empresa_id)).await?;
    let patch = EmpresaPatch {
        conekta_webhook_key: Some(pem),
        ..Default::default()
    };
    empresas::update(&txn, current, patch).await?;
    audit::record(
        &txn,
        &ca.session,
        Some(&ca.empresa_id),
        AuditAction::EmpresaConektaWebhookKey,
        Some(&ca.empresa_id),
        json!({ "configurada": configured }),
    )
    .await?;
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(json!({
        "message": if configured {
            "Clave pública del webhook de Conekta actualizada correctamente"
        } else {
            "Clave pública del webhook de Conekta eliminada"
        },
        "conekta_webhook_key_configurada": configured,
    })))
}

// ---------------------------------------------------------------- Mercado Pago

#[utoipa::path(
    tag = "cliente_admin",
    summary = "Mercado Pago configuration (masked)",
    responses((status = 200, description = "OK")),
    security(("session" = ["cliente_admin"])),
)]
#[get("/api/v1/admin/mi-empresa/mercado-pago")]
async fn get_mercado_pago(ca: ClienteAdmin, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let e = empresas::get(&state.db, EmpresaId(&ca.empresa_id)).await?;
    Ok(HttpResponse::Ok().json(json!({
        "message": "Configuración cargada",
        "configuracion_actual": {
            "access_token": mask(e.mercado_pago_access_token.as_deref()),
            "public_key": e.mercado_pago_public_key,
            "mode": e.mercado_pago_mode,
            "webhook_secret": mask(e.mercado_pago_webhook_secret.as_deref()),
        },
    })))
}

#[derive(Debug, Deserialize)]
struct MpCredentials {
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default)]
    webhook_secret: Option<String>,
    #[serde(default)]
    public_key: Option<String>,
    #[serde(default)]
    mode: Option<String>,
    #[serde(default)]
    telegram_bot_token: Option<String>,
    #[serde(default)]
    telegram_chat_id: Option<String>,
    #[serde(default)]
    notificaciones_telegram: Option<bool>,
}
impl FieldAliases for MpCredentials {}

fn configurado(e: &Empresa) -> serde_json::Value {
    json!({
        "access_token": e.mercado_pago_access_token.is_some(),
        "webhook_secret": e.mercado_pago_webhook_secret.is_some(),
        "public_key": e.mercado_pago_public_key.is_some(),
        "mode": e.mercado_pago_mode,
        "telegram_configurado": e.telegram_bot_token.is_some() && e.telegram_chat_id.is_some(),
        "telegram_activo": e.notificaciones_telegram,
    })
}

/// A validated Mercado Pago and Telegram change: `None` leaves a setting as it is; an empty
/// secret deletes it.
struct MpChanges {
    access_token: Option<String>,
    webhook_secret: Option<String>,
    public_key: Option<Option<String>>,
    mode: Option<String>,
    bot: Option<Option<String>>,
    chat: Option<Option<String>>,
    notificaciones_telegram: Option<bool>,
}

impl MpChanges {
    /// Validates every field of the body (nothing is stored before all are valid).
    fn validate(body: MpCredentials) -> ApiResult<Self> {
        let access_token = body.access_token.map(|v| v.trim().to_string());
        if let Some(t) = &access_token {
            validate::max_len("access_token", t, MAX_SECRET)?;
        }
        let webhook_secret = body.webhook_secret.map(|v| v.trim().to_string());
        if let Some(s) = &webhook_secret {
            validate::max_len("webhook_secret", s, MAX_SECRET)?;
        }
        let public_key = body.public_key.map(|v| blank_to_none(Some(v)));
        if let Some(Some(k)) = &public_key {
            validate::max_len("public_key", k, MAX_PUBLIC_KEY)?;
        }
        let mode = match body.mode.as_deref() {
            None => None,
            Some(m) => Some(gateway_mode("mode", m)?),
        };
        let bot = body.telegram_bot_token.map(|v| blank_to_none(Some(v)));
        if let Some(Some(t)) = &bot {
            bot_token("telegram_bot_token", t)?;
        }
        let chat = body.telegram_chat_id.map(|v| blank_to_none(Some(v)));
        if let Some(Some(c)) = &chat {
            validate::max_len("telegram_chat_id", c, MAX_CHAT_ID)?;
        }
        Ok(Self {
            access_token,
            webhook_secret,
            public_key,
            mode,
            bot,
            chat,
            notificaciones_telegram: body.notificaciones_telegram,
        })
    }

    /// The columns to write (secrets encrypted) and the audit names of what changes.
    fn into_patch(self, secrets: &SecretBox) -> (EmpresaPatch, Vec<&'static str>) {
        let mut patch = EmpresaPatch::default();
        let mut campos: Vec<&'static str> = vec![];
        let mut secret = |value: Option<&str>, name: &str, labels: [&'static str; 2]| {
            let (patched, label) = match value? {
                "" => (None, labels[0]),
                v => (Some(secrets.encrypt(name, v)), labels[1]),
            };
            campos.push(label);
            Some(patched)
        };
        patch.mercado_pago_access_token = secret(
            self.access_token.as_deref(),
            field::MP_ACCESS_TOKEN,
            ["access_token (eliminado)", "access_token (actualizado)"],
        );
        patch.mercado_pago_webhook_secret = secret(
            self.webhook_secret.as_deref(),
            field::MP_WEBHOOK_SECRET,
            ["webhook_secret (eliminado)", "webhook_secret (actualizado)"],
        );
        if let Some(k) = self.public_key {
            patch.mercado_pago_public_key = Some(k);
            campos.push("public_key");
        }
        if let Some(mode) = self.mode {
            patch.mercado_pago_mode = Some(mode);
            campos.push("mode");
        }
        if let Some(t) = self.bot {
            patch.telegram_bot_token =
                Some(t.map(|t| secrets.encrypt(field::TELEGRAM_BOT_TOKEN, &t)));
            campos.push("telegram_bot_token");
        }
        if let Some(c) = self.chat {
            patch.telegram_chat_id = Some(c);
            campos.push("telegram_chat_id");
        }
        if let Some(n) = self.notificaciones_telegram {
            patch.notificaciones_telegram = Some(n);
            campos.push("notificaciones_telegram");
        }
        (patch, campos)
    }
}

/// The original's `/payments/configurar-credenciales` semantics, shared by both routes: an
/// absent field stays unchanged; a secret is encrypted, and an empty string deletes it.
async fn configurar_credenciales(
    ca: ClienteAdmin,
    state: web::Data<AppState>,
    body: MpCredentials,
) -> ApiResult<HttpResponse> {
    let changes = MpChanges::validate(body)?;
    let txn = crate::db::begin_write(&state.db).await?;
    let current = empresas::get(&txn, EmpresaId(&ca.empresa_id)).await?;
    if !current.activa {
        return Err(ApiError::from(Problem::EmpresaInactive));
    }
    let empresa_json = json!({"id": current.id, "nombre": current.nombre});
    let (patch, campos) = changes.into_patch(&state.secrets);
    if campos.is_empty() {
        txn.commit().await?;
        return Ok(HttpResponse::Ok().json(json!({
            "success": true,
            "message": "No se enviaron cambios. Credenciales actuales se mantienen.",
            "empresa": empresa_json,
            "configurado": configurado(&current),
        })));
    }
    let updated = empresas::update(&txn, current, patch).await?;
    audit::record(
        &txn,
        &ca.session,
        Some(&ca.empresa_id),
        AuditAction::EmpresaMercadoPagoConfig,
        Some(&ca.empresa_id),
        json!({ "campos": campos }),
    )
    .await?;
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(json!({
        "success": true,
        "message": "Credenciales actualizadas correctamente",
        "empresa": empresa_json,
        "campos_modificados": campos,
        "configuracion_actual": configurado(&updated),
    })))
}

#[utoipa::path(
    tag = "cliente_admin",
    summary = "Set Mercado Pago credentials",
    request_body(content = inline(crate::openapi::schemas::MercadoPagoCredentials), content_type = "application/json"),
    responses((status = 200, description = "OK")),
    security(("session" = ["cliente_admin"])),
)]
#[post("/api/v1/admin/mi-empresa/configurar-credenciales")]
async fn admin_configurar_credenciales(
    ca: ClienteAdmin,
    state: web::Data<AppState>,
    body: JsonBody<MpCredentials>,
) -> ApiResult<HttpResponse> {
    configurar_credenciales(ca, state, body.into_inner()).await
}

#[utoipa::path(
    tag = "cliente_admin",
    summary = "Set Mercado Pago credentials and Telegram",
    request_body(content = inline(crate::openapi::schemas::MercadoPagoCredentials), content_type = "application/json"),
    responses((status = 200, description = "OK")),
    security(("session" = ["cliente_admin"])),
)]
#[post("/api/v1/payments/configurar-credenciales")]
async fn payments_configurar_credenciales(
    ca: ClienteAdmin,
    state: web::Data<AppState>,
    body: JsonBody<MpCredentials>,
) -> ApiResult<HttpResponse> {
    configurar_credenciales(ca, state, body.into_inner()).await
}
