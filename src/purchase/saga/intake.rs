//! The entry point: idempotency, the per-router busy check, and replays of earlier answers.

use std::time::Duration;

use chrono::Utc;
use serde_json::Value;

use entity::purchase;

use crate::auth::portal_key::PortalKey;
use crate::crypto::field;
use crate::error::{ApiError, Problem};
use crate::metrics::PurchaseOutcome;
use crate::routeros::BrokerError;
use crate::state::AppState;

use super::router_steps::drive_new;
use super::{db_reply, reply_from_api, PurchaseInput};
use crate::db::purchases;
use crate::purchase::credentials::{self};
use crate::purchase::response::Reply;
use crate::purchase::sha256_hex;
use crate::purchase::SagaState;

/// Runs a portal purchase to its answer. Never charges twice for one idempotency key.
/// The idempotency key of a purchase: the `Idempotency-Key` header, else the card token's
/// SHA-256 (`card_token_hash`, hex).
pub fn idempotency_key(header: Option<&str>, card_token_hash: &str) -> String {
    match header {
        Some(k) => k.to_string(),
        None => format!("card:{card_token_hash}"),
    }
}

/// `RouterBusy` for a new purchase on a router whose queue is full — unless the request retries
/// a purchase already registered under `idem`, whose answer must be replayed (`None` then, and
/// when the queue has room). One read at most, and only when the queue is full.
pub async fn refuse_if_busy(
    state: &AppState,
    router_id: &str,
    empresa_id: &str,
    idem: &str,
) -> Option<Reply> {
    let retry_after_secs = state.routers.queue_full(router_id)?;
    match purchases::is_registered(&state.db, &purchases::scope(empresa_id), idem).await {
        Ok(false) => Some(reply_from_api(ApiError::from(BrokerError::Busy {
            retry_after_secs,
        }))),
        Ok(true) => None,
        Err(e) => Some(db_reply(e)),
    }
}

pub async fn run(state: &AppState, key: &PortalKey, input: PurchaseInput) -> Reply {
    let creds = credentials::generate(input.user_type);
    let token_hash = sha256_hex(input.card_token.as_bytes());
    let idem = idempotency_key(input.idempotency_key.as_deref(), &token_hash);
    let model = new_purchase(state, key, &input, &creds, &idem, token_hash);
    // A full router queue is answered at once, before anything is written (the payment routes
    // check this before authenticating too; the queue may have filled since).
    if let Some(busy) = refuse_if_busy(state, &key.router.id, &key.empresa.id, &idem).await {
        return busy;
    }
    let registered = purchases::register(
        &state.db,
        model,
        &purchases::scope(&key.empresa.id),
        &idem,
        &input.request_hash,
    )
    .await;
    let p = match registered {
        Err(e) => return db_reply(e),
        Ok(purchases::Registered::Existing {
            purchase_id,
            request_hash,
        }) => {
            if request_hash != input.request_hash {
                return if input.idempotency_key.is_some() {
                    Reply::from(Problem::IdempotencyKeyMismatch)
                } else {
                    Reply::from(Problem::CardTokenReused)
                };
            }
            if let Some(id) = purchase_id.as_deref() {
                tracing::Span::current().record("purchase_id", id);
            }
            return wait_for_response(state, purchase_id.as_deref()).await;
        }
        Ok(purchases::Registered::New(p)) => *p,
    };
    // Every later line of this request (in the request span) carries the purchase id.
    tracing::Span::current().record("purchase_id", p.id.as_str());
    tracing::info!(purchase_id = %p.id, gateway = %input.gateway, producto_id = p.producto_id, "purchase started");
    let id = p.id.clone();
    let started = std::time::Instant::now();
    let beat = heartbeat(state, &id);
    let (reply, last) = drive_new(state, key, &input, p, creds.password).await;
    drop(beat);
    let outcome = final_outcome(state, &id, last).await;
    state
        .metrics
        .observe_purchase(input.gateway, outcome, started.elapsed());
    reply
}

/// Renews the purchase's lease every third of it while its saga runs (a short lease, so that
/// the reconciler takes over quickly after a crash, that a long saga still keeps). Stops when
/// dropped.
struct Heartbeat(tokio::task::JoinHandle<()>);

