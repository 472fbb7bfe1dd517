//! HTTP routes, grouped by audience.

pub mod auth;
pub mod health;
pub mod portal;
pub mod super_admin;

use actix_web::web;

/// Registers every route of the service.
pub fn configure(cfg: &mut web::ServiceConfig) {
    health::configure(cfg);
    auth::configure(cfg);
    portal::configure(cfg);
    super_admin::configure(cfg);
}
