//! Sandbox gateways: fake Conekta, Mercado Pago and Telegram Bot APIs on one port, each under the paths the real API
//! uses, so each base URL is simply the sandbox's address. Magic values are listed in `docs/sandbox-gateways.md`.
//!
//! Start it in-process with [`SandboxGateways::start`] (inside an actix System, e.g. `#[actix_web::test]`) or from the
//! CLI with `pagos-hotspot sandbox-gateways --listen 127.0.0.1:0` (prints the base URL on stdout).

// Handlers return ready `HttpResponse`s as their error values; boxing them buys nothing in a test server.
#![allow(clippy::result_large_err)]

mod conekta;
mod control;
mod mercado_pago;
mod sdk;
mod telegram;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use rsa::RsaPrivateKey;
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::{json, Value};

use crate::gateways::webhook;
use crate::gateways::GatewayKind;

/// CLI arguments of `pagos-hotspot sandbox-gateways`.
#[derive(Debug, Clone, clap::Args)]
pub struct SandboxGatewaysArgs {
    /// Address to listen on (`127.0.0.1:0` picks a free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    /// Where to POST signed Mercado Pago notifications.
    #[arg(long, env = "SANDBOX_MP_WEBHOOK_URL")]
    pub mp_webhook_url: Option<String>,
    /// Where to POST signed Conekta events.
    #[arg(long, env = "SANDBOX_CONEKTA_WEBHOOK_URL")]
    pub conekta_webhook_url: Option<String>,
    /// The Mercado Pago webhook secret used to sign `x-signature`.
    #[arg(long, env = "SANDBOX_MP_WEBHOOK_SECRET", default_value = DEFAULT_MP_WEBHOOK_SECRET)]
    pub mp_webhook_secret: String,
}

pub const DEFAULT_MP_WEBHOOK_SECRET: &str = "sandbox-mp-webhook-secret";

/// Sandbox settings.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    pub listen: SocketAddr,
    pub mp_webhook_url: Option<String>,
    pub conekta_webhook_url: Option<String>,
    pub mp_webhook_secret: String,
    /// How long a "charge, then time out" response is held back.
    pub hang_for: Duration,
    /// The Mercado Pago account's site (`GET /users/me`): its payments are in the site's currency.
    pub mp_site_id: String,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            mp_webhook_url: None,
            conekta_webhook_url: None,
            mp_webhook_secret: DEFAULT_MP_WEBHOOK_SECRET.to_owned(),
            hang_for: Duration::from_secs(30),
            mp_site_id: "MLM".to_owned(),
        }
    }
}

impl From<&SandboxGatewaysArgs> for SandboxConfig {
    fn from(a: &SandboxGatewaysArgs) -> Self {
        SandboxConfig {
            listen: a.listen,
            mp_webhook_url: a.mp_webhook_url.clone(),
            conekta_webhook_url: a.conekta_webhook_url.clone(),
            mp_webhook_secret: a.mp_webhook_secret.clone(),
            ..SandboxConfig::default()
        }
    }
}

/// One charge the sandbox made (declined attempts included, with their status).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LedgerEntry {
    pub gateway: GatewayKind,
    /// Conekta order id or Mercado Pago payment id.
    pub id: String,
    /// Our reference: Conekta `metadata.purchase_id`, Mercado Pago `external_reference`.
    pub reference: Option<String>,
    pub metadata: Value,
    pub amount: Decimal,
    pub currency: String,
    /// The gateway's status string (`paid`, `approved`, `declined`, `rejected`, `refunded`, …).
    pub status: String,
    pub refunded: Decimal,
    pub idempotency_key: Option<String>,
}

impl LedgerEntry {
    /// Money captured and not returned.
    pub fn net_captured(&self) -> Decimal {
        match self.status.as_str() {
            "paid" | "approved" | "refunded" | "partially_refunded" => self.amount - self.refunded,
            _ => Decimal::ZERO,
        }
    }
}

