//! Mercado Pago client (Payments v1 with a card token from the JS SDK).
//!
//! `POST /v1/payments` carries `X-Idempotency-Key` = our purchase id, so the caller may safely repeat a create after a
//! timeout: Mercado Pago returns the payment it already made for that key.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde_json::{json, Value};

use super::messages::{self, mp_unhandled_status, mp_validation_error};
use super::{
    trim_base, ChargeOutcome, GatewayError, GatewayKind, PaymentGateway, PaymentSnapshot,
    PaymentStatus,
};

#[derive(Clone)]
pub struct MercadoPagoClient {
    base: String,
    http: reqwest::Client,
    timeout: Option<Duration>,
    /// Each account's currency (by SHA-256 of its access token): an account's site never changes.
    currencies: Arc<Mutex<HashMap<String, &'static str>>>,
}

/// The currency a Mercado Pago site charges in: an account is paid only in its country's
/// currency (`None` for a site this service does not know).
pub fn site_currency(site_id: &str) -> Option<&'static str> {
    Some(match site_id {
        "MLA" => "ARS",
        "MLB" => "BRL",
        "MLC" => "CLP",
        "MCO" => "COP",
        "MLM" => "MXN",
        "MPE" => "PEN",
        "MLU" => "UYU",
        _ => return None,
    })
}

/// The payer as sent to Mercado Pago.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MpPayer {
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// Digits only; sent as `phone.number`.
    pub phone: Option<String>,
    /// `(type, number)`, e.g. `("RFC", "…")`.
    pub identification: Option<(String, String)>,
}

impl MpPayer {
    /// The original's payer: first word as first name, the rest as last name; phone digits with a leading `52`
    /// dropped from 12 digits.
    pub fn from_customer(name: &str, email: &str, phone: Option<&str>) -> Self {
        let mut words = name.split_whitespace();
        let first = words.next().map(str::to_owned);
        let rest = words.collect::<Vec<_>>().join(" ");
        let phone = phone
            .map(|p| p.chars().filter(char::is_ascii_digit).collect::<String>())
            .filter(|d| !d.is_empty())
            .map(|d| {
                if d.len() == 12 && d.starts_with("52") {
                    d[2..].to_owned()
                } else {
                    d
                }
            });
        MpPayer {
            email: email.to_owned(),
            first_name: first,
            last_name: (!rest.is_empty()).then_some(rest),
            phone,
            identification: None,
        }
    }
}

/// What the purchase saga asks Mercado Pago to charge.
#[derive(Debug, Clone, PartialEq)]
pub struct MpPaymentRequest {
    /// Our purchase id: sent as `X-Idempotency-Key`, stable across our retries.
    pub idempotency_key: String,
    /// `MP_DEVICE_SESSION_ID` from the checkout page; sent as `X-Meli-Session-Id` (documented) and as
    /// `X-Mercado-Pago-Device-Id` (what the original sent).
    pub device_id: Option<String>,
    /// Currency units (e.g. 15.50), the server-side price.
    pub amount: Decimal,
    /// Card token (single use). Never logged.
    pub token: String,
    pub payment_method_id: String,
    pub installments: u32,
    pub issuer_id: Option<String>,
    pub payer: MpPayer,
    /// Our purchase reference.
    pub external_reference: String,
    pub description: String,
    pub notification_url: Option<String>,
    pub statement_descriptor: Option<String>,
    /// Approved or rejected only, no `in_process` (the original always sent `true`).
    pub binary_mode: bool,
    /// `false` to authorize only (capture or cancel later).
    pub capture: bool,
    pub metadata: serde_json::Map<String, Value>,
}

impl MercadoPagoClient {
    pub fn new(base_url: &str, http: reqwest::Client) -> Self {
        MercadoPagoClient {
            base: trim_base(base_url),
            http,
            timeout: None,
            currencies: Arc::default(),
        }
    }
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    fn request(&self, method: reqwest::Method, path: &str, token: &str) -> reqwest::RequestBuilder {
        let mut rb = self
            .http
            .request(method, format!("{}{}", self.base, path))
            .bearer_auth(token)
            .header("Accept", "application/json");
        if let Some(t) = self.timeout {
            rb = rb.timeout(t);
        }
        rb
    }

