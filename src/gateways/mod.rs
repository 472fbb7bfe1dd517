//! Payment gateway clients (Conekta, Mercado Pago), webhook verification and the Telegram notifier.
//!
//! Credentials are per company and passed on every call; the clients hold only the base URL and a shared
//! `reqwest::Client` (connection pool, timeouts). Gateway answers decode into [`ChargeOutcome`] (the gateway processed
//! the charge: paid, authorized, pending or declined) or [`GatewayError`] (the request was refused, or the outcome is
//! unknown). Every variant carries the Spanish `detail` and HTTP status the original service answered with, so the
//! portal routes stay wire-compatible.

pub mod conekta;
pub mod mercado_pago;
pub mod messages;
pub mod telegram;
pub mod webhook;

use std::future::Future;
use std::time::Duration;

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

pub use conekta::{ConektaClient, ConektaOrderRequest};
pub use mercado_pago::{MercadoPagoClient, MpPayer, MpPaymentRequest};

/// Default per-request timeout for gateway calls.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Build the one shared HTTP client: pooled keep-alive connections, a connect timeout and a total per-request timeout.
pub fn build_http_client(timeout: Duration) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .pool_idle_timeout(Duration::from_secs(90))
        .pool_max_idle_per_host(16)
        .tcp_keepalive(Duration::from_secs(60))
        .user_agent(concat!("pagos-hotspot/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// Which gateway a payment belongs to (also the `purchases.gateway` column).
pub use entity::purchase::GatewayKind;

/// The answer of a charge the gateway processed.
#[derive(Debug, Clone, PartialEq)]
pub enum ChargeOutcome {
    /// Money captured (Conekta `paid`, Mercado Pago `approved`).
    Paid {
        gateway_id: String,
        amount: Decimal,
        currency: String,
        raw: serde_json::Value,
    },
    /// Funds held, to be captured or cancelled (Conekta `pre_authorized`, Mercado Pago `authorized`).
    Authorized {
        gateway_id: String,
        amount: Decimal,
        currency: String,
        raw: serde_json::Value,
    },
    /// Not final yet (Conekta `pending_payment`, Mercado Pago `pending`/`in_process`). Never grant access on this.
    Pending {
        gateway_id: String,
        status: String,
        status_detail: String,
        /// The original's 402 `detail` for this state.
        message_es: String,
        raw: serde_json::Value,
    },
    /// Declined by the gateway or the bank. `http_status` and `message_es` are what the original answered (402).
    Declined {
        gateway_id: Option<String>,
        code: String,
        message_es: String,
        http_status: u16,
        raw: serde_json::Value,
    },
}

impl ChargeOutcome {
    pub fn gateway_id(&self) -> Option<&str> {
        match self {
            ChargeOutcome::Paid { gateway_id, .. }
            | ChargeOutcome::Authorized { gateway_id, .. }
            | ChargeOutcome::Pending { gateway_id, .. } => Some(gateway_id),
            ChargeOutcome::Declined { gateway_id, .. } => gateway_id.as_deref(),
        }
    }
    pub fn is_paid(&self) -> bool {
        matches!(self, ChargeOutcome::Paid { .. })
    }
}

/// A gateway call that did not produce a processed charge.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GatewayError {
    /// The gateway refused the request as invalid (400/409/422…). Nothing was charged.
    #[error("gateway rejected the request ({http_status}): {code}")]
    InvalidRequest {
        code: String,
        message_es: String,
        http_status: u16,
    },
    /// Bad or missing credentials (401/403). Nothing was charged.
    #[error("gateway authentication failed")]
    Authentication {
        message_es: String,
        http_status: u16,
    },
    /// The resource does not exist (404).
    #[error("gateway resource not found")]
    NotFound {
        message_es: String,
        http_status: u16,
    },
    /// Too many requests (429). Nothing was charged.
    #[error("gateway rate limit")]
    RateLimited {
        message_es: String,
        http_status: u16,
        retry_after: Option<Duration>,
    },
    /// The request timed out: the charge may or may not exist. Reconcile by our reference.
    #[error("gateway timed out; outcome unknown")]
    Timeout {
        message_es: String,
        http_status: u16,
    },
    /// The request never reached the gateway (no connection could be made): nothing was charged.
    #[error("gateway not reached: {reason}")]
    NotSent {
        reason: String,
        message_es: String,
        http_status: u16,
    },
    /// 5xx, a connection lost after sending, or an undecodable answer: the outcome is unknown.
    /// Reconcile by our reference.
    #[error("gateway unavailable; outcome unknown: {reason}")]
    Unavailable {
        reason: String,
        message_es: String,
        http_status: u16,
    },
}

impl GatewayError {
    /// True when money may have moved and the caller must reconcile (look the charge up by our reference).
    pub fn outcome_unknown(&self) -> bool {
        matches!(
            self,
            GatewayError::Timeout { .. } | GatewayError::Unavailable { .. }
        )
    }
    /// The HTTP status the original service answered with for this error.
    pub fn http_status(&self) -> u16 {
        match self {
            GatewayError::InvalidRequest { http_status, .. }
            | GatewayError::Authentication { http_status, .. }
            | GatewayError::NotFound { http_status, .. }
            | GatewayError::RateLimited { http_status, .. }
            | GatewayError::NotSent { http_status, .. }
            | GatewayError::Timeout { http_status, .. }
            | GatewayError::Unavailable { http_status, .. } => *http_status,
        }
    }
    /// The Spanish `detail` the original service answered with.
    pub fn message_es(&self) -> &str {
        match self {
            GatewayError::InvalidRequest { message_es, .. }
            | GatewayError::Authentication { message_es, .. }
            | GatewayError::NotFound { message_es, .. }
            | GatewayError::RateLimited { message_es, .. }
            | GatewayError::NotSent { message_es, .. }
            | GatewayError::Timeout { message_es, .. }
            | GatewayError::Unavailable { message_es, .. } => message_es,
        }
    }
}

/// Normalised payment state, common to both gateways.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentStatus {
    Paid,
    Authorized,
    Pending,
    Declined,
    Cancelled,
    Refunded,
    PartiallyRefunded,
    ChargedBack,
    Other(String),
}

