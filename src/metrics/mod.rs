//! Prometheus metrics: one [`Registry`] per application instance, every metric name a
//! constant of this module, and typed recording methods.
//!
//! Label cardinality is bounded by construction: labels are either closed enums
//! ([`RouterOutcome`], [`PaymentOutcome`], …), `&'static str` chosen in code (router command
//! names, HTTP route patterns), HTTP methods/status codes, or router ids. Never a MAC
//! address, a username, an e-mail or a raw request path.
//!
//! | name | type | labels |
//! | --- | --- | --- |
//! | `pagos_hotspot_build_info` | gauge (always 1) | `version` |
//! | `http_requests_total` | counter | `method`, `route`, `status` |
//! | `http_request_duration_seconds` | histogram | `method`, `route` |
//! | `router_up` | gauge (0/1) | `router_id` |
//! | `router_command_duration_seconds` | histogram | `command`, `outcome` |
//! | `router_commands_total` | counter | `command`, `outcome` |
//! | `router_queue_depth` | gauge | `router_id` |
//! | `router_reconnects_total` | counter | `router_id` |
//! | `router_session_age_seconds` | gauge | `router_id` |
//! | `payments_total` | counter | `gateway`, `outcome` |
//! | `payment_amount_total` | counter (currency units) | `gateway`, `currency` |
//! | `purchase_duration_seconds` | histogram | `gateway`, `outcome` |
//! | `compensations_total` | counter | `kind`, `outcome` |
//! | `reconciler_actions_total` | counter | `action` |
//! | `reconciler_backlog` | gauge | — |
//! | `webhooks_total` | counter | `gateway`, `outcome` |
//! | `gateway_request_duration_seconds` | histogram | `gateway`, `operation`, `outcome` |
//!
//! `route` is the matched actix pattern (`/api/v1/routers/{router_id}`), or `unmatched`.

use std::future::Future;
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web;
use prometheus::{
    CounterVec, Encoder, Gauge, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec,
    Opts, Registry, TextEncoder,
};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

use crate::gateways::{GatewayError, GatewayKind};
use crate::state::AppState;

pub const BUILD_INFO: &str = "pagos_hotspot_build_info";
pub const HTTP_REQUESTS_TOTAL: &str = "http_requests_total";
pub const HTTP_REQUEST_DURATION_SECONDS: &str = "http_request_duration_seconds";
pub const ROUTER_UP: &str = "router_up";
pub const ROUTER_COMMAND_DURATION_SECONDS: &str = "router_command_duration_seconds";
pub const ROUTER_COMMANDS_TOTAL: &str = "router_commands_total";
pub const ROUTER_QUEUE_DEPTH: &str = "router_queue_depth";
pub const ROUTER_RECONNECTS_TOTAL: &str = "router_reconnects_total";
pub const ROUTER_SESSION_AGE_SECONDS: &str = "router_session_age_seconds";
pub const PAYMENTS_TOTAL: &str = "payments_total";
pub const PAYMENT_AMOUNT_TOTAL: &str = "payment_amount_total";
pub const PURCHASE_DURATION_SECONDS: &str = "purchase_duration_seconds";
pub const COMPENSATIONS_TOTAL: &str = "compensations_total";
pub const RECONCILER_ACTIONS_TOTAL: &str = "reconciler_actions_total";
pub const RECONCILER_BACKLOG: &str = "reconciler_backlog";
pub const WEBHOOKS_TOTAL: &str = "webhooks_total";
pub const GATEWAY_REQUEST_DURATION_SECONDS: &str = "gateway_request_duration_seconds";

/// Every metric family the service registers.
pub const ALL_METRIC_NAMES: &[&str] = &[
    BUILD_INFO,
    HTTP_REQUESTS_TOTAL,
    HTTP_REQUEST_DURATION_SECONDS,
    ROUTER_UP,
    ROUTER_COMMAND_DURATION_SECONDS,
    ROUTER_COMMANDS_TOTAL,
    ROUTER_QUEUE_DEPTH,
    ROUTER_RECONNECTS_TOTAL,
    ROUTER_SESSION_AGE_SECONDS,
    PAYMENTS_TOTAL,
    PAYMENT_AMOUNT_TOTAL,
    PURCHASE_DURATION_SECONDS,
    COMPENSATIONS_TOTAL,
    RECONCILER_ACTIONS_TOTAL,
    RECONCILER_BACKLOG,
    WEBHOOKS_TOTAL,
    GATEWAY_REQUEST_DURATION_SECONDS,
];

/// The families exported as histograms (their series are `_bucket`, `_sum` and `_count`).
pub const HISTOGRAM_NAMES: &[&str] = &[
    HTTP_REQUEST_DURATION_SECONDS,
    ROUTER_COMMAND_DURATION_SECONDS,
    PURCHASE_DURATION_SECONDS,
    GATEWAY_REQUEST_DURATION_SECONDS,
];

/// Content type of the text exposition format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

