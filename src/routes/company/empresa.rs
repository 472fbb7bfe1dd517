//! `GET/PUT /api/v1/admin/mi-empresa` and `POST /api/v1/admin/test-telegram`.

use actix_web::{get, post, put, web, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{blank_to_none, non_null};
use crate::auth::session::ClienteAdmin;
use crate::crypto::{field, mask_tail};
use crate::db::audit::{self, AuditAction};
use crate::db::empresas::{self, Empresa, EmpresaPatch};
use crate::error::{ApiError, ApiResult, BadField, Problem};
use crate::extract::{FieldAliases, JsonBody};
use crate::gateways::telegram::TelegramError;
use crate::ids::EmpresaId;
use crate::state::AppState;
use crate::validate;

/// Longest bot token / chat id accepted.
pub(super) const MAX_BOT_TOKEN: usize = 255;
pub(super) const MAX_CHAT_ID: usize = 50;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(get_mi_empresa)
        .service(put_mi_empresa)
        .service(test_telegram);
}

/// The stored Telegram token, decrypted and masked (`********` + last 4), or null.
pub(super) fn masked_bot_token(state: &AppState, e: &Empresa) -> Value {
    match e.telegram_bot_token.as_deref() {
        None | Some("") => Value::Null,
        Some(stored) => match state.secrets.decrypt(field::TELEGRAM_BOT_TOKEN, stored) {
            Ok(plain) => json!(mask_tail(&plain)),
            Err(_) => json!("********"),
        },
    }
}

/// A Telegram bot token goes into a URL path: only the characters real tokens use.
pub(super) fn bot_token(field_name: &str, value: &str) -> ApiResult<()> {
    validate::max_len(field_name, value, MAX_BOT_TOKEN)?;
    if !value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '_' | '-'))
    {
        return Err(Problem::InvalidTelegramToken(BadField::new(field_name, json!(value))).into());
    }
    Ok(())
}

/// `EmpresaInfoResponse`, with the bot token masked.
#[utoipa::path(
    tag = "cliente_admin",
    summary = "My company (secrets masked)",
    responses((status = 200, description = "OK")),
    security(("session" = ["cliente_admin"])),
)]
#[get("/api/v1/admin/mi-empresa")]
async fn get_mi_empresa(ca: ClienteAdmin, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let e = empresas::get(&state.db, EmpresaId(&ca.empresa_id)).await?;
    Ok(HttpResponse::Ok().json(json!({
        "id": e.id,
        "nombre": e.nombre,
        "contacto_email": e.contacto_email,
        "contacto_telefono": e.contacto_telefono,
        "logo_url": e.logo_url,
        "conekta_mode": e.conekta_mode,
        "conekta_public_key": e.conekta_public_key,
        "mercado_pago_mode": e.mercado_pago_mode,
        "mercado_pago_public_key": e.mercado_pago_public_key,
        "activa": e.activa,
        "creada_en": crate::wire::iso(e.creada_en),
        "telegram_bot_token": masked_bot_token(&state, &e),
        "telegram_chat_id": e.telegram_chat_id,
        "notificaciones_telegram": e.notificaciones_telegram,
        "al_expirar": e.al_expirar,
        "zona_horaria": e.zona_horaria,
    })))
}

/// `al_expirar`: `eliminar` | `deshabilitar` (what the expiry job does with an expired user).
fn al_expirar(v: Option<Option<String>>) -> ApiResult<Option<String>> {
    match non_null("al_expirar", v, "string")? {
        None => Ok(None),
        Some(s) => match s.trim() {
            v @ (empresas::AL_EXPIRAR_ELIMINAR | empresas::AL_EXPIRAR_DESHABILITAR) => {
                Ok(Some(v.to_string()))
            }
            _ => Err(crate::error::ApiError::field(
                "al_expirar",
                "enum",
                "Input should be 'eliminar' or 'deshabilitar'",
                json!(s),
            )),
        },
    }
}

