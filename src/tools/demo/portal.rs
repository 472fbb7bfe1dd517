//! The sample captive portal served at `/portal/`, with the demo's API address and key.

use std::sync::Arc;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use crate::startup::ExtraRoutes;
use crate::state::AppState;

const INDEX_HTML: &str = include_str!("../../../portal/index.html");
const PORTAL_JS: &str = include_str!("../../../portal/portal.js");
const PORTAL_CSS: &str = include_str!("../../../portal/portal.css");

/// What the demo's portal routes need.
#[derive(Clone)]
pub(super) struct PortalSite {
    pub(super) api_key: String,
    pub(super) sandbox_base: String,
}

/// A JSON string literal that is also safe inside an HTML `<script>`.
fn js_string(value: &str) -> String {
    serde_json::to_string(value)
        .unwrap_or_else(|_| "\"\"".into())
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// `portal/index.html` with this demo's API address, key and card-token endpoint.
fn portal_index(api_base: &str, api_key: &str) -> String {
    INDEX_HTML
        .replacen("\"__API_BASE__\"", &js_string(api_base), 1)
        .replacen("\"__API_KEY__\"", &js_string(api_key), 1)
        .replacen(
            "\"__MP_API_BASE__\"",
            &js_string(&format!("{api_base}/portal/mp")),
            1,
        )
}

fn request_origin(req: &HttpRequest) -> String {
    let info = req.connection_info();
    format!("{}://{}", info.scheme(), info.host())
}

async fn portal_redirect(req: HttpRequest) -> HttpResponse {
    let q = req.query_string();
    let location = if q.is_empty() {
        "/portal/".to_string()
    } else {
        format!("/portal/?{q}")
    };
    HttpResponse::Found()
        .insert_header((header::LOCATION, location))
        .finish()
}

async fn portal_page(req: HttpRequest, site: web::Data<PortalSite>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(portal_index(&request_origin(&req), &site.api_key))
}

async fn portal_js() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .body(PORTAL_JS)
}

async fn portal_css() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .body(PORTAL_CSS)
}

/// Mercado Pago card tokens, forwarded to the sandbox (which has no CORS and whose port
/// changes on every run), as the MP JS SDK would call `api.mercadopago.com` from the page.
async fn card_tokens(
    req: HttpRequest,
    body: web::Bytes,
    site: web::Data<PortalSite>,
    state: web::Data<AppState>,
) -> HttpResponse {
    let mut url = format!("{}/v1/card_tokens", site.sandbox_base);
    if !req.query_string().is_empty() {
        url.push('?');
        url.push_str(req.query_string());
    }
    let answer = state
        .http
        .post(url)
        .header(header::CONTENT_TYPE.as_str(), "application/json")
        .body(body.to_vec())
        .send()
        .await;
    match answer {
        Ok(res) => {
            let status = actix_web::http::StatusCode::from_u16(res.status().as_u16())
                .unwrap_or(actix_web::http::StatusCode::BAD_GATEWAY);
            match res.bytes().await {
                Ok(bytes) => HttpResponse::build(status)
                    .content_type("application/json")
                    .body(bytes.to_vec()),
                Err(_) => HttpResponse::BadGateway().json(json!({"detail": "sandbox"})),
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, "sandbox card token request failed");
            HttpResponse::BadGateway().json(json!({"detail": "sandbox no disponible"}))
        }
    }
}

pub(super) fn portal_routes(site: PortalSite) -> ExtraRoutes {
    Arc::new(move |cfg: &mut web::ServiceConfig| {
        cfg.app_data(web::Data::new(site.clone()))
            .route("/portal", web::get().to(portal_redirect))
            .route("/portal/", web::get().to(portal_page))
            .route("/portal/index.html", web::get().to(portal_page))
            .route("/portal/portal.js", web::get().to(portal_js))
            .route("/portal/portal.css", web::get().to(portal_css))
            .route("/portal/mp/v1/card_tokens", web::post().to(card_tokens));
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_values_are_script_safe() {
        let html = portal_index("http://h:1", "jwt_</script><b>&");
        assert!(html.contains("\"http://h:1\""));
        assert!(html.contains("\"http://h:1/portal/mp\""));
        assert!(!html.contains("jwt_</script>"));
        assert!(html.contains("jwt_\\u003c/script\\u003e\\u003cb\\u003e\\u0026"));
        assert!(!html.contains("__API_KEY__"));
    }
}
