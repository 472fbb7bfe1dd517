//! The purchase saga (see the module docs of [`super`]).

use std::net::IpAddr;

use zeroize::Zeroizing;

use entity::{empresa, producto, purchase};

use crate::auth::rate_limit::AttemptKeys;
use crate::crypto::field;
use crate::error::ApiError;
use crate::state::AppState;

use super::credentials::UserType;
use super::response::Reply;
use super::{user_comment, GatewayKind};
use crate::routeros::BrokerError;

mod charge;
mod compensation;
mod completion;
mod gateway;
mod intake;
mod notify;
mod router_steps;
mod updates;

pub(crate) use compensation::{compensate, revoke};
pub(crate) use completion::{completed_body, finish_paid, Finish};
pub(crate) use gateway::{gw_find, gw_get, gw_refund};
pub use intake::{idempotency_key, refuse_if_busy, replay, run};
pub use updates::{on_gateway_update, UpdateOutcome};

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
    pub gateway: GatewayKind,
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
    /// What a declined charge is counted under (the rate limits' decline budgets).
    pub attempt: Option<AttemptKeys>,
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
    gateway: GatewayKind,
) -> Option<Zeroizing<String>> {
    let (label, stored) = if gateway == GatewayKind::Conekta {
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

/// A step's reply, with the purchase as last written when that write also released the lease.
type Ended = (Reply, Option<purchase::Model>);

/// The `.id` of the purchase's user, found by name and checked by its comment.
pub(crate) async fn find_own_user(
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
