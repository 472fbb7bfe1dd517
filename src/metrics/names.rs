//! Metric names, the lists of them, and histogram buckets.

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
pub const HOTSPOT_EXPIRATIONS_TOTAL: &str = "hotspot_expirations_total";
pub const ROUTER_ACTIVE_SESSIONS: &str = "router_active_sessions";
pub const ROUTER_DRIFT_REPAIRS_TOTAL: &str = "router_drift_repairs_total";

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
    HOTSPOT_EXPIRATIONS_TOTAL,
    ROUTER_ACTIVE_SESSIONS,
    ROUTER_DRIFT_REPAIRS_TOTAL,
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

pub(super) const HTTP_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];
pub(super) const ROUTER_BUCKETS: &[f64] = &[
    0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];
pub(super) const PURCHASE_BUCKETS: &[f64] =
    &[0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0];
pub(super) const GATEWAY_BUCKETS: &[f64] = &[
    0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0,
];