/// Partial update: an absent key is left alone, an explicit `null` clears a nullable column.
#[derive(Debug, Deserialize)]
struct EmpresaUpdate {
    #[serde(default, deserialize_with = "crate::validate::double_option")]
    nombre: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::validate::double_option")]
    contacto_email: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::validate::double_option")]
    contacto_telefono: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::validate::double_option")]
    telegram_bot_token: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::validate::double_option")]
    telegram_chat_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::validate::double_option")]
    notificaciones_telegram: Option<Option<bool>>,
    #[serde(default, deserialize_with = "crate::validate::double_option")]
    al_expirar: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::validate::double_option")]
    zona_horaria: Option<Option<String>>,
}
impl FieldAliases for EmpresaUpdate {}

#[utoipa::path(
    tag = "cliente_admin",
    summary = "Update my company (partial)",
    request_body(content = inline(crate::openapi::schemas::MiEmpresaUpdate), content_type = "application/json"),
    responses((status = 200, description = "OK")),
    security(("session" = ["cliente_admin"])),
)]
#[put("/api/v1/admin/mi-empresa")]
async fn put_mi_empresa(
    ca: ClienteAdmin,
    state: web::Data<AppState>,
    body: JsonBody<EmpresaUpdate>,
) -> ApiResult<HttpResponse> {
    let b = body.into_inner();
    // Validate everything before touching the database.
    let nombre = non_null("nombre", b.nombre, "string")?;
    if let Some(n) = &nombre {
        validate::required_text("nombre", n, 100)?;
    }
    let contacto_email = b.contacto_email.map(blank_to_none);
    if let Some(Some(email)) = &contacto_email {
        validate::email("contacto_email", email)?;
    }
    let contacto_telefono = b.contacto_telefono.map(blank_to_none);
    if let Some(Some(tel)) = &contacto_telefono {
        validate::max_len("contacto_telefono", tel, 20)?;
    }
    let bot = b.telegram_bot_token.map(blank_to_none);
    if let Some(Some(token)) = &bot {
        bot_token("telegram_bot_token", token)?;
    }
    let chat = b.telegram_chat_id.map(blank_to_none);
    if let Some(Some(chat)) = &chat {
        validate::max_len("telegram_chat_id", chat, MAX_CHAT_ID)?;
    }
    let notif = non_null("notificaciones_telegram", b.notificaciones_telegram, "bool")?;
    let on_expiry = al_expirar(b.al_expirar)?;
    let zona = non_null("zona_horaria", b.zona_horaria, "string")?
        .map(|z| validate::zona_horaria("zona_horaria", &z))
        .transpose()?;

    let txn = crate::db::begin_write(&state.db).await?;
    let current = empresas::get(&txn, EmpresaId(&ca.empresa_id)).await?;
    let mut patch = EmpresaPatch::default();
    let mut campos: Vec<&str> = vec![];
    if let Some(n) = nombre {
        patch.nombre = Some(n.trim().to_string());
        campos.push("nombre");
    }
    if let Some(v) = contacto_email {
        patch.contacto_email = Some(v.map(|e| e.trim().to_string()));
        campos.push("contacto_email");
    }
    if let Some(v) = contacto_telefono {
        patch.contacto_telefono = Some(v);
        campos.push("contacto_telefono");
    }
    if let Some(v) = bot {
        patch.telegram_bot_token =
            Some(v.map(|t| state.secrets.encrypt(field::TELEGRAM_BOT_TOKEN, &t)));
        campos.push("telegram_bot_token");
    }
    if let Some(v) = chat {
        patch.telegram_chat_id = Some(v);
        campos.push("telegram_chat_id");
    }
    if let Some(v) = notif {
        patch.notificaciones_telegram = Some(v);
        campos.push("notificaciones_telegram");
    }
    if let Some(v) = on_expiry {
        patch.al_expirar = Some(v);
        campos.push("al_expirar");
    }
    if let Some(z) = zona {
        patch.zona_horaria = Some(z.name().to_string());
        campos.push("zona_horaria");
    }
    let updated = if campos.is_empty() {
        current
    } else {
        let updated = empresas::update(&txn, current, patch).await?;
        audit::record(
            &txn,
            &ca.session,
            Some(&ca.empresa_id),
            AuditAction::EmpresaUpdate,
            Some(&ca.empresa_id),
            json!({ "campos": campos }),
        )
        .await?;
        updated
    };
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(json!({
        "message": "Información de la empresa actualizada correctamente",
        "empresa": {
            "nombre": updated.nombre,
            "contacto_email": updated.contacto_email,
            "contacto_telefono": updated.contacto_telefono,
            "telegram_bot_token": masked_bot_token(&state, &updated),
            "telegram_chat_id": updated.telegram_chat_id,
            "notificaciones_telegram": updated.notificaciones_telegram,
            "al_expirar": updated.al_expirar,
            "zona_horaria": updated.zona_horaria,
        },
    })))
}

