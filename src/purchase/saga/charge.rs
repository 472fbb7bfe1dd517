//! The charge and what its outcome leads to.

use std::collections::BTreeMap;

use sea_orm::{IntoActiveModel, Set};
use serde_json::{json, Value};

use entity::{empresa, purchase};

use crate::auth::portal_key::PortalKey;
use crate::error::Problem;
use crate::gateways::messages::conekta_status_message;
use crate::gateways::{
    ChargeOutcome, ConektaOrderRequest, GatewayError, MpPayer, MpPaymentRequest,
};
use crate::state::AppState;

use super::compensation::compensate;
use super::completion::{auto_connect, complete, confirm_and_enable, Finish};
use super::gateway::gw_get;
use super::notify::notify_rejected;
use super::{db_reply, Ended, MpExtra, PurchaseInput};
use crate::db::purchases;
use crate::purchase::response::{self, Reply};
use crate::purchase::GatewayKind;
use crate::purchase::SagaState;

pub(super) async fn charge(
    state: &AppState,
    key: &PortalKey,
    input: &PurchaseInput,
    p: &purchase::Model,
) -> Result<ChargeOutcome, GatewayError> {
    if p.gateway == GatewayKind::Conekta {
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

pub(super) async fn charge_mp(
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
        .map(|b| crate::gateways::mercado_pago::notification_url(b, &p.empresa_id));
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
pub(super) async fn handle_outcome(
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
            on_paid(state, empresa, input, p, gateway_id, key_id, &password).await
        }
        ChargeOutcome::Pending {
            gateway_id,
            status,
            message_es,
            ..
        } if p.gateway == GatewayKind::MercadoPago => {
            let pending = MpPending {
                gateway_id,
                status,
                message_es,
            };
            on_mp_pending(state, input, p, pending, &password).await
        }
        other => on_not_paid(state, empresa, input, p, other).await,
    }
}

/// Paid: confirm, enable the user, auto-connect, complete.
async fn on_paid(
    state: &AppState,
    empresa: &empresa::Model,
    input: &PurchaseInput,
    p: purchase::Model,
    gateway_id: String,
    key_id: Option<&str>,
    password: &str,
) -> Ended {
    let status = if p.gateway == GatewayKind::Conekta {
        "paid"
    } else {
        "approved"
    };
    let mut am = p.into_active_model();
    am.gateway_payment_id = Set(Some(gateway_id));
    am.gateway_status = Set(Some(status.into()));
    am.state = Set(SagaState::Charged);
    let p = match purchases::save(&state.db, am).await {
        Ok(p) => p,
        Err(e) => return (db_reply(e), None),
    };
    let plan = Some(input.producto.nombre_venta.as_str());
    let (p, snap) = match confirm_and_enable(state, empresa, p, &input.credential).await {
        Ok(v) => v,
        Err((_, r)) => return (r, None),
    };
    // Auto-connect before completing, so that the answer is saved with `completed`.
    let auto = auto_connect(state, &p, password, input.auto_connect).await;
    let body = response::success_body(&p, Some(&input.producto), password, Some(&snap), auto);
    match complete(state, empresa, p, snap, key_id, plan, Some((200, &body))).await {
        Finish::Done(p, _) => (Reply::ok(body), Some(p)),
        Finish::Stopped(_, r) => (r, None),
    }
}

/// A Mercado Pago payment still pending: what the gateway said.
struct MpPending {
    gateway_id: String,
    status: String,
    message_es: String,
}

/// Mercado Pago pending: the user stays disabled until the approval arrives.
async fn on_mp_pending(
    state: &AppState,
    input: &PurchaseInput,
    p: purchase::Model,
    pending: MpPending,
    password: &str,
) -> Ended {
    let MpPending {
        gateway_id,
        status,
        message_es,
    } = pending;
    let mut am = p.into_active_model();
    am.gateway_payment_id = Set(Some(gateway_id.clone()));
    am.gateway_status = Set(Some(status));
    am.state = Set(SagaState::Pending);
    let p = match purchases::save(&state.db, am).await {
        Ok(p) => p,
        Err(e) => return (db_reply(e), None),
    };
    let snap = gw_get(state, p.gateway, &input.credential, &gateway_id)
        .await
        .ok();
    tracing::info!(purchase_id = %p.id, detail = %message_es, "payment pending; the user stays disabled until approval");
    let body = response::success_body(
        &p,
        Some(&input.producto),
        password,
        snap.as_ref(),
        if input.auto_connect {
            response::auto_failed(p.mac_address.as_deref().unwrap_or(""), "", false)
        } else {
            response::auto_not_requested()
        },
    );
    let body = with_pending_status(body);
    let id = p.id.clone();
    let p = purchases::best_effort(
        "save the pending answer",
        &id,
        purchases::finish_response(&state.db, p, 200, &body),
    )
    .await;
    (Reply::ok(body), p)
}

/// Declined, Authorized (never asked for) or a Conekta pending order: not paid, compensated.
async fn on_not_paid(
    state: &AppState,
    empresa: &empresa::Model,
    input: &PurchaseInput,
    p: purchase::Model,
    other: ChargeOutcome,
) -> Ended {
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
    if let (ChargeOutcome::Declined { raw, .. }, Some(a)) = (&other, &input.attempt) {
        // The card, where the gateway describes it: Mercado Pago's payment has its `card`.
        let card = (p.gateway == GatewayKind::MercadoPago)
            .then(|| crate::gateways::mercado_pago::card_fingerprint(&raw["card"]))
            .flatten();
        state.limits.record_decline(a, card.as_deref());
    }
    let mut am = p.into_active_model();
    am.gateway_payment_id = Set(gid);
    am.gateway_status = Set(Some(if matches!(other, ChargeOutcome::Declined { .. }) {
        "declined".to_string()
    } else {
        status.chars().take(32).collect()
    }));
    let p = match purchases::save(&state.db, am).await {
        Ok(p) => p,
        Err(e) => return (db_reply(e), None),
    };
    let reply = Reply::from(Problem::PaymentNotApproved {
        message: message.clone(),
    });
    let p = compensate(state, empresa, p).await;
    notify_rejected(state, empresa, &p, &input.producto.nombre_venta, &message);
    let id = p.id.clone();
    let p = purchases::best_effort(
        "save the refusal",
        &id,
        purchases::finish_response(&state.db, p, reply.status, &reply.body),
    )
    .await;
    (reply, p)
}

pub(super) fn with_pending_status(mut body: Value) -> Value {
    if body["estado_pago"] == "in_process" {
        body["estado_pago"] = json!("pending");
    }
    body
}