/// A request the sandbox received (bodies are kept so tests can validate them against the API specs).
#[derive(Debug, Clone, Serialize)]
pub struct RecordedRequest {
    pub gateway: &'static str,
    pub method: String,
    pub path: String,
    pub query: String,
    /// A whitelist of headers (never `Authorization`).
    pub headers: BTreeMap<String, String>,
    pub body: Value,
}

/// A Telegram message the sandbox accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TelegramMessage {
    pub bot_token: String,
    pub chat_id: String,
    pub text: String,
    pub parse_mode: Option<String>,
}

/// A webhook the sandbox sent.
#[derive(Debug, Clone, Serialize)]
pub struct SentWebhook {
    pub gateway: GatewayKind,
    pub url: String,
    pub headers: BTreeMap<String, String>,
    pub body: String,
    /// The receiver's HTTP status; `None` while the answer is awaited, or if it could not be
    /// reached.
    pub status: Option<u16>,
}

#[derive(Default)]
struct Faults {
    latency: Duration,
    fail_next: u32,
    /// When set, only this gateway's requests use up `fail_next`.
    fail_only: Option<GatewayKind>,
    hang_next: u32,
    telegram_429_next: u32,
    telegram_retry_after: u64,
    conekta_search_ignores_metadata: bool,
}

#[derive(Default)]
struct Inner {
    conekta_orders: Vec<Value>,
    conekta_used_tokens: HashSet<String>,
    conekta_card_tokens: HashMap<String, sdk::conekta_tokens::ConektaCardToken>,
    conekta_webhook_key_id: Option<String>,
    mp_card_tokens: HashMap<String, mercado_pago::CardToken>,
    mp_payments: BTreeMap<i64, Value>,
    mp_idempotency: HashMap<String, (Value, i64)>,
    mp_refund_idempotency: HashMap<String, Value>,
    mp_next_id: i64,
    mp_next_refund_id: i64,
    ledger: Vec<LedgerEntry>,
    requests: Vec<RecordedRequest>,
    telegram: Vec<TelegramMessage>,
    webhooks: Vec<SentWebhook>,
    faults: Faults,
}

