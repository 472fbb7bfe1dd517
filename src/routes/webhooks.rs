//! Gateway webhooks: `POST /api/v1/webhook/mercado-pago` and `POST /api/v1/webhook/conekta`.
//!
//! The company is named by the `empresa_id` query parameter (the `notification_url` we send to
//! Mercado Pago carries it; configure the Conekta webhook URL the same way), so the signature is
//! verified with that company's secret before anything else is read or written. Unsigned, forged
//! or stale calls get 401 and change nothing. Verified events are de-duplicated by
//! (provider, event id) in `webhook_events`; the payment is then re-read from the gateway and
//! drives the purchase ([`saga::on_gateway_update`]).

use actix_web::{post, web, HttpRequest, HttpResponse};
use chrono::Utc;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::crypto::field;
use crate::db::empresas::{self, Empresa};
use crate::db::webhook_events::{self, WebhookEvent};
use crate::error::{ApiError, ApiResult, Problem};
use crate::gateways::{webhook, GatewayKind};
use crate::ids::EmpresaId;
use crate::metrics::{PaymentOutcome, WebhookOutcome};
use crate::purchase::saga::{self, UpdateOutcome};
use crate::purchase::sha256_hex;
use crate::state::AppState;
use crate::wire;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(mercado_pago).service(conekta);
}

#[derive(Debug, Deserialize)]
struct MpQuery {
    #[serde(default)]
    empresa_id: Option<String>,
    #[serde(default, rename = "data.id")]
    data_id: Option<String>,
    #[serde(default, rename = "type")]
    kind: Option<String>,
}

fn header<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

fn unauthorized() -> ApiError {
    ApiError::from(Problem::WebhookSignatureInvalid)
}

async fn load_empresa(state: &AppState, id: Option<&str>) -> ApiResult<Empresa> {
    let id = id
        .filter(|i| !i.is_empty() && i.len() <= 50)
        .ok_or_else(unauthorized)?;
    let empresa = empresas::find(&state.db, EmpresaId(id))
        .await?
        .ok_or_else(unauthorized)?;
    tracing::Span::current().record("empresa_id", empresa.id.as_str());
    Ok(empresa)
}

fn received(extra: Value) -> HttpResponse {
    let mut body = json!({
        "status": "received",
        "message": "Webhook received and queued",
        "received_at": wire::iso(Utc::now()),
    });
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            b.insert(k.clone(), v.clone());
        }
    }
    HttpResponse::Ok().json(body)
}

/// Records the event; `false` when it was already processed.
async fn record_event(
    state: &AppState,
    provider: GatewayKind,
    event_id: &str,
    empresa_id: &str,
    body: &[u8],
) -> ApiResult<Option<WebhookEvent>> {
    let empresa = EmpresaId(empresa_id);
    Ok(webhook_events::record_new(
        &state.db,
        provider.as_str(),
        event_id,
        empresa,
        sha256_hex(body),
        // Processing a notice is bounded by the saga's lease: older and still `received`, it
        // died with the service.
        chrono::Duration::from_std(state.config.purchase.saga_lease)
            .unwrap_or(chrono::Duration::MAX),
    )
    .await?)
}

async fn apply(
    state: &AppState,
    empresa: &Empresa,
    gateway: GatewayKind,
    payment_id: &str,
    event: WebhookEvent,
) -> ApiResult<HttpResponse> {
    let kind = gateway;
    let applied = match saga::on_gateway_update(state, empresa, gateway, payment_id).await {
        // The purchase stayed held by someone else: not applied, answered 503.
        Ok(UpdateOutcome::Busy) => Err((
            WebhookOutcome::Ignored,
            ApiError::from(Problem::WebhookBusy),
        )),
        Ok(outcome) => Ok(outcome),
        Err(e) => Err((WebhookOutcome::Error, e)),
    };
    match applied {
        Ok(outcome) => {
            state.metrics.record_webhook(
                kind,
                match outcome {
                    UpdateOutcome::UnknownPayment
                    | UpdateOutcome::NoChange
                    | UpdateOutcome::Busy => WebhookOutcome::Ignored,
                    _ => WebhookOutcome::Processed,
                },
            );
            if matches!(outcome, UpdateOutcome::Revoked) {
                state.metrics.record_payment(kind, PaymentOutcome::Refunded);
            }
            let label = match outcome {
                UpdateOutcome::UnknownPayment => "unknown_payment",
                UpdateOutcome::NoChange => "no_change",
                UpdateOutcome::Busy => "busy",
                UpdateOutcome::Completed => "completed",
                UpdateOutcome::Declined => "declined",
                UpdateOutcome::Revoked => "revoked",
            };
            webhook_events::set_outcome(&state.db, event, label).await?;
            Ok(received(json!({})))
        }
        Err((metric, e)) => {
            state.metrics.record_webhook(kind, metric);
            // Not processed: forget the event so the gateway's next delivery is handled.
            webhook_events::forget(&state.db, &event).await?;
            Err(e)
        }
    }
}

