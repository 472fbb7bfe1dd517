//! Conekta client (API v2, `POST /orders` with a card token).
//!
//! A `POST /orders` is never retried here: Conekta has no idempotency key. After a timeout or a 5xx the caller looks
//! the order up with [`ConektaClient::find_order_by_reference`] (our purchase reference is in `metadata.purchase_id`).

use std::collections::BTreeMap;
use std::time::Duration;

use base64::Engine as _;
use rust_decimal::Decimal;
use serde_json::{json, Value};

use super::messages::{self, conekta_error_message, conekta_http_status};
use super::{
    from_minor_units, trim_base, ChargeOutcome, GatewayError, GatewayKind, PaymentGateway,
    PaymentSnapshot, PaymentStatus,
};

/// The `metadata` key that carries our purchase reference.
pub const REFERENCE_METADATA_KEY: &str = "purchase_id";
/// Default API version (`Accept: application/vnd.conekta-v<version>+json`); the original used 2.1.0.
pub const DEFAULT_API_VERSION: &str = "2.1.0";
/// Placeholder phone the original sent when the customer gave none (Conekta requires one).
pub const PLACEHOLDER_PHONE: &str = "+521234567890";
const MAX_SEARCH_PAGES: usize = 5;

#[derive(Clone)]
pub struct ConektaClient {
    base: String,
    http: reqwest::Client,
    api_version: String,
    timeout: Option<Duration>,
}

/// What the purchase saga asks Conekta to charge.
#[derive(Debug, Clone, PartialEq)]
pub struct ConektaOrderRequest {
    /// Integer minor units (see [`super::to_minor_units`]).
    pub amount_cents: i64,
    pub currency: String,
    pub product_name: String,
    pub customer_name: String,
    pub customer_email: String,
    pub customer_phone: Option<String>,
    /// Conekta.js token (single use). Never logged.
    pub card_token: String,
    /// Our purchase id, stored as `metadata.purchase_id` so the order can be found again.
    pub our_reference: String,
    /// Extra scalar metadata (at most 99 keys, strings up to 249 chars).
    pub metadata: BTreeMap<String, Value>,
    /// Hold the funds only (capture later with [`ConektaClient::capture`]).
    pub pre_authorize: bool,
}

impl ConektaClient {
    pub fn new(base_url: &str, http: reqwest::Client) -> Self {
        ConektaClient {
            base: trim_base(base_url),
            http,
            api_version: DEFAULT_API_VERSION.to_owned(),
            timeout: None,
        }
    }
    /// Override the per-request timeout of the shared client.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }
    pub fn with_api_version(mut self, version: &str) -> Self {
        self.api_version = version.to_owned();
        self
    }