    /// The currency the account behind `token` charges in: its site's (`GET /users/me`, read once
    /// per access token). `None` when the site is not one this service knows.
    pub async fn account_currency(
        &self,
        token: &str,
    ) -> Result<Option<&'static str>, GatewayError> {
        let id = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(token.as_bytes()));
        let cached = self
            .currencies
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&id)
            .copied();
        if let Some(c) = cached {
            return Ok(Some(c));
        }
        let (status, value) = read(
            self.request(reqwest::Method::GET, "/users/me", token)
                .send()
                .await,
        )
        .await?;
        if status != 200 {
            return Err(error_from(status, &value));
        }
        let site = value.get("site_id").and_then(Value::as_str).unwrap_or("");
        let currency = site_currency(site);
        match currency {
            Some(c) => {
                self.currencies
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(id, c);
            }
            None => tracing::warn!(site_id = %site, "mercado pago account of an unknown site"),
        }
        Ok(currency)
    }

    /// The card behind a card token, as [`card_fingerprint`] names it (`GET /v1/card_tokens/{id}`;
    /// the token stays usable). `None` when the token does not describe its card.
    pub async fn card_token_fingerprint(
        &self,
        token: &str,
        card_token: &str,
    ) -> Result<Option<String>, GatewayError> {
        if card_token.is_empty() || !card_token.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Ok(None);
        }
        let path = format!("/v1/card_tokens/{card_token}");
        let (status, value) = read(
            self.request(reqwest::Method::GET, &path, token)
                .send()
                .await,
        )
        .await?;
        if status != 200 {
            return Err(error_from(status, &value));
        }
        Ok(card_fingerprint(&value))
    }

    /// The JSON body of `POST /v1/payments`.
    pub fn payment_body(req: &MpPaymentRequest) -> Value {
        let mut payer = json!({ "email": req.payer.email });
        if let Some(f) = &req.payer.first_name {
            payer["first_name"] = json!(f);
        }
        if let Some(l) = &req.payer.last_name {
            payer["last_name"] = json!(l);
        }
        if let Some(p) = &req.payer.phone {
            payer["phone"] = json!({ "area_code": "", "number": p });
        }
        if let Some((t, n)) = &req.payer.identification {
            payer["identification"] = json!({ "type": t, "number": n });
        }
        let mut body = json!({
            "transaction_amount": decimal_number(req.amount),
            "token": req.token,
            "description": req.description,
            "payment_method_id": req.payment_method_id,
            "installments": req.installments.max(1),
            "external_reference": req.external_reference,
            "binary_mode": req.binary_mode,
            "capture": req.capture,
            "payer": payer,
            "metadata": Value::Object(req.metadata.clone()),
        });
        if let Some(i) = req.issuer_id.as_deref().filter(|i| !i.is_empty()) {
            body["issuer_id"] = json!(i);
        }
        if let Some(u) = &req.notification_url {
            body["notification_url"] = json!(u);
        }
        if let Some(s) = &req.statement_descriptor {
            body["statement_descriptor"] = json!(s);
        }
        body
    }

    /// `POST /v1/payments`.
    pub async fn create_payment(
        &self,
        token: &str,
        req: &MpPaymentRequest,
    ) -> Result<ChargeOutcome, GatewayError> {
        if req.amount <= Decimal::ZERO || req.amount.normalize().scale() > 2 {
            return Err(GatewayError::InvalidRequest {
                code: "2072".into(),
                message_es: mp_validation_error("Invalid value for transaction_amount"),
                http_status: 400,
            });
        }
        let body = Self::payment_body(req);
        tracing::info!(reference = %req.external_reference, amount = %req.amount, "mercado pago create payment");
        let mut rb = self
            .request(reqwest::Method::POST, "/v1/payments", token)
            .header("X-Idempotency-Key", &req.idempotency_key)
            .json(&body);
        if let Some(d) = req.device_id.as_deref().filter(|d| !d.is_empty()) {
            rb = rb
                .header("X-Meli-Session-Id", d)
                .header("X-Mercado-Pago-Device-Id", d);
        }
        let (status, value) = read(rb.send().await).await?;
        if status != 200 && status != 201 {
            return Err(error_from(status, &value));
        }
        let snap = payment_snapshot(value)?;
        match snap.status {
            PaymentStatus::Paid
            | PaymentStatus::Authorized
            | PaymentStatus::Pending
            | PaymentStatus::Declined
            | PaymentStatus::Cancelled => Ok(snap.into_outcome()),
            _ => Err(GatewayError::Unavailable {
                reason: format!("unexpected payment status {}", snap.raw_status),
                message_es: mp_unhandled_status(&snap.raw_status),
                http_status: 500,
            }),
        }
    }

    /// `GET /v1/payments/{id}`.
    pub async fn get_payment(
        &self,
        token: &str,
        payment_id: &str,
    ) -> Result<PaymentSnapshot, GatewayError> {
        let path = format!("/v1/payments/{}", numeric_id(payment_id)?);
        snapshot_response(
            read(
                self.request(reqwest::Method::GET, &path, token)
                    .send()
                    .await,
            )
            .await?,
        )
    }

    /// `GET /v1/payments/search?external_reference=…`, newest first.
    pub async fn search_by_external_reference(
        &self,
        token: &str,
        external_reference: &str,
    ) -> Result<Vec<PaymentSnapshot>, GatewayError> {
        let rb = self
            .request(reqwest::Method::GET, "/v1/payments/search", token)
            .query(&[
                ("external_reference", external_reference),
                ("sort", "date_created"),
                ("criteria", "desc"),
            ]);
        let (status, value) = read(rb.send().await).await?;
        if status != 200 {
            return Err(error_from(status, &value));
        }
        value
            .get("results")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|p| {
                p.get("external_reference").and_then(Value::as_str) == Some(external_reference)
            })
            .map(payment_snapshot)
            .collect()
    }

    /// `PUT /v1/payments/{id}` `{"status":"cancelled"}` (pending, in_process or authorized payments).
    pub async fn cancel(
        &self,
        token: &str,
        payment_id: &str,
    ) -> Result<PaymentSnapshot, GatewayError> {
        let path = format!("/v1/payments/{}", numeric_id(payment_id)?);
        let rb = self
            .request(reqwest::Method::PUT, &path, token)
            .json(&json!({ "status": "cancelled" }));
        snapshot_response(read(rb.send().await).await?)
    }

    /// `PUT /v1/payments/{id}` `{"capture":true}` (authorized payments).
    pub async fn capture(
        &self,
        token: &str,
        payment_id: &str,
    ) -> Result<PaymentSnapshot, GatewayError> {
        let path = format!("/v1/payments/{}", numeric_id(payment_id)?);
        let rb = self
            .request(reqwest::Method::PUT, &path, token)
            .json(&json!({ "capture": true }));
        snapshot_response(read(rb.send().await).await?)
    }

    /// `POST /v1/payments/{id}/refunds` (`amount: None` = full refund), then the payment is read back.
    pub async fn refund(
        &self,
        token: &str,
        payment_id: &str,
        amount: Option<Decimal>,
        idempotency_key: &str,
    ) -> Result<PaymentSnapshot, GatewayError> {
        let path = format!("/v1/payments/{}/refunds", numeric_id(payment_id)?);
        let body = match amount {
            Some(a) => json!({ "amount": decimal_number(a) }),
            None => json!({}),
        };
        let rb = self
            .request(reqwest::Method::POST, &path, token)
            .header("X-Idempotency-Key", idempotency_key)
            .json(&body);
        let (status, value) = read(rb.send().await).await?;
        if status != 200 && status != 201 {
            return Err(error_from(status, &value));
        }
        self.get_payment(token, payment_id).await
    }
}