const HTTP_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];
const ROUTER_BUCKETS: &[f64] = &[
    0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];
const PURCHASE_BUCKETS: &[f64] = &[0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0];
const GATEWAY_BUCKETS: &[f64] = &[
    0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0,
];

/// Outcome of one RouterOS command (label `outcome` of the router command metrics).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouterOutcome {
    /// `!done` without a trap.
    Ok,
    /// The router answered `!trap` (the session is kept).
    Trap,
    /// The command missed its deadline.
    Timeout,
    /// `!fatal`, end of stream, protocol error or no session: the command did not complete.
    ConnectionLost,
    /// Refused at once because the router's queue was full (`RouterBusy`).
    Busy,
    /// Anything else (bad credentials, internal error).
    Error,
}

impl RouterOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            RouterOutcome::Ok => "ok",
            RouterOutcome::Trap => "trap",
            RouterOutcome::Timeout => "timeout",
            RouterOutcome::ConnectionLost => "connection_lost",
            RouterOutcome::Busy => "busy",
            RouterOutcome::Error => "error",
        }
    }
}

/// What the gateway answered to a charge (label `outcome` of `payments_total`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentOutcome {
    /// Money captured and confirmed.
    Paid,
    /// Funds held (pre-authorisation).
    Authorized,
    /// Not final yet (left to webhooks / the reconciler).
    Pending,
    /// Declined by the gateway or the bank.
    Declined,
    /// Refused before charging (invalid request, credentials, rate limit).
    Rejected,
    /// Timeout / 5xx / transport failure: the outcome is unknown, to be reconciled.
    Unknown,
    /// Refunded later (webhook or compensation).
    Refunded,
    /// Charged back by the card holder.
    ChargedBack,
}

impl PaymentOutcome {
    /// Every value (the series initialised at zero).
    pub const ALL: &[Self] = &[
        PaymentOutcome::Paid,
        PaymentOutcome::Authorized,
        PaymentOutcome::Pending,
        PaymentOutcome::Declined,
        PaymentOutcome::Rejected,
        PaymentOutcome::Unknown,
        PaymentOutcome::Refunded,
        PaymentOutcome::ChargedBack,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PaymentOutcome::Paid => "paid",
            PaymentOutcome::Authorized => "authorized",
            PaymentOutcome::Pending => "pending",
            PaymentOutcome::Declined => "declined",
            PaymentOutcome::Rejected => "rejected",
            PaymentOutcome::Unknown => "unknown",
            PaymentOutcome::Refunded => "refunded",
            PaymentOutcome::ChargedBack => "charged_back",
        }
    }

    /// The outcome of a charge call as the gateway clients return it.
    pub fn of_charge(result: &Result<crate::gateways::ChargeOutcome, GatewayError>) -> Self {
        use crate::gateways::ChargeOutcome;
        match result {
            Ok(ChargeOutcome::Paid { .. }) => PaymentOutcome::Paid,
            Ok(ChargeOutcome::Authorized { .. }) => PaymentOutcome::Authorized,
            Ok(ChargeOutcome::Pending { .. }) => PaymentOutcome::Pending,
            Ok(ChargeOutcome::Declined { .. }) => PaymentOutcome::Declined,
            Err(e) if e.outcome_unknown() => PaymentOutcome::Unknown,
            Err(_) => PaymentOutcome::Rejected,
        }
    }
}

/// How a purchase ended, from the portal's point of view (label `outcome` of
/// `purchase_duration_seconds`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PurchaseOutcome {
    /// Paid and the user enabled: credentials returned.
    Completed,
    /// Declined by the gateway; nothing charged, user removed.
    Declined,
    /// Left in an intermediate state for webhooks or the reconciler.
    Pending,
    /// Failed (router or gateway error), compensated.
    Failed,
}

impl PurchaseOutcome {
    /// Every value (the series initialised at zero).
    pub const ALL: &[Self] = &[
        PurchaseOutcome::Completed,
        PurchaseOutcome::Declined,
        PurchaseOutcome::Pending,
        PurchaseOutcome::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PurchaseOutcome::Completed => "completed",
            PurchaseOutcome::Declined => "declined",
            PurchaseOutcome::Pending => "pending",
            PurchaseOutcome::Failed => "failed",
        }
    }
}

/// A compensating step of the purchase saga or the reconciler (label `kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompensationKind {
    /// Removed a hotspot user created for a purchase that was not paid.
    RemoveUser,
    /// Disabled a hotspot user (refund or chargeback after access was granted).
    DisableUser,
    /// Refunded a captured charge.
    Refund,
    /// Cancelled an authorised or pending charge.
    CancelCharge,
}

impl CompensationKind {
    /// Every value (the series initialised at zero).
    pub const ALL: &[Self] = &[
        CompensationKind::RemoveUser,
        CompensationKind::DisableUser,
        CompensationKind::Refund,
        CompensationKind::CancelCharge,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CompensationKind::RemoveUser => "remove_user",
            CompensationKind::DisableUser => "disable_user",
            CompensationKind::Refund => "refund",
            CompensationKind::CancelCharge => "cancel_charge",
        }
    }
}

