//! Logs never carry a secret: the admin, router, credential and gateway flows run with every
//! log line (at `debug`, every crate) captured, and no password, key, token or card token may
//! appear in them; then purchases on both gateways (paid and declined, the Mercado Pago card
//! token step included) against the RouterOS simulator, whose log lines must carry the request,
//! company, router and purchase ids.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::helpers::purchase::World;
use crate::helpers::{
    capture_logs, spawn_app, spawn_app_with, status_json, TestApp, ADMIN_PASSWORD,
};
use pagos_hotspot::crypto::field;
use pagos_hotspot::db::routers::{create_router, NewRouter};
use pagos_hotspot::gateways::telegram::TelegramClient;
use pagos_hotspot::gateways::{
    build_http_client, ConektaClient, ConektaOrderRequest, MercadoPagoClient, MpPayer,
    MpPaymentRequest,
};
use pagos_hotspot::sandbox::gateways::{SandboxConfig, SandboxGateways, SandboxHandle};
use pagos_hotspot::sandbox::routeros_sim::{RouterSim, SimConfig};
use sea_orm::{ActiveModelTrait, EntityTrait, IntoActiveModel, Set};
use secrecy::ExposeSecret;
use serde_json::{json, Value};

const ROUTER_PASSWORD: &str = "RouterPw-LOGTEST-5d1c9a";
const CONEKTA_PRIVATE_KEY: &str = "key_LOGTEST_conekta_private_7Qe2";
const MP_ACCESS_TOKEN: &str = "APP_USR-LOGTEST-access-token-91b7";
const MP_WEBHOOK_SECRET: &str = "whsec-LOGTEST-mp-webhook-3c8e";
const TELEGRAM_BOT_TOKEN: &str = "987654:LOGTEST_bot_token_AbCdEf";
const NEW_ADMIN_PASSWORD: &str = "NewPass-LOGTEST-8e2f";
const WRONG_PASSWORD: &str = "WrongPass-LOGTEST-0a4b";
const SIM_ROUTER_PASSWORD: &str = "SimRouterPw-LOGTEST-77a1";
const MP_CARD_NUMBER: &str = "4075595716483764";

/// Every secret the flows below handle, to be searched for in the logs.
#[derive(Default)]
struct Secrets(Vec<(String, String)>);

impl Secrets {
    fn add(&mut self, what: &str, value: impl Into<String>) {
        self.0.push((what.to_string(), value.into()));
    }
}