impl PaymentGateway for MercadoPagoClient {
    fn kind(&self) -> GatewayKind {
        GatewayKind::MercadoPago
    }
    async fn get(
        &self,
        credential: &str,
        gateway_id: &str,
    ) -> Result<PaymentSnapshot, GatewayError> {
        self.get_payment(credential, gateway_id).await
    }
    async fn find_by_reference(
        &self,
        credential: &str,
        our_reference: &str,
    ) -> Result<Option<PaymentSnapshot>, GatewayError> {
        let found = self
            .search_by_external_reference(credential, our_reference)
            .await?;
        // Prefer a payment that moved money over a rejected attempt.
        let best = found
            .iter()
            .find(|p| !matches!(p.status, PaymentStatus::Declined | PaymentStatus::Cancelled))
            .or_else(|| found.first())
            .cloned();
        Ok(best)
    }
    async fn refund(
        &self,
        credential: &str,
        gateway_id: &str,
        amount: Decimal,
        idempotency_key: &str,
    ) -> Result<PaymentSnapshot, GatewayError> {
        MercadoPagoClient::refund(self, credential, gateway_id, Some(amount), idempotency_key).await
    }
    async fn cancel(
        &self,
        credential: &str,
        gateway_id: &str,
    ) -> Result<PaymentSnapshot, GatewayError> {
        MercadoPagoClient::cancel(self, credential, gateway_id).await
    }
}