/// What the reconciler did to one stuck purchase (label `action`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReconcilerAction {
    /// Payment confirmed at the gateway: user enabled, purchase completed.
    Completed,
    /// Money had moved but access could not be granted: refunded.
    Refunded,
    /// Authorised/pending charge cancelled.
    Cancelled,
    /// No money moved: purchase marked failed (user removed).
    MarkedFailed,
    /// Still undecided (gateway or router unreachable): retried later.
    Retried,
    /// The reconciler itself failed on this purchase.
    Error,
}

impl ReconcilerAction {
    /// Every value (the series initialised at zero).
    pub const ALL: &[Self] = &[
        ReconcilerAction::Completed,
        ReconcilerAction::Refunded,
        ReconcilerAction::Cancelled,
        ReconcilerAction::MarkedFailed,
        ReconcilerAction::Retried,
        ReconcilerAction::Error,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReconcilerAction::Completed => "completed",
            ReconcilerAction::Refunded => "refunded",
            ReconcilerAction::Cancelled => "cancelled",
            ReconcilerAction::MarkedFailed => "marked_failed",
            ReconcilerAction::Retried => "retried",
            ReconcilerAction::Error => "error",
        }
    }
}

/// What happened to an incoming gateway webhook (label `outcome`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookOutcome {
    /// Verified and applied.
    Processed,
    /// Already seen (same event id).
    Duplicate,
    /// Verified but irrelevant (unknown payment, uninteresting event type).
    Ignored,
    /// Signature missing or wrong.
    InvalidSignature,
    /// Unparseable body or missing fields.
    Malformed,
    /// Verified but processing failed.
    Error,
}

impl WebhookOutcome {
    /// Every value (the series initialised at zero).
    pub const ALL: &[Self] = &[
        WebhookOutcome::Processed,
        WebhookOutcome::Duplicate,
        WebhookOutcome::Ignored,
        WebhookOutcome::InvalidSignature,
        WebhookOutcome::Malformed,
        WebhookOutcome::Error,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            WebhookOutcome::Processed => "processed",
            WebhookOutcome::Duplicate => "duplicate",
            WebhookOutcome::Ignored => "ignored",
            WebhookOutcome::InvalidSignature => "invalid_signature",
            WebhookOutcome::Malformed => "malformed",
            WebhookOutcome::Error => "error",
        }
    }
}

/// An outbound payment-gateway call (label `operation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GatewayOperation {
    /// Conekta `POST /orders`, Mercado Pago `POST /v1/payments`.
    Charge,
    /// Read one charge by gateway id.
    Get,
    /// Look a charge up by our reference.
    FindByReference,
    Refund,
    Cancel,
}

impl GatewayOperation {
    /// Every value (the series initialised at zero).
    pub const ALL: &[Self] = &[
        GatewayOperation::Charge,
        GatewayOperation::Get,
        GatewayOperation::FindByReference,
        GatewayOperation::Refund,
        GatewayOperation::Cancel,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            GatewayOperation::Charge => "charge",
            GatewayOperation::Get => "get",
            GatewayOperation::FindByReference => "find_by_reference",
            GatewayOperation::Refund => "refund",
            GatewayOperation::Cancel => "cancel",
        }
    }
}

/// Label value of a gateway.
pub fn gateway_label(gateway: GatewayKind) -> &'static str {
    match gateway {
        GatewayKind::Conekta => "conekta",
        GatewayKind::MercadoPago => "mercado_pago",
    }
}

/// Every value [`gateway_call_outcome`] returns (the series initialised at zero).
pub const GATEWAY_CALL_OUTCOMES: &[&str] = &[
    "ok",
    "rejected",
    "auth_error",
    "not_found",
    "rate_limited",
    "timeout",
    "unavailable",
];

/// The currencies a product may have (label `currency` of `payment_amount_total`).
const CURRENCIES: &[&str] = &["MXN", "USD", "EUR"];

/// Label `outcome` of `gateway_request_duration_seconds` for a call's result: `ok` when the
/// gateway answered (a declined charge is `ok` here: the call worked), else the error class.
pub fn gateway_call_outcome<T>(result: &Result<T, GatewayError>) -> &'static str {
    match result {
        Ok(_) => "ok",
        Err(GatewayError::InvalidRequest { .. }) => "rejected",
        Err(GatewayError::Authentication { .. }) => "auth_error",
        Err(GatewayError::NotFound { .. }) => "not_found",
        Err(GatewayError::RateLimited { .. }) => "rate_limited",
        Err(GatewayError::Timeout { .. }) => "timeout",
        Err(GatewayError::Unavailable { .. }) => "unavailable",
    }
}

/// Currency label, restricted to the accepted currencies.
fn currency_label(currency: &str) -> &'static str {
    match currency.trim().to_ascii_uppercase().as_str() {
        "MXN" => "MXN",
        "USD" => "USD",
        "EUR" => "EUR",
        _ => "other",
    }
}