#[derive(Debug, Deserialize)]
struct TestTelegram {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    chat_id: Option<String>,
}
impl FieldAliases for TestTelegram {}

/// Sends the test message with the given credentials, or the stored ones.
#[utoipa::path(
    tag = "cliente_admin",
    summary = "Send a Telegram test message",
    request_body(content = inline(crate::openapi::schemas::TestTelegram), content_type = "application/json"),
    responses((status = 200, description = "OK")),
    security(("session" = ["cliente_admin"])),
)]
#[post("/api/v1/admin/test-telegram")]
async fn test_telegram(
    ca: ClienteAdmin,
    state: web::Data<AppState>,
    body: JsonBody<TestTelegram>,
) -> ApiResult<HttpResponse> {
    let b = body.into_inner();
    let e = empresas::get(&state.db, EmpresaId(&ca.empresa_id)).await?;
    let token = match blank_to_none(b.token) {
        Some(t) => {
            bot_token("token", &t)?;
            Some(t)
        }
        None => state
            .secrets
            .decrypt_opt(field::TELEGRAM_BOT_TOKEN, e.telegram_bot_token.as_deref())
            .map_err(ApiError::internal)?
            .map(|t| t.to_string()),
    };
    let chat_id = match blank_to_none(b.chat_id) {
        Some(c) => {
            validate::max_len("chat_id", &c, MAX_CHAT_ID)?;
            Some(c)
        }
        None => blank_to_none(e.telegram_chat_id.clone()),
    };
    let (Some(token), Some(chat_id)) = (token.filter(|t| !t.is_empty()), chat_id) else {
        return Err(ApiError::from(Problem::TelegramCredentialsMissing));
    };
    send_test(&state, &token, &chat_id, &e.nombre)
        .await
        .map_err(ApiError::from)?;
    Ok(HttpResponse::Ok().json(json!({"message": "Mensaje de prueba enviado con éxito"})))
}

/// Sends the Telegram test message through the shared client (which never logs the token).
/// Telegram refusing the token or the chat is the caller's problem (400); Telegram out of
/// reach is not (502).
pub async fn send_test(
    state: &AppState,
    token: &str,
    chat_id: &str,
    empresa_nombre: &str,
) -> Result<(), Problem> {
    // The token becomes part of the URL path: refuse anything a real token cannot contain.
    if token.is_empty() || bot_token("token", token).is_err() {
        tracing::warn!("telegram test refused: malformed bot token");
        return Err(Problem::TelegramFailed);
    }
    match state
        .telegram
        .send_test_message(token, chat_id, empresa_nombre)
        .await
    {
        Ok(()) => Ok(()),
        Err(e) => {
            tracing::warn!(error = %e, "telegram test message failed");
            Err(match e {
                TelegramError::Api { code, .. } if code < 500 && code != 429 => {
                    Problem::TelegramFailed
                }
                TelegramError::NotConfigured => Problem::TelegramFailed,
                _ => Problem::TelegramUnreachable,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bot_tokens_are_url_safe() {
        assert!(bot_token("t", "123456:ABC-def_ghi").is_ok());
        for bad in ["12/../x", "a b", "x?y", "a#b"] {
            assert!(bot_token("t", bad).is_err(), "{bad}");
        }
    }
}