    fn request(&self, method: reqwest::Method, path: &str, key: &str) -> reqwest::RequestBuilder {
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("{key}:"));
        let mut rb = self
            .http
            .request(method, format!("{}{}", self.base, path))
            .header(
                "Accept",
                format!("application/vnd.conekta-v{}+json", self.api_version),
            )
            .header("Accept-Language", "es")
            .header("Authorization", format!("Basic {basic}"));
        if let Some(t) = self.timeout {
            rb = rb.timeout(t);
        }
        rb
    }

    /// The JSON body of `POST /orders` for this request (public so tests can validate it against the OpenAPI).
    pub fn order_body(req: &ConektaOrderRequest) -> Value {
        let mut metadata = serde_json::Map::new();
        for (k, v) in &req.metadata {
            metadata.insert(k.clone(), v.clone());
        }
        metadata.insert(
            REFERENCE_METADATA_KEY.to_owned(),
            Value::String(req.our_reference.clone()),
        );
        let mut name: String = req.product_name.trim().chars().take(249).collect();
        if name.chars().count() < 3 {
            name = format!("Acceso WiFi {name}").trim().to_owned();
        }
        let mut body = json!({
            "currency": req.currency.trim().to_uppercase(),
            "customer_info": {
                "name": req.customer_name,
                "email": req.customer_email,
                "phone": normalize_phone(req.customer_phone.as_deref().unwrap_or("")),
            },
            "line_items": [{ "name": name, "unit_price": req.amount_cents, "quantity": 1 }],
            "charges": [{ "payment_method": { "type": "card", "token_id": req.card_token } }],
            "metadata": metadata,
        });
        if req.pre_authorize {
            body["pre_authorize"] = Value::Bool(true);
        }
        body
    }

    /// `POST /orders`. Sent once, never retried.
    pub async fn create_order(
        &self,
        key: &str,
        req: &ConektaOrderRequest,
    ) -> Result<ChargeOutcome, GatewayError> {
        if req.card_token.trim().is_empty() {
            return Err(GatewayError::InvalidRequest {
                code: "empty_token".into(),
                message_es: crate::error::Problem::CardTokenInvalid.detail().into(),
                http_status: 400,
            });
        }
        let body = Self::order_body(req);
        tracing::info!(reference = %req.our_reference, amount_cents = req.amount_cents, "conekta create order");
        let resp = self
            .request(reqwest::Method::POST, "/orders", key)
            .json(&body)
            .send()
            .await;
        let (status, value) = read(resp).await?;
        match status {
            200 | 201 => order_outcome(value),
            402 => {
                let err = ErrorBody::from(&value);
                let data = value.get("data").filter(|d| d.is_object());
                let gateway_id = data
                    .and_then(|d| d.get("id"))
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                Ok(ChargeOutcome::Declined {
                    gateway_id,
                    code: err.code_or_type(),
                    message_es: err.message_es().to_owned(),
                    http_status: 402,
                    raw: value,
                })
            }
            _ => Err(error_from(status, &value)),
        }
    }

    /// `GET /orders/{id}`.
    pub async fn get_order(
        &self,
        key: &str,
        order_id: &str,
    ) -> Result<PaymentSnapshot, GatewayError> {
        let path = format!("/orders/{}", path_segment(order_id)?);
        let resp = self.request(reqwest::Method::GET, &path, key).send().await;
        snapshot_response(read(resp).await?)
    }

    /// Find the order carrying our reference in `metadata.purchase_id`. First `GET /orders?search=<ref>`; because
    /// what `search` matches is not documented, the metadata is checked here, and when the search finds nothing the
    /// newest orders are scanned (up to 5 pages of 250).
    pub async fn find_order_by_reference(
        &self,
        key: &str,
        our_reference: &str,
    ) -> Result<Option<PaymentSnapshot>, GatewayError> {
        if let Some(found) = self
            .scan_orders(key, our_reference, Some(our_reference), "50")
            .await?
        {
            return Ok(Some(found));
        }
        self.scan_orders(key, our_reference, None, "250").await
    }

    async fn scan_orders(
        &self,
        key: &str,
        our_reference: &str,
        search: Option<&str>,
        limit: &str,
    ) -> Result<Option<PaymentSnapshot>, GatewayError> {
        let mut next: Option<String> = None;
        for _ in 0..MAX_SEARCH_PAGES {
            let mut query: Vec<(&str, &str)> = vec![("limit", limit)];
            if let Some(s) = search {
                query.push(("search", s));
            }
            if let Some(n) = next.as_deref() {
                query.push(("next", n));
            }
            let resp = self
                .request(reqwest::Method::GET, "/orders", key)
                .query(&query)
                .send()
                .await;
            let (status, value) = read(resp).await?;
            if status != 200 {
                return Err(error_from(status, &value));
            }
            let data = value
                .get("data")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            for order in &data {
                let reference = order
                    .get("metadata")
                    .and_then(|m| m.get(REFERENCE_METADATA_KEY))
                    .and_then(Value::as_str);
                if reference == Some(our_reference) {
                    return order_snapshot(order.clone()).map(Some);
                }
            }
            let has_more = value
                .get("has_more")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            let last = data
                .last()
                .and_then(|o| o.get("id"))
                .and_then(Value::as_str)
                .map(str::to_owned);
            match (has_more, last) {
                (true, Some(id)) => next = Some(id),
                _ => return Ok(None),
            }
        }
        Ok(None)
    }

    /// `POST /orders/{id}/refunds` with `{"amount", "reason"}`.
    pub async fn refund(
        &self,
        key: &str,
        order_id: &str,
        amount_cents: i64,
    ) -> Result<PaymentSnapshot, GatewayError> {
        let path = format!("/orders/{}/refunds", path_segment(order_id)?);
        let body = json!({ "amount": amount_cents, "reason": "requested_by_client" });
        let resp = self
            .request(reqwest::Method::POST, &path, key)
            .json(&body)
            .send()
            .await;
        snapshot_response(read(resp).await?)
    }

    /// `POST /orders/{id}/cancel` (unpaid or pre-authorized orders).
    pub async fn cancel(&self, key: &str, order_id: &str) -> Result<PaymentSnapshot, GatewayError> {
        let path = format!("/orders/{}/cancel", path_segment(order_id)?);
        let resp = self.request(reqwest::Method::POST, &path, key).send().await;
        snapshot_response(read(resp).await?)
    }

    /// `POST /orders/{id}/capture` (pre-authorized orders).
    pub async fn capture(
        &self,
        key: &str,
        order_id: &str,
    ) -> Result<PaymentSnapshot, GatewayError> {
        let path = format!("/orders/{}/capture", path_segment(order_id)?);
        let resp = self.request(reqwest::Method::POST, &path, key).send().await;
        snapshot_response(read(resp).await?)
    }
}

