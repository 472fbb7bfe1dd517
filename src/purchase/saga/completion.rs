//! A paid purchase: confirm, enable the user, record the sale, auto-connect.

use chrono::Utc;
use sea_orm::{IntoActiveModel, Set};
use serde_json::Value;

use entity::{empresa, purchase};

use crate::db::transacciones::{self, PaidPurchase};
use crate::error::Problem;
use crate::gateways::messages::{conekta_status_message, mp_status_detail_message};
use crate::gateways::{PaymentSnapshot, PaymentStatus};
use crate::routeros::commands::ActiveLogin;
use crate::routeros::BrokerError;
use crate::routeros::RouterError;
use crate::state::AppState;

use super::compensation::compensate;
use super::db_reply;
use super::gateway::gw_get;
use super::notify::notify_paid;
use crate::db::purchases;
use crate::purchase::response::{self, Reply};
use crate::purchase::user_comment;
use crate::purchase::GatewayKind;
use crate::purchase::SagaState;

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
pub(super) async fn confirm_and_enable(
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
    let snap = match gw_get(state, p.gateway, cred, &gid).await {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(purchase_id = %p.id, error = %e, "could not confirm the charge");
            let p = purchases::retry_later(
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
    // Amount and currency both: Mercado Pago charges in the account's currency whatever the
    // product's, and always reports it; a Conekta read without a currency is taken as the order's.
    let amount_ok = snap.amount == p.amount
        && (snap.currency.eq_ignore_ascii_case(&p.currency)
            || (p.gateway == GatewayKind::Conekta && snap.currency.is_empty()));
    match snap.status {
        PaymentStatus::Paid if reference_ok && amount_ok => {}
        PaymentStatus::Pending | PaymentStatus::Authorized
            if p.gateway == GatewayKind::MercadoPago =>
        {
            let mut am = p.clone().into_active_model();
            am.gateway_status = Set(Some(snap.raw_status.clone()));
            am.state = Set(SagaState::Pending);
            let p = match purchases::save(&state.db, am).await {
                Ok(p) => p,
                Err(e) => return Err((p, db_reply(e))),
            };
            return Err((p, Reply::from(Problem::PaymentConfirming)));
        }
        _ => {
            tracing::warn!(purchase_id = %p.id, status = %snap.raw_status, reference_ok, amount_ok, "charge not confirmed; compensating");
            let message = if p.gateway == GatewayKind::Conekta {
                conekta_status_message(&snap.raw_status).to_string()
            } else {
                mp_status_detail_message(snap.status_detail.as_deref().unwrap_or("")).to_string()
            };
            let p = compensate(state, empresa, p).await;
            let reply = Reply::from(Problem::PaymentNotApproved { message });
            let p = purchases::best_effort(
                "save the answer",
                &p.id,
                purchases::save_response(&state.db, p.clone(), reply.status, &reply.body),
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
        let p = purchases::retry_later(
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
pub(super) async fn complete(
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
            state.metrics.add_revenue(p.gateway, &p.currency, p.amount);
            notify_paid(state, empresa, &p, plan);
            tracing::info!(purchase_id = %p.id, "purchase completed");
            Finish::Done(p, snap)
        }
        Err(e) => {
            let p = purchases::retry_later(
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

/// Enables the purchase's user; an unknown outcome is checked with a lookup. The user is the one
/// of its name and its `purchase:<id>` comment, never found by a stored `.id` alone: a router
/// that lost its state reuses `.id`s, and another customer's user must never be touched. (The
/// broker enables by `.id` only on the session that created the user, which cannot outlive such
/// a loss; elsewhere it looks the user up first.)
pub(super) async fn enable_user(state: &AppState, p: &purchase::Model) -> Result<(), BrokerError> {
    let Some(name) = p.hotspot_username.as_deref() else {
        return Err(BrokerError::Router(RouterError::NotFound("user".into())));
    };
    let comment = user_comment(&p.id);
    match state
        .routers
        .enable_own_user(&p.router_id, name, &comment)
        .await
    {
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

/// Inserts the `transacciones` row and moves the purchase to `completed`.
///
/// Two statements and no transaction: the insert is idempotent (`purchase_id` is unique, a
/// second insert does nothing), so a crash between them leaves the purchase `charged` with its
/// row already written, and the reconciler's next `finish_paid` only completes it.
pub(super) async fn record(
    state: &AppState,
    _empresa: &empresa::Model,
    p: purchase::Model,
    snap: &PaymentSnapshot,
    key_id: Option<&str>,
    response: Option<(u16, &Value)>,
) -> Result<purchase::Model, sea_orm::DbErr> {
    let paid = PaidPurchase {
        purchase: &p,
        raw_status: &snap.raw_status,
        status_detail: snap.status_detail.as_deref(),
        installments: snap.raw.get("installments"),
        key_id,
        paid_at: Utc::now(),
    };
    transacciones::insert_once(&state.db, paid).await?;
    let mut am = p.into_active_model();
    am.state = Set(SagaState::Completed);
    am.gateway_status = Set(Some(snap.raw_status.chars().take(32).collect()));
    am.last_error = Set(None);
    am.next_attempt_at = Set(None);
    if let Some((status, body)) = response {
        purchases::set_response(&mut am, status, body);
        am.locked_until = Set(None);
    }
    purchases::save(&state.db, am).await
}

/// The completed purchase's 200 body (used by the reconciler and webhooks, without auto-connect).
pub(crate) async fn completed_body(
    state: &AppState,
    p: &purchase::Model,
    snap: &PaymentSnapshot,
) -> Value {
    let producto = crate::db::productos::find(&state.db, p.producto_id)
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

/// Logs the device in (`/ip/hotspot/active/login` API words, never a script); the result is the
/// `auto_conexion` object of the payment response.
pub(super) async fn auto_connect(
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
    let canonical_mac = crate::purchase::parse_mac(&mac).unwrap_or_else(|| mac.clone());
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