async fn mp_card_token(sb: &SandboxHandle, name: &str) -> String {
    let resp = reqwest::Client::new()
        .post(format!(
            "{}/v1/card_tokens?public_key=TEST-public-key-0000",
            sb.base_url()
        ))
        .json(&json!({
            "card_number": "4075595716483764", "security_code": "123",
            "expiration_month": 11, "expiration_year": 2030,
            "cardholder": { "name": name, "identification": { "type": "RFC", "number": "XAXX010101000" } }
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 201);
    let v: Value = resp.json().await.unwrap();
    v["id"].as_str().unwrap().to_owned()
}

/// Admin login (right and wrong password), password change, router creation with a password,
/// the router API key used both ways and a forged one, gateway credentials stored encrypted.
async fn admin_flows(app: &TestApp, secrets: &mut Secrets) -> (String, String) {
    let tenant = app.tenant("Logs").await;
    secrets.add("admin password", ADMIN_PASSWORD);
    secrets.add("router api key", tenant.api_key.clone());
    secrets.add("admin session token", tenant.admin_token.clone());

    // A refused login.
    let res = app
        .http
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"email": tenant.admin_email, "password": WRONG_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    secrets.add("wrong password", WRONG_PASSWORD);

    // Change the password; the answer carries a fresh token.
    let res = app
        .http
        .post(app.url("/api/v1/auth/change-password"))
        .bearer_auth(&tenant.admin_token)
        .json(&json!({"current_password": ADMIN_PASSWORD, "new_password": NEW_ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(res).await;
    assert_eq!(status, 200, "{body}");
    secrets.add("new admin password", NEW_ADMIN_PASSWORD);
    secrets.add(
        "new session token",
        body["access_token"].as_str().unwrap().to_string(),
    );
    let token = app.login(&tenant.admin_email, NEW_ADMIN_PASSWORD).await;
    secrets.add("third session token", token.clone());
    // The old token is refused (and logged as such, without the token).
    let res = app
        .http
        .post(app.url("/api/v1/auth/logout"))
        .bearer_auth(&tenant.admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);

    let router_id = router_key_flows(app, &tenant.empresa.id, secrets).await;

    // Gateway and Telegram credentials, encrypted at rest.
    let s = &app.state.secrets;
    let mut empresa = tenant.empresa.clone().into_active_model();
    empresa.conekta_private_key = Set(Some(
        s.encrypt(field::CONEKTA_PRIVATE_KEY, CONEKTA_PRIVATE_KEY),
    ));
    empresa.mercado_pago_access_token =
        Set(Some(s.encrypt(field::MP_ACCESS_TOKEN, MP_ACCESS_TOKEN)));
    empresa.mercado_pago_webhook_secret =
        Set(Some(s.encrypt(field::MP_WEBHOOK_SECRET, MP_WEBHOOK_SECRET)));
    empresa.telegram_bot_token = Set(Some(
        s.encrypt(field::TELEGRAM_BOT_TOKEN, TELEGRAM_BOT_TOKEN),
    ));
    empresa.telegram_chat_id = Set(Some("123456789".into()));
    let empresa = empresa.update(&app.db).await.unwrap();
    secrets.add("conekta private key", CONEKTA_PRIVATE_KEY);
    secrets.add("mercado pago access token", MP_ACCESS_TOKEN);
    secrets.add("mercado pago webhook secret", MP_WEBHOOK_SECRET);
    secrets.add("telegram bot token", TELEGRAM_BOT_TOKEN);
    (empresa.id, router_id)
}

/// A second router with a password; its API key used both ways, and a forged one. Returns the
/// router's id.
async fn router_key_flows(app: &TestApp, empresa_id: &str, secrets: &mut Secrets) -> String {
    // A router with a password.
    let (router, key) = create_router(
        &app.db,
        &app.state.secrets,
        NewRouter {
            empresa_id: empresa_id.to_string(),
            nombre: "Router logs".into(),
            host: "127.0.0.1".into(),
            puerto: 8728,
            usuario: "api".into(),
            password: ROUTER_PASSWORD.into(),
            ubicacion: None,
            use_tls: false,
            tls_fingerprint: None,
        },
        app.state.config.jwt_apikey_secret.expose_secret(),
        app.state.config.apikey_ttl,
    )
    .await
    .unwrap();
    secrets.add("router password", ROUTER_PASSWORD);
    secrets.add("second router api key", key.api_key.clone());

    // The portal authenticates with the key, as X-API-Key and as a bearer token.
    for (header, value) in [
        ("x-api-key", key.api_key.clone()),
        ("authorization", format!("Bearer {}", key.api_key)),
    ] {
        let res = app
            .http
            .get(app.url("/api/v1/config/public"))
            .header(header, value)
            .header("x-request-id", format!("logtest-{header}"))
            .send()
            .await
            .unwrap();
        let (status, body) = status_json(res).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["router"]["id"], router.id);
    }
    // A forged key (a valid shape with a wrong signature) is refused.
    let forged = format!("{}x", key.api_key);
    let res = app
        .http
        .get(app.url("/api/v1/config/public"))
        .header("x-api-key", &forged)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    secrets.add("forged api key", forged);
    router.id
}

/// The gateway clients against the sandbox with the company's decrypted credentials: paid,
/// declined, refused and failing charges, reads, and a Telegram message.
async fn gateway_flows(app: &TestApp, empresa_id: &str, secrets: &mut Secrets) {
    let sb = SandboxGateways::start(SandboxConfig::default()).unwrap();
    let http = build_http_client(Duration::from_secs(10)).unwrap();
    let empresa = entity::empresa::Entity::find_by_id(empresa_id.to_string())
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let s = &app.state.secrets;
    let conekta_key = s
        .decrypt(
            field::CONEKTA_PRIVATE_KEY,
            empresa.conekta_private_key.as_deref().unwrap(),
        )
        .unwrap();
    let mp_token = s
        .decrypt(
            field::MP_ACCESS_TOKEN,
            empresa.mercado_pago_access_token.as_deref().unwrap(),
        )
        .unwrap();
    let bot = s
        .decrypt(
            field::TELEGRAM_BOT_TOKEN,
            empresa.telegram_bot_token.as_deref().unwrap(),
        )
        .unwrap();

    let conekta = ConektaClient::new(&sb.base_url(), http.clone());
    for (i, card_token) in [
        "tok_test_visa_4242",
        "tok_test_card_declined",
        "tok_test_visa_4241",
    ]
    .into_iter()
    .enumerate()
    {
        secrets.add("conekta card token", card_token);
        let order = ConektaOrderRequest {
            amount_cents: 1999,
            currency: "MXN".into(),
            product_name: "WiFi 1 hora".into(),
            customer_name: "Ana López".into(),
            customer_email: "ana@example.mx".into(),
            customer_phone: None,
            card_token: card_token.into(),
            our_reference: format!("pur-logs-{i}"),
            metadata: BTreeMap::new(),
            pre_authorize: false,
        };
        let result = conekta.create_order(&conekta_key, &order).await;
        if i == 0 {
            let out = result.unwrap();
            let id = out.gateway_id().unwrap().to_string();
            conekta.get_order(&conekta_key, &id).await.unwrap();
        }
    }
    // A 5xx from the gateway.
    sb.fail_next(1);
    let _ = conekta
        .find_order_by_reference(&conekta_key, "pur-logs-0")
        .await;

    let mp = MercadoPagoClient::new(&sb.base_url(), http.clone());
    for (i, name) in ["APRO", "OTHE"].into_iter().enumerate() {
        let card_token = mp_card_token(&sb, name).await;
        secrets.add("mercado pago card token", card_token.clone());
        let req = MpPaymentRequest {
            idempotency_key: format!("pur-logs-mp-{i}"),
            device_id: None,
            amount: "19.99".parse().unwrap(),
            token: card_token,
            payment_method_id: "visa".into(),
            installments: 1,
            issuer_id: None,
            payer: MpPayer::from_customer("Ana López", "ana@example.mx", None),
            external_reference: format!("pur-logs-mp-{i}"),
            description: "Acceso Hotspot - WiFi 1 hora".into(),
            notification_url: None,
            statement_descriptor: None,
            binary_mode: true,
            capture: true,
            metadata: Default::default(),
        };
        let _ = mp.create_payment(&mp_token, &req).await;
    }
    // A wrong access token is refused.
    let _ = mp
        .search_by_external_reference("APP_USR-LOGTEST-wrong-token", "pur-logs-mp-0")
        .await;
    secrets.add("wrong access token", "APP_USR-LOGTEST-wrong-token");

    let telegram = TelegramClient::new(&sb.base_url(), http);
    telegram
        .send_test_message(&bot, "123456789", "Logs")
        .await
        .unwrap();
}

/// One portal purchase with a chosen request id; returns the answer.
async fn purchase(w: &World, path: &str, body: &Value, request_id: &str) -> (u16, Value) {
    let res = w
        .app
        .http
        .post(w.app.url(path))
        .header("x-api-key", &w.tenant.api_key)
        .header("x-request-id", request_id)
        .json(body)
        .send()
        .await
        .unwrap();
    status_json(res).await
}

/// True when `secret` occurs in `text` as a whole token (not inside a longer word, number or
/// timestamp), for short secrets such as a 4-character hotspot password.
fn contains_token(text: &str, secret: &str) -> bool {
    let glued =
        |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || ".-:_".contains(c));
    text.match_indices(secret).any(|(i, _)| {
        !glued(text[..i].chars().next_back()) && !glued(text[i + secret.len()..].chars().next())
    })
}

/// The world of [`purchase_flows`]: the simulator (with its own router password), the sandbox
/// gateways, a tenant with both gateways configured and one product.
async fn purchase_world(secrets: &mut Secrets) -> World {
    let sb = SandboxGateways::start(SandboxConfig::default()).unwrap();
    let sim = RouterSim::start(SimConfig::new("api", SIM_ROUTER_PASSWORD)).unwrap();
    let app = spawn_app_with(|c| crate::helpers::purchase::base_config(c, &sb)).await;
    let tenant = app
        .tenant_with_router("Logs compras", "127.0.0.1", sim.addr().port())
        .await;
    let mut router = tenant.router.clone().into_active_model();
    router.password_encrypted = Set(app
        .state
        .secrets
        .encrypt(field::ROUTER_PASSWORD, SIM_ROUTER_PASSWORD));
    router.update(&app.db).await.unwrap();
    crate::helpers::purchase::configure_gateways(&app, &tenant, &sb).await;
    let product =
        crate::helpers::purchase::insert_product(&app, &tenant, "1 Hora", "1h", "15.00", true)
            .await;
    secrets.add("simulated router password", SIM_ROUTER_PASSWORD);
    secrets.add("purchase tenant api key", tenant.api_key.clone());
    secrets.add("purchase tenant session token", tenant.admin_token.clone());
    secrets.add("conekta private key", crate::helpers::purchase::CONEKTA_KEY);
    secrets.add(
        "mercado pago access token",
        crate::helpers::purchase::MP_TOKEN,
    );
    secrets.add("mercado pago webhook secret", sb.mp_webhook_secret());
    secrets.add("telegram bot token", crate::helpers::purchase::BOT_TOKEN);
    secrets.add("card number", MP_CARD_NUMBER);
    World {
        app,
        sim,
        sb,
        tenant,
        product,
    }
}

/// The purchases: a paid and a declined Conekta charge, an approved and a rejected Mercado Pago
/// payment (card tokens made through the sandbox's `/v1/card_tokens`), both user types, against
/// the RouterOS simulator (its own router password). Returns the world and the request ids of
/// the two paid purchases with their purchase ids.
async fn purchase_flows(secrets: &mut Secrets) -> (World, Vec<(String, String)>) {
    let w = purchase_world(secrets).await;
    let mut paid = Vec::new();

    // Conekta, user + password, paid.
    let card = "tok_test_amex_8431";
    let mut body = crate::helpers::purchase::conekta_body(w.product.id, card);
    body["tipo_usuario"] = json!("usuario_contrasena");
    body["mac_cliente"] = json!("AA:BB:CC:DD:EE:31");
    let (s, v) = purchase(
        &w,
        "/api/v1/payments/pagar-conekta",
        &body,
        "logtest-buy-conekta",
    )
    .await;
    assert_eq!(s, 200, "{v}");
    secrets.add("conekta card token", card);
    let pw = v["usuario_hotspot"]["contrasena"].as_str().unwrap();
    assert_eq!(pw.len(), 4);
    secrets.add("hotspot password", pw);
    paid.push((
        "logtest-buy-conekta".to_string(),
        w.purchases().await[0].id.clone(),
    ));

    // Conekta, PIN, declined.
    let card = "tok_test_card_declined";
    let mut body = crate::helpers::purchase::conekta_body(w.product.id, card);
    body["tipo_usuario"] = json!("pin");
    let (s, v) = purchase(
        &w,
        "/api/v1/payments/pagar-conekta",
        &body,
        "logtest-decline-conekta",
    )
    .await;
    assert_eq!(s, 402, "{v}");
    secrets.add("declined conekta card token", card);

    // Mercado Pago, PIN, approved: the card token comes from the gateway's tokenizer.
    let card = crate::helpers::purchase::mp_card_token(&w, "APRO").await;
    let mut body = crate::helpers::purchase::mp_body(w.product.id, &card, 15.0);
    body["tipo_usuario"] = json!("pin");
    let (s, v) = purchase(
        &w,
        "/api/v1/payments/pagar-mercado-pago",
        &body,
        "logtest-buy-mp",
    )
    .await;
    assert_eq!(s, 200, "{v}");
    secrets.add("mercado pago card token", card);
    let pin = v["usuario_hotspot"]["usuario"].as_str().unwrap();
    assert!(pin.starts_with("PT-") && pin.len() == 11, "{pin}");
    secrets.add("hotspot PIN", pin);
    let mp_purchase = w
        .purchases()
        .await
        .into_iter()
        .find(|p| p.hotspot_username.as_deref() == Some(pin))
        .unwrap();
    paid.push(("logtest-buy-mp".to_string(), mp_purchase.id));

    // Mercado Pago, rejected.
    let card = crate::helpers::purchase::mp_card_token(&w, "OTHE").await;
    let (s, v) = purchase(
        &w,
        "/api/v1/payments/pagar-mercado-pago",
        &crate::helpers::purchase::mp_body(w.product.id, &card, 15.0),
        "logtest-reject-mp",
    )
    .await;
    assert_eq!(s, 402, "{v}");
    secrets.add("rejected mercado pago card token", card);
    (w, paid)
}

#[actix_web::test]
async fn no_secret_reaches_the_logs() {
    let mut secrets = Secrets::default();
    let (ids, logs) = capture_logs(async {
        let app = spawn_app().await;
        let (empresa_id, router_id) = admin_flows(&app, &mut secrets).await;
        gateway_flows(&app, &empresa_id, &mut secrets).await;
        let (world, paid) = purchase_flows(&mut secrets).await;
        (empresa_id, router_id, world, paid)
    })
    .await;
    let (empresa_id, router_id, world, paid) = ids;

    // The capture worked: the flows' own lines are there, as JSON, with their ids.
    let lines: Vec<Value> = logs
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(lines.len() > 20, "only {} log lines", lines.len());
    let message = |l: &Value| {
        l["fields"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    assert!(lines.iter().any(|l| message(l) == "admin login"));
    assert!(lines.iter().any(|l| message(l) == "admin login refused"));
    assert!(lines.iter().any(|l| message(l) == "conekta create order"));
    assert!(lines
        .iter()
        .any(|l| message(l) == "mercado pago create payment"));
    let portal = lines
        .iter()
        .find(|l| {
            message(l) == "request completed" && l["span"]["request_id"] == "logtest-x-api-key"
        })
        .expect("the portal request's completion line");
    assert_eq!(portal["span"]["empresa_id"], empresa_id.as_str());
    assert_eq!(portal["span"]["router_id"], router_id.as_str());
    assert_eq!(portal["span"]["route"], "/api/v1/config/public");

    // Every line a purchase request logs carries its request id, the company, the router and
    // the purchase (from the request span, recorded by the API key extractor and the saga).
    assert!(lines.iter().any(|l| message(l) == "purchase completed"));
    for (request_id, purchase_id) in &paid {
        let own: Vec<&Value> = lines
            .iter()
            .filter(|l| l["span"]["request_id"] == request_id.as_str())
            .collect();
        let service: Vec<&Value> = own
            .iter()
            .copied()
            .filter(|l| {
                l["target"]
                    .as_str()
                    .is_some_and(|t| t.starts_with("pagos_hotspot"))
            })
            .collect();
        assert!(
            service.iter().any(|l| message(l) == "purchase started")
                && service.iter().any(|l| message(l) == "purchase completed")
                && service.iter().any(|l| message(l) == "request completed"),
            "{request_id}: {service:#?}"
        );
        for l in &service {
            let span = &l["span"];
            assert_eq!(span["empresa_id"], world.tenant.empresa.id.as_str(), "{l}");
            assert_eq!(span["router_id"], world.tenant.router.id.as_str(), "{l}");
            assert_eq!(span["purchase_id"], purchase_id.as_str(), "{l}");
        }
        let done = service
            .iter()
            .find(|l| message(l) == "request completed")
            .unwrap();
        assert_eq!(done["span"]["status"], 200, "{done}");
    }

    assert!(secrets.0.len() >= 30);
    for (what, value) in &secrets.0 {
        let leaked = if value.len() <= 8 {
            contains_token(&logs, value)
        } else {
            logs.contains(value.as_str())
        };
        assert!(
            !leaked,
            "the {what} appears in the logs:\n{}",
            logs.lines()
                .filter(|l| contains_token(l, value))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}