fn method_label(method: &actix_web::http::Method) -> &'static str {
    use actix_web::http::Method;
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// The service's metrics, registered in one registry owned by this value.
pub struct Metrics {
    registry: Registry,
    http_requests: IntCounterVec,
    http_duration: HistogramVec,
    router_up: IntGaugeVec,
    router_command_duration: HistogramVec,
    router_commands: IntCounterVec,
    router_queue_depth: IntGaugeVec,
    router_reconnects: IntCounterVec,
    router_session_age: prometheus::GaugeVec,
    payments: IntCounterVec,
    payment_amount: CounterVec,
    purchase_duration: HistogramVec,
    compensations: IntCounterVec,
    reconciler_actions: IntCounterVec,
    reconciler_backlog: IntGauge,
    webhooks: IntCounterVec,
    gateway_duration: HistogramVec,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

fn reg<C: prometheus::core::Collector + Clone + 'static>(
    registry: &Registry,
    c: C,
) -> prometheus::Result<C> {
    registry.register(Box::new(c.clone()))?;
    Ok(c)
}

fn counter_vec(
    r: &Registry,
    name: &str,
    help: &str,
    labels: &[&str],
) -> prometheus::Result<IntCounterVec> {
    reg(r, IntCounterVec::new(Opts::new(name, help), labels)?)
}

fn gauge_vec(
    r: &Registry,
    name: &str,
    help: &str,
    labels: &[&str],
) -> prometheus::Result<IntGaugeVec> {
    reg(r, IntGaugeVec::new(Opts::new(name, help), labels)?)
}

fn histogram_vec(
    r: &Registry,
    name: &str,
    help: &str,
    labels: &[&str],
    buckets: &[f64],
) -> prometheus::Result<HistogramVec> {
    reg(
        r,
        HistogramVec::new(
            HistogramOpts::new(name, help).buckets(buckets.to_vec()),
            labels,
        )?,
    )
}

impl Metrics {
    /// A fresh registry with every metric registered.
    pub fn new() -> prometheus::Result<Self> {
        let r = Registry::new();
        let build = reg(
            &r,
            Gauge::with_opts(
                Opts::new(BUILD_INFO, "Build information; always 1.")
                    .const_label("version", env!("CARGO_PKG_VERSION")),
            )?,
        )?;
        build.set(1.0);
        let metrics = Self {
            http_requests: counter_vec(
                &r,
                HTTP_REQUESTS_TOTAL,
                "HTTP requests by method, matched route pattern and status code.",
                &["method", "route", "status"],
            )?,
            http_duration: histogram_vec(
                &r,
                HTTP_REQUEST_DURATION_SECONDS,
                "HTTP request duration by method and matched route pattern.",
                &["method", "route"],
                HTTP_BUCKETS,
            )?,
            router_up: gauge_vec(
                &r,
                ROUTER_UP,
                "1 when the router's RouterOS API session is established and answering.",
                &["router_id"],
            )?,
            router_command_duration: histogram_vec(
                &r,
                ROUTER_COMMAND_DURATION_SECONDS,
                "RouterOS command latency (queueing included) by command and outcome.",
                &["command", "outcome"],
                ROUTER_BUCKETS,
            )?,
            router_commands: counter_vec(
                &r,
                ROUTER_COMMANDS_TOTAL,
                "RouterOS commands by command and outcome.",
                &["command", "outcome"],
            )?,
            router_queue_depth: gauge_vec(
                &r,
                ROUTER_QUEUE_DEPTH,
                "Commands waiting in the router actor's mailbox.",
                &["router_id"],
            )?,
            router_reconnects: counter_vec(
                &r,
                ROUTER_RECONNECTS_TOTAL,
                "RouterOS API sessions re-established after a loss.",
                &["router_id"],
            )?,
            router_session_age: reg(
                &r,
                prometheus::GaugeVec::new(
                    Opts::new(
                        ROUTER_SESSION_AGE_SECONDS,
                        "Age of the current RouterOS API session (0 when down).",
                    ),
                    &["router_id"],
                )?,
            )?,
            payments: counter_vec(
                &r,
                PAYMENTS_TOTAL,
                "Payment results by gateway and outcome.",
                &["gateway", "outcome"],
            )?,
            payment_amount: reg(
                &r,
                CounterVec::new(
                    Opts::new(
                        PAYMENT_AMOUNT_TOTAL,
                        "Confirmed revenue in currency units, by gateway and currency.",
                    ),
                    &["gateway", "currency"],
                )?,
            )?,
            purchase_duration: histogram_vec(
                &r,
                PURCHASE_DURATION_SECONDS,
                "Portal purchase duration, from request to answer, by gateway and outcome.",
                &["gateway", "outcome"],
                PURCHASE_BUCKETS,
            )?,
            compensations: counter_vec(
                &r,
                COMPENSATIONS_TOTAL,
                "Compensating actions (undo steps) by kind and whether they succeeded.",
                &["kind", "outcome"],
            )?,
            reconciler_actions: counter_vec(
                &r,
                RECONCILER_ACTIONS_TOTAL,
                "Actions the reconciler took on stuck purchases.",
                &["action"],
            )?,
            reconciler_backlog: reg(
                &r,
                IntGauge::new(
                    RECONCILER_BACKLOG,
                    "Purchases in an intermediate state found by the last reconciler pass.",
                )?,
            )?,
            webhooks: counter_vec(
                &r,
                WEBHOOKS_TOTAL,
                "Incoming gateway webhooks by gateway and outcome.",
                &["gateway", "outcome"],
            )?,
            gateway_duration: histogram_vec(
                &r,
                GATEWAY_REQUEST_DURATION_SECONDS,
                "Outbound payment-gateway request latency by gateway, operation and outcome.",
                &["gateway", "operation", "outcome"],
                GATEWAY_BUCKETS,
            )?,
            registry: r,
        };
        metrics.init_known_series();
        Ok(metrics)
    }

