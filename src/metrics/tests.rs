#![allow(clippy::unwrap_used, clippy::expect_used)]
use super::*;
use std::time::Duration;

use actix_web::web;
use rust_decimal::Decimal;

use crate::gateways::{GatewayError, GatewayKind};
use std::collections::BTreeSet;

/// Touches every family through the public API.
fn touch_all(m: &Metrics) {
    m.observe_http(
        &actix_web::http::Method::GET,
        "/health",
        200,
        Duration::from_millis(3),
    );
    m.register_router("RTR_1");
    m.set_router_up("RTR_1", true);
    m.observe_router_command("ping", RouterOutcome::Ok, Duration::from_millis(2));
    m.set_router_queue_depth("RTR_1", 3);
    m.inc_router_reconnects("RTR_1");
    m.set_router_session_age("RTR_1", Duration::from_secs(5));
    m.record_payment(GatewayKind::Conekta, PaymentOutcome::Paid);
    m.add_revenue(GatewayKind::Conekta, "mxn", Decimal::new(1999, 2));
    m.observe_purchase(
        GatewayKind::Conekta,
        PurchaseOutcome::Completed,
        Duration::from_millis(800),
    );
    m.record_compensation(CompensationKind::RemoveUser, true);
    m.record_reconciler_action(ReconcilerAction::Completed);
    m.set_reconciler_backlog(2);
    m.set_active_sessions("RTR_T", 2);
    m.record_expiration("uptime");
    m.record_drift(&crate::purchase::drift::DriftReport::default());
    m.record_webhook(GatewayKind::MercadoPago, WebhookOutcome::Processed);
    m.observe_gateway_request(
        GatewayKind::MercadoPago,
        GatewayOperation::Charge,
        "ok",
        Duration::from_millis(120),
    );
}

#[test]
fn every_named_family_is_registered_and_nothing_else() {
    let m = Metrics::new().unwrap();
    touch_all(&m);
    let gathered: BTreeSet<String> = m
        .registry()
        .gather()
        .iter()
        .map(|f| f.name().to_string())
        .collect();
    let named: BTreeSet<String> = ALL_METRIC_NAMES.iter().map(|s| s.to_string()).collect();
    assert_eq!(gathered, named);
    let histograms: BTreeSet<String> = m
        .registry()
        .gather()
        .iter()
        .filter(|f| f.get_field_type() == prometheus::proto::MetricType::HISTOGRAM)
        .map(|f| f.name().to_string())
        .collect();
    let expected: BTreeSet<String> = HISTOGRAM_NAMES.iter().map(|s| s.to_string()).collect();
    assert_eq!(histograms, expected);
}

#[test]
fn two_instances_do_not_share_state() {
    let a = Metrics::new().unwrap();
    let b = Metrics::new().unwrap();
    a.record_payment(GatewayKind::Conekta, PaymentOutcome::Paid);
    let paid = r#"payments_total{gateway="conekta",outcome="paid"}"#;
    assert!(a.render().unwrap().contains(&format!("{paid} 1")));
    // The series exists at zero from the start (known labels), untouched by `a`.
    assert!(b.render().unwrap().contains(&format!("{paid} 0")));
}

