//! HTTP routes, grouped by audience. Every route is registered with its full path (no
//! `web::scope`), so groups sharing a prefix never shadow each other.

pub mod auth;
pub mod catalog;
pub mod company;
pub mod docs;
pub mod health;
pub mod hotspot;
pub mod metrics;
pub mod payments;
pub mod portal;
pub mod products;
pub mod reports;
pub mod routers_live;
pub mod super_admin;
pub mod webhooks;

use actix_web::web;

/// Registers every route of the service.
pub fn configure(cfg: &mut web::ServiceConfig) {
    health::configure(cfg);
    metrics::configure(cfg);
    auth::configure(cfg);
    portal::configure(cfg);
    catalog::configure(cfg);
    products::configure(cfg);
    reports::configure(cfg);
    company::configure(cfg);
    routers_live::configure(cfg);
    super_admin::configure(cfg);
    docs::configure(cfg);
    payments::configure(cfg);
    webhooks::configure(cfg);
    hotspot::configure(cfg);
}
