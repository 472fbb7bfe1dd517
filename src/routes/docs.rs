//! `GET /openapi.json` and the interactive documentation at `/docs` (Swagger UI, vendored in
//! `assets/swagger-ui/` and embedded in the binary: no CDN, works with no internet).

use actix_web::http::header;
use actix_web::{get, web, HttpResponse};

use crate::error::{ApiError, ApiResult, Problem};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(openapi_json)
        .service(docs_index)
        .service(docs_asset);
}

const INDEX: &str = r#"<!DOCTYPE html>
<html lang="es">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>pagos-hotspot API</title>
  <link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/swagger-ui-bundle.js" charset="UTF-8"></script>
  <script src="/docs/swagger-initializer.js" charset="UTF-8"></script>
</body>
</html>
"#;

/// Same-origin only: the page loads nothing from elsewhere.
const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; \
                   script-src 'self'; connect-src 'self'; frame-ancestors 'none'";

#[utoipa::path(
    tag = "sistema",
    summary = "This OpenAPI document",
    responses((status = 200, description = "OK")),
)]
#[get("/openapi.json")]
async fn openapi_json() -> ApiResult<HttpResponse> {
    let body = crate::openapi::json().map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(body))
}

#[utoipa::path(
    tag = "sistema",
    summary = "Interactive API documentation (Swagger UI, served locally)",
    responses((status = 200, description = "OK")),
)]
#[get("/docs")]
async fn docs_index() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CONTENT_SECURITY_POLICY, CSP))
        .body(INDEX)
}

#[utoipa::path(
    tag = "sistema",
    summary = "Swagger UI assets",
    params(
        ("file" = inline(crate::openapi::schemas::DocAsset), Path, description = "A Swagger UI asset."),
    ),
    responses((status = 200, description = "OK")),
)]
#[get("/docs/{file}")]
async fn docs_asset(path: web::Path<String>) -> ApiResult<HttpResponse> {
    let (bytes, content_type): (&'static [u8], &str) = match path.as_str() {
        "swagger-ui-bundle.js" => (
            include_bytes!("../../assets/swagger-ui/swagger-ui-bundle.js"),
            "text/javascript; charset=utf-8",
        ),
        "swagger-ui.css" => (
            include_bytes!("../../assets/swagger-ui/swagger-ui.css"),
            "text/css; charset=utf-8",
        ),
        "swagger-initializer.js" => (
            include_bytes!("../../assets/swagger-ui/swagger-initializer.js"),
            "text/javascript; charset=utf-8",
        ),
        "LICENSE" => (
            include_bytes!("../../assets/swagger-ui/LICENSE"),
            "text/plain; charset=utf-8",
        ),
        "NOTICE" => (
            include_bytes!("../../assets/swagger-ui/NOTICE"),
            "text/plain; charset=utf-8",
        ),
        _ => return Err(ApiError::from(Problem::NotFound)),
    };
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CACHE_CONTROL, "public, max-age=86400"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(bytes))
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_asset_is_served_and_documented() {
        for name in crate::openapi::DOC_ASSETS {
            assert!(super::INDEX.contains(name) || ["LICENSE", "NOTICE"].contains(name));
        }
    }
}