#[test]
fn revenue_accumulates_per_currency_and_ignores_bad_amounts() {
    let m = Metrics::new().unwrap();
    m.add_revenue(GatewayKind::Conekta, "MXN", Decimal::new(1999, 2));
    m.add_revenue(GatewayKind::Conekta, " mxn ", Decimal::new(1, 2));
    m.add_revenue(GatewayKind::Conekta, "MXN", Decimal::new(-500, 2));
    m.add_revenue(GatewayKind::Conekta, "XYZ", Decimal::new(100, 0));
    let text = m.render().unwrap();
    assert!(
        text.contains(r#"payment_amount_total{currency="MXN",gateway="conekta"} 20"#),
        "{text}"
    );
    assert!(text.contains(r#"payment_amount_total{currency="other",gateway="conekta"} 100"#));
}

#[test]
fn forget_router_drops_only_that_routers_series() {
    let m = Metrics::new().unwrap();
    m.register_router("RTR_A");
    m.register_router("RTR_B");
    m.set_router_up("RTR_A", true);
    m.inc_router_reconnects("RTR_A");
    m.forget_router("RTR_A");
    let text = m.render().unwrap();
    assert!(!text.contains("RTR_A"), "{text}");
    assert!(text.contains(r#"router_up{router_id="RTR_B"} 0"#));
    assert!(text.contains(r#"router_reconnects_total{router_id="RTR_B"} 0"#));
    // Forgetting an unknown router is harmless.
    m.forget_router("RTR_UNKNOWN");
}

#[test]
fn router_command_counts_and_histogram_agree() {
    let m = Metrics::new().unwrap();
    for _ in 0..3 {
        m.observe_router_command("create_user", RouterOutcome::Ok, Duration::from_millis(4));
    }
    m.observe_router_command(
        "create_user",
        RouterOutcome::Timeout,
        Duration::from_secs(3),
    );
    let text = m.render().unwrap();
    assert!(text.contains(r#"router_commands_total{command="create_user",outcome="ok"} 3"#));
    assert!(text.contains(
        r#"router_command_duration_seconds_count{command="create_user",outcome="timeout"} 1"#
    ));
    assert!(text.contains(
        r#"router_command_duration_seconds_bucket{command="create_user",outcome="ok",le="0.005"} 3"#
    ));
}

#[test]
fn gateway_outcomes_are_classified() {
    let timeout: Result<(), GatewayError> = Err(GatewayError::Timeout {
        message_es: "x".into(),
        http_status: 504,
    });
    assert_eq!(gateway_call_outcome(&timeout), "timeout");
    assert_eq!(gateway_call_outcome(&Ok::<(), GatewayError>(())), "ok");
    let declined = Ok(crate::gateways::ChargeOutcome::Declined {
        gateway_id: None,
        code: "card_declined".into(),
        message_es: "x".into(),
        http_status: 402,
        raw: serde_json::Value::Null,
    });
    assert_eq!(
        PaymentOutcome::of_charge(&declined),
        PaymentOutcome::Declined
    );
    let unknown = Err(GatewayError::Unavailable {
        reason: "503".into(),
        message_es: "x".into(),
        http_status: 502,
    });
    assert_eq!(PaymentOutcome::of_charge(&unknown), PaymentOutcome::Unknown);
}

#[actix_web::test]
async fn time_gateway_records_the_call() {
    let m = Metrics::new().unwrap();
    let r: Result<u8, GatewayError> = m
        .time_gateway(GatewayKind::Conekta, GatewayOperation::Refund, async {
            Err(GatewayError::RateLimited {
                message_es: "x".into(),
                http_status: 429,
                retry_after: None,
            })
        })
        .await;
    assert!(r.is_err());
    assert!(m.render().unwrap().contains(
        r#"gateway_request_duration_seconds_count{gateway="conekta",operation="refund",outcome="rate_limited"} 1"#
    ));
}
#[actix_web::test]
async fn middleware_labels_requests_by_route_pattern_never_the_raw_path() {
    use actix_web::{middleware::from_fn, test, App, HttpResponse};
    let metrics = web::Data::new(Metrics::new().unwrap());
    let app = test::init_service(
        App::new()
            .app_data(metrics.clone())
            .wrap(from_fn(record_http))
            .route(
                "/things/{thing_id}",
                web::get().to(|| async { HttpResponse::Ok().finish() }),
            )
            .route(
                "/boom",
                web::post().to(|| async { HttpResponse::InternalServerError().finish() }),
            ),
    )
    .await;
    for path in ["/things/AA:BB:CC:DD:EE:FF", "/things/user@example.com"] {
        let res = test::call_service(&app, test::TestRequest::get().uri(path).to_request()).await;
        assert_eq!(res.status(), 200);
    }
    let res = test::call_service(
        &app,
        test::TestRequest::get()
            .uri("/secret/raw/path")
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), 404);
    let res = test::call_service(&app, test::TestRequest::post().uri("/boom").to_request()).await;
    assert_eq!(res.status(), 500);
    let text = metrics.render().unwrap();
    assert!(
        text.contains(
            r#"http_requests_total{method="GET",route="/things/{thing_id}",status="200"} 2"#
        ),
        "{text}"
    );
    assert!(text.contains(r#"http_requests_total{method="GET",route="unmatched",status="404"} 1"#));
    assert!(text.contains(r#"http_requests_total{method="POST",route="/boom",status="500"} 1"#));
    assert!(text.contains(
        r#"http_request_duration_seconds_count{method="GET",route="/things/{thing_id}"} 2"#
    ));
    for raw in ["AA:BB", "example.com", "/secret/raw/path"] {
        assert!(!text.contains(raw), "{raw} leaked into labels");
    }
}