impl PaymentGateway for ConektaClient {
    fn kind(&self) -> GatewayKind {
        GatewayKind::Conekta
    }
    async fn get(
        &self,
        credential: &str,
        gateway_id: &str,
    ) -> Result<PaymentSnapshot, GatewayError> {
        self.get_order(credential, gateway_id).await
    }
    async fn find_by_reference(
        &self,
        credential: &str,
        our_reference: &str,
    ) -> Result<Option<PaymentSnapshot>, GatewayError> {
        self.find_order_by_reference(credential, our_reference)
            .await
    }
    async fn refund(
        &self,
        credential: &str,
        gateway_id: &str,
        amount: Decimal,
        _idempotency_key: &str,
    ) -> Result<PaymentSnapshot, GatewayError> {
        let cents = super::to_minor_units(amount).ok_or_else(|| GatewayError::InvalidRequest {
            code: "invalid_amount".into(),
            message_es: "Monto inválido.".into(),
            http_status: 400,
        })?;
        ConektaClient::refund(self, credential, gateway_id, cents).await
    }
    async fn cancel(
        &self,
        credential: &str,
        gateway_id: &str,
    ) -> Result<PaymentSnapshot, GatewayError> {
        ConektaClient::cancel(self, credential, gateway_id).await
    }
}

/// The original's phone normalisation: digits only; 12 digits starting with 52 → `+<digits>`; 10 digits → `+52…`;
/// anything else → the placeholder.
pub fn normalize_phone(phone: &str) -> String {
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    if digits.len() == 12 && digits.starts_with("52") {
        format!("+{digits}")
    } else if digits.len() == 10 {
        format!("+52{digits}")
    } else {
        PLACEHOLDER_PHONE.to_owned()
    }
}

fn path_segment(id: &str) -> Result<&str, GatewayError> {
    if !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        Ok(id)
    } else {
        Err(GatewayError::InvalidRequest {
            code: "invalid_id".into(),
            message_es: "Orden no encontrada.".into(),
            http_status: 404,
        })
    }
}

/// Texts and statuses of this gateway's transport failures (the original's).
const TRANSPORT: super::TransportTexts = super::TransportTexts {
    timeout: messages::CONEKTA_TIMEOUT,
    timeout_status: 504,
    internal: messages::CONEKTA_INTERNAL,
};

async fn read(resp: reqwest::Result<reqwest::Response>) -> Result<(u16, Value), GatewayError> {
    super::read_json(resp, &TRANSPORT).await
}

struct ErrorBody<'a> {
    error_type: &'a str,
    code: &'a str,
    message: &'a str,
    debug_message: &'a str,
}

impl<'a> ErrorBody<'a> {
    fn from(v: &'a Value) -> Self {
        let detail = v
            .get("details")
            .and_then(Value::as_array)
            .and_then(|d| d.first());
        let s = |o: Option<&'a Value>, k: &str| {
            o.and_then(|o| o.get(k))
                .and_then(Value::as_str)
                .unwrap_or("")
        };
        ErrorBody {
            error_type: s(Some(v), "type"),
            code: s(detail, "code"),
            message: s(detail, "message"),
            debug_message: s(detail, "debug_message"),
        }
    }
    fn code_or_type(&self) -> String {
        if self.code.is_empty() {
            self.error_type
        } else {
            self.code
        }
        .to_owned()
    }
    fn message_es(&self) -> &'static str {
        conekta_error_message(
            self.code,
            self.error_type,
            &[self.debug_message, self.message],
        )
    }
}

fn error_from(status: u16, v: &Value) -> GatewayError {
    let err = ErrorBody::from(v);
    let message_es = err.message_es().to_owned();
    let http_status = conekta_http_status(status);
    match status {
        401 | 403 => GatewayError::Authentication {
            message_es,
            http_status,
        },
        404 => GatewayError::NotFound {
            message_es,
            http_status,
        },
        429 => GatewayError::RateLimited {
            message_es,
            http_status,
            retry_after: None,
        },
        s if s >= 500 => GatewayError::Unavailable {
            reason: format!("HTTP {s}: {}", err.code_or_type()),
            message_es,
            http_status,
        },
        _ => GatewayError::InvalidRequest {
            code: err.code_or_type(),
            message_es,
            http_status,
        },
    }
}

