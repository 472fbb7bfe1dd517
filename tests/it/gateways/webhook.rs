//! Webhook verification against vectors computed independently (tests/python/gateways_webhook_vectors.py, Python
//! `hmac` + `cryptography`), tampered / stale / replayed cases, and the sandbox's own signed webhooks.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use pagos_hotspot::gateways::webhook::{
    self, mp_replay_key, parse_public_key, verify_conekta, verify_mercado_pago, ReplayGuard,
    WebhookError, DEFAULT_TOLERANCE,
};
use pagos_hotspot::gateways::{
    build_http_client, ChargeOutcome, ConektaClient, ConektaOrderRequest,
};
use pagos_hotspot::sandbox::gateways::{SandboxConfig, SandboxGateways};
use serde_json::Value;

fn vectors() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/python/gateways_webhook_vectors.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn s(v: &Value) -> Option<&str> {
    v.as_str()
}

#[test]
fn mercado_pago_vectors_verify() {
    let v = vectors();
    let cases = v["mercado_pago"].as_array().unwrap();
    assert!(cases.len() >= 4);
    for c in cases {
        let ts = c["ts"].as_i64().unwrap();
        // The manifest we build is byte-identical to Python's.
        assert_eq!(
            webhook::mp_manifest(s(&c["data_id"]), s(&c["request_id"]), &ts.to_string()),
            c["manifest"].as_str().unwrap()
        );
        let sig = verify_mercado_pago(
            c["secret"].as_str().unwrap().as_bytes(),
            s(&c["x_signature"]),
            s(&c["request_id"]),
            s(&c["data_id"]),
            ts + 10,
            DEFAULT_TOLERANCE,
        )
        .unwrap();
        assert_eq!(sig.ts, ts);
    }
}

#[test]
fn mercado_pago_tampered_and_stale_are_rejected() {
    let v = vectors();
    let c = &v["mercado_pago"][0];
    let secret = c["secret"].as_str().unwrap().as_bytes();
    let header = c["x_signature"].as_str().unwrap();
    let (data_id, req_id) = (s(&c["data_id"]), s(&c["request_id"]));
    let ts = c["ts"].as_i64().unwrap();
    let verify =
        |secret: &[u8], header: Option<&str>, req: Option<&str>, id: Option<&str>, now: i64| {
            verify_mercado_pago(secret, header, req, id, now, DEFAULT_TOLERANCE)
        };
    assert!(verify(secret, Some(header), req_id, data_id, ts).is_ok());
    // Another payment id, request id, secret or timestamp than the one signed.
    assert_eq!(
        verify(secret, Some(header), req_id, Some("123456780"), ts),
        Err(WebhookError::BadSignature)
    );
    assert_eq!(
        verify(secret, Some(header), Some("other"), data_id, ts),
        Err(WebhookError::BadSignature)
    );
    assert_eq!(
        verify(b"wrong", Some(header), req_id, data_id, ts),
        Err(WebhookError::BadSignature)
    );
    let shifted = header.replace(&format!("ts={ts}"), &format!("ts={}", ts + 1));
    assert_eq!(
        verify(secret, Some(&shifted), req_id, data_id, ts),
        Err(WebhookError::BadSignature)
    );
    // One flipped hex digit.
    let mut flipped = header.to_owned();
    let last = flipped.pop().unwrap();
    flipped.push(if last == '0' { '1' } else { '0' });
    assert_eq!(
        verify(secret, Some(&flipped), req_id, data_id, ts),
        Err(WebhookError::BadSignature)
    );
    // Missing or malformed header.
    assert_eq!(
        verify(secret, None, req_id, data_id, ts),
        Err(WebhookError::MissingSignature)
    );
    assert_eq!(
        verify(secret, Some("v1=abc"), req_id, data_id, ts),
        Err(WebhookError::MalformedSignature)
    );
    // Stale: a valid signature outside the ±5 min window, either way.
    assert_eq!(
        verify(secret, Some(header), req_id, data_id, ts + 301),
        Err(WebhookError::Stale)
    );
    assert_eq!(
        verify(secret, Some(header), req_id, data_id, ts - 301),
        Err(WebhookError::Stale)
    );
    assert!(verify(secret, Some(header), req_id, data_id, ts + 300).is_ok());
}

#[test]
fn mercado_pago_replay_is_rejected() {
    let v = vectors();
    let c = &v["mercado_pago"][0];
    let ts = c["ts"].as_i64().unwrap();
    let guard = ReplayGuard::new(DEFAULT_TOLERANCE);
    let check = |now: i64| {
        let sig = verify_mercado_pago(
            c["secret"].as_str().unwrap().as_bytes(),
            s(&c["x_signature"]),
            s(&c["request_id"]),
            s(&c["data_id"]),
            now,
            DEFAULT_TOLERANCE,
        )?;
        guard.check(
            &mp_replay_key(s(&c["data_id"]), s(&c["request_id"]), &sig),
            now,
        )
    };
    assert_eq!(check(ts + 1), Ok(()));
    assert_eq!(check(ts + 60), Err(WebhookError::Replayed));
    // Later than the window the signature itself is stale.
    assert_eq!(check(ts + 1000), Err(WebhookError::Stale));
}

