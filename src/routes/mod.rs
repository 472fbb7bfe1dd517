//! HTTP routes, grouped by audience.

pub mod auth;
pub mod health;
pub mod metrics;
pub mod portal;

use actix_web::web;

/// Registers every route of the service.
pub fn configure(cfg: &mut web::ServiceConfig) {
    health::configure(cfg);
    metrics::configure(cfg);
    auth::configure(cfg);
    portal::configure(cfg);
}
