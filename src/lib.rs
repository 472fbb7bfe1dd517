//! pagos-hotspot: sell WiFi access on MikroTik hotspots.
//!
//! See the README ("Architecture") and `docs/` for the architecture.

/// Authentication: admin sessions, router API keys, password hashing, rate limits.
pub mod auth;
/// The command line: one binary with a subcommand per job.
pub mod cli;
/// Configuration from the environment.
pub mod config;
/// Secrets at rest: AES-256-GCM under the master key.
pub mod crypto;
/// The repository layer: one module per table, the connection, migrations and write transactions.
pub mod db;
/// One error vocabulary for the HTTP API (status, Spanish detail, code).
pub mod error;
/// Request extraction with the original's wire behaviour.
pub mod extract;
/// Payment gateway clients, webhook verification and the Telegram notifier.
pub mod gateways;
/// What an operator puts on a router: the captive portal folder and the setup script.
pub mod hotspot_kit;
/// Typed company and router ids.
pub mod ids;
/// Prometheus metrics: the registry, typed recording methods and the HTTP middleware.
pub mod metrics;
/// No NUL character reaches the database.
pub mod nul_guard;
/// The OpenAPI document served at `/openapi.json`.
pub mod openapi;
/// The purchase saga (typed states) and the reconciler.
pub mod purchase;
/// The RouterOS client and broker (the `routeros` workspace crate, re-exported).
pub mod routeros;
/// HTTP routes, grouped by audience.
pub mod routes;
/// Simulators of the outside world: a RouterOS router and the payment gateways.
pub mod sandbox;
/// Building and running the HTTP application.
pub mod startup;
/// Shared application state handed to every handler.
pub mod state;
/// Logging and the request-id middleware.
pub mod telemetry;
/// Operator tools built into the binary: the demo and the load benchmark.
pub mod tools;
/// Input checks shared by the handlers.
pub mod validate;
/// Wire formats the original's clients rely on.
pub mod wire;
