//! The purchase saga (see the module docs of [`super`]).

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Duration;

use chrono::Utc;
use rust_decimal::Decimal;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, Set};
use serde_json::{json, Value};
use zeroize::Zeroizing;

use entity::{empresa, producto, purchase, transaccion};

use crate::auth::api_key::PortalKey;
use crate::crypto::field;
use crate::error::{ApiError, Problem};
use crate::gateways::messages::{conekta_status_message, mp_status_detail_message};
use crate::gateways::telegram::{
    paid_message, rejected_message, HotspotAccess, Notification, PurchaseInfo,
};
use crate::gateways::{
    ChargeOutcome, ConektaOrderRequest, GatewayError, GatewayKind, MpPayer, MpPaymentRequest,
    PaymentGateway, PaymentSnapshot, PaymentStatus,
};
use crate::metrics::{CompensationKind, GatewayOperation, PaymentOutcome, PurchaseOutcome};
use crate::routeros::commands::{ActiveLogin, NewHotspotUser};
use crate::routeros::BrokerError;
use crate::routeros::RouterError;
use crate::state::AppState;

use super::credentials::{self, UserType};
use super::response::{self, Reply};
use super::states as st;
use super::store;
use super::{sha256_hex, user_comment, GW_CONEKTA, GW_MERCADO_PAGO};

/// Attempts at a fresh username when the router says it already exists.
const NAME_ATTEMPTS: usize = 5;

/// Mercado Pago specific inputs.
#[derive(Debug, Clone)]
pub struct MpExtra {
    pub payment_method_id: String,
    pub issuer_id: Option<String>,
    pub installments: u32,
    pub device_id: Option<String>,
}

/// A validated portal purchase request.
pub struct PurchaseInput {
    pub gateway: &'static str,
    pub producto: producto::Model,
    /// Card token (single use). Never logged, never stored (only its SHA-256).
    pub card_token: String,
    /// Decrypted gateway credential (Conekta private key / Mercado Pago access token).
    pub credential: Zeroizing<String>,
    pub customer_name: String,
    pub customer_email: String,
    pub customer_phone: Option<String>,
    pub user_type: UserType,
    /// MAC as sent (already validated by [`super::parse_mac`]).
    pub mac: Option<String>,
    pub ip: Option<IpAddr>,
    pub auto_connect: bool,
    pub mp: Option<MpExtra>,
    /// The `Idempotency-Key` header, if any.
    pub idempotency_key: Option<String>,
    /// SHA-256 of the normalised request (to refuse a reused key with another body).
    pub request_hash: String,
}

/// Turns an [`ApiError`] into a reply.
pub fn reply_from_api(e: ApiError) -> Reply {
    Reply::from(e)
}

fn db_reply(e: sea_orm::DbErr) -> Reply {
    reply_from_api(ApiError::from(e))
}

/// The decrypted gateway credential of a company.
pub fn gateway_credential(
    state: &AppState,
    empresa: &empresa::Model,
    gateway: &str,
) -> Option<Zeroizing<String>> {
    let (label, stored) = if gateway == GW_CONEKTA {
        (
            field::CONEKTA_PRIVATE_KEY,
            empresa.conekta_private_key.as_deref(),
        )
    } else {
        (
            field::MP_ACCESS_TOKEN,
            empresa.mercado_pago_access_token.as_deref(),
        )
    };
    let stored = stored.filter(|s| !s.is_empty())?;
    match state.secrets.decrypt(label, stored) {
        Ok(v) => Some(v),
        Err(e) => {
            tracing::error!(empresa_id = %empresa.id, error = %e, "cannot decrypt gateway credential");
            None
        }
    }
}

// ------------------------------------------------------------------------------------------
// gateway dispatch (every call timed in `gateway_request_duration_seconds`)

pub(crate) fn kind_of(gateway: &str) -> GatewayKind {
    if gateway == GW_CONEKTA {
        GatewayKind::Conekta
    } else {
        GatewayKind::MercadoPago
    }
}

pub(crate) async fn gw_get(
    state: &AppState,
    gateway: &str,
    cred: &str,
    id: &str,
) -> Result<PaymentSnapshot, GatewayError> {
    let call = async {
        if gateway == GW_CONEKTA {
            state.gateways.conekta.get(cred, id).await
        } else {
            state.gateways.mercado_pago.get(cred, id).await
        }
    };
    state
        .metrics
        .time_gateway(kind_of(gateway), GatewayOperation::Get, call)
        .await
}

pub(crate) async fn gw_find(
    state: &AppState,
    gateway: &str,
    cred: &str,
    reference: &str,
) -> Result<Option<PaymentSnapshot>, GatewayError> {
    let call = async {
        if gateway == GW_CONEKTA {
            state
                .gateways
                .conekta
                .find_by_reference(cred, reference)
                .await
        } else {
            state
                .gateways
                .mercado_pago
                .find_by_reference(cred, reference)
                .await
        }
    };
    state
        .metrics
        .time_gateway(kind_of(gateway), GatewayOperation::FindByReference, call)
        .await
}

async fn gw_refund(
    state: &AppState,
    gateway: &str,
    cred: &str,
    id: &str,
    amount: Decimal,
    idem: &str,
) -> Result<PaymentSnapshot, GatewayError> {
    let call = async {
        if gateway == GW_CONEKTA {
            PaymentGateway::refund(&state.gateways.conekta, cred, id, amount, idem).await
        } else {
            PaymentGateway::refund(&state.gateways.mercado_pago, cred, id, amount, idem).await
        }
    };
    let r = state
        .metrics
        .time_gateway(kind_of(gateway), GatewayOperation::Refund, call)
        .await;
    state
        .metrics
        .record_compensation(CompensationKind::Refund, r.is_ok());
    if r.is_ok() {
        state
            .metrics
            .record_payment(kind_of(gateway), PaymentOutcome::Refunded);
    }
    r
}

async fn gw_cancel(
    state: &AppState,
    gateway: &str,
    cred: &str,
    id: &str,
) -> Result<PaymentSnapshot, GatewayError> {
    let call = async {
        if gateway == GW_CONEKTA {
            PaymentGateway::cancel(&state.gateways.conekta, cred, id).await
        } else {
            PaymentGateway::cancel(&state.gateways.mercado_pago, cred, id).await
        }
    };
    let r = state
        .metrics
        .time_gateway(kind_of(gateway), GatewayOperation::Cancel, call)
        .await;
    state
        .metrics
        .record_compensation(CompensationKind::CancelCharge, r.is_ok());
    r
}

