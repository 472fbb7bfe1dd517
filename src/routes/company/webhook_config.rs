//! The Mercado Pago webhook configuration routes of `/api/v1/webhook`. The original left them
//! unauthenticated; here they need a cliente_admin session, and a company id other than the
//! session's answers 404 (as an unknown one would) so ids are not confirmed.

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::Utc;
use serde::Deserialize;
use serde_json::json;

use crate::auth::session::ClienteAdmin;
use crate::crypto::field;
use crate::db::audit::{self, AuditAction};
use crate::db::empresas::{self, EmpresaPatch};
use crate::db::transacciones;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{FieldAliases, JsonBody};
use crate::ids::EmpresaId;
use crate::state::AppState;
use crate::validate;
use crate::wire::{iso, iso_opt, money};

const WEBHOOK_PATH: &str = "/api/v1/webhook/mercado-pago";
const MAX_WEBHOOK_SECRET: usize = 500;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(configurar_webhook)
        .service(estado_webhook)
        .service(test_webhook)
        .service(transaccion_por_referencia);
}

/// The public URL Mercado Pago must call for this company: `PUBLIC_BASE_URL` when set, else
/// this request's scheme and host, with the `?empresa_id=` the webhook route verifies by.
fn webhook_url(state: &AppState, req: &HttpRequest, empresa_id: &str) -> String {
    let base = match state.config.public_base_url.as_deref() {
        Some(base) => base.to_string(),
        None => {
            let info = req.connection_info();
            format!("{}://{}", info.scheme(), info.host())
        }
    };
    crate::gateways::mercado_pago::notification_url(&base, empresa_id)
}

/// The path's company must be the session's; anything else is "not found".
fn same_company(ca: &ClienteAdmin, empresa_id: &str) -> ApiResult<()> {
    if ca.empresa_id == empresa_id {
        Ok(())
    } else {
        Err(ApiError::from(Problem::EmpresaNotFound))
    }
}

#[derive(Debug, Deserialize)]
struct WebhookConfig {
    #[serde(default)]
    webhook_secret: Option<String>,
}
impl FieldAliases for WebhookConfig {}

#[utoipa::path(
    tag = "webhooks",
    summary = "Set my Mercado Pago webhook secret",
    request_body(content = inline(crate::openapi::schemas::WebhookSecret), content_type = "application/json"),
    responses((status = 200, description = "OK")),
    security(("session" = ["cliente_admin"])),
)]
#[post("/api/v1/webhook/empresa/{empresa_id}/configurar-webhook")]
async fn configurar_webhook(
    req: HttpRequest,
    ca: ClienteAdmin,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: JsonBody<WebhookConfig>,
) -> ApiResult<HttpResponse> {
    same_company(&ca, &path)?;
    let secret = body
        .into_inner()
        .webhook_secret
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::from(Problem::WebhookSecretRequired))?;
    validate::max_len("webhook_secret", &secret, MAX_WEBHOOK_SECRET)?;

    let txn = crate::db::begin_write(&state.db).await?;
    let e = empresas::get(&txn, EmpresaId(&ca.empresa_id)).await?;
    let empresa_json = json!({"id": e.id, "nombre": e.nombre});
    let patch = EmpresaPatch {
        mercado_pago_webhook_secret: Some(Some(
            state.secrets.encrypt(field::MP_WEBHOOK_SECRET, &secret),
        )),
        ..Default::default()
    };
    empresas::update(&txn, e, patch).await?;
    audit::record(
        &txn,
        &ca.session,
        Some(&ca.empresa_id),
        AuditAction::EmpresaWebhookSecret,
        Some(&ca.empresa_id),
        json!({ "campos": ["webhook_secret (actualizado)"] }),
    )
    .await?;
    txn.commit().await?;

    let url = webhook_url(&state, &req, &ca.empresa_id);
    Ok(HttpResponse::Ok().json(json!({
        "success": true,
        "message": "Clave secreta configurada correctamente",
        "empresa": empresa_json,
        "webhook_url": url,
        "instrucciones": [
            "1. Ir al panel de Mercado Pago",
            "2. Configurar Webhooks",
            format!("3. URL: {url}"),
            "4. Usar la misma clave secreta que acabas de guardar (no se muestra por seguridad)",
            "5. Suscribir eventos: 'payment'",
        ],
    })))
}

