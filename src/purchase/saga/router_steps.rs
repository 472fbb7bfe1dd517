//! The steps of a new purchase up to the charge: the user on the router.

use sea_orm::{IntoActiveModel, Set};

use entity::{producto, purchase};

use crate::auth::portal_key::PortalKey;
use crate::crypto::field;
use crate::error::Problem;
use crate::gateways::{ChargeOutcome, GatewayError};
use crate::metrics::{GatewayOperation, PaymentOutcome};
use crate::routeros::commands::NewHotspotUser;
use crate::routeros::BrokerError;
use crate::routeros::RouterError;
use crate::state::AppState;

use super::charge::{charge, charge_mp, handle_outcome};
use super::compensation::compensate;
use super::gateway::gw_find;
use super::{db_reply, reply_from_api, Ended, PurchaseInput, NAME_ATTEMPTS};
use crate::db::purchases;
use crate::purchase::credentials::{self};
use crate::purchase::response::Reply;
use crate::purchase::SagaState;
use crate::purchase::{user_comment, GatewayKind};

pub(super) async fn drive_new(
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
    am.state = Set(SagaState::Charging);
    am.gateway_reference = Set(Some(am.id.as_ref().clone()));
    let p = match purchases::save(&state.db, am).await {
        Ok(p) => p,
        Err(e) => return (db_reply(e), None),
    };
    let charged = state
        .metrics
        .time_gateway(
            p.gateway,
            GatewayOperation::Charge,
            charge(state, key, input, &p),
        )
        .await;
    state
        .metrics
        .record_payment(p.gateway, PaymentOutcome::of_charge(&charged));
    let outcome = match charged {
        Ok(o) => o,
        Err(e) if e.outcome_unknown() => {
            tracing::warn!(purchase_id = %p.id, error = %e, "charge outcome unknown; looking it up by our reference");
            match resolve_unknown_charge(state, input, &p).await {
                Some(o) => o,
                None => {
                    // Left in `charging`: the reconciler asks the gateway again later.
                    purchases::retry_later(
                        &state.db,
                        p,
                        &e.to_string(),
                        state.config.purchase.retry_delay,
                    )
                    .await;
                    // The portal is told the payment is being confirmed (503 + Retry-After):
                    // a retry with the same key gets the final answer, never a second charge.
                    return (Reply::from(Problem::ChargeOutcomeUnknown), None);
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
                purchases::best_effort(
                    "save the refusal",
                    &id,
                    purchases::save_response(&state.db, p, reply.status, &reply.body),
                )
                .await;
            } else {
                purchases::free_key(&state.db, &p).await;
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

pub(super) async fn resolve_unknown_charge(
    state: &AppState,
    input: &PurchaseInput,
    p: &purchase::Model,
) -> Option<ChargeOutcome> {
    match gw_find(state, p.gateway, &input.credential, &p.id).await {
        Ok(Some(snap)) => return Some(snap.into_outcome()),
        Ok(None) => {}
        Err(e) => {
            tracing::warn!(purchase_id = %p.id, error = %e, "lookup by reference failed");
            return None;
        }
    }
    if p.gateway == GatewayKind::MercadoPago {
        // Same X-Idempotency-Key: Mercado Pago answers with the payment it already made, if any.
        if let Ok(o) = charge_mp(state, input, p).await {
            return Some(o);
        }
    }
    None
}

pub(super) async fn create_user(
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
            p = purchases::save(&state.db, am).await.map_err(db_reply)?;
        }
        let name = p.hotspot_username.clone().unwrap_or_default();
        let (limit_uptime, limit_bytes_total) = crate::purchase::lifecycle::router_limits(&p);
        let user = NewHotspotUser {
            name: name.clone(),
            limit_uptime,
            limit_bytes_total,
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
                        purchases::free_key(&state.db, &p).await;
                        purchases::retry_later(
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
                let reply = create_user_error(&p.router_id, &input.producto, e);
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
pub(super) async fn fail_before_charge(state: &AppState, p: purchase::Model) {
    purchases::free_key(&state.db, &p).await;
    let id = p.id.clone();
    purchases::best_effort(
        "mark failed",
        &id,
        purchases::set_state(&state.db, p, SagaState::Failed),
    )
    .await;
}

/// The answer for a failed user creation. A profile the router does not have (the product's
/// profile was removed or renamed on the router) is a clear catalogue answer that names nothing
/// of the router's; nothing was created and nothing charged.
pub(super) fn create_user_error(
    router_id: &str,
    producto: &producto::Model,
    e: BrokerError,
) -> Reply {
    match e {
        BrokerError::Router(re) => {
            if matches!(&re, RouterError::InvalidValue(m) if m.to_lowercase().contains("profile")) {
                tracing::warn!(
                    router_id,
                    producto_id = producto.id,
                    profile = %producto.perfil_mikrotik_nombre,
                    "the product's hotspot profile does not exist on its router"
                );
                return Reply::from(Problem::HotspotProfileMissing);
            }
            tracing::warn!(
                router_id,
                producto_id = producto.id,
                error = %re,
                "the router refused the hotspot user"
            );
            Reply::from(Problem::HotspotUserCreateFailed)
        }
        other => reply_from_api(other.into()),
    }
}
