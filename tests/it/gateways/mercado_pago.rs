//! The Mercado Pago client against the sandbox, for every outcome. Card tokens are made the way the JS SDK makes
//! them: `POST /v1/card_tokens?public_key=…` with `cardholder.name` set to a test name.

use std::time::{Duration, Instant};

use pagos_hotspot::gateways::{
    build_http_client, ChargeOutcome, GatewayError, MercadoPagoClient, MpPayer, MpPaymentRequest,
    PaymentGateway, PaymentStatus,
};
use pagos_hotspot::sandbox::gateways::{SandboxConfig, SandboxGateways, SandboxHandle};
use rust_decimal::Decimal;
use serde_json::json;

const TOKEN: &str = "TEST-1234567890-access-token";
const PUBLIC_KEY: &str = "TEST-public-key-0000";

fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn client(h: &SandboxHandle, timeout: Duration) -> MercadoPagoClient {
    MercadoPagoClient::new(&h.base_url(), build_http_client(timeout).unwrap())
}

async fn card_token(h: &SandboxHandle, name: &str) -> String {
    let resp = reqwest::Client::new()
        .post(format!("{}/v1/card_tokens?public_key={PUBLIC_KEY}", h.base_url()))
        .json(&json!({
            "card_number": "4075595716483764", "security_code": "123",
            "expiration_month": 11, "expiration_year": 2030,
            "cardholder": { "name": name, "identification": { "type": "RFC", "number": "XAXX010101000" } }
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 201);
    let v: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(v["last_four_digits"], "3764");
    v["id"].as_str().unwrap().to_owned()
}

fn payment(card_token: &str, purchase_id: &str, amount: &str) -> MpPaymentRequest {
    MpPaymentRequest {
        idempotency_key: purchase_id.into(),
        device_id: Some("device-abc".into()),
        amount: dec(amount),
        token: card_token.into(),
        payment_method_id: "visa".into(),
        installments: 1,
        issuer_id: Some("24".into()),
        payer: MpPayer::from_customer(
            "Juan Pérez López",
            "juan@example.mx",
            Some("+52 55 1234 5678"),
        ),
        external_reference: purchase_id.into(),
        description: "Acceso Hotspot - WiFi 1 hora".into(),
        notification_url: None,
        statement_descriptor: Some("HOTSPOT WIFI".into()),
        binary_mode: true,
        capture: true,
        metadata: Default::default(),
    }
}

#[actix_web::test]
async fn approved_payment_round_trip() {
    let sb = SandboxGateways::start(SandboxConfig::default()).unwrap();
    let c = client(&sb, Duration::from_secs(10));
    let tok = card_token(&sb, "APRO").await;
    let out = c
        .create_payment(TOKEN, &payment(&tok, "pur-apro", "19.99"))
        .await
        .unwrap();
    let ChargeOutcome::Paid {
        gateway_id,
        amount,
        currency,
        ..
    } = out
    else {
        panic!("{out:?}")
    };
    assert_eq!(amount, dec("19.99"));
    assert_eq!(currency, "MXN");
    assert!(gateway_id.parse::<i64>().unwrap() > i64::from(u32::MAX));
    let snap = c.get_payment(TOKEN, &gateway_id).await.unwrap();
    assert_eq!(snap.status, PaymentStatus::Paid);
    assert_eq!(snap.status_detail.as_deref(), Some("accredited"));
    assert_eq!(snap.our_reference.as_deref(), Some("pur-apro"));
    let found = c
        .search_by_external_reference(TOKEN, "pur-apro")
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].gateway_id, gateway_id);
    assert!(c
        .search_by_external_reference(TOKEN, "pur-other")
        .await
        .unwrap()
        .is_empty());
    // Headers and body on the wire.
    let reqs = sb.requests("mercado_pago");
    let r = reqs
        .iter()
        .find(|r| r.method == "POST" && r.path == "/v1/payments")
        .unwrap();
    assert_eq!(
        r.headers.get("x-idempotency-key").map(String::as_str),
        Some("pur-apro")
    );
    assert_eq!(
        r.headers.get("x-meli-session-id").map(String::as_str),
        Some("device-abc")
    );
    assert_eq!(
        r.headers
            .get("x-mercado-pago-device-id")
            .map(String::as_str),
        Some("device-abc")
    );
    assert_eq!(r.body["transaction_amount"], json!(19.99));
    assert_eq!(r.body["payer"]["first_name"], "Juan");
    assert_eq!(r.body["payer"]["last_name"], "Pérez López");
    let ledger = sb.ledger();
    assert_eq!(ledger.len(), 1);
    assert_eq!(ledger[0].idempotency_key.as_deref(), Some("pur-apro"));
    assert_eq!(ledger[0].reference.as_deref(), Some("pur-apro"));
    assert_eq!(sb.net_captured(), dec("19.99"));
}

