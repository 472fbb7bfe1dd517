//! `GET /metrics`: the Prometheus text exposition of this instance's registry. When
//! `METRICS_TOKEN` is set, the scraper must send `Authorization: Bearer <token>`.

use actix_web::http::header;
use actix_web::{get, web, HttpRequest, HttpResponse};
use secrecy::ExposeSecret;
use subtle::ConstantTimeEq;

use crate::error::{ApiError, ApiResult, Problem};
use crate::metrics::CONTENT_TYPE;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(metrics);
}

fn bearer(req: &HttpRequest) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

#[get("/metrics")]
async fn metrics(req: HttpRequest, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    if let Some(expected) = &state.config.metrics_token {
        let ok = bearer(&req).is_some_and(|given| {
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
