//! `GET /metrics`: the Prometheus text exposition of this instance's registry (router ids,
//! revenue). It is served on the metrics listener (`METRICS_ADDR`, loopback by default); the
//! public API listener serves it only when `METRICS_TOKEN` is set, and wherever a token is set
//! the scraper must send `Authorization: Bearer <token>`.

use actix_web::http::header;
use actix_web::{get, web, HttpRequest, HttpResponse};
use secrecy::ExposeSecret;
use subtle::ConstantTimeEq;

use crate::error::{ApiError, ApiResult, Problem};
use crate::metrics::CONTENT_TYPE;
use crate::state::AppState;

/// The API listener's route: answers 404 unless `METRICS_TOKEN` is set.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(metrics);
}

/// The metrics listener's route.
pub fn configure_listener(cfg: &mut web::ServiceConfig) {
    cfg.route("/metrics", web::get().to(metrics_listener));
}

fn bearer(req: &HttpRequest) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

#[utoipa::path(
    tag = "sistema",
    summary = "Prometheus metrics",
    responses((status = 200, description = "OK")),
)]
#[get("/metrics")]
async fn metrics(req: HttpRequest, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    if state.config.metrics_token.is_none() {
        return Err(ApiError::from(Problem::NotFound));
    }
    exposition(&req, &state)
}

async fn metrics_listener(req: HttpRequest, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    exposition(&req, &state)
}

fn exposition(req: &HttpRequest, state: &AppState) -> ApiResult<HttpResponse> {
    if let Some(expected) = &state.config.metrics_token {
        let ok = bearer(req).is_some_and(|given| {
            bool::from(given.as_bytes().ct_eq(expected.expose_secret().as_bytes()))
        });
        if !ok {
            return Err(ApiError::from(Problem::MetricsNotAuthenticated));
        }
    }
    let body = state.metrics.render().map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, CONTENT_TYPE))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body))
}
