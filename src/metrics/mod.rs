//! Prometheus metrics: one [`Registry`](prometheus::Registry) per application instance, every metric name a
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
//! | `hotspot_expirations_total` | counter | `reason` (`validity`, `uptime`, `data`) |
//! | `router_active_sessions` | gauge | `router_id` (as last read from the router) |
//! | `router_drift_repairs_total` | counter | `action` (`recreated`, `removed`, `disabled`, `unknown`, `failed`) |
//!
//! `route` is the matched actix pattern (`/api/v1/routers/{router_id}`), or `unmatched`.

mod labels;
mod middleware;
mod names;
mod observer;
mod registry;
#[cfg(test)]
mod tests;

pub use labels::*;
pub use middleware::record_http;
pub use names::*;
pub use registry::Metrics;
