//! pagos-hotspot: sell WiFi access on MikroTik hotspots.
//!
//! See the README ("Architecture") and `docs/` for the architecture.

pub mod audit;
pub mod auth;
pub mod bench;
pub mod cli;
pub mod config;
pub mod crypto;
pub mod db;
pub mod demo;
pub mod error;
pub mod extract;
pub mod gateways;
pub mod ids;
pub mod metrics;
pub mod nul_guard;
pub mod openapi;
pub mod purchase;
pub mod routeros;
pub mod routes;
pub mod sandbox;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod validate;
pub mod wire;