/// A read of a charge at the gateway (get, search, refund, cancel).
#[derive(Debug, Clone, PartialEq)]
pub struct PaymentSnapshot {
    pub gateway: GatewayKind,
    pub gateway_id: String,
    pub status: PaymentStatus,
    /// The gateway's own status string (`paid`, `approved`, `pending_payment`, …).
    pub raw_status: String,
    /// Mercado Pago `status_detail`, or Conekta's charge `failure_code` when present.
    pub status_detail: Option<String>,
    pub amount: Decimal,
    pub amount_refunded: Decimal,
    pub currency: String,
    /// Our purchase reference (Conekta `metadata.purchase_id`, Mercado Pago `external_reference`).
    pub our_reference: Option<String>,
    pub raw: serde_json::Value,
}

impl PaymentSnapshot {
    /// The portal's Spanish message for this state (Conekta by its status, Mercado Pago by its
    /// `status_detail`).
    pub fn message_es(&self) -> String {
        match self.gateway {
            GatewayKind::Conekta => messages::conekta_status_message(&self.raw_status).to_owned(),
            GatewayKind::MercadoPago => {
                messages::mp_status_detail_message(self.status_detail.as_deref().unwrap_or(""))
                    .to_owned()
            }
        }
    }

    /// The charge outcome this read shows: paid, authorized, pending, or else declined (402,
    /// with Conekta's status or Mercado Pago's `status_detail` as the code). The one mapping of
    /// both gateways' answers, for a new charge and for a charge read back.
    pub fn into_outcome(self) -> ChargeOutcome {
        let message_es = self.message_es();
        let detail = self.status_detail.unwrap_or_default();
        match self.status {
            PaymentStatus::Paid => ChargeOutcome::Paid {
                gateway_id: self.gateway_id,
                amount: self.amount,
                currency: self.currency,
                raw: self.raw,
            },
            PaymentStatus::Authorized => ChargeOutcome::Authorized {
                gateway_id: self.gateway_id,
                amount: self.amount,
                currency: self.currency,
                raw: self.raw,
            },
            PaymentStatus::Pending => ChargeOutcome::Pending {
                gateway_id: self.gateway_id,
                message_es,
                status: self.raw_status,
                status_detail: detail,
                raw: self.raw,
            },
            _ => ChargeOutcome::Declined {
                gateway_id: Some(self.gateway_id),
                message_es,
                code: match self.gateway {
                    GatewayKind::Conekta => self.raw_status,
                    GatewayKind::MercadoPago => detail,
                },
                http_status: 402,
                raw: self.raw,
            },
        }
    }
}

/// Operations both gateways offer after a charge exists. Credentials are per company: Conekta private key or
/// Mercado Pago access token.
pub trait PaymentGateway {
    fn kind(&self) -> GatewayKind;
    fn get(
        &self,
        credential: &str,
        gateway_id: &str,
    ) -> impl Future<Output = Result<PaymentSnapshot, GatewayError>> + Send;
    fn find_by_reference(
        &self,
        credential: &str,
        our_reference: &str,
    ) -> impl Future<Output = Result<Option<PaymentSnapshot>, GatewayError>> + Send;
    /// Refund `amount` (in currency units). `idempotency_key` is sent where the gateway supports one.
    fn refund(
        &self,
        credential: &str,
        gateway_id: &str,
        amount: Decimal,
        idempotency_key: &str,
    ) -> impl Future<Output = Result<PaymentSnapshot, GatewayError>> + Send;
    /// Cancel an authorized or pending charge.
    fn cancel(
        &self,
        credential: &str,
        gateway_id: &str,
    ) -> impl Future<Output = Result<PaymentSnapshot, GatewayError>> + Send;
}

