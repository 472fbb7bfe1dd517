//! The [`Metrics`] registry and its typed recording API.

use std::future::Future;
use std::time::{Duration, Instant};

use prometheus::{
    CounterVec, Encoder, Gauge, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec,
    Opts, Registry, TextEncoder,
};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

use super::labels::{
    currency_label, gateway_call_outcome, gateway_label, method_label, CompensationKind,
    GatewayOperation, PaymentOutcome, PurchaseOutcome, ReconcilerAction, RouterOutcome,
    WebhookOutcome, GATEWAY_CALL_OUTCOMES,
};
use super::names::{
    BUILD_INFO, COMPENSATIONS_TOTAL, GATEWAY_BUCKETS, GATEWAY_REQUEST_DURATION_SECONDS,
    HTTP_BUCKETS, HTTP_REQUESTS_TOTAL, HTTP_REQUEST_DURATION_SECONDS, PAYMENTS_TOTAL,
    PAYMENT_AMOUNT_TOTAL, PURCHASE_BUCKETS, PURCHASE_DURATION_SECONDS, RECONCILER_ACTIONS_TOTAL,
    RECONCILER_BACKLOG, ROUTER_BUCKETS, ROUTER_COMMANDS_TOTAL, ROUTER_COMMAND_DURATION_SECONDS,
    ROUTER_QUEUE_DEPTH, ROUTER_RECONNECTS_TOTAL, ROUTER_SESSION_AGE_SECONDS, ROUTER_UP,
    WEBHOOKS_TOTAL,
};
use super::names::{HOTSPOT_EXPIRATIONS_TOTAL, ROUTER_ACTIVE_SESSIONS, ROUTER_DRIFT_REPAIRS_TOTAL};
use crate::gateways::{GatewayError, GatewayKind};

/// The service's metrics, registered in one registry owned by this value.
pub struct Metrics {
    registry: Registry,
    http: HttpSeries,
    router: RouterSeries,
    sales: SalesSeries,
    access: AccessSeries,
}

/// Hotspot access: expirations and live sessions.
struct AccessSeries {
    expirations: IntCounterVec,
    active_sessions: IntGaugeVec,
    drift_repairs: IntCounterVec,
}

impl AccessSeries {
    fn register(r: &Registry) -> prometheus::Result<Self> {
        Ok(Self {
            expirations: counter_vec(
                r,
                HOTSPOT_EXPIRATIONS_TOTAL,
                "Hotspot accesses the service ended because their validity or budget was over, by reason.",
                &["reason"],
            )?,
            drift_repairs: counter_vec(
                r,
                ROUTER_DRIFT_REPAIRS_TOTAL,
                "Router drift found by the sync, by action: users re-created, removed, disabled, unknown users reported, repairs failed.",
                &["action"],
            )?,
            active_sessions: reg(
                r,
                IntGaugeVec::new(
                    Opts::new(
                        ROUTER_ACTIVE_SESSIONS,
                        "Active hotspot sessions of a router, as last read from it.",
                    ),
                    &["router_id"],
                )?,
            )?,
        })
    }
}

/// HTTP traffic.
struct HttpSeries {
    requests: IntCounterVec,
    duration: HistogramVec,
}

/// The router broker.
struct RouterSeries {
    up: IntGaugeVec,
    command_duration: HistogramVec,
    commands: IntCounterVec,
    queue_depth: IntGaugeVec,
    reconnects: IntCounterVec,
    session_age: prometheus::GaugeVec,
}

