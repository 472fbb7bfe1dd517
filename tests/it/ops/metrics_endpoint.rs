//! `GET /metrics`: text exposition of this app's own registry, optional bearer token.

use secrecy::SecretString;

const TOKEN: &str = "metrics-token-0123456789abcdef";

#[actix_web::test]
async fn exposes_http_metrics_of_this_instance_only() {
    let app = crate::helpers::spawn_app().await;
    let other = crate::helpers::spawn_app().await;
    for _ in 0..3 {
        let res = app.http.get(app.url("/health")).send().await.unwrap();
        assert_eq!(res.status(), 200);
    }
    let res = app
        .http
        .get(app.url("/no/such/AA:BB:CC:DD:EE:FF"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);

    let res = app
        .http
        .get(app.metrics_url("/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let text = res.text().await.unwrap();
    assert!(
        text.contains(r#"http_requests_total{method="GET",route="/health",status="200"} 3"#),
        "{text}"
    );
    assert!(text.contains(r#"http_requests_total{method="GET",route="unmatched",status="404"} 1"#));
    assert!(text.contains(r#"http_request_duration_seconds_count{method="GET",route="/health"} 3"#));
    assert!(text.contains("# TYPE http_request_duration_seconds histogram"));
    assert!(text.contains(r#"pagos_hotspot_build_info{version=""#));
    assert!(!text.contains("AA:BB"), "raw path leaked into labels");

    // The other app (same process) has its own registry.
    let res = other
        .http
        .get(other.metrics_url("/metrics"))
        .send()
        .await
        .unwrap();
    let text = res.text().await.unwrap();
    assert!(!text.contains(r#"route="/health""#), "{text}");
}

#[actix_web::test]
async fn the_token_is_required_when_configured() {
    let app =
        crate::helpers::spawn_app_with(|c| c.metrics_token = Some(SecretString::from(TOKEN))).await;
    let cases: [(Option<String>, u16); 5] = [
        (None, 401),
        (Some("Bearer wrong-token-0123456789abcdef".into()), 401),
        (Some(format!("Basic {TOKEN}")), 401),
        (Some(format!("Bearer {TOKEN}x")), 401),
        (Some(format!("Bearer {TOKEN}")), 200),
    ];
    for (auth, expected) in cases {
        let mut req = app.http.get(app.url("/metrics"));
        if let Some(a) = &auth {
            req = req.header("authorization", a);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        assert_eq!(status, expected, "{auth:?}");
        let text = res.text().await.unwrap();
        if expected == 401 {
            let body: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert_eq!(body, serde_json::json!({"detail": "Not authenticated"}));
        } else {
            assert!(text.contains("http_requests_total"), "{text}");
            // Refused scrapes were counted too.
            assert!(
                text.contains(r#"route="/metrics",status="401"} 4"#),
                "{text}"
            );
        }
    }
    // The scheme is case-insensitive.
    let res = app
        .http
        .get(app.url("/metrics"))
        .header("authorization", format!("bearer {TOKEN}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[actix_web::test]
async fn without_a_token_the_exposition_is_only_on_the_metrics_listener() {
    let app = crate::helpers::spawn_app().await;
    // The public API listener does not serve it.
    let res = app.http.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(res.status(), 404);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body, serde_json::json!({"detail": "Not Found"}));
    // The metrics listener serves it, and its liveness probe; nothing else of the API.
    let res = app
        .http
        .get(app.metrics_url("/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let text = res.text().await.unwrap();
    assert!(
        text.contains(r#"http_requests_total{method="GET",route="/metrics",status="404"} 1"#),
        "the refused scrape on the API listener is counted: {text}"
    );
    let res = app
        .http
        .get(app.metrics_url("/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    for path in ["/", "/api/v1/config/public", "/docs", "/openapi.json"] {
        let res = app.http.get(app.metrics_url(path)).send().await.unwrap();
        assert_eq!(res.status(), 404, "{path} on the metrics listener");
    }
}

#[actix_web::test]
async fn with_a_token_both_listeners_require_it() {
    let app =
        crate::helpers::spawn_app_with(|c| c.metrics_token = Some(SecretString::from(TOKEN))).await;
    for url in [app.url("/metrics"), app.metrics_url("/metrics")] {
        let res = app.http.get(&url).send().await.unwrap();
        assert_eq!(res.status(), 401, "{url}");
        let res = app.http.get(&url).bearer_auth(TOKEN).send().await.unwrap();
        assert_eq!(res.status(), 200, "{url}");
    }
}

#[actix_web::test]
async fn metrics_addr_off_means_no_metrics_listener() {
    let app = crate::helpers::spawn_app_with(|c| c.metrics_addr = None).await;
    assert!(app.metrics_address.is_none());
    let res = app.http.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(res.status(), 404);
}

/// Every series the dashboard queries that does not depend on a router or on HTTP traffic
/// exists at zero on a fresh install, so its panel shows 0 rather than "No data".
#[actix_web::test]
async fn a_fresh_install_exposes_the_dashboard_series_at_zero() {
    use crate::helpers::dashboard::{load_dashboard, metric_names, panel_queries};
    let app = crate::helpers::spawn_app().await;
    let text = app
        .http
        .get(app.metrics_url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut missing = std::collections::BTreeSet::new();
    for q in panel_queries(&load_dashboard()) {
        for name in metric_names(&q.expr) {
            if name.starts_with("http_") || name.starts_with("router_") {
                continue; // with the first request / with a router
            }
            let present = text.lines().any(|l| {
                !l.starts_with('#')
                    && (l.starts_with(&format!("{name}{{")) || l.starts_with(&format!("{name} ")))
            });
            if !present {
                missing.insert(format!("{name} ({})", q.panel_title));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "absent on a fresh install: {missing:#?}"
    );
    for series in [
        r#"payments_total{gateway="conekta",outcome="paid"} 0"#,
        r#"payments_total{gateway="mercado_pago",outcome="charged_back"} 0"#,
        r#"payment_amount_total{currency="USD",gateway="mercado_pago"} 0"#,
        r#"webhooks_total{gateway="conekta",outcome="invalid_signature"} 0"#,
        r#"compensations_total{kind="refund",outcome="failed"} 0"#,
        r#"reconciler_actions_total{action="refunded"} 0"#,
        r#"purchase_duration_seconds_count{gateway="conekta",outcome="completed"} 0"#,
    ] {
        assert!(text.contains(series), "{series} missing");
    }
}
