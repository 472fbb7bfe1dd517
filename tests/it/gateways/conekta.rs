//! The Conekta client against the sandbox, for every outcome.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use pagos_hotspot::gateways::{
    build_http_client, ChargeOutcome, ConektaClient, ConektaOrderRequest, GatewayError,
    PaymentGateway, PaymentStatus,
};
use pagos_hotspot::sandbox::gateways::{SandboxConfig, SandboxGateways, SandboxHandle};
use rust_decimal::Decimal;

const KEY: &str = "key_test_company_a";

fn client(h: &SandboxHandle, timeout: Duration) -> ConektaClient {
    ConektaClient::new(&h.base_url(), build_http_client(timeout).unwrap())
}

fn order(token: &str, reference: &str, cents: i64) -> ConektaOrderRequest {
    ConektaOrderRequest {
        amount_cents: cents,
        currency: "MXN".into(),
        product_name: "WiFi 1 hora".into(),
        customer_name: "Juan Pérez".into(),
        customer_email: "juan@example.mx".into(),
        customer_phone: Some("55 1234 5678".into()),
        card_token: token.into(),
        our_reference: reference.into(),
        metadata: BTreeMap::from([("router_id".to_owned(), serde_json::json!(7))]),
        pre_authorize: false,
    }
}

fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

#[actix_web::test]
async fn documented_paid_tokens_pay_and_can_be_read_back() {
    let sb = SandboxGateways::start(SandboxConfig::default()).unwrap();
    let c = client(&sb, Duration::from_secs(10));
    let tokens = [
        "tok_test_visa_4242",
        "tok_test_mastercard_4444",
        "tok_test_mastercard_5100",
        "tok_test_visa_1881",
        "tok_test_amex_0005",
        "tok_test_amex_8431",
    ];
    for (i, tok) in tokens.iter().enumerate() {
        let reference = format!("pur-paid-{i}");
        let out = c
            .create_order(KEY, &order(tok, &reference, 1999))
            .await
            .unwrap();
        let ChargeOutcome::Paid {
            gateway_id,
            amount,
            currency,
            ..
        } = out
        else {
            panic!("{tok}: {out:?}")
        };
        assert!(gateway_id.starts_with("ord_"));
        assert_eq!(amount, dec("19.99"));
        assert_eq!(currency, "MXN");
        let snap = c.get_order(KEY, &gateway_id).await.unwrap();
        assert_eq!(snap.status, PaymentStatus::Paid);
        assert_eq!(snap.our_reference.as_deref(), Some(reference.as_str()));
        let found = c
            .find_order_by_reference(KEY, &reference)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found.gateway_id, gateway_id);
    }
    let ledger = sb.ledger();
    assert_eq!(ledger.len(), tokens.len());
    assert!(ledger
        .iter()
        .all(|e| e.status == "paid" && e.amount == dec("19.99")));
    assert_eq!(ledger[0].reference.as_deref(), Some("pur-paid-0"));
    assert_eq!(ledger[0].metadata["router_id"], 7);
    assert_eq!(
        sb.net_captured(),
        dec("19.99") * Decimal::from(tokens.len())
    );
    // Integer cents and our reference on the wire; Basic auth with the key.
    let body = &sb.requests("conekta")[0].body;
    assert_eq!(body["line_items"][0]["unit_price"], 1999);
    assert_eq!(body["metadata"]["purchase_id"], "pur-paid-0");
    assert_eq!(body["customer_info"]["phone"], "+525512345678");
    assert!(c
        .find_order_by_reference(KEY, "pur-none")
        .await
        .unwrap()
        .is_none());
}

#[actix_web::test]
async fn declines_carry_the_order_and_the_original_message() {
    let sb = SandboxGateways::start(SandboxConfig::default()).unwrap();
    let c = client(&sb, Duration::from_secs(10));
    let out = c
        .create_order(KEY, &order("tok_test_card_declined", "pur-d1", 1500))
        .await
        .unwrap();
    let ChargeOutcome::Declined {
        gateway_id,
        code,
        message_es,
        http_status,
        ..
    } = out
    else {
        panic!("{out:?}")
    };
    assert_eq!(http_status, 402);
    assert_eq!(message_es, "Tarjeta declinada. Contacte a su banco.");
    assert_eq!(code, "conekta.errors.processing.bank.declined");
    // The declined order exists at Conekta.
    let snap = c
        .get_order(KEY, gateway_id.as_deref().unwrap())
        .await
        .unwrap();
    assert_eq!(snap.status, PaymentStatus::Declined);
    assert_eq!(snap.status_detail.as_deref(), Some("card_declined"));

    let out = c
        .create_order(KEY, &order("tok_test_insufficient_funds", "pur-d2", 1500))
        .await
        .unwrap();
    let ChargeOutcome::Declined {
        message_es,
        http_status,
        ..
    } = out
    else {
        panic!("{out:?}")
    };
    assert_eq!(
        (http_status, message_es.as_str()),
        (402, "Fondos insuficientes en la tarjeta.")
    );
    assert_eq!(sb.net_captured(), Decimal::ZERO);
    assert!(sb.ledger().iter().all(|e| e.status == "declined"));
}

