//! Captive portal pages are served by the routers, so browsers call the API cross-origin:
//! `BACKEND_CORS_ORIGINS` (the original's setting) decides which origins may.

use crate::helpers::spawn_app_with;

async fn preflight(app: &crate::helpers::TestApp, origin: &str) -> reqwest::Response {
    app.http
        .request(
            reqwest::Method::OPTIONS,
            app.url("/api/v1/payments/pagar-conekta"),
        )
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "x-api-key, content-type, idempotency-key",
        )
        .send()
        .await
        .unwrap()
}

#[actix_web::test]
async fn listed_origins_may_call_the_api_from_a_browser_and_others_may_not() {
    let app = spawn_app_with(|c| c.cors_origins = vec!["http://10.5.50.1".into()]).await;
    let t = app.tenant("Acme").await;
    let res = preflight(&app, "http://10.5.50.1").await;
    assert!(res.status().is_success(), "{}", res.status());
    assert_eq!(
        res.headers()["access-control-allow-origin"],
        "http://10.5.50.1"
    );
    let allowed = res.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(
        allowed.contains("x-api-key") && allowed.contains("idempotency-key"),
        "{allowed}"
    );
    // A real request from that origin carries the header too.
    let res = app
        .http
        .get(app.url("/api/v1/config/public"))
        .header("origin", "http://10.5.50.1")
        .header("x-api-key", &t.api_key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["access-control-allow-origin"],
        "http://10.5.50.1"
    );
    // Another origin gets no permission.
    let res = preflight(&app, "http://evil.example").await;
    assert!(res.headers().get("access-control-allow-origin").is_none());
}

#[actix_web::test]
async fn a_star_allows_any_origin() {
    let app = spawn_app_with(|c| c.cors_origins = vec!["*".into()]).await;
    let res = preflight(&app, "http://hotspot.lan").await;
    assert!(res.status().is_success());
    assert!(res.headers().get("access-control-allow-origin").is_some());
}