#[utoipa::path(
    tag = "webhooks",
    summary = "My webhook configuration status",
    responses((status = 200, description = "OK")),
    security(("session" = ["cliente_admin"])),
)]
#[get("/api/v1/webhook/empresa/{empresa_id}/estado-webhook")]
async fn estado_webhook(
    req: HttpRequest,
    ca: ClienteAdmin,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    same_company(&ca, &path)?;
    let e = empresas::get(&state.db, EmpresaId(&ca.empresa_id)).await?;
    let total = transacciones::count(&state.db, EmpresaId(&ca.empresa_id)).await?;
    let configurado = e.mercado_pago_webhook_secret.is_some();
    Ok(HttpResponse::Ok().json(json!({
        "empresa": {
            "id": e.id,
            "nombre": e.nombre,
            "modo_mercado_pago": e.mercado_pago_mode,
            "access_token_configurado": e.mercado_pago_access_token.is_some(),
            "webhook_secret_configurado": configurado,
        },
        "estadisticas": {"total_transacciones": total},
        "configuracion_webhook": {
            "url": webhook_url(&state, &req, &ca.empresa_id),
            "metodo": "POST",
            "header_firma": "X-Signature",
            "tipo_contenido": "application/json",
        },
        "estado": if configurado { "configurado" } else { "pendiente" },
        "timestamp": iso(Utc::now()),
    })))
}

#[utoipa::path(
    tag = "webhooks",
    summary = "Static webhook information",
    responses((status = 200, description = "OK")),
    security(("session" = ["cliente_admin"])),
)]
#[get("/api/v1/webhook/test-webhook")]
async fn test_webhook(
    req: HttpRequest,
    ca: ClienteAdmin,
    state: web::Data<AppState>,
) -> HttpResponse {
    let url = webhook_url(&state, &req, &ca.empresa_id);
    HttpResponse::Ok().json(json!({
        "status": "active",
        "service": "Mercado Pago Webhook",
        "endpoint": WEBHOOK_PATH,
        "method": "POST",
        "description": "Recibe notificaciones de pagos de Mercado Pago (Multi-tenant)",
        "url_produccion": url,
        "url_pruebas": url,
        "health_check": "ok",
        "timestamp": iso(Utc::now()),
    }))
}

/// One of the caller's company's transactions by its Mercado Pago external reference.
#[utoipa::path(
    tag = "webhooks",
    summary = "A transaction of my company by external reference",
    responses((status = 200, description = "OK")),
    security(("session" = ["cliente_admin"])),
)]
#[get("/api/v1/webhook/transaccion/{external_reference}")]
async fn transaccion_por_referencia(
    ca: ClienteAdmin,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let t = transacciones::find_by_reference(&state.db, EmpresaId(&ca.empresa_id), &path)
        .await?
        .ok_or_else(|| ApiError::from(Problem::TransactionNotFound))?;
    let e = empresas::get(&state.db, EmpresaId(&ca.empresa_id)).await?;
    Ok(HttpResponse::Ok().json(json!({
        "transaction": {
            "id": t.id,
            "transaccion_id": t.transaccion_id,
            "external_reference": t.external_reference,
            "empresa_id": t.empresa_id,
            "estado_pago": t.estado_pago,
            "monto": money(t.monto),
            "usuario_hotspot": t.usuario_hotspot,
            "creada_en": iso(t.creada_en),
            "pagada_en": iso_opt(t.pagada_en),
            "webhook_processed": t.webhook_processed,
            "notification_id": t.notification_id,
            "metadata_json": t.metadata_json,
        },
        "empresa": {
            "id": e.id,
            "nombre": e.nombre,
            "tiene_webhook_secret": e.mercado_pago_webhook_secret.is_some(),
        },
    })))
}