fn decimal_number(d: Decimal) -> Value {
    d.round_dp(2)
        .to_f64()
        .and_then(serde_json::Number::from_f64)
        .map(Value::Number)
        .unwrap_or(Value::Null)
}

fn numeric_id(id: &str) -> Result<&str, GatewayError> {
    if !id.is_empty() && id.len() <= 20 && id.bytes().all(|b| b.is_ascii_digit()) {
        Ok(id)
    } else {
        Err(GatewayError::NotFound {
            message_es: "Pago no encontrado".into(),
            http_status: 404,
        })
    }
}

/// Texts and statuses of this gateway's transport failures (the original's).
const TRANSPORT: super::TransportTexts = super::TransportTexts {
    timeout: messages::MP_INTERNAL,
    timeout_status: 500,
    internal: messages::MP_INTERNAL,
};

async fn read(resp: reqwest::Result<reqwest::Response>) -> Result<(u16, Value), GatewayError> {
    super::read_json(resp, &TRANSPORT).await
}

fn error_from(status: u16, v: &Value) -> GatewayError {
    let message = v
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or("Error desconocido");
    let code = cause_code(v).unwrap_or_else(|| {
        v.get("error")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    });
    let unhandled = mp_unhandled_status(&status.to_string());
    match status {
        400 => GatewayError::InvalidRequest {
            code,
            message_es: mp_validation_error(message),
            http_status: 400,
        },
        401 | 403 => GatewayError::Authentication {
            message_es: unhandled,
            http_status: 500,
        },
        404 => GatewayError::NotFound {
            message_es: unhandled,
            http_status: 404,
        },
        429 => GatewayError::RateLimited {
            message_es: unhandled,
            http_status: 500,
            retry_after: None,
        },
        // 423: idempotency key locked (the first request is still running): outcome unknown, retry with the same key.
        423 | 424 => GatewayError::Unavailable {
            reason: format!("HTTP {status}: {message}"),
            message_es: unhandled,
            http_status: 500,
        },
        s if s >= 500 => GatewayError::Unavailable {
            reason: format!("HTTP {s}: {message}"),
            message_es: unhandled,
            http_status: 500,
        },
        _ => GatewayError::InvalidRequest {
            code,
            message_es: unhandled,
            http_status: 500,
        },
    }
}