/// Payments, purchases, their compensation and reconciliation, webhooks and gateway calls.
struct SalesSeries {
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

impl HttpSeries {
    /// Registers the HTTP series in `r`.
    fn register(r: &Registry) -> prometheus::Result<Self> {
        Ok(Self {
            requests: counter_vec(
                r,
                HTTP_REQUESTS_TOTAL,
                "HTTP requests by method, matched route pattern and status code.",
                &["method", "route", "status"],
            )?,
            duration: histogram_vec(
                r,
                HTTP_REQUEST_DURATION_SECONDS,
                "HTTP request duration by method and matched route pattern.",
                &["method", "route"],
                HTTP_BUCKETS,
            )?,
        })
    }
}

impl RouterSeries {
    /// Registers the router broker series in `r`.
    fn register(r: &Registry) -> prometheus::Result<Self> {
        Ok(Self {
            up: gauge_vec(
                r,
                ROUTER_UP,
                "1 when the router's RouterOS API session is established and answering.",
                &["router_id"],
            )?,
            command_duration: histogram_vec(
                r,
                ROUTER_COMMAND_DURATION_SECONDS,
                "RouterOS command latency (queueing included) by command and outcome.",
                &["command", "outcome"],
                ROUTER_BUCKETS,
            )?,
            commands: counter_vec(
                r,
                ROUTER_COMMANDS_TOTAL,
                "RouterOS commands by command and outcome.",
                &["command", "outcome"],
            )?,
            queue_depth: gauge_vec(
                r,
                ROUTER_QUEUE_DEPTH,
                "Commands waiting in the router actor's mailbox.",
                &["router_id"],
            )?,
            reconnects: counter_vec(
                r,
                ROUTER_RECONNECTS_TOTAL,
                "RouterOS API sessions re-established after a loss.",
                &["router_id"],
            )?,
            session_age: reg(
                r,
                prometheus::GaugeVec::new(
                    Opts::new(
                        ROUTER_SESSION_AGE_SECONDS,
                        "Age of the current RouterOS API session (0 when down).",
                    ),
                    &["router_id"],
                )?,
            )?,
        })
    }
}

impl SalesSeries {
    /// Registers the payment and purchase series in `r`.
    fn register(r: &Registry) -> prometheus::Result<Self> {
        Ok(Self {
            payments: counter_vec(
                r,
                PAYMENTS_TOTAL,
                "Payment results by gateway and outcome.",
                &["gateway", "outcome"],
            )?,
            payment_amount: reg(
                r,
                CounterVec::new(
                    Opts::new(
                        PAYMENT_AMOUNT_TOTAL,
                        "Confirmed revenue in currency units, by gateway and currency.",
                    ),
                    &["gateway", "currency"],
                )?,
            )?,
            purchase_duration: histogram_vec(
                r,
                PURCHASE_DURATION_SECONDS,
                "Portal purchase duration, from request to answer, by gateway and outcome.",
                &["gateway", "outcome"],
                PURCHASE_BUCKETS,
            )?,
            compensations: counter_vec(
                r,
                COMPENSATIONS_TOTAL,
                "Compensating actions (undo steps) by kind and whether they succeeded.",
                &["kind", "outcome"],
            )?,
            reconciler_actions: counter_vec(
                r,
                RECONCILER_ACTIONS_TOTAL,
                "Actions the reconciler took on stuck purchases.",
                &["action"],
            )?,
            reconciler_backlog: reg(
                r,
                IntGauge::new(
                    RECONCILER_BACKLOG,
                    "Purchases in an intermediate state found by the last reconciler pass.",
                )?,
            )?,
            webhooks: counter_vec(
                r,
                WEBHOOKS_TOTAL,
                "Incoming gateway webhooks by gateway and outcome.",
                &["gateway", "outcome"],
            )?,
            gateway_duration: histogram_vec(
                r,
                GATEWAY_REQUEST_DURATION_SECONDS,
                "Outbound payment-gateway request latency by gateway, operation and outcome.",
                &["gateway", "operation", "outcome"],
                GATEWAY_BUCKETS,
            )?,
        })
    }
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
            http: HttpSeries::register(&r)?,
            router: RouterSeries::register(&r)?,
            sales: SalesSeries::register(&r)?,
            access: AccessSeries::register(&r)?,
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
        for reason in ["validity", "uptime", "data"] {
            self.access.expirations.with_label_values(&[reason]);
        }
        for action in ["recreated", "removed", "disabled", "unknown", "failed"] {
            self.access.drift_repairs.with_label_values(&[action]);
        }
        const GATEWAYS: [GatewayKind; 2] = [GatewayKind::Conekta, GatewayKind::MercadoPago];
        for gateway in GATEWAYS.map(gateway_label) {
            for outcome in PaymentOutcome::ALL {
                self.sales
                    .payments
                    .with_label_values(&[gateway, outcome.as_str()]);
            }
            for currency in crate::validate::CURRENCIES {
                self.sales
                    .payment_amount
                    .with_label_values(&[gateway, currency]);
            }
            for outcome in PurchaseOutcome::ALL {
                self.sales
                    .purchase_duration
                    .with_label_values(&[gateway, outcome.as_str()]);
            }
            for outcome in WebhookOutcome::ALL {
                self.sales
                    .webhooks
                    .with_label_values(&[gateway, outcome.as_str()]);
            }
            for operation in GatewayOperation::ALL {
                for outcome in GATEWAY_CALL_OUTCOMES {
                    self.sales.gateway_duration.with_label_values(&[
                        gateway,
                        operation.as_str(),
                        outcome,
                    ]);
                }
            }
        }
        for kind in CompensationKind::ALL {
            for outcome in ["ok", "failed"] {
                self.sales
                    .compensations
                    .with_label_values(&[kind.as_str(), outcome]);
            }
        }
        for action in ReconcilerAction::ALL {
            self.sales
                .reconciler_actions
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
        self.http
            .requests
            .with_label_values(&[method, route, status.as_str()])
            .inc();
        self.http
            .duration
            .with_label_values(&[method, route])
            .observe(elapsed.as_secs_f64());
    }

