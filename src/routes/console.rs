//! The operator console at `/consola/`: a single-page app (plain JavaScript, no build step) over
//! the documented JSON API, for company admins and operators. Its files live in
//! `assets/console/` and are embedded in the binary (`include_bytes!`): `serve` and `demo` need
//! nothing on disk and nothing from the internet. Third-party code (uPlot) is vendored into
//! `assets/console/vendor/` by `scripts/vendor-console.sh` from the npm lockfile next to it.

use actix_web::http::header;
use actix_web::{get, web, HttpResponse};

use crate::error::{ApiError, ApiResult, Problem};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(console_index).service(console_asset);
}

/// Same-origin only; the session token travels in a header, never in a cookie.
const CSP: &str =
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; \
                   script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; \
                   form-action 'self'";

/// The embedded files: (path under `/consola/`, bytes, content type).
pub const CONSOLE_ASSETS: &[(&str, &[u8], &str)] = &[
    (
        "app.js",
        include_bytes!("../../assets/console/app.js"),
        "text/javascript; charset=utf-8",
    ),
    (
        "app.css",
        include_bytes!("../../assets/console/app.css"),
        "text/css; charset=utf-8",
    ),
    (
        "vendor/uPlot.iife.min.js",
        include_bytes!("../../assets/console/vendor/uPlot.iife.min.js"),
        "text/javascript; charset=utf-8",
    ),
    (
        "vendor/uPlot.min.css",
        include_bytes!("../../assets/console/vendor/uPlot.min.css"),
        "text/css; charset=utf-8",
    ),
    (
        "vendor/uPlot.LICENSE",
        include_bytes!("../../assets/console/vendor/uPlot.LICENSE"),
        "text/plain; charset=utf-8",
    ),
    (
        "vendor/VERSIONS",
        include_bytes!("../../assets/console/vendor/VERSIONS"),
        "text/plain; charset=utf-8",
    ),
];

const INDEX: &[u8] = include_bytes!("../../assets/console/index.html");

fn secured(mut b: actix_web::HttpResponseBuilder) -> actix_web::HttpResponseBuilder {
    b.insert_header((header::CONTENT_SECURITY_POLICY, CSP))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"));
    b
}

#[utoipa::path(
    tag = "sistema",
    summary = "The operator console (web UI for company admins and operators)",
    responses((status = 200, description = "OK")),
)]
#[get("/consola/")]
async fn console_index() -> HttpResponse {
    secured(HttpResponse::Ok())
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(INDEX)
}

#[utoipa::path(
    tag = "sistema",
    summary = "The operator console's files",
    params(
        ("file" = String, Path, description = "A console file (`app.js`, `app.css`, `vendor/…`)."),
    ),
    responses((status = 200, description = "OK")),
)]
#[get("/consola/{file:.+}")]
async fn console_asset(path: web::Path<String>) -> ApiResult<HttpResponse> {
    let name = path.into_inner();
    let Some((_, bytes, content_type)) = CONSOLE_ASSETS.iter().find(|(n, _, _)| *n == name) else {
        return Err(ApiError::from(Problem::NotFound));
    };
    Ok(secured(HttpResponse::Ok())
        .content_type(*content_type)
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(*bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_loads_only_embedded_files() {
        let index = std::str::from_utf8(INDEX).unwrap();
        for part in index.split("/consola/").skip(1) {
            let name = part.split('"').next().unwrap();
            assert!(
                CONSOLE_ASSETS.iter().any(|(n, _, _)| *n == name),
                "{name} is not embedded"
            );
        }
        assert!(!index.contains("http://") && !index.contains("https://"));
    }
}