impl Drop for Heartbeat {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn heartbeat(state: &AppState, purchase_id: &str) -> Heartbeat {
    let db = state.db.clone();
    let lease = state.config.purchase.saga_lease;
    let id = purchase_id.to_string();
    Heartbeat(tokio::spawn(async move {
        loop {
            tokio::time::sleep(lease / 3).await;
            match purchases::renew_lease(&db, &id, Utc::now(), lease).await {
                Ok(true) => tracing::debug!(purchase_id = %id, "saga lease renewed"),
                // Given back (the saga ended) or lost: nothing left to keep.
                Ok(false) => break,
                Err(e) => tracing::warn!(purchase_id = %id, error = %e, "saga lease not renewed"),
            }
        }
    }))
}

/// The purchase row a new request registers, in `creating_user` under a fresh lease.
fn new_purchase(
    state: &AppState,
    key: &PortalKey,
    input: &PurchaseInput,
    creds: &credentials::Credentials,
    idem: &str,
    token_hash: String,
) -> purchase::Model {
    let now = Utc::now();
    purchase::Model {
        id: uuid::Uuid::new_v4().to_string(),
        empresa_id: key.empresa.id.clone(),
        router_id: key.router.id.clone(),
        producto_id: input.producto.id,
        gateway: input.gateway,
        // Registered straight in `creating_user`: the next step is the router command.
        state: SagaState::CreatingUser,
        amount: input.producto.precio,
        currency: input.producto.moneda.clone(),
        user_type: input.user_type.as_str().to_string(),
        hotspot_username: Some(creds.username.clone()),
        hotspot_password: Some(
            state
                .secrets
                .encrypt(field::HOTSPOT_PASSWORD, &creds.password),
        ),
        router_user_id: None,
        customer_name: input.customer_name.clone(),
        customer_email: input.customer_email.clone(),
        customer_phone: input.customer_phone.clone(),
        mac_address: input.mac.clone(),
        ip_address: input.ip.map(|i| i.to_string()),
        auto_connect: input.auto_connect,
        idempotency_key: Some(idem.to_string()),
        card_token_hash: Some(token_hash),
        gateway_reference: None,
        gateway_payment_id: None,
        gateway_status: None,
        response_status: None,
        response_body: None,
        last_error: None,
        attempts: 0,
        next_attempt_at: None,
        locked_until: Some(
            now + chrono::Duration::from_std(state.config.purchase.saga_lease)
                .unwrap_or(chrono::Duration::MAX),
        ),
        created_at: now,
        updated_at: now,
        usage_minutes: input.producto.minutos_uso,
        validity_minutes: input.producto.vigencia_minutos,
        validity_from: input
            .producto
            .vigencia_minutos
            .map(|_| crate::purchase::lifecycle::validity_from(&input.producto).to_string()),
        data_limit_mb: input.producto.limite_mb,
        expires_at: crate::purchase::lifecycle::expiry_at_purchase(&input.producto, now),
        ended_at: None,
        uptime_used_secs: None,
        bytes_used: None,
    }
}

/// How a purchase stands once its request is answered (for `purchase_duration_seconds`).
/// The usual endings already gave the lease back with their last write (`last`); the others
/// release it here and read how the purchase stands.
async fn final_outcome(
    state: &AppState,
    id: &str,
    last: Option<purchase::Model>,
) -> PurchaseOutcome {
    let final_state = match last {
        Some(p) if p.locked_until.is_none() => Some(p.state),
        _ => {
            if let Err(e) = purchases::unlock(&state.db, id).await {
                tracing::warn!(purchase_id = %id, error = %e, "could not release the purchase lease");
            }
            purchases::find(&state.db, id)
                .await
                .ok()
                .flatten()
                .map(|p| p.state)
        }
    };
    match final_state {
        Some(SagaState::Completed) => PurchaseOutcome::Completed,
        Some(SagaState::Declined) => PurchaseOutcome::Declined,
        Some(SagaState::Failed | SagaState::Refunded) => PurchaseOutcome::Failed,
        _ => PurchaseOutcome::Pending,
    }
}

/// A duplicate request: replay the first one's saved response, waiting (bounded) for it.
pub(super) async fn wait_for_response(state: &AppState, purchase_id: Option<&str>) -> Reply {
    let Some(id) = purchase_id else {
        return Reply::from(Problem::PurchaseInProgress);
    };
    let deadline = tokio::time::Instant::now() + state.config.purchase.idempotency_wait;
    loop {
        match purchases::find(&state.db, id).await {
            Err(e) => return db_reply(e),
            Ok(None) => return Reply::from(Problem::PurchaseInProgress),
            Ok(Some(p)) => {
                if let Some(r) = replay(state, &p) {
                    return r;
                }
            }
        }
        if tokio::time::Instant::now() >= deadline {
            return Reply::from(Problem::PurchaseInProgress);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The saved response of a purchase, with the hotspot password restored.
pub fn replay(state: &AppState, p: &purchase::Model) -> Option<Reply> {
    let status = u16::try_from(p.response_status?).ok()?;
    let mut body = p.response_body.clone()?;
    if let Some(u) = body
        .get_mut("usuario_hotspot")
        .and_then(Value::as_object_mut)
    {
        let pw = p
            .hotspot_password
            .as_deref()
            .and_then(|c| state.secrets.decrypt(field::HOTSPOT_PASSWORD, c).ok())
            .map(|z| z.to_string())
            .unwrap_or_default();
        u.insert("contrasena".into(), Value::String(pw));
    }
    Some(Reply {
        status,
        body,
        retry_after: None,
    })
}