    // ---- routers (the broker) ----

    /// Whether the router's session is up.
    pub fn set_router_up(&self, router_id: &str, up: bool) {
        self.router
            .up
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
        self.router.commands.with_label_values(&labels).inc();
        self.router
            .command_duration
            .with_label_values(&labels)
            .observe(elapsed.as_secs_f64());
    }

    /// Commands currently queued for the router.
    pub fn set_router_queue_depth(&self, router_id: &str, depth: usize) {
        self.router
            .queue_depth
            .with_label_values(&[router_id])
            .set(i64::try_from(depth).unwrap_or(i64::MAX));
    }

    /// A session re-established after a loss (not the first connection).
    pub fn inc_router_reconnects(&self, router_id: &str) {
        self.router.reconnects.with_label_values(&[router_id]).inc();
    }

    /// Age of the current session; pass `Duration::ZERO` when down.
    pub fn set_router_session_age(&self, router_id: &str, age: Duration) {
        self.router
            .session_age
            .with_label_values(&[router_id])
            .set(age.as_secs_f64());
    }

    /// Creates the router's series (up = 0, queue 0, reconnects 0, age 0) so that dashboards
    /// see a router as soon as its actor starts.
    pub fn register_router(&self, router_id: &str) {
        self.set_router_up(router_id, false);
        self.set_router_queue_depth(router_id, 0);
        self.router.reconnects.with_label_values(&[router_id]);
        self.set_router_session_age(router_id, Duration::ZERO);
    }

    /// Drops every series of a deleted router.
    pub fn forget_router(&self, router_id: &str) {
        let labels = [router_id];
        let _ = self.router.up.remove_label_values(&labels);
        let _ = self.router.queue_depth.remove_label_values(&labels);
        let _ = self.router.reconnects.remove_label_values(&labels);
        let _ = self.router.session_age.remove_label_values(&labels);
    }

    // ---- payments (the purchase saga, webhooks, the reconciler) ----

    /// A payment result (a charge's answer, or a later refund/chargeback).
    pub fn record_payment(&self, gateway: GatewayKind, outcome: PaymentOutcome) {
        self.sales
            .payments
            .with_label_values(&[gateway_label(gateway), outcome.as_str()])
            .inc();
    }

    /// Confirmed revenue: call once per purchase whose payment was confirmed. Negative amounts
    /// are ignored (a counter only grows; refunds are `record_payment(.., Refunded)`).
    pub fn add_revenue(&self, gateway: GatewayKind, currency: &str, amount: Decimal) {
        let Some(value) = amount.to_f64() else { return };
        if value.is_finite() && value > 0.0 {
            self.sales
                .payment_amount
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
        self.sales
            .purchase_duration
            .with_label_values(&[gateway_label(gateway), outcome.as_str()])
            .observe(elapsed.as_secs_f64());
    }

    /// A compensating action and whether it succeeded.
    pub fn record_compensation(&self, kind: CompensationKind, succeeded: bool) {
        self.sales
            .compensations
            .with_label_values(&[kind.as_str(), if succeeded { "ok" } else { "failed" }])
            .inc();
    }

    /// An access the expiry job ended (`reason`: `validity`, `uptime`, `data`).
    pub fn record_expiration(&self, reason: &'static str) {
        self.access.expirations.with_label_values(&[reason]).inc();
    }

    /// What one drift sync did.
    pub fn record_drift(&self, r: &crate::purchase::drift::DriftReport) {
        for (action, n) in [
            ("recreated", r.recreados.len()),
            ("removed", r.eliminados.len()),
            ("disabled", r.deshabilitados.len()),
            ("unknown", r.desconocidos.len()),
            ("failed", r.errores.len()),
        ] {
            self.access
                .drift_repairs
                .with_label_values(&[action])
                .inc_by(u64::try_from(n).unwrap_or(u64::MAX));
        }
    }

    /// The router's active sessions, as just read from it.
    pub fn set_active_sessions(&self, router_id: &str, n: usize) {
        self.access
            .active_sessions
            .with_label_values(&[router_id])
            .set(i64::try_from(n).unwrap_or(i64::MAX));
    }

    /// One reconciler decision.
    pub fn record_reconciler_action(&self, action: ReconcilerAction) {
        self.sales
            .reconciler_actions
            .with_label_values(&[action.as_str()])
            .inc();
    }

    /// Purchases found stuck in an intermediate state by the last reconciler pass.
    pub fn set_reconciler_backlog(&self, stuck: usize) {
        self.sales
            .reconciler_backlog
            .set(i64::try_from(stuck).unwrap_or(i64::MAX));
    }

    /// One incoming webhook.
    pub fn record_webhook(&self, gateway: GatewayKind, outcome: WebhookOutcome) {
        self.sales
            .webhooks
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
        self.sales
            .gateway_duration
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