fn outcome_from_snapshot(s: PaymentSnapshot) -> ChargeOutcome {
    let is_mp = s.gateway == crate::gateways::GatewayKind::MercadoPago;
    let detail = s.status_detail.clone().unwrap_or_default();
    let message = |raw: &str| {
        if is_mp {
            mp_status_detail_message(&detail).to_string()
        } else {
            conekta_status_message(raw).to_string()
        }
    };
    match s.status {
        PaymentStatus::Paid => ChargeOutcome::Paid {
            gateway_id: s.gateway_id,
            amount: s.amount,
            currency: s.currency,
            raw: s.raw,
        },
        PaymentStatus::Authorized => ChargeOutcome::Authorized {
            gateway_id: s.gateway_id,
            amount: s.amount,
            currency: s.currency,
            raw: s.raw,
        },
        PaymentStatus::Pending => ChargeOutcome::Pending {
            message_es: message(&s.raw_status),
            gateway_id: s.gateway_id,
            status: s.raw_status,
            status_detail: detail,
            raw: s.raw,
        },
        _ => ChargeOutcome::Declined {
            message_es: message(&s.raw_status),
            gateway_id: Some(s.gateway_id),
            code: s.raw_status,
            http_status: 402,
            raw: s.raw,
        },
    }
}

// ------------------------------------------------------------------------------------------
// entry point

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
    match store::is_registered(&state.db, &store::scope(empresa_id), idem).await {
        Ok(false) => Some(reply_from_api(ApiError::from(BrokerError::Busy {
            retry_after_secs,
        }))),
        Ok(true) => None,
        Err(e) => Some(db_reply(e)),
    }
}

