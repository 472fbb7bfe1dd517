//! What the sandbox's stand-ins for Conekta.js and Mercado Pago's SDK v2 call: typed test card
//! numbers become single-use tokens with the documented outcomes, BINs give payment methods and
//! issuers, and the browser may call it from another origin. The scripts themselves run in
//! headless Chromium in `ops::portal_browser`.

use std::collections::BTreeMap;
use std::time::Duration;

use base64::Engine as _;
use pagos_hotspot::gateways::{
    build_http_client, ChargeOutcome, ConektaClient, ConektaOrderRequest,
};
use pagos_hotspot::sandbox::gateways::{SandboxConfig, SandboxGateways, SandboxHandle};
use serde_json::{json, Value};

const PUBLIC_KEY: &str = "key_public_sandbox";

async fn conekta_token(sb: &SandboxHandle, card: Value) -> (u16, Value) {
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{PUBLIC_KEY}:"));
    let res = reqwest::Client::new()
        .post(format!("{}/tokens", sb.base_url()))
        .header("Authorization", format!("Basic {basic}"))
        .header("Origin", "http://portal.example")
        .json(&json!({ "card": card }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.headers()["access-control-allow-origin"],
        "http://portal.example"
    );
    (res.status().as_u16(), res.json().await.unwrap())
}

fn card(number: &str) -> Value {
    json!({"number": number, "name": "Ana", "exp_month": "12", "exp_year": "2030", "cvc": "123"})
}

fn order(token: &str, reference: &str) -> ConektaOrderRequest {
    ConektaOrderRequest {
        amount_cents: 1500,
        currency: "MXN".into(),
        product_name: "WiFi 1 hora".into(),
        customer_name: "Ana".into(),
        customer_email: "ana@example.mx".into(),
        customer_phone: None,
        card_token: token.into(),
        our_reference: reference.into(),
        metadata: BTreeMap::new(),
        pre_authorize: false,
    }
}

#[actix_web::test]
async fn typed_conekta_cards_tokenise_to_their_outcomes() {
    let sb = SandboxGateways::start(SandboxConfig::default()).unwrap();
    let client = ConektaClient::new(
        &sb.base_url(),
        build_http_client(Duration::from_secs(10)).unwrap(),
    );
    for (i, (number, paid, code)) in [
        ("4242 4242 4242 4242", true, ""),
        ("4242424242424242", true, ""),
        (
            "4000000000000002",
            false,
            "conekta.errors.processing.bank.declined",
        ),
        (
            "4000000000000127",
            false,
            "conekta.errors.processing.bank.insufficient_funds",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let (status, tok) = conekta_token(&sb, card(number)).await;
        assert_eq!(status, 200, "{tok}");
        let id = tok["id"].as_str().unwrap();
        assert!(id.starts_with("tok_"), "{tok}");
        assert_eq!(tok["used"], false);
        let out = client
            .create_order("key_private_x", &order(id, &format!("p-{i}")))
            .await
            .unwrap();
        match out {
            ChargeOutcome::Paid { .. } => assert!(paid, "{number}"),
            ChargeOutcome::Declined { code: c, .. } => {
                assert!(!paid && c == code, "{number}: {c}")
            }
            other => panic!("{number}: {other:?}"),
        }
        // Single use: the same token again is refused without a charge.
        let again = client
            .create_order("key_private_x", &order(id, &format!("q-{i}")))
            .await;
        assert!(
            !matches!(again, Ok(ChargeOutcome::Paid { .. })),
            "{again:?}"
        );
    }
    assert_eq!(sb.ledger().len(), 4);
    // The card is never recorded.
    assert!(sb
        .requests("conekta")
        .iter()
        .all(|r| !r.body.to_string().contains("4242")));
}

#[actix_web::test]
async fn bad_conekta_cards_are_refused_with_conekta_js_errors() {
    let sb = SandboxGateways::start(SandboxConfig::default()).unwrap();
    for (c, param) in [
        (card("4242424242424241"), "card[number]"),
        (
            json!({"number": "4242424242424242", "name": "Ana", "exp_month": "01", "exp_year": "2020", "cvc": "123"}),
            "card[exp_year]",
        ),
        (
            json!({"number": "4242424242424242", "name": "Ana", "exp_month": "12", "exp_year": "2030", "cvc": "1"}),
            "card[cvc]",
        ),
        (
            json!({"number": "4242424242424242", "name": "", "exp_month": "12", "exp_year": "2030", "cvc": "123"}),
            "card[name]",
        ),
    ] {
        let (status, body) = conekta_token(&sb, c).await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(body["object"], "error");
        assert_eq!(body["param"], param);
        assert!(!body["message_to_purchaser"].as_str().unwrap().is_empty());
    }
    let res = reqwest::Client::new()
        .post(format!("{}/tokens", sb.base_url()))
        .json(&json!({ "card": card("4242424242424242") }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
}

async fn get(sb: &SandboxHandle, path: &str) -> (u16, Value) {
    let res = reqwest::get(format!("{}{path}", sb.base_url()))
        .await
        .unwrap();
    (res.status().as_u16(), res.json().await.unwrap())
}

#[actix_web::test]
async fn mercado_pago_bins_give_methods_and_issuers() {
    let sb = SandboxGateways::start(SandboxConfig::default()).unwrap();
    for (bin, method, kind) in [
        ("54749254", "master", "credit_card"),
        ("40755957", "visa", "credit_card"),
        ("55790534", "debmaster", "debit_card"),
        ("41891412", "debvisa", "debit_card"),
        ("37828224", "amex", "credit_card"),
    ] {
        let (status, body) = get(
            &sb,
            &format!("/v1/payment_methods/search?public_key=TEST-pk-123&bins={bin}"),
        )
        .await;
        assert_eq!(status, 200);
        let m = &body["results"][0];
        assert_eq!(m["id"], method, "{bin}");
        assert_eq!(m["payment_type_id"], kind);
        let issuer = m["issuer"]["id"].as_i64().unwrap();
        let (_, issuers) = get(
            &sb,
            &format!("/v1/payment_methods/card_issuers?public_key=TEST-pk-123&payment_method_id={method}&bin={bin}"),
        )
        .await;
        assert_eq!(issuers[0]["id"], issuer.to_string());
    }
    let (_, none) = get(
        &sb,
        "/v1/payment_methods/search?public_key=TEST-pk-123&bins=999999",
    )
    .await;
    assert_eq!(none["results"], json!([]));
    let (status, _) = get(
        &sb,
        "/v1/payment_methods/search?public_key=nope&bins=547492",
    )
    .await;
    assert_eq!(status, 401);
    let (_, inst) = get(
        &sb,
        "/v1/payment_methods/installments?public_key=TEST-pk-123&bin=54749254&amount=15",
    )
    .await;
    assert_eq!(inst[0]["payer_costs"][0]["installments"], 1);
}

#[actix_web::test]
async fn the_scripts_are_served_as_javascript() {
    let sb = SandboxGateways::start(SandboxConfig::default()).unwrap();
    for (path, api) in [
        ("/sdk/conekta.js", "Token: { create: create }"),
        (
            "/sdk/mercadopago/v2.js",
            "MercadoPago.prototype.createCardToken",
        ),
    ] {
        let res = reqwest::get(format!("{}{path}", sb.base_url()))
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert!(res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript"));
        assert!(res.text().await.unwrap().contains(api), "{path}");
    }
}