#[actix_web::test]
async fn cardholder_names_give_the_documented_rejections() {
    let sb = SandboxGateways::start(SandboxConfig::default()).unwrap();
    let c = client(&sb, Duration::from_secs(10));
    let cases = [
        (
            "OTHE",
            "cc_rejected_other_reason",
            "❌ Tarjeta rechazada. Contacte a su banco.",
        ),
        (
            "CALL",
            "cc_rejected_call_for_authorize",
            "⚠️ El pago requiere autorización del banco.",
        ),
        (
            "FUND",
            "cc_rejected_insufficient_amount",
            "❌ Fondos insuficientes en la tarjeta.",
        ),
        (
            "SECU",
            "cc_rejected_bad_filled_security_code",
            "❌ Código de seguridad (CVV) incorrecto.",
        ),
        (
            "EXPI",
            "cc_rejected_bad_filled_date",
            "❌ Fecha de vencimiento incorrecta.",
        ),
        (
            "FORM",
            "cc_rejected_bad_filled_other",
            "❌ Error al procesar el pago. Intente nuevamente.",
        ),
        (
            "CARD",
            "cc_rejected_bad_filled_card_number",
            "❌ Número de tarjeta incorrecto. Verifique los datos.",
        ),
        (
            "INST",
            "cc_rejected_invalid_installments",
            "❌ Número de cuotas no válido para esta tarjeta.",
        ),
        (
            "DUPL",
            "cc_rejected_duplicated_payment",
            "⚠️ Este pago ya fue procesado anteriormente.",
        ),
        (
            "LOCK",
            "cc_rejected_card_disabled",
            "❌ Tarjeta deshabilitada. Contacte a su banco.",
        ),
        (
            "ATTE",
            "cc_rejected_max_attempts",
            "⏰ Máximo de intentos excedido. Espere e intente más tarde.",
        ),
        (
            "BLAC",
            "cc_rejected_blacklist",
            "❌ No se puede procesar el pago con esta tarjeta.",
        ),
        // binary_mode (the default here, as in the original) turns contingency into a rejection.
        (
            "CONT",
            "cc_rejected_other_reason",
            "❌ Tarjeta rechazada. Contacte a su banco.",
        ),
    ];
    for (i, (name, detail, message)) in cases.iter().enumerate() {
        let tok = card_token(&sb, name).await;
        let out = c
            .create_payment(TOKEN, &payment(&tok, &format!("pur-rej-{i}"), "10"))
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
            panic!("{name}: {out:?}")
        };
        assert!(gateway_id.is_some(), "{name}");
        assert_eq!(code, *detail, "{name}");
        assert_eq!(message_es, *message, "{name}");
        assert_eq!(http_status, 402);
    }
    assert_eq!(sb.net_captured(), Decimal::ZERO);
}