pub async fn run(state: &AppState, key: &PortalKey, input: PurchaseInput) -> Reply {
    let now = Utc::now();
    let creds = credentials::generate(input.user_type);
    let token_hash = sha256_hex(input.card_token.as_bytes());
    let idem = idempotency_key(input.idempotency_key.as_deref(), &token_hash);
    let model = purchase::Model {
        id: uuid::Uuid::new_v4().to_string(),
        empresa_id: key.empresa.id.clone(),
        router_id: key.router.id.clone(),
        producto_id: input.producto.id,
        gateway: input.gateway.to_string(),
        // Registered straight in `creating_user`: the next step is the router command.
        state: st::CREATING_USER.to_string(),
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
        idempotency_key: Some(idem.clone()),
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
    };
    // A full router queue is answered at once, before anything is written (the payment routes
    // check this before authenticating too; the queue may have filled since).
    if let Some(busy) = refuse_if_busy(state, &key.router.id, &key.empresa.id, &idem).await {
        return busy;
    }
    let registered = store::register(
        &state.db,
        model,
        &store::scope(&key.empresa.id),
        &idem,
        &input.request_hash,
    )
    .await;
    let p = match registered {
        Err(e) => return db_reply(e),
        Ok(store::Registered::Existing {
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
        Ok(store::Registered::New(p)) => *p,
    };
    // Every later line of this request (in the request span) carries the purchase id.
    tracing::Span::current().record("purchase_id", p.id.as_str());
    tracing::info!(purchase_id = %p.id, gateway = input.gateway, producto_id = p.producto_id, "purchase started");
    let id = p.id.clone();
    let started = std::time::Instant::now();
    let (reply, last) = drive_new(state, key, &input, p, creds.password).await;
    // The usual endings already gave the lease back with their last write; the others release
    // it here and read how the purchase stands.
    let final_state = match last {
        Some(p) if p.locked_until.is_none() => Some(p.state),
        _ => {
            if let Err(e) = store::unlock(&state.db, &id).await {
                tracing::warn!(purchase_id = %id, error = %e, "could not release the purchase lease");
            }
            store::find(&state.db, &id)
                .await
                .ok()
                .flatten()
                .map(|p| p.state)
        }
    };
    let outcome = match final_state {
        Some(s) if s == st::COMPLETED => PurchaseOutcome::Completed,
        Some(s) if s == st::DECLINED => PurchaseOutcome::Declined,
        Some(s) if s == st::FAILED || s == st::REFUNDED => PurchaseOutcome::Failed,
        _ => PurchaseOutcome::Pending,
    };
    state
        .metrics
        .observe_purchase(kind_of(input.gateway), outcome, started.elapsed());
    reply
}

/// A duplicate request: replay the first one's saved response, waiting (bounded) for it.
async fn wait_for_response(state: &AppState, purchase_id: Option<&str>) -> Reply {
    let Some(id) = purchase_id else {
        return Reply::from(Problem::PurchaseInProgress);
    };
    let deadline = tokio::time::Instant::now() + state.config.purchase.idempotency_wait;
    loop {
        match store::find(&state.db, id).await {
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

// ------------------------------------------------------------------------------------------
// the steps of a new purchase

/// A step's reply, with the purchase as last written when that write also released the lease.
type Ended = (Reply, Option<purchase::Model>);

async fn drive_new(
    state: &AppState,
    key: &PortalKey,
    input: &PurchaseInput,
    p: purchase::Model,
    password: String,
) -> Ended {
    // 1. the hotspot user, disabled
    let (p, password, router_user_id) = match create_user(state, input, p, password).await {
        Ok(v) => v,
        Err(r) => return (r, None),
    };
    // 2. charge, our purchase id as the reference. The user's router id and `charging` are
    // written together, before the charge is sent (a crash before this write leaves
    // `creating_user`, which the reconciler undoes by name and comment).
    let mut am = p.into_active_model();
    am.router_user_id = Set(Some(router_user_id));
    am.state = Set(st::CHARGING.into());
    am.gateway_reference = Set(Some(am.id.as_ref().clone()));
    let p = match store::save(&state.db, am).await {
        Ok(p) => p,
        Err(e) => return (db_reply(e), None),
    };
    let charged = state
        .metrics
        .time_gateway(
            kind_of(&p.gateway),
            GatewayOperation::Charge,
            charge(state, key, input, &p),
        )
        .await;
    state
        .metrics
        .record_payment(kind_of(&p.gateway), PaymentOutcome::of_charge(&charged));
    let outcome = match charged {
        Ok(o) => o,
        Err(e) if e.outcome_unknown() => {
            tracing::warn!(purchase_id = %p.id, error = %e, "charge outcome unknown; looking it up by our reference");
            match resolve_unknown_charge(state, input, &p).await {
                Some(o) => o,
                None => {
                    // Left in `charging`: the reconciler asks the gateway again later.
                    store::retry_later(
                        &state.db,
                        p,
                        &e.to_string(),
                        state.config.purchase.retry_delay,
                    )
                    .await;
                    return (Reply::from(Problem::Gateway(e)), None);
                }
            }
        }
        Err(e) => {
            // Refused before charging: nothing moved.
            tracing::info!(purchase_id = %p.id, error = %e, "charge refused by the gateway");
            let reply = Reply::from(Problem::Gateway(e.clone()));
            let keep = matches!(e, GatewayError::InvalidRequest { .. });
            let p = compensate(state, &key.empresa, p).await;
            if keep {
                let id = p.id.clone();
                store::best_effort(
                    "save the refusal",
                    &id,
                    store::save_response(&state.db, p, reply.status, &reply.body),
                )
                .await;
            } else {
                store::free_key(&state.db, &p).await;
            }
            return (reply, None);
        }
    };
    handle_outcome(
        state,
        &key.empresa,
        input,
        p,
        outcome,
        Some(&key.key_id),
        password,
    )
    .await
}

async fn resolve_unknown_charge(
    state: &AppState,
    input: &PurchaseInput,
    p: &purchase::Model,
) -> Option<ChargeOutcome> {
    match gw_find(state, &p.gateway, &input.credential, &p.id).await {
        Ok(Some(snap)) => return Some(outcome_from_snapshot(snap)),
        Ok(None) => {}
        Err(e) => {
            tracing::warn!(purchase_id = %p.id, error = %e, "lookup by reference failed");
            return None;
        }
    }
    if p.gateway == GW_MERCADO_PAGO {
        // Same X-Idempotency-Key: Mercado Pago answers with the payment it already made, if any.
        if let Ok(o) = charge_mp(state, input, p).await {
            return Some(o);
        }
    }
    None
}

async fn create_user(
    state: &AppState,
    input: &PurchaseInput,
    mut p: purchase::Model,
    mut password: String,
) -> Result<(purchase::Model, String, String), Reply> {
    for attempt in 0..NAME_ATTEMPTS {
        if attempt > 0 {
            let c = credentials::generate(input.user_type);
            password = c.password;
            let mut am = p.into_active_model();
            am.hotspot_username = Set(Some(c.username));
            am.hotspot_password = Set(Some(
                state.secrets.encrypt(field::HOTSPOT_PASSWORD, &password),
            ));
            p = store::save(&state.db, am).await.map_err(db_reply)?;
        }
        let name = p.hotspot_username.clone().unwrap_or_default();
        let user = NewHotspotUser {
            name: name.clone(),
            password: (!password.is_empty()).then(|| password.clone()),
            profile: Some(input.producto.perfil_mikrotik_nombre.clone()),
            comment: Some(user_comment(&p.id)),
            disabled: Some(true),
            ..Default::default()
        };
        let created = state.routers.create_user(&p.router_id, user).await;
        let router_id = match created {
            Ok(id) => Some(id),
            Err(BrokerError::Router(RouterError::AlreadyExists(_))) => continue,
            Err(BrokerError::OutcomeUnknown) => {
                match state.routers.find_user(&p.router_id, &name).await {
                    Ok(Some(u)) if u.comment.as_deref() == Some(user_comment(&p.id).as_str()) => {
                        Some(u.id)
                    }
                    Ok(Some(_)) => continue,
                    Ok(None) => None,
                    Err(_) => {
                        // Unknown whether it exists: leave `creating_user` for the reconciler to
                        // clean up; nothing was charged, so the portal may retry.
                        store::free_key(&state.db, &p).await;
                        store::retry_later(
                            &state.db,
                            p,
                            "create user: outcome unknown",
                            state.config.purchase.retry_delay,
                        )
                        .await;
                        return Err(reply_from_api(BrokerError::OutcomeUnknown.into()));
                    }
                }
            }
            Err(e) => {
                let reply = create_user_error(state, &p.router_id, &input.producto, e).await;
                fail_before_charge(state, p).await;
                return Err(reply);
            }
        };
        let Some(router_user_id) = router_id else {
            fail_before_charge(state, p).await;
            return Err(reply_from_api(BrokerError::OutcomeUnknown.into()));
        };
        // Not saved here: the caller writes the id together with the next state.
        return Ok((p, password, router_user_id));
    }
    fail_before_charge(state, p).await;
    Err(Reply::from(Problem::HotspotUserExists))
}

/// Ends a purchase that failed before any charge: frees its idempotency key (the portal may
/// retry) and marks it `failed`, both best effort.
async fn fail_before_charge(state: &AppState, p: purchase::Model) {
    store::free_key(&state.db, &p).await;
    let id = p.id.clone();
    store::best_effort(
        "mark failed",
        &id,
        store::set_state(&state.db, p, st::FAILED),
    )
    .await;
}

/// The original's answers for a failed user creation.
async fn create_user_error(
    state: &AppState,
    router_id: &str,
    producto: &producto::Model,
    e: BrokerError,
) -> Reply {
    match e {
        BrokerError::Router(re) => {
            let msg = re.to_string();
            if msg.to_lowercase().contains("profile") {
                if let Ok(profiles) = state.routers.list_profiles(router_id).await {
                    let names: Vec<String> = profiles.into_iter().map(|p| p.name).collect();
                    if !names.contains(&producto.perfil_mikrotik_nombre) {
                        return Reply::from(Problem::HotspotProfileMissing {
                            profile: producto.perfil_mikrotik_nombre.clone(),
                            available: names,
                        });
                    }
                }
            }
            let detail = match re {
                RouterError::NotFound(m)
                | RouterError::InvalidValue(m)
                | RouterError::Permission(m)
                | RouterError::Trap { message: m, .. } => m,
                other => other.to_string(),
            };
            Reply::from(Problem::HotspotUserCreateFailed { detail })
        }
        other => reply_from_api(other.into()),
    }
}

async fn charge(
    state: &AppState,
    key: &PortalKey,
    input: &PurchaseInput,
    p: &purchase::Model,
) -> Result<ChargeOutcome, GatewayError> {
    if p.gateway == GW_CONEKTA {
        let cents = crate::gateways::to_minor_units(p.amount).ok_or_else(|| {
            GatewayError::InvalidRequest {
                code: "invalid_amount".into(),
                message_es: "Monto inválido.".into(),
                http_status: 400,
            }
        })?;
        let mut metadata = BTreeMap::new();
        metadata.insert("empresa_id".to_string(), json!(key.empresa.id));
        metadata.insert("router_id".to_string(), json!(key.router.id));
        metadata.insert("producto_id".to_string(), json!(p.producto_id.to_string()));
        metadata.insert("user_type".to_string(), json!(p.user_type));
        metadata.insert("auto_connect_requested".to_string(), json!(p.auto_connect));
        let req = ConektaOrderRequest {
            amount_cents: cents,
            currency: p.currency.clone(),
            product_name: input.producto.nombre_venta.clone(),
            customer_name: p.customer_name.clone(),
            customer_email: p.customer_email.clone(),
            customer_phone: p.customer_phone.clone(),
            card_token: input.card_token.clone(),
            our_reference: p.id.clone(),
            metadata,
            pre_authorize: false,
        };
        state
            .gateways
            .conekta
            .create_order(&input.credential, &req)
            .await
    } else {
        charge_mp(state, input, p).await
    }
}

async fn charge_mp(
    state: &AppState,
    input: &PurchaseInput,
    p: &purchase::Model,
) -> Result<ChargeOutcome, GatewayError> {
    let extra = input.mp.clone().unwrap_or(MpExtra {
        payment_method_id: String::new(),
        issuer_id: None,
        installments: 1,
        device_id: None,
    });
    let mut metadata = serde_json::Map::new();
    metadata.insert("empresa_id".into(), json!(p.empresa_id));
    metadata.insert("router_id".into(), json!(p.router_id));
    metadata.insert("producto_id".into(), json!(p.producto_id.to_string()));
    metadata.insert("purchase_id".into(), json!(p.id));
    metadata.insert("user_type".into(), json!(p.user_type));
    let notification_url = state
        .config
        .public_base_url
        .as_deref()
        .map(|b| crate::routes::webhooks::mercado_pago_notification_url(b, &p.empresa_id));
    let req = MpPaymentRequest {
        idempotency_key: p.id.clone(),
        device_id: extra.device_id,
        amount: p.amount,
        token: input.card_token.clone(),
        payment_method_id: extra.payment_method_id,
        installments: extra.installments.max(1),
        issuer_id: extra.issuer_id,
        payer: MpPayer::from_customer(
            &p.customer_name,
            &p.customer_email,
            p.customer_phone.as_deref(),
        ),
        external_reference: p.id.clone(),
        description: format!("Acceso Hotspot - {}", input.producto.nombre_venta),
        notification_url,
        statement_descriptor: Some("HOTSPOT WIFI".into()),
        binary_mode: state.config.purchase.mp_binary_mode,
        capture: true,
        metadata,
    };
    state
        .gateways
        .mercado_pago
        .create_payment(&input.credential, &req)
        .await
}

/// What the gateway answered for a new charge.
#[allow(clippy::too_many_arguments)]
async fn handle_outcome(
    state: &AppState,
    empresa: &empresa::Model,
    input: &PurchaseInput,
    p: purchase::Model,
    outcome: ChargeOutcome,
    key_id: Option<&str>,
    password: String,
) -> Ended {
    match outcome {
        ChargeOutcome::Paid { gateway_id, .. } => {
            let status = if p.gateway == GW_CONEKTA {
                "paid"
            } else {
                "approved"
            };
            let mut am = p.into_active_model();
            am.gateway_payment_id = Set(Some(gateway_id));
            am.gateway_status = Set(Some(status.into()));
            am.state = Set(st::CHARGED.into());
            let p = match store::save(&state.db, am).await {
                Ok(p) => p,
                Err(e) => return (db_reply(e), None),
            };
            let plan = Some(input.producto.nombre_venta.as_str());
            let (p, snap) = match confirm_and_enable(state, empresa, p, &input.credential).await {
                Ok(v) => v,
                Err((_, r)) => return (r, None),
            };
            // Auto-connect before completing, so that the answer is saved with `completed`.
            let auto = auto_connect(state, &p, &password, input.auto_connect).await;
            let body =
                response::success_body(&p, Some(&input.producto), &password, Some(&snap), auto);
            match complete(state, empresa, p, snap, key_id, plan, Some((200, &body))).await {
                Finish::Done(p, _) => (Reply::ok(body), Some(p)),
                Finish::Stopped(_, r) => (r, None),
            }
        }
        ChargeOutcome::Pending {
            gateway_id,
            status,
            message_es,
            ..
        } if p.gateway == GW_MERCADO_PAGO => {
            let mut am = p.into_active_model();
            am.gateway_payment_id = Set(Some(gateway_id.clone()));
            am.gateway_status = Set(Some(status));
            am.state = Set(st::PENDING.into());
            let p = match store::save(&state.db, am).await {
                Ok(p) => p,
                Err(e) => return (db_reply(e), None),
            };
            let snap = gw_get(state, &p.gateway, &input.credential, &gateway_id)
                .await
                .ok();
            tracing::info!(purchase_id = %p.id, detail = %message_es, "payment pending; the user stays disabled until approval");
            let body = response::success_body(
                &p,
                Some(&input.producto),
                &password,
                snap.as_ref(),
                if input.auto_connect {
                    response::auto_failed(p.mac_address.as_deref().unwrap_or(""), "", false)
                } else {
                    response::auto_not_requested()
                },
            );
            let body = with_pending_status(body);
            let id = p.id.clone();
            let p = store::best_effort(
                "save the pending answer",
                &id,
                store::finish_response(&state.db, p, 200, &body),
            )
            .await;
            (Reply::ok(body), p)
        }
        other => {
            // Declined, Authorized (never asked for) or a Conekta pending order: not paid.
            let (gid, status, message) = match &other {
                ChargeOutcome::Declined {
                    gateway_id,
                    code,
                    message_es,
                    ..
                } => (gateway_id.clone(), code.clone(), message_es.clone()),
                ChargeOutcome::Authorized { gateway_id, .. } => (
                    Some(gateway_id.clone()),
                    "pre_authorized".to_string(),
                    conekta_status_message("pre_authorized").to_string(),
                ),
                ChargeOutcome::Pending {
                    gateway_id,
                    status,
                    message_es,
                    ..
                } => (Some(gateway_id.clone()), status.clone(), message_es.clone()),
                ChargeOutcome::Paid { .. } => (None, String::new(), String::new()),
            };
            let mut am = p.into_active_model();
            am.gateway_payment_id = Set(gid);
            am.gateway_status = Set(Some(if matches!(other, ChargeOutcome::Declined { .. }) {
                "declined".to_string()
            } else {
                status.chars().take(32).collect()
            }));
            let p = match store::save(&state.db, am).await {
                Ok(p) => p,
                Err(e) => return (db_reply(e), None),
            };
            let reply = Reply::from(Problem::PaymentNotApproved {
                message: message.clone(),
            });
            let p = compensate(state, empresa, p).await;
            notify_rejected(state, empresa, &p, &input.producto.nombre_venta, &message);
            let id = p.id.clone();
            let p = store::best_effort(
                "save the refusal",
                &id,
                store::finish_response(&state.db, p, reply.status, &reply.body),
            )
            .await;
            (reply, p)
        }
    }
}

fn with_pending_status(mut body: Value) -> Value {
    if body["estado_pago"] == "in_process" {
        body["estado_pago"] = json!("pending");
    }
    body
}

/// Where [`finish_paid`] ended.
pub(crate) enum Finish {
    /// Confirmed, enabled, recorded: `completed`.
    Done(purchase::Model, PaymentSnapshot),
    /// Stopped before completion (left for the reconciler, or compensated), with the reply.
    Stopped(purchase::Model, Reply),
}

/// From `charged`/`confirmed`: confirm with an independent read, enable, record, complete.
pub(crate) async fn finish_paid(
    state: &AppState,
    empresa: &empresa::Model,
    p: purchase::Model,
    cred: &str,
    key_id: Option<&str>,
    plan: Option<&str>,
) -> Finish {
    match confirm_and_enable(state, empresa, p, cred).await {
        Ok((p, snap)) => complete(state, empresa, p, snap, key_id, plan, None).await,
        Err((p, r)) => Finish::Stopped(p, r),
    }
}

/// The first half of [`finish_paid`]: confirm with an independent read, then enable the user.
/// `Err` is where it stopped (left for the reconciler, or compensated), with the reply.
async fn confirm_and_enable(
    state: &AppState,
    empresa: &empresa::Model,
    p: purchase::Model,
    cred: &str,
) -> Result<(purchase::Model, PaymentSnapshot), (purchase::Model, Reply)> {
    let Some(gid) = p.gateway_payment_id.clone() else {
        let r = Reply::from(Problem::Internal);
        return Err((p, r));
    };
    // Confirm: a second, independent read.
    let snap = match gw_get(state, &p.gateway, cred, &gid).await {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(purchase_id = %p.id, error = %e, "could not confirm the charge");
            let p = store::retry_later(
                &state.db,
                p.clone(),
                &e.to_string(),
                state.config.purchase.retry_delay,
            )
            .await;
            return Err((p, Reply::from(Problem::PaymentConfirming)));
        }
    };
    let reference_ok = snap.our_reference.as_deref().is_none_or(|r| r == p.id);
    // Mercado Pago takes no currency (the account's is used), so only Conekta's is compared.
    let amount_ok = snap.amount == p.amount
        && (p.gateway != GW_CONEKTA
            || snap.currency.is_empty()
            || snap.currency.eq_ignore_ascii_case(&p.currency));
    match snap.status {
        PaymentStatus::Paid if reference_ok && amount_ok => {}
        PaymentStatus::Pending | PaymentStatus::Authorized if p.gateway == GW_MERCADO_PAGO => {
            let mut am = p.clone().into_active_model();
            am.gateway_status = Set(Some(snap.raw_status.clone()));
            am.state = Set(st::PENDING.into());
            let p = match store::save(&state.db, am).await {
                Ok(p) => p,
                Err(e) => return Err((p, db_reply(e))),
            };
            return Err((p, Reply::from(Problem::PaymentConfirming)));
        }
        _ => {
            tracing::warn!(purchase_id = %p.id, status = %snap.raw_status, reference_ok, amount_ok, "charge not confirmed; compensating");
            let message = if p.gateway == GW_CONEKTA {
                conekta_status_message(&snap.raw_status).to_string()
            } else {
                mp_status_detail_message(snap.status_detail.as_deref().unwrap_or("")).to_string()
            };
            let p = compensate(state, empresa, p).await;
            let reply = Reply::from(Problem::PaymentNotApproved { message });
            let p = store::best_effort(
                "save the answer",
                &p.id,
                store::save_response(&state.db, p.clone(), reply.status, &reply.body),
            )
            .await
            .unwrap_or(p);
            return Err((p, reply));
        }
    }
    // The confirmation is not written on its own: the next write is `completed`, and a crash in
    // between leaves `charged`, which the reconciler confirms again before enabling.
    // Enable.
    if let Err(e) = enable_user(state, &p).await {
        tracing::warn!(purchase_id = %p.id, error = %e, "paid but the user could not be enabled yet");
        let p = store::retry_later(
            &state.db,
            p.clone(),
            &format!("enable: {e}"),
            state.config.purchase.retry_delay,
        )
        .await;
        return Err((p, Reply::from(Problem::AccessActivating)));
    }
    Ok((p, snap))
}

/// The second half of [`finish_paid`]: record the transaction and complete. With `response`, the
/// saved answer is written (and the lease released) in the same statement as `completed`.
async fn complete(
    state: &AppState,
    empresa: &empresa::Model,
    p: purchase::Model,
    snap: PaymentSnapshot,
    key_id: Option<&str>,
    plan: Option<&str>,
    response: Option<(u16, &Value)>,
) -> Finish {
    match record(state, empresa, p.clone(), &snap, key_id, response).await {
        Ok(p) => {
            state
                .metrics
                .add_revenue(kind_of(&p.gateway), &p.currency, p.amount);
            notify_paid(state, empresa, &p, plan);
            tracing::info!(purchase_id = %p.id, "purchase completed");
            Finish::Done(p, snap)
        }
        Err(e) => {
            let p = store::retry_later(
                &state.db,
                p.clone(),
                &format!("record: {e}"),
                state.config.purchase.retry_delay,
            )
            .await;
            Finish::Stopped(p, Reply::from(Problem::AccessActivating))
        }
    }
}

/// Enables the purchase's user; an unknown outcome is checked with a lookup.
async fn enable_user(state: &AppState, p: &purchase::Model) -> Result<(), BrokerError> {
    let id = match &p.router_user_id {
        Some(id) => id.clone(),
        None => find_own_user(state, p)
            .await?
            .ok_or(BrokerError::Router(RouterError::NotFound("user".into())))?,
    };
    match state.routers.enable_user(&p.router_id, &id).await {
        Ok(()) => Ok(()),
        Err(BrokerError::OutcomeUnknown) => {
            let name = p.hotspot_username.clone().unwrap_or_default();
            match state.routers.find_user(&p.router_id, &name).await? {
                Some(u) if !u.disabled => Ok(()),
                _ => Err(BrokerError::OutcomeUnknown),
            }
        }
        Err(e) => Err(e),
    }
}

/// The `.id` of the purchase's user, found by name and checked by its comment.
async fn find_own_user(
    state: &AppState,
    p: &purchase::Model,
) -> Result<Option<String>, BrokerError> {
    let Some(name) = p.hotspot_username.as_deref() else {
        return Ok(None);
    };
    Ok(state
        .routers
        .find_user(&p.router_id, name)
        .await?
        .filter(|u| u.comment.as_deref() == Some(user_comment(&p.id).as_str()))
        .map(|u| u.id))
}

/// Inserts the `transacciones` row and moves the purchase to `completed`.
///
/// Two statements and no transaction: the insert is idempotent (`purchase_id` is unique, a
/// second insert does nothing), so a crash between them leaves the purchase `charged` with its
/// row already written, and the reconciler's next `finish_paid` only completes it.
async fn record(
    state: &AppState,
    _empresa: &empresa::Model,
    p: purchase::Model,
    snap: &PaymentSnapshot,
    key_id: Option<&str>,
    response: Option<(u16, &Value)>,
) -> Result<purchase::Model, sea_orm::DbErr> {
    let now = Utc::now();
    let installments = snap.raw.get("installments").cloned();
    let row = transaccion::ActiveModel {
        transaccion_id: Set(p.gateway_payment_id.clone()),
        external_reference: Set((p.gateway == GW_MERCADO_PAGO).then(|| p.id.clone())),
        empresa_id: Set(p.empresa_id.clone()),
        router_id: Set(p.router_id.clone()),
        producto_id: Set(Some(p.producto_id)),
        purchase_id: Set(Some(p.id.clone())),
        gateway: Set(Some(p.gateway.clone())),
        monto: Set(p.amount),
        moneda: Set(p.currency.clone()),
        cliente_nombre: Set(Some(p.customer_name.clone())),
        cliente_email: Set(Some(p.customer_email.clone())),
        cliente_telefono: Set(p.customer_phone.clone()),
        usuario_hotspot: Set(p.hotspot_username.clone()),
        password_hotspot: Set(p.hotspot_password.clone()),
        expiracion_hotspot: Set(None),
        estado_pago: Set(snap.raw_status.chars().take(20).collect()),
        estado_hotspot: Set("active".into()),
        notification_id: Set(None),
        webhook_processed: Set(false),
        metadata_json: Set(json!({
            "gateway": p.gateway,
            "purchase_id": p.id,
            "status_detail": snap.status_detail,
            "installments": installments,
        })),
        api_key_usada: Set(key_id.map(str::to_string)),
        creada_en: Set(p.created_at),
        pagada_en: Set(Some(now)),
        usuario_creado_en: Set(Some(p.created_at)),
        webhook_received_at: Set(None),
        ..Default::default()
    };
    transaccion::Entity::insert(row)
        .on_conflict(
            OnConflict::column(transaccion::Column::PurchaseId)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(&state.db)
        .await?;
    let mut am = p.into_active_model();
    am.state = Set(st::COMPLETED.into());
    am.gateway_status = Set(Some(snap.raw_status.chars().take(32).collect()));
    am.last_error = Set(None);
    am.next_attempt_at = Set(None);
    if let Some((status, body)) = response {
        store::set_response(&mut am, status, body);
        am.locked_until = Set(None);
    }
    store::save(&state.db, am).await
}

/// The completed purchase's 200 body (used by the reconciler and webhooks, without auto-connect).
pub(crate) async fn completed_body(
    state: &AppState,
    p: &purchase::Model,
    snap: &PaymentSnapshot,
) -> Value {
    let producto = producto::Entity::find_by_id(p.producto_id)
        .one(&state.db)
        .await
        .ok()
        .flatten();
    response::success_body(
        p,
        producto.as_ref(),
        "",
        Some(snap),
        response::auto_not_requested(),
    )
}

// ------------------------------------------------------------------------------------------
// compensation

/// Undoes a purchase: returns money that moved (refund, or cancel of an authorization), then
/// removes the hotspot user. Ends in `refunded`, `declined` or `failed`; stays `compensating`
/// (for the reconciler) when a step fails.
pub(crate) async fn compensate(
    state: &AppState,
    empresa: &empresa::Model,
    p: purchase::Model,
) -> purchase::Model {
    let mut p = store::best_effort(
        "move the state",
        &p.id,
        store::set_state(&state.db, p.clone(), st::COMPENSATING),
    )
    .await
    .unwrap_or(p);
    let mut refunded = p.gateway_status.as_deref() == Some("refunded");
    if let Some(gid) = p.gateway_payment_id.clone() {
        let Some(cred) = gateway_credential(state, empresa, &p.gateway) else {
            return store::retry_later(
                &state.db,
                p.clone(),
                "no gateway credential",
                state.config.purchase.retry_delay,
            )
            .await;
        };
        let snap = match gw_get(state, &p.gateway, &cred, &gid).await {
            Ok(s) => s,
            Err(e) => {
                return store::retry_later(
                    &state.db,
                    p.clone(),
                    &format!("compensate: {e}"),
                    state.config.purchase.retry_delay,
                )
                .await
            }
        };
        let result = match snap.status {
            PaymentStatus::Paid | PaymentStatus::PartiallyRefunded => {
                let left = snap.amount - snap.amount_refunded;
                Some(
                    gw_refund(
                        state,
                        &p.gateway,
                        &cred,
                        &gid,
                        left,
                        &format!("refund-{}", p.id),
                    )
                    .await,
                )
            }
            PaymentStatus::Authorized | PaymentStatus::Pending => {
                Some(gw_cancel(state, &p.gateway, &cred, &gid).await)
            }
            _ => None,
        };
        let status = match result {
            None => snap.raw_status.clone(),
            Some(Ok(s)) => s.raw_status.clone(),
            Some(Err(e)) => {
                tracing::warn!(purchase_id = %p.id, error = %e, "refund/cancel failed");
                return store::retry_later(
                    &state.db,
                    p.clone(),
                    &format!("refund: {e}"),
                    state.config.purchase.retry_delay,
                )
                .await;
            }
        };
        if matches!(
            snap.status,
            PaymentStatus::Paid | PaymentStatus::PartiallyRefunded
        ) || status == "refunded"
        {
            refunded = true;
        }
        let mut am = p.clone().into_active_model();
        am.gateway_status = Set(Some(if refunded {
            "refunded".to_string()
        } else {
            status.chars().take(32).collect()
        }));
        p = store::best_effort("save", &p.id, store::save(&state.db, am))
            .await
            .unwrap_or(p);
    }
    // Remove the user.
    if let Err(e) = remove_user(state, &p).await {
        tracing::warn!(purchase_id = %p.id, error = %e, "could not remove the hotspot user yet");
        return store::retry_later(
            &state.db,
            p.clone(),
            &format!("remove user: {e}"),
            state.config.purchase.retry_delay,
        )
        .await;
    }
    let final_state = if refunded {
        st::REFUNDED
    } else if matches!(
        p.gateway_status.as_deref(),
        Some(
            "declined"
                | "rejected"
                | "cancelled"
                | "canceled"
                | "voided"
                | "expired"
                | "pre_authorized"
                | "pending_payment"
        )
    ) {
        st::DECLINED
    } else {
        st::FAILED
    };
    let mut am = p.clone().into_active_model();
    am.state = Set(final_state.into());
    am.router_user_id = Set(None);
    am.next_attempt_at = Set(None);
    let p = store::best_effort("save", &p.id, store::save(&state.db, am))
        .await
        .unwrap_or(p);
    // A portal retry of a purchase finished in the background learns how it ended.
    let saved = match (final_state, p.response_status) {
        (st::REFUNDED, None) => Some(Problem::RefundedNoAccess),
        (st::DECLINED, None) => Some(Problem::PaymentNotApproved {
            message: conekta_status_message("other").to_string(),
        }),
        _ => None,
    };
    match saved {
        Some(problem) => {
            let r = Reply::from(problem);
            store::best_effort(
                "save the answer",
                &p.id,
                store::save_response(&state.db, p.clone(), r.status, &r.body),
            )
            .await
            .unwrap_or(p)
        }
        None => p,
    }
}

async fn remove_user(state: &AppState, p: &purchase::Model) -> Result<(), BrokerError> {
    let id = match &p.router_user_id {
        Some(id) => Some(id.clone()),
        None => find_own_user(state, p).await?,
    };
    let Some(id) = id else { return Ok(()) };
    let r = state.routers.remove_user(&p.router_id, &id).await;
    state
        .metrics
        .record_compensation(CompensationKind::RemoveUser, r.is_ok());
    match r {
        Ok(()) | Err(BrokerError::Router(RouterError::NotFound(_))) => Ok(()),
        Err(BrokerError::OutcomeUnknown) => match find_own_user(state, p).await? {
            None => Ok(()),
            Some(_) => Err(BrokerError::OutcomeUnknown),
        },
        Err(e) => Err(e),
    }
}

/// Disables the user of a completed purchase whose payment was refunded or charged back.
pub(crate) async fn revoke(state: &AppState, p: purchase::Model) -> purchase::Model {
    let p = store::best_effort(
        "move the state",
        &p.id,
        store::set_state(&state.db, p.clone(), st::REVOKING),
    )
    .await
    .unwrap_or(p);
    let id = match &p.router_user_id {
        Some(id) => Ok(Some(id.clone())),
        None => find_own_user(state, &p).await,
    };
    let res = match id {
        Ok(Some(id)) => match state
            .routers
            .disable_user(&p.router_id, &id)
            .await
            .inspect(|_| {
                state
                    .metrics
                    .record_compensation(CompensationKind::DisableUser, true)
            }) {
            Err(BrokerError::Router(RouterError::NotFound(_))) => Ok(()),
            Err(BrokerError::OutcomeUnknown) => {
                let name = p.hotspot_username.clone().unwrap_or_default();
                match state.routers.find_user(&p.router_id, &name).await {
                    Ok(Some(u)) if !u.disabled => Err(BrokerError::OutcomeUnknown),
                    Ok(_) => Ok(()),
                    Err(e) => Err(e),
                }
            }
            other => other,
        },
        Ok(None) => Ok(()),
        Err(e) => Err(e),
    };
    if let Err(e) = res {
        return store::retry_later(
            &state.db,
            p.clone(),
            &format!("disable user: {e}"),
            state.config.purchase.retry_delay,
        )
        .await;
    }
    store::best_effort(
        "mark the transaction revoked",
        &p.id,
        transaccion::Entity::update_many()
            .col_expr(
                transaccion::Column::EstadoHotspot,
                sea_orm::sea_query::Expr::value("revoked"),
            )
            .filter(ColumnTrait::eq(
                &transaccion::Column::PurchaseId,
                p.id.clone(),
            ))
            .exec(&state.db),
    )
    .await;
    tracing::info!(purchase_id = %p.id, "access revoked after a refund or chargeback");
    store::best_effort(
        "move the state",
        &p.id,
        store::set_state(&state.db, p.clone(), st::REVOKED),
    )
    .await
    .unwrap_or(p)
}

// ------------------------------------------------------------------------------------------
// auto-connect

/// Logs the device in (`/ip/hotspot/active/login` API words, never a script); the result is the
/// `auto_conexion` object of the payment response.
async fn auto_connect(
    state: &AppState,
    p: &purchase::Model,
    password: &str,
    requested: bool,
) -> Value {
    if !requested {
        return response::auto_not_requested();
    }
    let Some(mac) = p.mac_address.clone() else {
        return response::auto_no_mac();
    };
    let canonical_mac = super::parse_mac(&mac).unwrap_or_else(|| mac.clone());
    // Without the portal's `$(ip)`, ask the hotspot which address it sees for this MAC.
    let ip = match p.ip_address.clone() {
        Some(ip) => ip,
        None => match state.routers.find_host(&p.router_id, &canonical_mac).await {
            Ok(Some(host)) => match host.to_address.or(host.address) {
                Some(ip) if ip.parse::<std::net::IpAddr>().is_ok() => ip,
                _ => return response::auto_failed(&mac, "", false),
            },
            Ok(None) => return response::auto_failed(&mac, "", false),
            Err(e) => {
                tracing::info!(purchase_id = %p.id, error = %e, "host lookup for auto-connect failed");
                return response::auto_failed(&mac, "", false);
            }
        },
    };
    let login = ActiveLogin {
        user: p.hotspot_username.clone().unwrap_or_default(),
        password: password.to_string(),
        ip: ip.clone(),
        mac_address: Some(canonical_mac),
    };
    match state.routers.active_login(&p.router_id, login).await {
        Ok(()) => response::auto_connected(&mac, &ip),
        Err(BrokerError::OutcomeUnknown) => response::auto_failed(&mac, &ip, true),
        Err(e) => {
            tracing::info!(purchase_id = %p.id, error = %e, "auto-connect failed");
            response::auto_failed(&mac, &ip, false)
        }
    }
}

// ------------------------------------------------------------------------------------------
// Telegram

fn purchase_info(empresa: &empresa::Model, p: &purchase::Model, plan: &str) -> PurchaseInfo {
    PurchaseInfo {
        empresa: empresa.nombre.clone(),
        plan: plan.to_string(),
        amount: p.amount,
        currency: p.currency.clone(),
        customer: p.customer_name.clone(),
        transaction_id: p.gateway_payment_id.clone().unwrap_or_else(|| p.id.clone()),
        gateway: if p.gateway == GW_CONEKTA {
            "Conekta".into()
        } else {
            "Mercado Pago".into()
        },
    }
}

fn send(state: &AppState, empresa: &empresa::Model, text: String) {
    if !empresa.notificaciones_telegram {
        return;
    }
    let (Some(token), Some(chat)) = (
        empresa.telegram_bot_token.as_deref(),
        empresa.telegram_chat_id.as_deref(),
    ) else {
        return;
    };
    let Ok(token) = state.secrets.decrypt(field::TELEGRAM_BOT_TOKEN, token) else {
        tracing::warn!(empresa_id = %empresa.id, "cannot decrypt the Telegram bot token");
        return;
    };
    state.notifier.notify(Notification {
        bot_token: token.to_string(),
        chat_id: chat.to_string(),
        text,
    });
}

fn notify_paid(
    state: &AppState,
    empresa: &empresa::Model,
    p: &purchase::Model,
    plan: Option<&str>,
) {
    if !empresa.notificaciones_telegram {
        return;
    }
    let access = if p.user_type == "pin" {
        HotspotAccess::Pin
    } else {
        HotspotAccess::UserPassword {
            username: p.hotspot_username.clone().unwrap_or_default(),
        }
    };
    // The plan name, when the caller does not have it, is looked up only when notifications
    // are on.
    let state_db = state.db.clone();
    let info_base = (empresa.clone(), p.clone(), plan.map(str::to_string));
    let notifier_state = (state.secrets.clone(), state.notifier.clone());
    tokio::spawn(async move {
        let (empresa, p, known_plan) = info_base;
        let plan = match known_plan {
            Some(name) => name,
            None => producto::Entity::find_by_id(p.producto_id)
                .one(&state_db)
                .await
                .ok()
                .flatten()
                .map(|x| x.nombre_venta)
                .unwrap_or_default(),
        };
        let text = paid_message(&purchase_info(&empresa, &p, &plan), &access);
        let (secrets, notifier) = notifier_state;
        let (Some(token), Some(chat)) = (
            empresa.telegram_bot_token.as_deref(),
            empresa.telegram_chat_id.as_deref(),
        ) else {
            return;
        };
        if let Ok(token) = secrets.decrypt(field::TELEGRAM_BOT_TOKEN, token) {
            notifier.notify(Notification {
                bot_token: token.to_string(),
                chat_id: chat.to_string(),
                text,
            });
        }
    });
}

fn notify_rejected(
    state: &AppState,
    empresa: &empresa::Model,
    p: &purchase::Model,
    plan: &str,
    motivo: &str,
) {
    if empresa.notificaciones_telegram {
        send(
            state,
            empresa,
            rejected_message(&purchase_info(empresa, p, plan), motivo),
        );
    }
}

// ------------------------------------------------------------------------------------------
// gateway updates (webhooks, polling)

/// What a gateway update did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpdateOutcome {
    /// No purchase of this company carries that payment.
    UnknownPayment,
    /// Nothing to do in the purchase's state.
    NoChange,
    /// The purchase stayed leased by someone else (a saga, the reconciler, another
    /// notification) for `webhook_lease_wait`: not applied; a webhook is answered 503 so the
    /// gateway sends it again.
    Busy,
    Completed,
    Declined,
    Revoked,
}

/// Takes the purchase's lease, polling until `wait` has passed; `false` if it stayed taken.
async fn claim_within(state: &AppState, id: &str, wait: Duration) -> Result<bool, sea_orm::DbErr> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        if store::claim(
            &state.db,
            id,
            Utc::now(),
            state.config.purchase.reconcile_lease,
        )
        .await?
        {
            return Ok(true);
        }
        if tokio::time::Instant::now() >= deadline {
            return Ok(false);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Re-reads a payment from the gateway and drives its purchase: an approval completes a pending
/// purchase; a refund or chargeback revokes a completed one.
pub async fn on_gateway_update(
    state: &AppState,
    empresa: &empresa::Model,
    gateway: &str,
    payment_id: &str,
) -> Result<UpdateOutcome, ApiError> {
    let Some(cred) = gateway_credential(state, empresa, gateway) else {
        return Ok(UpdateOutcome::UnknownPayment);
    };
    let snap = match gw_get(state, gateway, &cred, payment_id).await {
        Ok(s) => s,
        Err(GatewayError::NotFound { .. }) => return Ok(UpdateOutcome::UnknownPayment),
        Err(e) => return Err(Problem::GatewayUpdateUnavailable(e).into()),
    };
    let mut p =
        store::by_gateway_payment(&state.db, &empresa.id, gateway, &snap.gateway_id).await?;
    if p.is_none() {
        if let Some(r) = snap.our_reference.as_deref() {
            p = store::find(&state.db, r)
                .await?
                .filter(|p| p.empresa_id == empresa.id && p.gateway == gateway);
        }
    }
    let Some(p) = p else {
        return Ok(UpdateOutcome::UnknownPayment);
    };
    let span = tracing::Span::current();
    span.record("purchase_id", p.id.as_str());
    span.record("router_id", p.router_id.as_str());
    let now = Utc::now();
    let lease = state.config.purchase.reconcile_lease;
    let snap = if store::claim(&state.db, &p.id, now, lease).await? {
        snap
    } else {
        // A saga, the reconciler or another notification holds the purchase: wait (bounded)
        // for it, then read the payment again — what the holder did may already cover it, or
        // the payment may have changed since (a refund right after the purchase).
        if !claim_within(state, &p.id, state.config.purchase.webhook_lease_wait).await? {
            return Ok(UpdateOutcome::Busy);
        }
        match gw_get(state, gateway, &cred, payment_id).await {
            Ok(s) => s,
            Err(e) => {
                store::unlock(&state.db, &p.id).await?;
                return Err(Problem::GatewayUpdateUnavailable(e).into());
            }
        }
    };
    let p = store::find(&state.db, &p.id).await?.unwrap_or(p);
    let id = p.id.clone();
    let out = apply_update(state, empresa, p, &snap, &cred).await;
    store::unlock(&state.db, &id).await?;
    // Keep the payment history in step with the gateway.
    transaccion::Entity::update_many()
        .col_expr(
            transaccion::Column::EstadoPago,
            sea_orm::sea_query::Expr::value(snap.raw_status.chars().take(20).collect::<String>()),
        )
        .col_expr(
            transaccion::Column::WebhookProcessed,
            sea_orm::sea_query::Expr::value(true),
        )
        .col_expr(
            transaccion::Column::WebhookReceivedAt,
            sea_orm::sea_query::Expr::value(Some(now)),
        )
        .filter(ColumnTrait::eq(&transaccion::Column::PurchaseId, id))
        .exec(&state.db)
        .await?;
    Ok(out)
}

async fn apply_update(
    state: &AppState,
    empresa: &empresa::Model,
    p: purchase::Model,
    snap: &PaymentSnapshot,
    cred: &str,
) -> UpdateOutcome {
    match (p.state.as_str(), &snap.status) {
        (st::PENDING | st::CHARGING | st::CHARGED | st::CONFIRMED, PaymentStatus::Paid) => {
            let id = p.id.clone();
            let mut am = p.into_active_model();
            am.gateway_payment_id = Set(Some(snap.gateway_id.clone()));
            let Some(p) =
                store::best_effort("save the payment id", &id, store::save(&state.db, am)).await
            else {
                return UpdateOutcome::NoChange;
            };
            match finish_paid(state, empresa, p, cred, None, None).await {
                Finish::Done(p, snap) => {
                    let body = completed_body(state, &p, &snap).await;
                    let id = p.id.clone();
                    store::best_effort(
                        "save the answer",
                        &id,
                        store::save_response(&state.db, p, 200, &body),
                    )
                    .await;
                    UpdateOutcome::Completed
                }
                Finish::Stopped(..) => UpdateOutcome::NoChange,
            }
        }
        (st::PENDING | st::CHARGING, PaymentStatus::Declined | PaymentStatus::Cancelled) => {
            let id = p.id.clone();
            let mut am = p.into_active_model();
            am.gateway_payment_id = Set(Some(snap.gateway_id.clone()));
            am.gateway_status = Set(Some(snap.raw_status.chars().take(32).collect()));
            let Some(p) =
                store::best_effort("save the gateway status", &id, store::save(&state.db, am))
                    .await
            else {
                return UpdateOutcome::NoChange;
            };
            compensate(state, empresa, p).await;
            UpdateOutcome::Declined
        }
        (
            st::COMPLETED | st::REVOKING,
            PaymentStatus::Refunded | PaymentStatus::ChargedBack | PaymentStatus::Cancelled,
        ) => {
            let id = p.id.clone();
            let mut am = p.into_active_model();
            am.gateway_status = Set(Some(snap.raw_status.chars().take(32).collect()));
            let Some(p) =
                store::best_effort("save the gateway status", &id, store::save(&state.db, am))
                    .await
            else {
                return UpdateOutcome::NoChange;
            };
            let p = revoke(state, p).await;
            if p.state == st::REVOKED {
                UpdateOutcome::Revoked
            } else {
                UpdateOutcome::NoChange
            }
        }
        _ => UpdateOutcome::NoChange,
    }
}