#[actix_web::test]
async fn unknown_and_reused_tokens() {
    let sb = SandboxGateways::start(SandboxConfig::default()).unwrap();
    let c = client(&sb, Duration::from_secs(10));
    let err = c
        .create_order(KEY, &order("tok_unknown_123", "pur-u", 1500))
        .await
        .unwrap_err();
    assert_eq!(err.http_status(), 422);
    assert_eq!(
        err.message_es(),
        "Token de tarjeta inválido. Genere un nuevo token."
    );
    assert!(matches!(err, GatewayError::InvalidRequest { .. }));
    assert!(!err.outcome_unknown());
    let err = c
        .create_order(KEY, &order("tok_test_visa_4241", "pur-u2", 1500))
        .await
        .unwrap_err();
    assert_eq!(err.http_status(), 422);

    assert!(c
        .create_order(KEY, &order("tok_test_visa_4242", "pur-r1", 1500))
        .await
        .unwrap()
        .is_paid());
    let out = c
        .create_order(KEY, &order("tok_test_visa_4242", "pur-r2", 1500))
        .await
        .unwrap();
    let ChargeOutcome::Declined {
        gateway_id,
        code,
        message_es,
        http_status,
        ..
    } = out
    else {
        panic!("{out:?}")
    };
    assert_eq!(gateway_id, None);
    assert_eq!(code, "conekta.errors.processing.tokenization.used");
    assert_eq!(
        message_es,
        "El token de tarjeta ya fue utilizado. Genere un nuevo token."
    );
    assert_eq!(http_status, 402);
    assert_eq!(sb.ledger().len(), 1, "a reused token charges nothing");

    let err = c
        .create_order(KEY, &order("", "pur-e", 1500))
        .await
        .unwrap_err();
    assert_eq!(
        (err.http_status(), err.message_es()),
        (400, "Token de tarjeta inválido o ya utilizado.")
    );
}

#[actix_web::test]
async fn invalid_requests_and_authentication() {
    let sb = SandboxGateways::start(SandboxConfig::default()).unwrap();
    let c = client(&sb, Duration::from_secs(10));
    let err = c
        .create_order("not_a_key", &order("tok_test_visa_4242", "pur-a", 1500))
        .await
        .unwrap_err();
    assert!(
        matches!(err, GatewayError::Authentication { .. }),
        "{err:?}"
    );
    assert_eq!(err.http_status(), 401);
    assert_eq!(
        err.message_es(),
        "Error de autenticación. Contacte al administrador."
    );
    // Amount validation: zero is refused, nothing charged, the token is still unused.
    let err = c
        .create_order(KEY, &order("tok_test_visa_4242", "pur-z", 0))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            GatewayError::InvalidRequest {
                http_status: 422,
                ..
            }
        ),
        "{err:?}"
    );
    let mut bad = order("tok_test_visa_4242", "pur-c", 1500);
    bad.currency = "MXNN".into();
    assert_eq!(
        c.create_order(KEY, &bad).await.unwrap_err().http_status(),
        422
    );
    assert!(c
        .create_order(KEY, &order("tok_test_visa_4242", "pur-ok", 1500))
        .await
        .unwrap()
        .is_paid());
    let err = c.get_order(KEY, "ord_doesnotexist12345").await.unwrap_err();
    assert!(
        matches!(
            err,
            GatewayError::NotFound {
                http_status: 404,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.message_es(), "Recurso no encontrado.");
}

#[actix_web::test]
async fn server_errors_and_timeouts_mean_unknown_outcome() {
    let sb = SandboxGateways::start(SandboxConfig::default()).unwrap();
    let c = client(&sb, Duration::from_millis(800));

    sb.fail_next(1);
    let err = c
        .create_order(KEY, &order("tok_test_visa_4242", "pur-5xx", 1500))
        .await
        .unwrap_err();
    assert!(matches!(err, GatewayError::Unavailable { .. }), "{err:?}");
    assert!(err.outcome_unknown());
    assert_eq!(err.http_status(), 500);
    assert!(sb.ledger().is_empty(), "an injected 500 charges nothing");

    // Charge, then time out: the client sees a timeout; the order exists and is found by our reference.
    sb.set_hang_for(Duration::from_secs(5));
    sb.charge_then_timeout_next();
    let started = Instant::now();
    let err = c
        .create_order(KEY, &order("tok_test_visa_4242", "pur-hang", 2500))
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(4));
    assert!(matches!(err, GatewayError::Timeout { .. }), "{err:?}");
    assert_eq!(
        (err.http_status(), err.message_es()),
        (504, "Tiempo de espera agotado. Intente nuevamente.")
    );
    assert!(err.outcome_unknown());
    let ledger = sb.ledger();
    assert_eq!(ledger.len(), 1);
    assert_eq!(ledger[0].status, "paid");
    let found = c.find_by_reference(KEY, "pur-hang").await.unwrap().unwrap();
    assert_eq!(found.gateway_id, ledger[0].id);
    assert_eq!(found.amount, dec("25"));
    // The client never retried the POST.
    let posts = sb
        .requests("conekta")
        .iter()
        .filter(|r| r.method == "POST" && r.path == "/orders")
        .count();
    assert_eq!(posts, 2);

    // Latency beyond the timeout.
    sb.set_latency(Duration::from_millis(1500));
    let err = c.get_order(KEY, &found.gateway_id).await.unwrap_err();
    assert!(matches!(err, GatewayError::Timeout { .. }), "{err:?}");
    sb.set_latency(Duration::ZERO);
    assert_eq!(
        c.get_order(KEY, &found.gateway_id).await.unwrap().status,
        PaymentStatus::Paid
    );
}