/// Both clients, built once from the environment and sharing one HTTP client.
#[derive(Clone)]
pub struct Gateways {
    pub conekta: ConektaClient,
    pub mercado_pago: MercadoPagoClient,
}

impl Gateways {
    pub fn new(conekta_base: &str, mercado_pago_base: &str, http: reqwest::Client) -> Self {
        Gateways {
            conekta: ConektaClient::new(conekta_base, http.clone()),
            mercado_pago: MercadoPagoClient::new(mercado_pago_base, http),
        }
    }
}

/// Exact conversion of a decimal amount to integer minor units (cents). `None` for negative amounts, more than two
/// decimals, or overflow — never a float truncation (the original turned 19.99 into 1998).
pub fn to_minor_units(amount: Decimal) -> Option<i64> {
    if amount.is_sign_negative() {
        return None;
    }
    let cents = amount.checked_mul(Decimal::ONE_HUNDRED)?;
    if cents.fract() != Decimal::ZERO {
        return None;
    }
    cents.to_i64()
}

/// Integer minor units back to a decimal amount with two places.
pub fn from_minor_units(cents: i64) -> Decimal {
    Decimal::new(cents, 2)
}

pub(crate) fn trim_base(base: &str) -> String {
    base.trim_end_matches('/').to_owned()
}

/// The Spanish texts and HTTP statuses a gateway's transport failures map to.
pub(crate) struct TransportTexts {
    pub timeout: &'static str,
    pub timeout_status: u16,
    pub internal: &'static str,
}

/// Reads a gateway answer as (status, JSON). An empty body is `Null`; an undecodable 5xx body
/// is `Null` too (the status speaks); an undecodable 2xx/4xx body or a transport failure is
/// an unknown outcome.
pub(crate) async fn read_json(
    resp: reqwest::Result<reqwest::Response>,
    texts: &TransportTexts,
) -> Result<(u16, serde_json::Value), GatewayError> {
    let resp = resp.map_err(|e| transport_error(e, texts))?;
    let status = resp.status().as_u16();
    let bytes = resp.bytes().await.map_err(|e| transport_error(e, texts))?;
    if bytes.is_empty() {
        return Ok((status, serde_json::Value::Null));
    }
    match serde_json::from_slice(&bytes) {
        Ok(v) => Ok((status, v)),
        Err(_) if status >= 500 => Ok((status, serde_json::Value::Null)),
        Err(e) => Err(GatewayError::Unavailable {
            reason: format!("undecodable answer (HTTP {status}): {e}"),
            message_es: texts.internal.into(),
            http_status: 500,
        }),
    }
}

fn transport_error(e: reqwest::Error, texts: &TransportTexts) -> GatewayError {
    // A connection that was never made (refused, unreachable, or its connect timeout) carried no
    // request: a definite failure, even when it timed out.
    if e.is_connect() {
        return GatewayError::NotSent {
            reason: format!("connect: {}", e.without_url()),
            message_es: texts.internal.into(),
            http_status: 500,
        };
    }
    if e.is_timeout() {
        GatewayError::Timeout {
            message_es: texts.timeout.into(),
            http_status: texts.timeout_status,
        }
    } else {
        GatewayError::Unavailable {
            reason: format!("transport: {}", e.without_url()),
            message_es: texts.internal.into(),
            http_status: 500,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn minor_units_are_exact() {
        let d = |s: &str| Decimal::from_str(s).unwrap();
        assert_eq!(to_minor_units(d("19.99")), Some(1999));
        assert_eq!(to_minor_units(d("0.29")), Some(29));
        assert_eq!(to_minor_units(d("15")), Some(1500));
        assert_eq!(to_minor_units(d("15.10")), Some(1510));
        assert_eq!(to_minor_units(d("1.005")), None);
        assert_eq!(to_minor_units(d("-1")), None);
        assert_eq!(from_minor_units(1999), d("19.99"));
    }

    #[test]
    fn unknown_outcomes_are_flagged() {
        let t = GatewayError::Timeout {
            message_es: "x".into(),
            http_status: 504,
        };
        assert!(t.outcome_unknown());
        let a = GatewayError::Authentication {
            message_es: "x".into(),
            http_status: 401,
        };
        assert!(!a.outcome_unknown());
        assert_eq!(a.http_status(), 401);
    }
}