#[utoipa::path(
    tag = "webhooks",
    summary = "Mercado Pago notifications (x-signature verified)",
    params(
        crate::openapi::schemas::WebhookQuery,
    ),
    request_body(content = Object, content_type = "application/json", description = "The gateway's notification, verified against its signature."),
    responses((status = 200, description = "OK")),
)]
#[post("/api/v1/webhook/mercado-pago")]
async fn mercado_pago(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<MpQuery>,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    let q = query.into_inner();
    let empresa = load_empresa(&state, q.empresa_id.as_deref()).await?;
    let secret = empresa
        .mercado_pago_webhook_secret
        .as_deref()
        .and_then(|s| state.secrets.decrypt(field::MP_WEBHOOK_SECRET, s).ok())
        .ok_or_else(unauthorized)?;
    let parsed: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let data_id = q.data_id.clone().or_else(|| {
        parsed.get("data").and_then(|d| d.get("id")).map(|v| {
            v.as_str()
                .map(str::to_string)
                .unwrap_or_else(|| v.to_string())
        })
    });
    let request_id = header(&req, "x-request-id");
    let sig = webhook::verify_mercado_pago(
        secret.as_bytes(),
        header(&req, "x-signature"),
        request_id,
        data_id.as_deref(),
        Utc::now().timestamp(),
        state.config.purchase.webhook_tolerance,
    )
    .map_err(|e| {
        tracing::warn!(empresa_id = %empresa.id, error = %e, "mercado pago webhook refused");
        state
            .metrics
            .record_webhook(GatewayKind::MercadoPago, WebhookOutcome::InvalidSignature);
        unauthorized()
    })?;
    let kind = q
        .kind
        .clone()
        .or_else(|| {
            parsed
                .get("type")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .unwrap_or_default();
    if kind != "payment" {
        return Ok(received(json!({ "type": kind })));
    }
    let Some(payment_id) =
        data_id.filter(|d| d.bytes().all(|b| b.is_ascii_digit()) && !d.is_empty())
    else {
        return Ok(received(json!({})));
    };
    let event_id = match request_id {
        Some(r) if !r.is_empty() => format!("{payment_id}:{r}"),
        _ => format!("{payment_id}:{}:{}", sig.ts, sig.v1),
    };
    let Some(event) = record_event(
        &state,
        GatewayKind::MercadoPago,
        &event_id,
        &empresa.id,
        &body,
    )
    .await?
    else {
        state
            .metrics
            .record_webhook(GatewayKind::MercadoPago, WebhookOutcome::Duplicate);
        return Ok(received(json!({ "duplicate": true })));
    };
    apply(
        &state,
        &empresa,
        GatewayKind::MercadoPago,
        &payment_id,
        event,
    )
    .await
}

#[derive(Debug, Deserialize)]
struct ConektaQuery {
    #[serde(default)]
    empresa_id: Option<String>,
}

#[utoipa::path(
    tag = "webhooks",
    summary = "Conekta events (Digest signature verified)",
    params(
        crate::openapi::schemas::WebhookQuery,
    ),
    request_body(content = Object, content_type = "application/json", description = "The gateway's notification, verified against its signature."),
    responses((status = 200, description = "OK")),
)]
#[post("/api/v1/webhook/conekta")]
async fn conekta(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<ConektaQuery>,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    let empresa = load_empresa(&state, query.empresa_id.as_deref()).await?;
    let key = empresa
        .conekta_webhook_key
        .as_deref()
        .and_then(|pem| webhook::parse_public_key(pem).ok())
        .ok_or_else(unauthorized)?;
    webhook::verify_conekta(&key, &body, header(&req, "digest")).map_err(|e| {
        tracing::warn!(empresa_id = %empresa.id, error = %e, "conekta webhook refused");
        state
            .metrics
            .record_webhook(GatewayKind::Conekta, WebhookOutcome::InvalidSignature);
        unauthorized()
    })?;
    let event: Value =
        serde_json::from_slice(&body).map_err(|_| ApiError::from(Problem::WebhookBodyInvalid))?;
    // Stale events (a replay of an old, validly signed body) are refused.
    let created = event.get("created_at").and_then(Value::as_i64).unwrap_or(0);
    let tolerance = i64::try_from(state.config.purchase.webhook_tolerance.as_secs()).unwrap_or(300);
    if (Utc::now().timestamp() - created).abs() > tolerance {
        return Err(unauthorized());
    }
    let Some(event_id) = event.get("id").and_then(Value::as_str) else {
        return Ok(received(json!({})));
    };
    let Some(order_id) = event
        .get("data")
        .and_then(|d| d.get("object"))
        .and_then(|o| o.get("id"))
        .and_then(Value::as_str)
        .filter(|id| id.starts_with("ord_"))
    else {
        return Ok(received(json!({})));
    };
    let Some(ev) = record_event(&state, GatewayKind::Conekta, event_id, &empresa.id, &body).await?
    else {
        state
            .metrics
            .record_webhook(GatewayKind::Conekta, WebhookOutcome::Duplicate);
        return Ok(received(json!({ "duplicate": true })));
    };
    apply(&state, &empresa, GatewayKind::Conekta, order_id, ev).await
}

/// Events already recorded for a company (used by tests and diagnostics).
pub async fn events_for(
    state: &AppState,
    empresa_id: &str,
) -> Result<Vec<WebhookEvent>, sea_orm::DbErr> {
    webhook_events::list_for_empresa(&state.db, EmpresaId(empresa_id)).await
}