#[actix_web::test]
async fn refunds_cancel_and_capture() {
    let sb = SandboxGateways::start(SandboxConfig::default()).unwrap();
    let c = client(&sb, Duration::from_secs(10));
    let out = c
        .create_order(KEY, &order("tok_test_visa_4242", "pur-ref", 10000))
        .await
        .unwrap();
    let id = out.gateway_id().unwrap().to_owned();
    let snap = c.refund(KEY, &id, 2500).await.unwrap();
    assert_eq!(snap.status, PaymentStatus::PartiallyRefunded);
    assert_eq!(snap.amount_refunded, dec("25"));
    assert_eq!(sb.net_captured(), dec("75"));
    // More than what is left is refused.
    let err = c.refund(KEY, &id, 8000).await.unwrap_err();
    assert_eq!(err.http_status(), 422);
    // Through the trait, in currency units.
    let snap = PaymentGateway::refund(&c, KEY, &id, dec("75.00"), "unused")
        .await
        .unwrap();
    assert_eq!(snap.status, PaymentStatus::Refunded);
    assert_eq!(sb.net_captured(), Decimal::ZERO);
    assert_eq!(sb.ledger()[0].refunded, dec("100"));
    // A paid (refunded) order cannot be cancelled.
    let err = c.cancel(KEY, &id).await.unwrap_err();
    assert!(
        matches!(err, GatewayError::InvalidRequest { .. }),
        "{err:?}"
    );

    // Authorize, then cancel (void) or capture.
    let mut pre = order("tok_test_mastercard_4444", "pur-pre", 5000);
    pre.pre_authorize = true;
    let out = c.create_order(KEY, &pre).await.unwrap();
    let ChargeOutcome::Authorized {
        gateway_id, amount, ..
    } = out
    else {
        panic!("{out:?}")
    };
    assert_eq!(amount, dec("50"));
    let snap = PaymentGateway::cancel(&c, KEY, &gateway_id).await.unwrap();
    assert_eq!(snap.status, PaymentStatus::Cancelled);
    let mut pre = order("tok_test_visa_1881", "pur-pre2", 5000);
    pre.pre_authorize = true;
    let id2 = c
        .create_order(KEY, &pre)
        .await
        .unwrap()
        .gateway_id()
        .unwrap()
        .to_owned();
    assert_eq!(
        sb.net_captured(),
        Decimal::ZERO,
        "an authorization is not captured money"
    );
    assert_eq!(
        c.capture(KEY, &id2).await.unwrap().status,
        PaymentStatus::Paid
    );
    assert_eq!(sb.net_captured(), dec("50"));
}

#[actix_web::test]
async fn lookup_by_reference_survives_a_search_that_ignores_metadata() {
    let sb = SandboxGateways::start(SandboxConfig::default()).unwrap();
    let c = client(&sb, Duration::from_secs(10));
    let paid = c
        .create_order(KEY, &order("tok_test_visa_4242", "pur-scan", 1500))
        .await
        .unwrap();
    for (i, tok) in ["tok_test_mastercard_4444", "tok_test_visa_1881"]
        .iter()
        .enumerate()
    {
        c.create_order(KEY, &order(tok, &format!("pur-other-{i}"), 1500))
            .await
            .unwrap();
    }
    sb.set_conekta_search_ignores_metadata(true);
    let found = c
        .find_order_by_reference(KEY, "pur-scan")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(Some(found.gateway_id.as_str()), paid.gateway_id());
    // It took the fallback scan: a search, then a plain listing.
    let gets: Vec<_> = sb
        .requests("conekta")
        .into_iter()
        .filter(|r| r.method == "GET" && r.path == "/orders")
        .map(|r| r.query)
        .collect();
    assert_eq!(gets.len(), 2, "{gets:?}");
    assert!(gets[0].contains("search=pur-scan"));
    assert!(!gets[1].contains("search="));
    assert!(c
        .find_order_by_reference(KEY, "pur-missing")
        .await
        .unwrap()
        .is_none());
}
