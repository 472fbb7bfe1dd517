//! Logging: JSON (or pretty) `tracing` output, and a middleware that gives every request an
//! id (`X-Request-Id`, taken from the client when it is sane) and a span carrying the
//! company, router, user and purchase ids that handlers record.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use tracing::Instrument;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

pub const REQUEST_ID_HEADER: &str = "x-request-id";

fn filter() -> EnvFilter {
    EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn,actix_server=warn"))
}

/// Installs the global subscriber once; later calls are no-ops.
pub fn init(format: &str) {
    let registry = tracing_subscriber::registry().with(filter());
    let _ = if format == "pretty" {
        registry
            .with(tracing_subscriber::fmt::layer().with_target(false))
            .try_init()
    } else {
        registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_current_span(true)
                    .with_span_list(false),
            )
            .try_init()
    };
}

/// Human-readable logs on stderr, for the tools whose stdout carries data (simulators).
pub fn init_stderr() {
    let _ = tracing_subscriber::registry()
        .with(filter())
        .with(
            tracing_subscriber::fmt::layer()
                .with_target(false)
                .with_writer(std::io::stderr),
        )
        .try_init();
}

fn sane_request_id(v: &HeaderValue) -> Option<String> {
    let s = v.to_str().ok()?;
    (!s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'))
    .then(|| s.to_string())
}

/// Per-request span, request id and one completion log line.
pub async fn request_span(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let request_id = req
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(sane_request_id)
        .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        method = %req.method(),
        route = tracing::field::Empty,
        status = tracing::field::Empty,
        empresa_id = tracing::field::Empty,
        router_id = tracing::field::Empty,
        user_id = tracing::field::Empty,
        purchase_id = tracing::field::Empty,
    );
    let started = Instant::now();
    let mut res = next.call(req).instrument(span.clone()).await?;
    let route = res
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".into());
    let status = res.status().as_u16();
    span.record("route", route.as_str());
    span.record("status", status);
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        res.headers_mut()
            .insert(HeaderName::from_static(REQUEST_ID_HEADER), v);
    }
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    span.in_scope(|| {
        if status >= 500 {
            tracing::error!(elapsed_ms, "request failed");
        } else {
            tracing::info!(elapsed_ms, "request completed");
        }
    });
    Ok(res)
}