#[actix_web::test]
async fn pending_and_authorized() {
    let sb = SandboxGateways::start(SandboxConfig::default()).unwrap();
    let c = client(&sb, Duration::from_secs(10));
    let tok = card_token(&sb, "CONT").await;
    let mut req = payment(&tok, "pur-cont", "30");
    req.binary_mode = false;
    let out = c.create_payment(TOKEN, &req).await.unwrap();
    let ChargeOutcome::Pending {
        gateway_id,
        status,
        status_detail,
        message_es,
        ..
    } = out
    else {
        panic!("{out:?}")
    };
    assert_eq!(
        (status.as_str(), status_detail.as_str()),
        ("in_process", "pending_contingency")
    );
    assert_eq!(message_es, "⏳ El pago está pendiente de confirmación.");
    let snap = PaymentGateway::cancel(&c, TOKEN, &gateway_id)
        .await
        .unwrap();
    assert_eq!(snap.status, PaymentStatus::Cancelled);
    assert_eq!(snap.status_detail.as_deref(), Some("by_collector"));

    let tok = card_token(&sb, "APRO").await;
    let mut req = payment(&tok, "pur-auth", "30");
    req.capture = false;
    let out = c.create_payment(TOKEN, &req).await.unwrap();
    let ChargeOutcome::Authorized { gateway_id, .. } = out else {
        panic!("{out:?}")
    };
    assert_eq!(sb.net_captured(), Decimal::ZERO);
    assert_eq!(
        c.capture(TOKEN, &gateway_id).await.unwrap().status,
        PaymentStatus::Paid
    );
    assert_eq!(sb.net_captured(), dec("30"));
    // An approved payment cannot be cancelled any more.
    let err = c.cancel(TOKEN, &gateway_id).await.unwrap_err();
    assert_eq!(err.http_status(), 400);
    assert!(err
        .message_es()
        .starts_with("Error de validación: Not valid action"));
}

#[actix_web::test]
async fn idempotency_key_returns_the_same_payment() {
    let sb = SandboxGateways::start(SandboxConfig::default()).unwrap();
    let c = client(&sb, Duration::from_secs(10));
    let tok = card_token(&sb, "APRO").await;
    let req = payment(&tok, "pur-idem", "15");
    let a = c.create_payment(TOKEN, &req).await.unwrap();
    let b = c.create_payment(TOKEN, &req).await.unwrap();
    assert_eq!(a.gateway_id(), b.gateway_id());
    assert_eq!(sb.ledger().len(), 1, "one charge for one purchase id");
    // The same key with another amount is refused.
    let mut other = req.clone();
    other.amount = dec("16");
    assert!(matches!(
        c.create_payment(TOKEN, &other).await.unwrap_err(),
        GatewayError::InvalidRequest { .. }
    ));
    // A used card token under a new key is refused.
    let mut again = req.clone();
    again.idempotency_key = "pur-idem-2".into();
    again.external_reference = "pur-idem-2".into();
    let err = c.create_payment(TOKEN, &again).await.unwrap_err();
    assert_eq!(err.http_status(), 400);
    assert_eq!(
        err.message_es(),
        "Error de validación: Invalid card_token_id"
    );
    assert_eq!(sb.ledger().len(), 1);
}