#[test]
fn conekta_vectors_verify_and_tampering_fails() {
    let v = vectors();
    let key = parse_public_key(v["conekta"]["public_key_pem"].as_str().unwrap()).unwrap();
    let events = v["conekta"]["events"].as_array().unwrap();
    assert!(events.len() >= 2);
    for e in events {
        let body = e["body"].as_str().unwrap().as_bytes();
        let digest = e["digest"].as_str().unwrap();
        assert_eq!(verify_conekta(&key, body, Some(digest)), Ok(()));
        assert_eq!(
            verify_conekta(&key, body, Some(&format!("sha256={digest}"))),
            Ok(())
        );
        // One byte of the body changed.
        let mut tampered = body.to_vec();
        tampered[10] ^= 1;
        assert_eq!(
            verify_conekta(&key, &tampered, Some(digest)),
            Err(WebhookError::BadSignature)
        );
        assert_eq!(
            verify_conekta(&key, body, None),
            Err(WebhookError::MissingSignature)
        );
        assert!(verify_conekta(&key, body, Some("not base64 !!")).is_err());
    }
    // The first event's signature does not verify the second body.
    let d0 = events[0]["digest"].as_str().unwrap();
    let b1 = events[1]["body"].as_str().unwrap().as_bytes();
    assert_eq!(
        verify_conekta(&key, b1, Some(d0)),
        Err(WebhookError::BadSignature)
    );
    assert_eq!(
        parse_public_key("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----").err(),
        Some(WebhookError::InvalidKey)
    );
}

#[derive(Clone, Debug)]
struct Received {
    path_and_query: String,
    x_signature: Option<String>,
    x_request_id: Option<String>,
    digest: Option<String>,
    body: Vec<u8>,
}

async fn receiver() -> (String, Arc<Mutex<Vec<Received>>>) {
    let got: Arc<Mutex<Vec<Received>>> = Arc::default();
    let g = got.clone();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = HttpServer::new(move || {
        let g = g.clone();
        App::new().default_service(web::to(move |req: HttpRequest, body: web::Bytes| {
            let g = g.clone();
            async move {
                let h = |n: &str| {
                    req.headers()
                        .get(n)
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned)
                };
                g.lock().unwrap().push(Received {
                    path_and_query: req.uri().to_string(),
                    x_signature: h("x-signature"),
                    x_request_id: h("x-request-id"),
                    digest: h("digest"),
                    body: body.to_vec(),
                });
                HttpResponse::Ok().finish()
            }
        }))
    })
    .workers(1)
    .disable_signals()
    .listen(listener)
    .unwrap()
    .run();
    actix_web::rt::spawn(server);
    (format!("http://{addr}"), got)
}

async fn wait_for(got: &Arc<Mutex<Vec<Received>>>, n: usize) -> Vec<Received> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let v = got.lock().unwrap().clone();
        if v.len() >= n {
            return v;
        }
        assert!(Instant::now() < deadline, "webhook not received");
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
}

#[actix_web::test]
async fn sandbox_webhooks_are_signed_and_verify() {
    let (url, got) = receiver().await;
    let sandbox = SandboxGateways::start(SandboxConfig {
        mp_webhook_url: Some(format!("{url}/mp")),
        conekta_webhook_url: Some(format!("{url}/conekta")),
        ..SandboxConfig::default()
    })
    .unwrap();

    // Conekta: a paid order sends a signed order.paid event.
    let client = ConektaClient::new(
        &sandbox.base_url(),
        build_http_client(Duration::from_secs(30)).unwrap(),
    );
    let req = ConektaOrderRequest {
        amount_cents: 1500,
        currency: "MXN".into(),
        product_name: "WiFi 1 hora".into(),
        customer_name: "Ana".into(),
        customer_email: "ana@example.mx".into(),
        customer_phone: None,
        card_token: "tok_test_visa_4242".into(),
        our_reference: "pur-webhook-1".into(),
        metadata: Default::default(),
        pre_authorize: false,
    };
    let ChargeOutcome::Paid { gateway_id, .. } =
        client.create_order("key_test_abc", &req).await.unwrap()
    else {
        panic!("not paid")
    };
    let received = wait_for(&got, 1).await;
    let ev = &received[0];
    assert_eq!(ev.path_and_query, "/conekta");
    let pem = sandbox.conekta_webhook_public_key_pem().unwrap();
    let key = parse_public_key(&pem).unwrap();
    assert_eq!(verify_conekta(&key, &ev.body, ev.digest.as_deref()), Ok(()));
    let body: Value = serde_json::from_slice(&ev.body).unwrap();
    assert_eq!(body["type"], "order.paid");
    assert_eq!(body["data"]["object"]["id"], gateway_id.as_str());
    let mut tampered = ev.body.clone();
    tampered[0] = b' ';
    assert_eq!(
        verify_conekta(&key, &tampered, ev.digest.as_deref()),
        Err(WebhookError::BadSignature)
    );

    // Mercado Pago: a manual notification, signed with the configured secret.
    assert_eq!(
        sandbox
            .send_mp_webhook(20_000_000_777, "payment.updated")
            .await
            .unwrap(),
        Some(200)
    );
    let received = wait_for(&got, 2).await;
    let n = received
        .iter()
        .find(|r| r.path_and_query.starts_with("/mp"))
        .unwrap();
    assert_eq!(n.path_and_query, "/mp?data.id=20000000777&type=payment");
    let now = chrono::Utc::now().timestamp();
    let sig = verify_mercado_pago(
        sandbox.mp_webhook_secret().as_bytes(),
        n.x_signature.as_deref(),
        n.x_request_id.as_deref(),
        Some("20000000777"),
        now,
        DEFAULT_TOLERANCE,
    )
    .unwrap();
    assert!((sig.ts - now).abs() < 60);
    assert_eq!(
        verify_mercado_pago(
            b"other-secret",
            n.x_signature.as_deref(),
            n.x_request_id.as_deref(),
            Some("20000000777"),
            now,
            DEFAULT_TOLERANCE
        ),
        Err(WebhookError::BadSignature)
    );
    assert_eq!(sandbox.webhooks_sent().len(), 2);
    sandbox.stop().await;
}
