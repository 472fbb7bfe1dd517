//! `POST /api/v1/admin/mi-empresa/transacciones/{id}/reembolso` (cliente_admin): refunds a
//! transaction of the company through its gateway — all of what is left (the access is revoked
//! at once) or `monto` of it (the access is kept). `{id}` is the integer `id` of
//! `GET /api/v1/admin/mi-empresa/transacciones`. With an `Idempotency-Key`, a repeated request
//! gets the first answer and refunds nothing more. Audited.

use actix_web::{post, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::session::ClienteAdmin;
use crate::db::audit::{self, AuditAction};
use crate::db::purchases::{self, KeyRecord};
use crate::db::{empresas, transacciones};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{parse_body, FieldAliases};
use crate::ids::EmpresaId;
use crate::purchase::refund::{self, Refunded};
use crate::purchase::sha256_hex;
use crate::routes::payments::idempotency_header;
use crate::routes::products::parse_price;
use crate::state::AppState;
use crate::{validate, wire};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(refund_transaction);
}

/// The body; `amount` and `reason` are accepted for `monto` and `motivo` (the Spanish name wins
/// when both are sent).
#[derive(Debug, Default, Deserialize)]
struct RefundReq {
    #[serde(default)]
    monto: Option<Value>,
    #[serde(default)]
    amount: Option<Value>,
    #[serde(default)]
    motivo: Option<String>,
    #[serde(default)]
    reason: Option<String>,
}
impl FieldAliases for RefundReq {}

fn scope(empresa_id: &str) -> String {
    format!("refund:{empresa_id}")
}

#[utoipa::path(
    tag = "cliente_admin",
    summary = "Refund a transaction (all that is left, or `monto`)",
    params(
        ("id" = i32, Path, description = "The transaction's integer `id` (as listed by GET /api/v1/admin/mi-empresa/transacciones)."),
        ("Idempotency-Key" = Option<String>, Header, description = "A repeated request with the same key and body gets the first answer; nothing is refunded twice."),
    ),
    request_body(content = inline(crate::openapi::schemas::RefundRequest), content_type = "application/json"),
    responses((status = 200, description = "Refunded"), (status = 404, description = "No such transaction"), (status = 409, description = "Not refundable")),
    security(("session" = ["cliente_admin"])),
)]
#[post("/api/v1/admin/mi-empresa/transacciones/{id}/reembolso")]
async fn refund_transaction(
    req: HttpRequest,
    ca: ClienteAdmin,
    state: web::Data<AppState>,
    path: web::Path<i32>,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    // The body is optional (no body: refund everything left); a body that is there must parse.
    let mut b: RefundReq = if body.iter().all(u8::is_ascii_whitespace) {
        RefundReq::default()
    } else {
        parse_body(&body)?
    };
    b.monto = b.monto.take().or(b.amount.take());
    b.motivo = b.motivo.take().or(b.reason.take());
    let monto = match &b.monto {
        None | Some(Value::Null) => None,
        Some(v) => Some(parse_price("monto", v)?),
    };
    if let Some(m) = &b.motivo {
        validate::max_len("motivo", m, 255)?;
    }
    let idem = idempotency_header(&req)?;
    let t = transacciones::find_owned(&state.db, EmpresaId(&ca.empresa_id), path.into_inner())
        .await?
        .ok_or_else(|| ApiError::from(Problem::TransactionNotFound))?;
    let pid = t
        .purchase_id
        .clone()
        .ok_or_else(|| ApiError::from(Problem::RefundNotAllowed))?;
    let hash = sha256_hex(format!("{}|{:?}|{:?}", t.id, monto, b.motivo).as_bytes());
    let scope = scope(&ca.empresa_id);
    if let Some(key) = &idem {
        match purchases::record_key(&state.db, &scope, key, &hash, &pid).await? {
            KeyRecord::New => {}
            KeyRecord::Existing { request_hash, .. } if request_hash != hash => {
                return Err(Problem::IdempotencyKeyMismatch.into())
            }
            KeyRecord::Existing {
                response: Some((status, body)),
                ..
            } => {
                let status =
                    actix_web::http::StatusCode::from_u16(u16::try_from(status).unwrap_or(200))
                        .unwrap_or(actix_web::http::StatusCode::OK);
                return Ok(HttpResponse::build(status).json(body));
            }
            KeyRecord::Existing { response: None, .. } => {
                return Err(Problem::RefundInProgress.into())
            }
        }
    }
    let answer = run(&state, &ca, t.id, &pid, monto, b.motivo.as_deref()).await;
    if let Some(key) = &idem {
        match &answer {
            Ok(body) => {
                purchases::save_key_response(&state.db, &scope, key, 200, body).await?;
            }
            // Nothing was refunded: the key is free for a retry.
            Err(_) => purchases::forget_key(&state.db, &scope, key).await?,
        }
    }
    Ok(HttpResponse::Ok().json(answer?))
}

/// Refunds under the purchase's lease, audits, answers.
async fn run(
    state: &AppState,
    ca: &ClienteAdmin,
    transaccion: i32,
    pid: &str,
    monto: Option<rust_decimal::Decimal>,
    motivo: Option<&str>,
) -> ApiResult<Value> {
    let now = chrono::Utc::now();
    if !purchases::claim(&state.db, pid, now, state.config.purchase.reconcile_lease).await? {
        return Err(Problem::RefundInProgress.into());
    }
    let result = async {
        let p = purchases::find(&state.db, pid)
            .await?
            .ok_or_else(|| ApiError::from(Problem::RefundNotAllowed))?;
        let empresa = empresas::get(&state.db, EmpresaId(&ca.empresa_id)).await?;
        refund::refund(state, &empresa, p, monto).await
    }
    .await;
    if let Err(e) = purchases::unlock(&state.db, pid).await {
        tracing::warn!(purchase_id = %pid, error = %e, "refund: unlock failed");
    }
    let done = result?;
    audit::record(
        &state.db,
        &ca.session,
        Some(&ca.empresa_id),
        AuditAction::TransaccionReembolsar,
        Some(&transaccion.to_string()),
        json!({
            "purchase_id": pid,
            "monto": done.amount.to_string(),
            "total": done.full,
            "motivo": motivo,
        }),
    )
    .await?;
    answer(state, transaccion, &done).await
}

async fn answer(state: &AppState, transaccion: i32, done: &Refunded) -> ApiResult<Value> {
    let t = transacciones::of_purchase(&state.db, &done.purchase.id).await?;
    Ok(json!({
        "message": if done.full { "Reembolso total realizado; el acceso fue revocado" } else { "Reembolso parcial realizado; el acceso se mantiene" },
        "id": transaccion,
        "monto_reembolsado_ahora": wire::money(done.amount),
        "monto_reembolsado": t.as_ref().and_then(|t| t.monto_reembolsado).map(wire::money),
        "estado_pago": t.as_ref().map(|t| t.estado_pago.clone()),
        "estado_hotspot": t.as_ref().map(|t| t.estado_hotspot.clone()),
        "acceso_revocado": done.full && done.purchase.state == crate::purchase::SagaState::Revoked,
    }))
}