    /// Creates, at zero, every series whose labels are known in advance (gateways, outcomes,
    /// actions, currencies), so that a fresh install's dashboard shows 0 rather than "No
    /// data" until the first event of each kind. Per-router series appear with their router;
    /// HTTP series with their first request.
    fn init_known_series(&self) {
        const GATEWAYS: [GatewayKind; 2] = [GatewayKind::Conekta, GatewayKind::MercadoPago];
        for gateway in GATEWAYS.map(gateway_label) {
            for outcome in PaymentOutcome::ALL {
                self.payments
                    .with_label_values(&[gateway, outcome.as_str()]);
            }
            for currency in CURRENCIES {
                self.payment_amount.with_label_values(&[gateway, currency]);
            }
            for outcome in PurchaseOutcome::ALL {
                self.purchase_duration
                    .with_label_values(&[gateway, outcome.as_str()]);
            }
            for outcome in WebhookOutcome::ALL {
                self.webhooks
                    .with_label_values(&[gateway, outcome.as_str()]);
            }
            for operation in GatewayOperation::ALL {
                for outcome in GATEWAY_CALL_OUTCOMES {
                    self.gateway_duration.with_label_values(&[
                        gateway,
                        operation.as_str(),
                        outcome,
                    ]);
                }
            }
        }
        for kind in CompensationKind::ALL {
            for outcome in ["ok", "failed"] {
                self.compensations
                    .with_label_values(&[kind.as_str(), outcome]);
            }
        }
        for action in ReconcilerAction::ALL {
            self.reconciler_actions
                .with_label_values(&[action.as_str()]);
        }
    }

