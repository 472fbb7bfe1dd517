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

    let res = app.http.get(app.url("/metrics")).send().await.unwrap();
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
    let res = other.http.get(other.url("/metrics")).send().await.unwrap();
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
