//! `GET /` and `GET /health`.

use actix_web::{get, web, HttpResponse};
use chrono::Utc;
use sea_orm::ConnectionTrait;
use serde_json::json;

use crate::state::AppState;
use crate::wire::iso;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(root).service(health);
}

/// `GET /health` alone (the metrics listener's liveness probe; plain actix, not documented as an
/// API route).
pub fn configure_probe(cfg: &mut web::ServiceConfig) {
    cfg.service(health);
}

#[utoipa::path(
    tag = "sistema",
    summary = "Banner and status",
    responses((status = 200, description = "OK")),
)]
#[get("/")]
async fn root() -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "message": "Sistema de pagos y gestión de accesos WiFi para hotspots MikroTik",
        "version": "2.0.0",
        "status": "running",
        "timestamp": format!("{}Z", iso(Utc::now())),
        "docs": "/docs",
    }))
}

/// Healthy only when the database answers.
#[utoipa::path(
    tag = "sistema",
    summary = "Health check (database included)",
    responses((status = 200, description = "OK")),
)]
#[get("/health")]
async fn health(state: web::Data<AppState>) -> HttpResponse {
    match state.db.execute_unprepared("SELECT 1").await {
        Ok(_) => HttpResponse::Ok().json(json!({"status": "healthy", "database": "ok"})),
        Err(e) => {
            tracing::error!(error = %e, "health check: database unreachable");
            HttpResponse::ServiceUnavailable()
                .json(json!({"status": "unhealthy", "database": "error"}))
        }
    }
}