    /// The registry (for extra collectors or direct gathering in tests).
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The text exposition of every metric.
    pub fn render(&self) -> prometheus::Result<String> {
        let mut out = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut out)?;
        String::from_utf8(out).map_err(|e| prometheus::Error::Msg(e.to_string()))
    }

    // ---- HTTP ----

    /// One finished HTTP request. `route` must be a matched pattern or `"unmatched"`.
    pub fn observe_http(
        &self,
        method: &actix_web::http::Method,
        route: &str,
        status: u16,
        elapsed: Duration,
    ) {
        let method = method_label(method);
        let status = status.to_string();
        self.http_requests
            .with_label_values(&[method, route, status.as_str()])
            .inc();
        self.http_duration
            .with_label_values(&[method, route])
            .observe(elapsed.as_secs_f64());
    }

    // ---- routers (the broker) ----

    /// Whether the router's session is up.
    pub fn set_router_up(&self, router_id: &str, up: bool) {
        self.router_up
            .with_label_values(&[router_id])
            .set(i64::from(up));
    }

    /// One RouterOS command: `command` is a fixed name chosen in code (`"create_user"`,
    /// `"enable_user"`, `"remove_user"`, `"bind_mac"`, `"login_active"`, `"list_profiles"`,
    /// `"ping"`…), `elapsed` from enqueueing to the answer.
    pub fn observe_router_command(
        &self,
        command: &'static str,
        outcome: RouterOutcome,
        elapsed: Duration,
    ) {
        let labels = [command, outcome.as_str()];
        self.router_commands.with_label_values(&labels).inc();
        self.router_command_duration
            .with_label_values(&labels)
            .observe(elapsed.as_secs_f64());
    }

    /// Commands currently queued for the router.
    pub fn set_router_queue_depth(&self, router_id: &str, depth: usize) {
        self.router_queue_depth
            .with_label_values(&[router_id])
            .set(i64::try_from(depth).unwrap_or(i64::MAX));
    }

    /// A session re-established after a loss (not the first connection).
    pub fn inc_router_reconnects(&self, router_id: &str) {
        self.router_reconnects.with_label_values(&[router_id]).inc();
    }

    /// Age of the current session; pass `Duration::ZERO` when down.
    pub fn set_router_session_age(&self, router_id: &str, age: Duration) {
        self.router_session_age
            .with_label_values(&[router_id])
            .set(age.as_secs_f64());
    }

    /// Creates the router's series (up = 0, queue 0, reconnects 0, age 0) so that dashboards
    /// see a router as soon as its actor starts.
    pub fn register_router(&self, router_id: &str) {
        self.set_router_up(router_id, false);
        self.set_router_queue_depth(router_id, 0);
        self.router_reconnects.with_label_values(&[router_id]);
        self.set_router_session_age(router_id, Duration::ZERO);
    }

    /// Drops every series of a deleted router.
    pub fn forget_router(&self, router_id: &str) {
        let labels = [router_id];
        let _ = self.router_up.remove_label_values(&labels);
        let _ = self.router_queue_depth.remove_label_values(&labels);
        let _ = self.router_reconnects.remove_label_values(&labels);
        let _ = self.router_session_age.remove_label_values(&labels);
    }

    // ---- payments (the purchase saga, webhooks, the reconciler) ----

    /// A payment result (a charge's answer, or a later refund/chargeback).
    pub fn record_payment(&self, gateway: GatewayKind, outcome: PaymentOutcome) {
        self.payments
            .with_label_values(&[gateway_label(gateway), outcome.as_str()])
            .inc();
    }

    /// Confirmed revenue: call once per purchase whose payment was confirmed. Negative amounts
    /// are ignored (a counter only grows; refunds are `record_payment(.., Refunded)`).
    pub fn add_revenue(&self, gateway: GatewayKind, currency: &str, amount: Decimal) {
        let Some(value) = amount.to_f64() else { return };
        if value.is_finite() && value > 0.0 {
            self.payment_amount
                .with_label_values(&[gateway_label(gateway), currency_label(currency)])
                .inc_by(value);
        }
    }

    /// One portal purchase from request to answer.
    pub fn observe_purchase(
        &self,
        gateway: GatewayKind,
        outcome: PurchaseOutcome,
        elapsed: Duration,
    ) {
        self.purchase_duration
            .with_label_values(&[gateway_label(gateway), outcome.as_str()])
            .observe(elapsed.as_secs_f64());
    }

    /// A compensating action and whether it succeeded.
    pub fn record_compensation(&self, kind: CompensationKind, succeeded: bool) {
        self.compensations
            .with_label_values(&[kind.as_str(), if succeeded { "ok" } else { "failed" }])
            .inc();
    }

    /// One reconciler decision.
    pub fn record_reconciler_action(&self, action: ReconcilerAction) {
        self.reconciler_actions
            .with_label_values(&[action.as_str()])
            .inc();
    }

    /// Purchases found stuck in an intermediate state by the last reconciler pass.
    pub fn set_reconciler_backlog(&self, stuck: usize) {
        self.reconciler_backlog
            .set(i64::try_from(stuck).unwrap_or(i64::MAX));
    }

    /// One incoming webhook.
    pub fn record_webhook(&self, gateway: GatewayKind, outcome: WebhookOutcome) {
        self.webhooks
            .with_label_values(&[gateway_label(gateway), outcome.as_str()])
            .inc();
    }

    /// One outbound gateway request; `outcome` from [`gateway_call_outcome`].
    pub fn observe_gateway_request(
        &self,
        gateway: GatewayKind,
        operation: GatewayOperation,
        outcome: &'static str,
        elapsed: Duration,
    ) {
        self.gateway_duration
            .with_label_values(&[gateway_label(gateway), operation.as_str(), outcome])
            .observe(elapsed.as_secs_f64());
    }

    /// Runs a gateway call and records its latency and outcome:
    /// `metrics.time_gateway(GatewayKind::Conekta, GatewayOperation::Charge, client.create_order(..)).await`.
    pub async fn time_gateway<T, F>(
        &self,
        gateway: GatewayKind,
        operation: GatewayOperation,
        call: F,
    ) -> Result<T, GatewayError>
    where
        F: Future<Output = Result<T, GatewayError>>,
    {
        let started = Instant::now();
        let result = call.await;
        self.observe_gateway_request(
            gateway,
            operation,
            gateway_call_outcome(&result),
            started.elapsed(),
        );
        result
    }
}

/// The router broker reports into these metrics.
impl routeros::RouterObserver for Metrics {
    fn started(&self, router_id: &str) {
        self.register_router(router_id);
    }
    fn forgotten(&self, router_id: &str) {
        self.forget_router(router_id);
    }
    fn command(
        &self,
        _router_id: &str,
        command: &'static str,
        outcome: &'static str,
        elapsed: Duration,
    ) {
        let outcome = match outcome {
            "ok" => RouterOutcome::Ok,
            "trap" => RouterOutcome::Trap,
            "timeout" => RouterOutcome::Timeout,
            "connection_lost" => RouterOutcome::ConnectionLost,
            "busy" => RouterOutcome::Busy,
            _ => RouterOutcome::Error,
        };
        self.observe_router_command(command, outcome, elapsed);
    }
    fn up(&self, router_id: &str, up: bool) {
        self.set_router_up(router_id, up);
    }
    fn queue_depth(&self, router_id: &str, depth: usize) {
        self.set_router_queue_depth(router_id, depth);
    }
    fn reconnect(&self, router_id: &str) {
        self.inc_router_reconnects(router_id);
    }
    fn session_age(&self, router_id: &str, age: Duration) {
        self.set_router_session_age(router_id, age);
    }
}

