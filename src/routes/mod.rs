//! HTTP routes, grouped by audience. Every route is registered with its full path (no
//! `web::scope`), so groups sharing a prefix never shadow each other.
//!
//! Every handler carries `#[utoipa::path(...)]` (tag, summary, parameters, body, success answer,
//! security) above its actix route macro, and is registered through utoipa-actix-web's
//! `ServiceConfig`, whose `service(...)` documents it in `/openapi.json` as it registers it (its
//! `route(...)` passthrough does not: `tests/it/api/openapi.rs` fails on a route registered that
//! way). `crate::openapi` adds the document's top level and the error answers every route of a
//! kind shares.

pub mod auth;
pub mod catalog;
pub mod company;
pub mod console;
pub mod docs;
pub mod health;
pub mod hotspot;
pub mod metrics;
pub mod payments;
pub mod portal;
pub mod product_plan;
pub mod products;
pub mod refunds;
pub mod report_views;
pub mod reports;
pub mod router_setup;
pub mod routers_live;
pub mod sessions;
pub mod super_admin;
pub mod webhooks;

/// Registers every route of the service.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    health::configure(cfg);
    metrics::configure(cfg);
    auth::configure(cfg);
    portal::configure(cfg);
    catalog::configure(cfg);
    products::configure(cfg);
    reports::configure(cfg);
    report_views::configure(cfg);
    company::configure(cfg);
    routers_live::configure(cfg);
    router_setup::configure(cfg);
    sessions::configure(cfg);
    refunds::configure(cfg);
    super_admin::configure(cfg);
    docs::configure(cfg);
    console::configure(cfg);
    payments::configure(cfg);
    webhooks::configure(cfg);
    hotspot::configure(cfg);
}