pub(crate) struct Shared {
    inner: Mutex<Inner>,
    config: Mutex<SandboxConfig>,
    rsa: OnceLock<Option<RsaPrivateKey>>,
    http: reqwest::Client,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock only poisons test state; keep serving.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
    fn config(&self) -> SandboxConfig {
        self.config
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn record(&self, gateway: &'static str, req: &HttpRequest, body: &Value) {
        const KEEP: &[&str] = &[
            "accept",
            "accept-language",
            "content-type",
            "user-agent",
            "x-idempotency-key",
            "x-meli-session-id",
            "x-mercado-pago-device-id",
        ];
        let headers = req
            .headers()
            .iter()
            .filter(|(k, _)| KEEP.contains(&k.as_str()))
            .filter_map(|(k, v)| {
                v.to_str()
                    .ok()
                    .map(|v| (k.as_str().to_owned(), v.to_owned()))
            })
            .collect();
        self.lock().requests.push(RecordedRequest {
            gateway,
            method: req.method().to_string(),
            path: req.path().to_owned(),
            query: req.query_string().to_owned(),
            headers,
            body: body.clone(),
        });
    }

    /// Latency and injected 500s, applied before a Conekta or Mercado Pago request is handled.
    async fn before(&self, gateway: GatewayKind) -> bool {
        let (latency, fail) = {
            let mut g = self.lock();
            let fail =
                g.faults.fail_next > 0 && g.faults.fail_only.is_none_or(|only| only == gateway);
            if fail {
                g.faults.fail_next -= 1;
            }
            (g.faults.latency, fail)
        };
        if !latency.is_zero() {
            actix_web::rt::time::sleep(latency).await;
        }
        fail
    }

    /// "Charge, then time out": called after a charge was recorded.
    async fn maybe_hang(&self) {
        let hang = {
            let mut g = self.lock();
            let h = g.faults.hang_next > 0;
            if h {
                g.faults.hang_next -= 1;
            }
            h
        };
        if hang {
            actix_web::rt::time::sleep(self.config().hang_for).await;
        }
    }

    fn rsa_key(&self) -> Option<&RsaPrivateKey> {
        self.rsa
            .get_or_init(|| {
                let mut rng = rand::thread_rng();
                match RsaPrivateKey::new(&mut rng, 2048) {
                    Ok(k) => Some(k),
                    Err(e) => {
                        tracing::error!(error = %e, "sandbox could not generate its webhook RSA key");
                        None
                    }
                }
            })
            .as_ref()
    }

    fn public_key_pem(&self) -> Option<String> {
        use rsa::pkcs8::EncodePublicKey;
        let key = self.rsa_key()?;
        key.to_public_key()
            .to_public_key_pem(rsa::pkcs8::LineEnding::LF)
            .ok()
    }

    async fn post_webhook(
        &self,
        gateway: GatewayKind,
        url: String,
        headers: BTreeMap<String, String>,
        body: String,
    ) -> Option<u16> {
        let mut rb = self
            .http
            .post(&url)
            .header("Content-Type", "application/json")
            .body(body.clone());
        for (k, v) in &headers {
            rb = rb.header(k.as_str(), v.as_str());
        }
        // Recorded before it is sent, so that a test sees it as soon as the receiver does; its
        // status is filled in when the answer comes.
        let index = {
            let mut g = self.lock();
            g.webhooks.push(SentWebhook {
                gateway,
                url,
                headers,
                body,
                status: None,
            });
            g.webhooks.len() - 1
        };
        let status = rb.send().await.ok().map(|r| r.status().as_u16());
        if let Some(w) = self.lock().webhooks.get_mut(index) {
            w.status = status;
        }
        status
    }

    /// Sign and send a Mercado Pago notification for a payment to the configured URL.
    async fn send_mp_webhook(&self, payment_id: i64, action: &str) -> Result<Option<u16>, String> {
        let cfg = self.config();
        let url = cfg
            .mp_webhook_url
            .ok_or("no Mercado Pago webhook URL configured")?;
        let data_id = payment_id.to_string();
        let request_id = uuid::Uuid::new_v4().to_string();
        let ts = chrono::Utc::now().timestamp();
        let signature = webhook::sign_mercado_pago(
            cfg.mp_webhook_secret.as_bytes(),
            Some(&data_id),
            Some(&request_id),
            ts,
        );
        let body = json!({
            "id": rand::random::<u32>(),
            "live_mode": false,
            "type": "payment",
            "date_created": chrono::Utc::now().to_rfc3339(),
            "user_id": 123456789,
            "api_version": "v1",
            "action": action,
            "data": { "id": data_id },
        })
        .to_string();
        let sep = if url.contains('?') { '&' } else { '?' };
        let full = format!("{url}{sep}data.id={data_id}&type=payment");
        let headers = BTreeMap::from([
            ("x-signature".to_owned(), signature),
            ("x-request-id".to_owned(), request_id),
        ]);
        Ok(self
            .post_webhook(GatewayKind::MercadoPago, full, headers, body)
            .await)
    }

    /// Sign and send a Conekta event for an order to the configured URL.
    async fn send_conekta_webhook(
        &self,
        order_id: &str,
        event_type: &str,
    ) -> Result<Option<u16>, String> {
        let url = self
            .config()
            .conekta_webhook_url
            .ok_or("no Conekta webhook URL configured")?;
        let order = self
            .lock()
            .conekta_orders
            .iter()
            .find(|o| o["id"] == order_id)
            .cloned()
            .ok_or("unknown order")?;
        let body = json!({
            "id": conekta::hex_id(),
            "object": "event",
            "livemode": false,
            "type": event_type,
            "created_at": chrono::Utc::now().timestamp(),
            "data": { "object": order, "previous_attributes": {} },
            "webhook_status": "pending",
            "webhook_logs": [],
        })
        .to_string();
        let key = self.rsa_key().ok_or("no webhook key")?;
        let digest = webhook::sign_conekta(key, body.as_bytes());
        let headers = BTreeMap::from([("digest".to_owned(), digest)]);
        Ok(self
            .post_webhook(GatewayKind::Conekta, url, headers, body)
            .await)
    }

    fn spawn_mp_webhook(self: &Arc<Self>, payment_id: i64, action: &'static str) {
        if self.config().mp_webhook_url.is_none() {
            return;
        }
        let me = Arc::clone(self);
        actix_web::rt::spawn(async move {
            if let Err(e) = me.send_mp_webhook(payment_id, action).await {
                tracing::warn!(error = %e, "sandbox webhook not sent");
            }
        });
    }

    fn spawn_conekta_webhook(self: &Arc<Self>, order_id: String, event: String) {
        if self.config().conekta_webhook_url.is_none() {
            return;
        }
        let me = Arc::clone(self);
        actix_web::rt::spawn(async move {
            if let Err(e) = me.send_conekta_webhook(&order_id, &event).await {
                tracing::warn!(error = %e, "sandbox webhook not sent");
            }
        });
    }
}

/// Entry point: see [`SandboxGateways::start`].
pub struct SandboxGateways;

impl SandboxGateways {
    /// Bind, start serving on the current actix System, and return a handle.
    pub fn start(config: SandboxConfig) -> std::io::Result<SandboxHandle> {
        let listener = TcpListener::bind(config.listen)?;
        let addr = listener.local_addr()?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(std::io::Error::other)?;
        let shared = Arc::new(Shared {
            inner: Mutex::new(Inner {
                mp_next_id: 20_000_000_001,
                mp_next_refund_id: 1_091_600_001,
                ..Inner::default()
            }),
            config: Mutex::new(config),
            rsa: OnceLock::new(),
            http,
        });
        let data = web::Data::from(Arc::clone(&shared));
        let server = HttpServer::new(move || {
            App::new()
                // The SDK stand-ins call the sandbox from the portal's page, another origin.
                .wrap(
                    actix_cors::Cors::default()
                        .allow_any_origin()
                        .allow_any_method()
                        .allow_any_header()
                        .max_age(600),
                )
                .app_data(data.clone())
                .app_data(web::PayloadConfig::new(1 << 20))
                .configure(conekta::routes)
                .configure(mercado_pago::routes)
                .configure(sdk::routes)
                .configure(telegram::routes)
                .configure(control::routes)
                .default_service(web::to(not_found))
        })
        .workers(1)
        .disable_signals()
        .shutdown_timeout(1)
        .listen(listener)?
        .run();
        let server_handle = server.handle();
        actix_web::rt::spawn(server);
        tracing::info!(%addr, "sandbox gateways listening");
        Ok(SandboxHandle {
            addr,
            server: server_handle,
            shared,
        })
    }
}

async fn not_found(req: HttpRequest) -> HttpResponse {
    HttpResponse::NotFound()
        .json(json!({ "message": format!("no sandbox route for {} {}", req.method(), req.path()) }))
}

/// Control and inspection handle of a running sandbox.
#[derive(Clone)]
pub struct SandboxHandle {
    addr: SocketAddr,
    server: actix_web::dev::ServerHandle,
    shared: Arc<Shared>,
}

impl SandboxHandle {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
    /// `http://127.0.0.1:PORT`: the base URL for Conekta, Mercado Pago and Telegram alike.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }
    /// Every charge made so far, oldest first.
    pub fn ledger(&self) -> Vec<LedgerEntry> {
        self.shared.lock().ledger.clone()
    }
    /// Sum of money captured and not refunded, over all charges.
    pub fn net_captured(&self) -> Decimal {
        self.shared
            .lock()
            .ledger
            .iter()
            .map(LedgerEntry::net_captured)
            .sum()
    }
    /// Requests received for one gateway (`"conekta"`, `"mercado_pago"`, `"telegram"`).
    pub fn requests(&self, gateway: &str) -> Vec<RecordedRequest> {
        self.shared
            .lock()
            .requests
            .iter()
            .filter(|r| r.gateway == gateway)
            .cloned()
            .collect()
    }
    pub fn telegram_messages(&self) -> Vec<TelegramMessage> {
        self.shared.lock().telegram.clone()
    }
    pub fn webhooks_sent(&self) -> Vec<SentWebhook> {
        self.shared.lock().webhooks.clone()
    }
    /// Delay every Conekta and Mercado Pago answer.
    pub fn set_latency(&self, latency: Duration) {
        self.shared.lock().faults.latency = latency;
    }
    /// The next `n` Conekta or Mercado Pago requests answer 500 without doing anything.
    pub fn fail_next(&self, n: u32) {
        let mut g = self.shared.lock();
        g.faults.fail_next = n;
        g.faults.fail_only = None;
    }
    /// The next `n` requests to `gateway` answer 500 without doing anything; the other
    /// gateway's requests (e.g. the read a relayed notification causes) do not use them up.
    pub fn fail_next_on(&self, gateway: GatewayKind, n: u32) {
        let mut g = self.shared.lock();
        g.faults.fail_next = n;
        g.faults.fail_only = Some(gateway);
    }
    /// The next charge (`POST /orders` or `POST /v1/payments`) is made and recorded, then its answer is held back
    /// for `hang_for` (beyond the client's timeout).
    pub fn charge_then_timeout_next(&self) {
        self.shared.lock().faults.hang_next += 1;
    }
    pub fn set_hang_for(&self, d: Duration) {
        self.shared
            .config
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .hang_for = d;
    }
    /// The next `n` Telegram calls answer 429 with `retry_after`.
    pub fn telegram_rate_limit_next(&self, n: u32, retry_after_secs: u64) {
        let mut g = self.shared.lock();
        g.faults.telegram_429_next = n;
        g.faults.telegram_retry_after = retry_after_secs;
    }
    /// Make Conekta's `GET /orders?search=` ignore metadata (its real semantics are undocumented), so callers must
    /// fall back to scanning.
    pub fn set_conekta_search_ignores_metadata(&self, on: bool) {
        self.shared.lock().faults.conekta_search_ignores_metadata = on;
    }
    /// A pending Mercado Pago payment is approved by the payer's bank (and the webhook URL, if
    /// set, is notified). False when `payment_id` is not a pending payment.
    pub fn approve_pending_mp(&self, payment_id: i64) -> bool {
        mercado_pago::approve_pending(&self.shared, payment_id)
    }
    /// How many of the injected 429s are still to be served.
    pub fn telegram_rate_limits_pending(&self) -> u32 {
        self.shared.lock().faults.telegram_429_next
    }
    /// The Mercado Pago account's site from now on (`MLM` by default): later payments are made
    /// in its currency, as the real account's are.
    pub fn set_mp_site_id(&self, site_id: &str) {
        self.shared
            .config
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .mp_site_id = site_id.to_owned();
    }
    pub fn set_mp_webhook_url(&self, url: Option<String>) {
        self.shared
            .config
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .mp_webhook_url = url;
    }
    pub fn set_conekta_webhook_url(&self, url: Option<String>) {
        self.shared
            .config
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .conekta_webhook_url = url;
    }
    pub fn mp_webhook_secret(&self) -> String {
        self.shared.config().mp_webhook_secret
    }
    /// The PEM public key Conekta webhooks are signed with (also served by `GET/POST /webhook_keys`).
    pub fn conekta_webhook_public_key_pem(&self) -> Option<String> {
        self.shared.public_key_pem()
    }
    /// Send a signed Mercado Pago notification (`action` e.g. `payment.updated`); returns the receiver's status.
    pub async fn send_mp_webhook(
        &self,
        payment_id: i64,
        action: &str,
    ) -> Result<Option<u16>, String> {
        self.shared.send_mp_webhook(payment_id, action).await
    }
    /// Send a signed Conekta event (`event_type` e.g. `order.paid`); returns the receiver's status.
    pub async fn send_conekta_webhook(
        &self,
        order_id: &str,
        event_type: &str,
    ) -> Result<Option<u16>, String> {
        self.shared.send_conekta_webhook(order_id, event_type).await
    }
    /// Stop serving.
    pub async fn stop(&self) {
        self.server.stop(false).await;
    }
}

/// Parse a JSON request body; `Err` means malformed.
fn parse_body(bytes: &[u8]) -> Result<Value, ()> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    serde_json::from_slice(bytes).map_err(|_| ())
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}