/// Middleware recording `http_requests_total` and `http_request_duration_seconds`. The route
/// label is the matched pattern, never the raw path.
pub async fn record_http(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let metrics = req
        .app_data::<web::Data<AppState>>()
        .map(|s| s.metrics.clone());
    let method = req.method().clone();
    let route = req.match_pattern().unwrap_or_else(|| "unmatched".into());
    let started = Instant::now();
    let result = next.call(req).await;
    if let Some(metrics) = metrics {
        let status = match &result {
            Ok(res) => res.status().as_u16(),
            Err(e) => e.as_response_error().status_code().as_u16(),
        };
        metrics.observe_http(&method, &route, status, started.elapsed());
    }
    result
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use std::collections::BTreeSet;

    /// Touches every family through the public API.
    fn touch_all(m: &Metrics) {
        m.observe_http(
            &actix_web::http::Method::GET,
            "/health",
            200,
            Duration::from_millis(3),
        );
        m.register_router("RTR_1");
        m.set_router_up("RTR_1", true);
        m.observe_router_command("ping", RouterOutcome::Ok, Duration::from_millis(2));
        m.set_router_queue_depth("RTR_1", 3);
        m.inc_router_reconnects("RTR_1");
        m.set_router_session_age("RTR_1", Duration::from_secs(5));
        m.record_payment(GatewayKind::Conekta, PaymentOutcome::Paid);
        m.add_revenue(GatewayKind::Conekta, "mxn", Decimal::new(1999, 2));
        m.observe_purchase(
            GatewayKind::Conekta,
            PurchaseOutcome::Completed,
            Duration::from_millis(800),
        );
        m.record_compensation(CompensationKind::RemoveUser, true);
        m.record_reconciler_action(ReconcilerAction::Completed);
        m.set_reconciler_backlog(2);
        m.record_webhook(GatewayKind::MercadoPago, WebhookOutcome::Processed);
        m.observe_gateway_request(
            GatewayKind::MercadoPago,
            GatewayOperation::Charge,
            "ok",
            Duration::from_millis(120),
        );
    }

    #[test]
    fn every_named_family_is_registered_and_nothing_else() {
        let m = Metrics::new().unwrap();
        touch_all(&m);
        let gathered: BTreeSet<String> = m
            .registry()
            .gather()
            .iter()
            .map(|f| f.name().to_string())
            .collect();
        let named: BTreeSet<String> = ALL_METRIC_NAMES.iter().map(|s| s.to_string()).collect();
        assert_eq!(gathered, named);
        let histograms: BTreeSet<String> = m
            .registry()
            .gather()
            .iter()
            .filter(|f| f.get_field_type() == prometheus::proto::MetricType::HISTOGRAM)
            .map(|f| f.name().to_string())
            .collect();
        let expected: BTreeSet<String> = HISTOGRAM_NAMES.iter().map(|s| s.to_string()).collect();
        assert_eq!(histograms, expected);
    }

    #[test]
    fn two_instances_do_not_share_state() {
        let a = Metrics::new().unwrap();
        let b = Metrics::new().unwrap();
        a.record_payment(GatewayKind::Conekta, PaymentOutcome::Paid);
        let paid = r#"payments_total{gateway="conekta",outcome="paid"}"#;
        assert!(a.render().unwrap().contains(&format!("{paid} 1")));
        // The series exists at zero from the start (known labels), untouched by `a`.
        assert!(b.render().unwrap().contains(&format!("{paid} 0")));
    }

    #[test]
    fn revenue_accumulates_per_currency_and_ignores_bad_amounts() {
        let m = Metrics::new().unwrap();
        m.add_revenue(GatewayKind::Conekta, "MXN", Decimal::new(1999, 2));
        m.add_revenue(GatewayKind::Conekta, " mxn ", Decimal::new(1, 2));
        m.add_revenue(GatewayKind::Conekta, "MXN", Decimal::new(-500, 2));
        m.add_revenue(GatewayKind::Conekta, "XYZ", Decimal::new(100, 0));
        let text = m.render().unwrap();
        assert!(
            text.contains(r#"payment_amount_total{currency="MXN",gateway="conekta"} 20"#),
            "{text}"
        );
        assert!(text.contains(r#"payment_amount_total{currency="other",gateway="conekta"} 100"#));
    }

    #[test]
    fn forget_router_drops_only_that_routers_series() {
        let m = Metrics::new().unwrap();
        m.register_router("RTR_A");
        m.register_router("RTR_B");
        m.set_router_up("RTR_A", true);
        m.inc_router_reconnects("RTR_A");
        m.forget_router("RTR_A");
        let text = m.render().unwrap();
        assert!(!text.contains("RTR_A"), "{text}");
        assert!(text.contains(r#"router_up{router_id="RTR_B"} 0"#));
        assert!(text.contains(r#"router_reconnects_total{router_id="RTR_B"} 0"#));
        // Forgetting an unknown router is harmless.
        m.forget_router("RTR_UNKNOWN");
    }

    #[test]
    fn router_command_counts_and_histogram_agree() {
        let m = Metrics::new().unwrap();
        for _ in 0..3 {
            m.observe_router_command("create_user", RouterOutcome::Ok, Duration::from_millis(4));
        }
        m.observe_router_command(
            "create_user",
            RouterOutcome::Timeout,
            Duration::from_secs(3),
        );
        let text = m.render().unwrap();
        assert!(text.contains(r#"router_commands_total{command="create_user",outcome="ok"} 3"#));
        assert!(text.contains(
            r#"router_command_duration_seconds_count{command="create_user",outcome="timeout"} 1"#
        ));
        assert!(text.contains(
            r#"router_command_duration_seconds_bucket{command="create_user",outcome="ok",le="0.005"} 3"#
        ));
    }

    #[test]
    fn gateway_outcomes_are_classified() {
        let timeout: Result<(), GatewayError> = Err(GatewayError::Timeout {
            message_es: "x".into(),
            http_status: 504,
        });
        assert_eq!(gateway_call_outcome(&timeout), "timeout");
        assert_eq!(gateway_call_outcome(&Ok::<(), GatewayError>(())), "ok");
        let declined = Ok(crate::gateways::ChargeOutcome::Declined {
            gateway_id: None,
            code: "card_declined".into(),
            message_es: "x".into(),
            http_status: 402,
            raw: serde_json::Value::Null,
        });
        assert_eq!(
            PaymentOutcome::of_charge(&declined),
            PaymentOutcome::Declined
        );
        let unknown = Err(GatewayError::Unavailable {
            reason: "503".into(),
            message_es: "x".into(),
            http_status: 502,
        });
        assert_eq!(PaymentOutcome::of_charge(&unknown), PaymentOutcome::Unknown);
    }

    #[actix_web::test]
    async fn time_gateway_records_the_call() {
        let m = Metrics::new().unwrap();
        let r: Result<u8, GatewayError> = m
            .time_gateway(GatewayKind::Conekta, GatewayOperation::Refund, async {
                Err(GatewayError::RateLimited {
                    message_es: "x".into(),
                    http_status: 429,
                    retry_after: None,
                })
            })
            .await;
        assert!(r.is_err());
        assert!(m.render().unwrap().contains(
            r#"gateway_request_duration_seconds_count{gateway="conekta",operation="refund",outcome="rate_limited"} 1"#
        ));
    }
    #[actix_web::test]
    async fn middleware_labels_requests_by_route_pattern_never_the_raw_path() {
        use actix_web::{middleware::from_fn, test, App, HttpResponse};
        let config = crate::config::Config::for_tests("sqlite::memory:");
        let state = web::Data::new(
            AppState::new(sea_orm::DatabaseConnection::Disconnected, config).unwrap(),
        );
        let app = test::init_service(
            App::new()
                .app_data(state.clone())
                .wrap(from_fn(record_http))
                .route(
                    "/things/{thing_id}",
                    web::get().to(|| async { HttpResponse::Ok().finish() }),
                )
                .route(
                    "/boom",
                    web::post().to(|| async { HttpResponse::InternalServerError().finish() }),
                ),
        )
        .await;
        for path in ["/things/AA:BB:CC:DD:EE:FF", "/things/user@example.com"] {
            let res =
                test::call_service(&app, test::TestRequest::get().uri(path).to_request()).await;
            assert_eq!(res.status(), 200);
        }
        let res = test::call_service(
            &app,
            test::TestRequest::get()
                .uri("/secret/raw/path")
                .to_request(),
        )
        .await;
        assert_eq!(res.status(), 404);
        let res =
            test::call_service(&app, test::TestRequest::post().uri("/boom").to_request()).await;
        assert_eq!(res.status(), 500);
        let text = state.metrics.render().unwrap();
        assert!(
            text.contains(
                r#"http_requests_total{method="GET",route="/things/{thing_id}",status="200"} 2"#
            ),
            "{text}"
        );
        assert!(
            text.contains(r#"http_requests_total{method="GET",route="unmatched",status="404"} 1"#)
        );
        assert!(text.contains(r#"http_requests_total{method="POST",route="/boom",status="500"} 1"#));
        assert!(text.contains(
            r#"http_request_duration_seconds_count{method="GET",route="/things/{thing_id}"} 2"#
        ));
        for raw in ["AA:BB", "example.com", "/secret/raw/path"] {
            assert!(!text.contains(raw), "{raw} leaked into labels");
        }
    }
}