/// `cause` is normally an array, sometimes a single object.
fn cause_code(v: &Value) -> Option<String> {
    let cause = v.get("cause")?;
    let first = match cause {
        Value::Array(a) => a.first()?,
        Value::Object(_) => cause,
        _ => return None,
    };
    match first.get("code")? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn snapshot_response((status, value): (u16, Value)) -> Result<PaymentSnapshot, GatewayError> {
    if status == 200 || status == 201 {
        payment_snapshot(value)
    } else {
        Err(error_from(status, &value))
    }
}

fn json_decimal(v: Option<&Value>) -> Option<Decimal> {
    match v? {
        Value::Number(n) => n.to_string().parse::<Decimal>().ok(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// Decode a Mercado Pago payment object.
pub fn payment_snapshot(p: Value) -> Result<PaymentSnapshot, GatewayError> {
    let id = match p.get("id") {
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        _ => {
            return Err(GatewayError::Unavailable {
                reason: "mercado pago payment without id".into(),
                message_es: messages::MP_INTERNAL.into(),
                http_status: 500,
            })
        }
    };
    let raw_status = p
        .get("status")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let status_detail = p
        .get("status_detail")
        .and_then(Value::as_str)
        .map(str::to_owned);
    Ok(PaymentSnapshot {
        gateway: GatewayKind::MercadoPago,
        gateway_id: id,
        status: mp_status(&raw_status, status_detail.as_deref().unwrap_or("")),
        raw_status,
        status_detail,
        amount: json_decimal(p.get("transaction_amount")).unwrap_or_default(),
        amount_refunded: json_decimal(p.get("transaction_amount_refunded")).unwrap_or_default(),
        currency: p
            .get("currency_id")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned(),
        our_reference: p
            .get("external_reference")
            .and_then(Value::as_str)
            .map(str::to_owned),
        raw: p,
    })
}

/// A card as Mercado Pago describes it, in a card token or in a payment's `card`: SHA-256 of its
/// first six and last four digits and its expiry (no card number is kept). `None` when a part is
/// missing.
pub fn card_fingerprint(card: &Value) -> Option<String> {
    let part = |k: &str| match card.get(k)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    let text = format!(
        "mp:{}:{}:{}:{}",
        part("first_six_digits")?,
        part("last_four_digits")?,
        part("expiration_month")?,
        part("expiration_year")?
    );
    Some(hex::encode(<sha2::Sha256 as sha2::Digest>::digest(
        text.as_bytes(),
    )))
}

/// Map a Mercado Pago `status` (+ `status_detail`) to the common status.
pub fn mp_status(status: &str, detail: &str) -> PaymentStatus {
    match status {
        "approved" if detail == "partially_refunded" => PaymentStatus::PartiallyRefunded,
        "approved" => PaymentStatus::Paid,
        "authorized" => PaymentStatus::Authorized,
        "pending" | "in_process" | "in_mediation" => PaymentStatus::Pending,
        "rejected" => PaymentStatus::Declined,
        "cancelled" => PaymentStatus::Cancelled,
        "refunded" => PaymentStatus::Refunded,
        "charged_back" => PaymentStatus::ChargedBack,
        other => PaymentStatus::Other(other.to_owned()),
    }
}

/// The Mercado Pago notification URL of a company: the webhook path with `?empresa_id=`, so
/// the signature can be checked with that company's secret before any other work.
pub fn notification_url(base: &str, empresa_id: &str) -> String {
    format!(
        "{}/api/v1/webhook/mercado-pago?empresa_id={}",
        base.trim_end_matches('/'),
        empresa_id
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payer_from_customer() {
        let p = MpPayer::from_customer("Ana María López", "a@b.mx", Some("+52 55 1234 5678"));
        assert_eq!(p.first_name.as_deref(), Some("Ana"));
        assert_eq!(p.last_name.as_deref(), Some("María López"));
        assert_eq!(p.phone.as_deref(), Some("5512345678"));
        let p = MpPayer::from_customer("Ana", "a@b.mx", None);
        assert_eq!(p.last_name, None);
        assert_eq!(p.phone, None);
    }

    #[test]
    fn cause_may_be_array_or_object() {
        assert_eq!(
            cause_code(&json!({"cause":[{"code":2006}]})).as_deref(),
            Some("2006")
        );
        assert_eq!(
            cause_code(&json!({"cause":{"code":"x"}})).as_deref(),
            Some("x")
        );
        assert_eq!(cause_code(&json!({"cause":[]})), None);
    }

    #[test]
    fn amounts_are_decimal_numbers() {
        let d: Decimal = "58.80".parse().unwrap();
        assert_eq!(decimal_number(d).to_string(), "58.8");
        let snap = payment_snapshot(
            json!({"id": 20000000001_i64, "status":"approved","status_detail":"accredited",
            "transaction_amount": 19.99, "currency_id":"MXN"}),
        )
        .unwrap();
        assert_eq!(snap.amount, "19.99".parse::<Decimal>().unwrap());
        assert_eq!(snap.gateway_id, "20000000001");
        assert_eq!(snap.status, PaymentStatus::Paid);
    }
}