fn order_outcome(order: Value) -> Result<ChargeOutcome, GatewayError> {
    Ok(order_snapshot(order)?.into_outcome())
}

fn snapshot_response((status, value): (u16, Value)) -> Result<PaymentSnapshot, GatewayError> {
    if status == 200 || status == 201 {
        order_snapshot(value)
    } else {
        Err(error_from(status, &value))
    }
}

/// Decode a Conekta order object.
pub fn order_snapshot(order: Value) -> Result<PaymentSnapshot, GatewayError> {
    let undecodable = |what: &str| GatewayError::Unavailable {
        reason: format!("conekta order without {what}"),
        message_es: messages::CONEKTA_INTERNAL.into(),
        http_status: 500,
    };
    let id = order
        .get("id")
        .and_then(Value::as_str)
        .ok_or_else(|| undecodable("id"))?
        .to_owned();
    let amount = order
        .get("amount")
        .and_then(Value::as_i64)
        .ok_or_else(|| undecodable("amount"))?;
    let refunded = order
        .get("amount_refunded")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let currency = order
        .get("currency")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let raw_status = order
        .get("payment_status")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let charge = order
        .get("charges")
        .and_then(|c| c.get("data"))
        .and_then(Value::as_array)
        .and_then(|d| d.first());
    let status_detail = charge
        .and_then(|c| c.get("failure_code"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let our_reference = order
        .get("metadata")
        .and_then(|m| m.get(REFERENCE_METADATA_KEY))
        .and_then(Value::as_str)
        .map(str::to_owned);
    Ok(PaymentSnapshot {
        gateway: GatewayKind::Conekta,
        gateway_id: id,
        status: conekta_status(&raw_status),
        raw_status,
        status_detail,
        amount: from_minor_units(amount),
        amount_refunded: from_minor_units(refunded),
        currency,
        our_reference,
        raw: order,
    })
}

/// Map a Conekta `payment_status` to the common status.
pub fn conekta_status(s: &str) -> PaymentStatus {
    match s {
        "paid" => PaymentStatus::Paid,
        "pre_authorized" => PaymentStatus::Authorized,
        "pending_payment" | "pending" | "partially_paid" | "under_fraud_review" => {
            PaymentStatus::Pending
        }
        "declined" | "expired" | "failed" | "fraudulent" => PaymentStatus::Declined,
        "canceled" | "voided" => PaymentStatus::Cancelled,
        "refunded" => PaymentStatus::Refunded,
        "partially_refunded" => PaymentStatus::PartiallyRefunded,
        "charged_back" | "chargeback" => PaymentStatus::ChargedBack,
        other => PaymentStatus::Other(other.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_normalisation_follows_the_original() {
        assert_eq!(normalize_phone("+52 55 1234 5678"), "+525512345678");
        assert_eq!(normalize_phone("55 1234 5678"), "+525512345678");
        assert_eq!(normalize_phone(""), PLACEHOLDER_PHONE);
        assert_eq!(normalize_phone("123"), PLACEHOLDER_PHONE);
    }

    #[test]
    fn body_carries_reference_and_integer_cents() {
        let req = ConektaOrderRequest {
            amount_cents: 1999,
            currency: "mxn".into(),
            product_name: "1h".into(),
            customer_name: "Ana".into(),
            customer_email: "ana@example.com".into(),
            customer_phone: None,
            card_token: "tok_test_visa_4242".into(),
            our_reference: "pur-1".into(),
            metadata: BTreeMap::new(),
            pre_authorize: false,
        };
        let b = ConektaClient::order_body(&req);
        assert_eq!(b["currency"], "MXN");
        assert_eq!(b["line_items"][0]["unit_price"], 1999);
        assert_eq!(b["metadata"]["purchase_id"], "pur-1");
        assert!(b["line_items"][0]["name"].as_str().unwrap().chars().count() >= 3);
        assert!(b.get("pre_authorize").is_none());
    }

    #[test]
    fn path_ids_are_checked() {
        assert!(path_segment("ord_2znsF4cv7L8sWnRya").is_ok());
        assert!(path_segment("../x").is_err());
        assert!(path_segment("").is_err());
    }
}