#[actix_web::test]
async fn invalid_requests_and_authentication() {
    let sb = SandboxGateways::start(SandboxConfig::default()).unwrap();
    let c = client(&sb, Duration::from_secs(10));
    let tok = card_token(&sb, "APRO").await;
    // Amount validation in the client: zero, negative and sub-cent amounts never leave the service.
    for bad in ["10.005", "0", "-5"] {
        let err = c
            .create_payment(TOKEN, &payment(&tok, "pur-amt", bad))
            .await
            .unwrap_err();
        assert_eq!(
            err.message_es(),
            "Error de validación: Invalid value for transaction_amount",
            "{bad}"
        );
        assert_eq!(err.http_status(), 400);
    }
    assert!(sb
        .requests("mercado_pago")
        .iter()
        .all(|r| r.path != "/v1/payments"));
    // And in the sandbox, for other clients.
    for bad in [json!(10.005), json!(0), json!("10")] {
        let r = reqwest::Client::new()
            .post(format!("{}/v1/payments", sb.base_url()))
            .bearer_auth(TOKEN)
            .header("X-Idempotency-Key", format!("raw-{bad}"))
            .json(&json!({"transaction_amount": bad, "token": tok, "payment_method_id": "visa", "installments": 1,
                          "payer": {"email": "a@b.mx"}}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 400, "{bad}");
        let v: serde_json::Value = r.json().await.unwrap();
        assert_eq!(v["cause"][0]["code"], 2072);
    }
    // The token is still usable after the refusals.
    assert!(c
        .create_payment(TOKEN, &payment(&tok, "pur-amt", "10.50"))
        .await
        .unwrap()
        .is_paid());
    let tok = card_token(&sb, "APRO").await;
    let err = c
        .create_payment("bad-token", &payment(&tok, "pur-auth", "10"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, GatewayError::Authentication { .. }),
        "{err:?}"
    );
    assert_eq!(
        (err.http_status(), err.message_es()),
        (500, "Estado de pago no manejado: 401")
    );
    let err = c
        .create_payment(TOKEN, &payment("nonexistent", "pur-nt", "10"))
        .await
        .unwrap_err();
    assert_eq!(
        err.message_es(),
        "Error de validación: Card Token not found"
    );
    let err = c.get_payment(TOKEN, "999").await.unwrap_err();
    assert!(matches!(err, GatewayError::NotFound { .. }), "{err:?}");
    let err = c.get_payment(TOKEN, "../x").await.unwrap_err();
    assert!(matches!(err, GatewayError::NotFound { .. }), "{err:?}");
    // The JS SDK's public key is required to tokenize.
    let r = reqwest::Client::new()
        .post(format!("{}/v1/card_tokens", sb.base_url()))
        .json(&json!({"card_number":"4075595716483764","cardholder":{"name":"APRO"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
}

#[actix_web::test]
async fn server_errors_and_timeouts_then_safe_retry() {
    let sb = SandboxGateways::start(SandboxConfig::default()).unwrap();
    let c = client(&sb, Duration::from_millis(800));
    let tok = card_token(&sb, "APRO").await;
    let req = payment(&tok, "pur-t", "42.50");

    sb.fail_next(1);
    let err = c.create_payment(TOKEN, &req).await.unwrap_err();
    assert!(matches!(err, GatewayError::Unavailable { .. }), "{err:?}");
    assert!(err.outcome_unknown());
    assert_eq!(
        (err.http_status(), err.message_es()),
        (500, "Estado de pago no manejado: 500")
    );
    assert!(sb.ledger().is_empty());

    sb.set_hang_for(Duration::from_secs(5));
    sb.charge_then_timeout_next();
    let started = Instant::now();
    let err = c.create_payment(TOKEN, &req).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(4));
    assert!(matches!(err, GatewayError::Timeout { .. }), "{err:?}");
    assert!(err.outcome_unknown());
    assert_eq!(sb.ledger().len(), 1);
    // Same idempotency key: the retry returns the charge already made, not a second one.
    let out = c.create_payment(TOKEN, &req).await.unwrap();
    assert!(out.is_paid());
    assert_eq!(out.gateway_id(), Some(sb.ledger()[0].id.as_str()));
    assert_eq!(sb.ledger().len(), 1);
    let found = c.find_by_reference(TOKEN, "pur-t").await.unwrap().unwrap();
    assert_eq!(found.amount, dec("42.5"));

    sb.set_latency(Duration::from_millis(1500));
    assert!(matches!(
        c.get_payment(TOKEN, &found.gateway_id).await.unwrap_err(),
        GatewayError::Timeout { .. }
    ));
}

#[actix_web::test]
async fn refunds() {
    let sb = SandboxGateways::start(SandboxConfig::default()).unwrap();
    let c = client(&sb, Duration::from_secs(10));
    let tok = card_token(&sb, "APRO").await;
    let id = c
        .create_payment(TOKEN, &payment(&tok, "pur-refund", "100"))
        .await
        .unwrap()
        .gateway_id()
        .unwrap()
        .to_owned();
    let snap = c
        .refund(TOKEN, &id, Some(dec("30.50")), "pur-refund-r1")
        .await
        .unwrap();
    assert_eq!(snap.status, PaymentStatus::PartiallyRefunded);
    assert_eq!(snap.amount_refunded, dec("30.5"));
    // The same refund key does not refund twice.
    let snap = c
        .refund(TOKEN, &id, Some(dec("30.50")), "pur-refund-r1")
        .await
        .unwrap();
    assert_eq!(snap.amount_refunded, dec("30.5"));
    assert_eq!(sb.net_captured(), dec("69.5"));
    let err = c
        .refund(TOKEN, &id, Some(dec("80")), "pur-refund-r2")
        .await
        .unwrap_err();
    assert_eq!(err.http_status(), 400);
    let snap = c.refund(TOKEN, &id, None, "pur-refund-r3").await.unwrap();
    assert_eq!(snap.status, PaymentStatus::Refunded);
    assert_eq!(snap.amount_refunded, dec("100"));
    assert_eq!(sb.net_captured(), Decimal::ZERO);
    assert_eq!(sb.ledger()[0].status, "refunded");
}
