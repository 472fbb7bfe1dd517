//! Shared fixtures of the purchase fault-injection suite: the app, a RouterOS simulator, the
//! sandbox gateways and a tenant whose router points at the simulator, plus the invariant check
//! every scenario ends with (it reads the simulator's and the sandbox's own state).

use std::time::Duration;

use rust_decimal::Decimal;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{json, Value};

use entity::{producto, purchase};
use pagos_hotspot::config::Config;
use pagos_hotspot::db::productos;
use pagos_hotspot::sandbox::gateways::{SandboxConfig, SandboxGateways, SandboxHandle};
use pagos_hotspot::sandbox::routeros_sim::{RouterSim, SimConfig};
use pagos_hotspot::startup::Application;
use pagos_hotspot::state::AppState;

use crate::helpers::{spawn_app_with, status_json, Tenant, TestApp};

pub const CONEKTA_KEY: &str = "key_test_purchase_suite";
pub const MP_TOKEN: &str = "TEST-purchase-suite-access-token";
pub const MP_PUBLIC: &str = "TEST-purchase-suite-public-key";
pub const BOT_TOKEN: &str = "123456789:ABCDEFGHIJKLMNOPQRST";
pub const CHAT_ID: &str = "-1001234";

pub struct World {
    pub app: TestApp,
    pub sim: RouterSim,
    pub sb: SandboxHandle,
    pub tenant: Tenant,
    pub product: producto::Model,
}

/// Defaults for the suite: no rate limits (everything comes from 127.0.0.1), short gateway
/// timeouts.
pub fn base_config(c: &mut Config, sb: &SandboxHandle) {
    c.conekta_api_base = sb.base_url();
    c.mercadopago_api_base = sb.base_url();
    c.telegram_api_base = sb.base_url();
    c.rate_limits = false;
    c.purchase.gateway_timeout = Duration::from_secs(2);
    c.purchase.idempotency_wait = Duration::from_secs(10);
    c.purchase.retry_delay = Duration::ZERO;
}

pub async fn world() -> World {
    world_with(|_| {}).await
}

pub async fn world_with(customise: impl FnOnce(&mut Config)) -> World {
    let sb = SandboxGateways::start(SandboxConfig::default()).unwrap();
    let sim = RouterSim::start(SimConfig::new("api", "router-pass")).unwrap();
    let app = spawn_app_with(|c| {
        base_config(c, &sb);
        customise(c);
    })
    .await;
    let tenant = app
        .tenant_with_router("Hotel Sol", "127.0.0.1", sim.addr().port())
        .await;
    configure_gateways(&app, &tenant, &sb).await;
    let product = insert_product(&app, &tenant, "1 Hora de Internet", "1h", "15.00", true).await;
    World {
        app,
        sim,
        sb,
        tenant,
        product,
    }
}

/// Conekta keys, the Mercado Pago token and webhook secret, and Telegram, through the admin API.
pub async fn configure_gateways(app: &TestApp, t: &Tenant, sb: &SandboxHandle) {
    let res = app
        .http
        .put(app.url("/api/v1/admin/mi-empresa/conekta-config"))
        .bearer_auth(&t.admin_token)
        .json(&json!({"conekta_private_key": CONEKTA_KEY, "conekta_public_key": "key_pub_suite", "conekta_mode": "test"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{:?}", res.text().await);
    let res = app
        .http
        .post(app.url("/api/v1/admin/mi-empresa/configurar-credenciales"))
        .bearer_auth(&t.admin_token)
        .json(&json!({
            "access_token": MP_TOKEN,
            "public_key": MP_PUBLIC,
            "webhook_secret": sb.mp_webhook_secret(),
            "mode": "test",
            "telegram_bot_token": BOT_TOKEN,
            "telegram_chat_id": CHAT_ID,
            "notificaciones_telegram": true,
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{:?}", res.text().await);
    // Make the sandbox create its webhook key pair, then register the public key.
    let res = app
        .http
        .post(format!("{}/webhook_keys", sb.base_url()))
        .basic_auth(CONEKTA_KEY, Some(""))
        .header("Accept", "application/vnd.conekta-v2.1.0+json")
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success());
    let pem = sb.conekta_webhook_public_key_pem().unwrap();
    let res = app
        .http
        .put(app.url("/api/v1/admin/mi-empresa/conekta-webhook-key"))
        .bearer_auth(&t.admin_token)
        .json(&json!({ "public_key_pem": pem }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{:?}", res.text().await);
}

pub async fn insert_product(
    app: &TestApp,
    t: &Tenant,
    nombre: &str,
    perfil: &str,
    precio: &str,
    activo: bool,
) -> producto::Model {
    insert_product_for(
        app,
        &t.empresa.id,
        &t.router.id,
        nombre,
        perfil,
        precio,
        activo,
    )
    .await
}

pub async fn insert_product_for(
    app: &TestApp,
    empresa_id: &str,
    router_id: &str,
    nombre: &str,
    perfil: &str,
    precio: &str,
    activo: bool,
) -> producto::Model {
    let new = productos::NewProducto {
        empresa_id: empresa_id.into(),
        router_id: router_id.into(),
        perfil_mikrotik_id: format!("*{}", uuid::Uuid::new_v4().simple()),
        perfil_mikrotik_nombre: perfil.into(),
        nombre_venta: nombre.into(),
        descripcion: None,
        imagen_url: None,
        precio: precio.parse::<Decimal>().unwrap(),
        moneda: "MXN".into(),
        detalles: json!([]),
        activo,
        orden_visual: 0,
        destacado: false,
        plan: Default::default(),
    };
    productos::insert(&app.db, new).await.unwrap()
}

/// A paid Conekta purchase with `body`: the answer, the hotspot user's name and password.
pub async fn paid_conekta(w: &World, body: &Value) -> (Value, String, String) {
    let (s, v) = w.conekta(body).await;
    assert_eq!(s, 200, "{v}");
    let text = |v: &Value| v.as_str().unwrap().to_string();
    let user = text(&v["usuario_hotspot"]["usuario"]);
    let pass = text(&v["usuario_hotspot"]["contrasena"]);
    (v, user, pass)
}

pub fn conekta_body(product_id: i32, token: &str) -> Value {
    json!({
        "producto_id": product_id,
        "token_tarjeta": token,
        "nombre_cliente": "Juan Pérez",
        "email_cliente": "juan@example.com",
        "telefono_cliente": "+52 55 1234 5678",
    })
}

/// A Mercado Pago card token made as the JS SDK does; `holder` picks the outcome (APRO, FUND, PEND…).
pub async fn mp_card_token(w: &World, holder: &str) -> String {
    mp_card_token_for(w, holder, "4075595716483764").await
}

/// [`mp_card_token`] for the card `number` (each number is another card).
pub async fn mp_card_token_for(w: &World, holder: &str, number: &str) -> String {
    let res = w
        .app
        .http
        .post(format!(
            "{}/v1/card_tokens?public_key={MP_PUBLIC}",
            w.sb.base_url()
        ))
        .json(&json!({
            "card_number": number,
            "security_code": "123",
            "expiration_month": 11,
            "expiration_year": 2030,
            "cardholder": { "name": holder, "identification": { "type": "RFC", "number": "XAXX010101000" } },
        }))
        .send()
        .await
        .unwrap();
    let (s, v) = status_json(res).await;
    assert!(s == 200 || s == 201, "card token: {s} {v}");
    v["id"].as_str().unwrap().to_string()
}

pub fn mp_body(product_id: i32, token: &str, monto: f64) -> Value {
    json!({
        "producto_id": product_id,
        "token": token,
        "payment_method_id": "visa",
        "monto": monto,
        "cuotas": 1,
        "nombre_cliente": "Ana López",
        "email_cliente": "ana@example.com",
    })
}

impl World {
    pub async fn pay(&self, path: &str, body: &Value, idem: Option<&str>) -> (u16, Value) {
        pay_at(
            &self.app.http,
            &self.app.address,
            &self.tenant.api_key,
            path,
            body,
            idem,
        )
        .await
    }

    pub async fn conekta(&self, body: &Value) -> (u16, Value) {
        self.pay("/api/v1/payments/pagar-conekta", body, None).await
    }

    pub async fn mp(&self, body: &Value) -> (u16, Value) {
        self.pay("/api/v1/payments/pagar-mercado-pago", body, None)
            .await
    }

    /// A portal request (API key), e.g. `/api/v1/hotspot/auto-reconnect`.
    pub async fn portal(&self, path: &str, body: Value) -> (u16, Value) {
        let res = self
            .app
            .http
            .post(self.app.url(path))
            .header("X-API-Key", &self.tenant.api_key)
            .json(&body)
            .send()
            .await
            .unwrap();
        status_json(res).await
    }

    /// Logs a device (seen by the hotspot at `mac`/`ip`) in with the user's credentials through
    /// the portal's `auto-reconnect`; its answer.
    pub async fn log_in_device(&self, user: &str, pass: &str, mac: &str, ip: &str) -> Value {
        let body =
            json!({"username": user, "password": pass, "current_mac": mac, "current_ip": ip});
        self.portal("/api/v1/hotspot/auto-reconnect", body).await.1
    }

    /// The company's payment history as its admin reads it (`/mi-empresa/transacciones`).
    pub async fn transactions(&self) -> Value {
        let path = "/api/v1/admin/mi-empresa/transacciones";
        let token = Some(self.tenant.admin_token.as_str());
        let (s, v) = crate::helpers::call(&self.app, "GET", path, token, None).await;
        assert_eq!(s, 200, "{v}");
        v
    }

    pub async fn purchases(&self) -> Vec<purchase::Model> {
        purchase::Entity::find()
            .filter(purchase::Column::EmpresaId.eq(self.tenant.empresa.id.clone()))
            .all(&self.app.db)
            .await
            .unwrap()
    }

    pub async fn reconcile_until(
        &self,
        state: &AppState,
        done: impl Fn(&[purchase::Model]) -> bool,
    ) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        loop {
            pagos_hotspot::purchase::reconciler::reconcile_once(state).await;
            let ps = self.purchases().await;
            if done(&ps) {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "reconciler did not converge: {:?}",
                ps.iter()
                    .map(|p| (&p.state, &p.last_error))
                    .collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

pub async fn pay_at(
    http: &reqwest::Client,
    address: &str,
    api_key: &str,
    path: &str,
    body: &Value,
    idem: Option<&str>,
) -> (u16, Value) {
    let mut rb = http
        .post(format!("{address}{path}"))
        .header("X-API-Key", api_key)
        .json(body);
    if let Some(k) = idem {
        rb = rb.header("Idempotency-Key", k);
    }
    status_json(rb.send().await.unwrap()).await
}

/// A completed Mercado Pago purchase with the sandbox's notifications pointed at us, and its
/// payment id.
pub async fn mp_purchase_with_webhooks(w: &World) -> (String, i64) {
    w.sb.set_mp_webhook_url(Some(w.app.url(&format!(
        "/api/v1/webhook/mercado-pago?empresa_id={}",
        w.tenant.empresa.id
    ))));
    let token = mp_card_token(w, "APRO").await;
    let (s, v) = w.mp(&mp_body(w.product.id, &token, 15.0)).await;
    assert_eq!(s, 200, "{v}");
    let pid = v["mercado_pago"]["payment_id"].as_i64().unwrap();
    let purchase = w.purchases().await[0].id.clone();
    // The payment's own creation notice is handled (or answered) before we go on.
    eventually("the creation notice", || {
        w.sb.webhooks_sent().iter().any(|h| h.status.is_some())
    })
    .await;
    (purchase, pid)
}

/// Refunds a whole Mercado Pago payment at the sandbox, as the merchant would in its panel.
pub async fn refund_at_sandbox(w: &World, pid: i64) {
    let res = w
        .app
        .http
        .post(format!("{}/v1/payments/{pid}/refunds", w.sb.base_url()))
        .bearer_auth(MP_TOKEN)
        .header("X-Idempotency-Key", format!("refund-{pid}"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success());
}

/// Refunds a whole Mercado Pago payment at the sandbox, waits until the sandbox's
/// `payment.updated` notice was answered, and returns that answer's status.
pub async fn refund_and_await_notice(w: &World, pid: i64) -> Option<u16> {
    refund_at_sandbox(w, pid).await;
    eventually("the refund notice answered", || {
        last_refund_notice_status(w).is_some_and(|s| s.is_some())
    })
    .await;
    last_refund_notice_status(w).flatten()
}

/// Points the sandbox's Conekta events at us and sends one for `order`; the answer's status.
pub async fn conekta_notice(w: &World, order: &str, event_type: &str) -> Option<u16> {
    w.sb.set_conekta_webhook_url(Some(w.app.url(&format!(
        "/api/v1/webhook/conekta?empresa_id={}",
        w.tenant.empresa.id
    ))));
    w.sb.send_conekta_webhook(order, event_type).await.unwrap()
}

/// Refunds `cents` of a Conekta order at the sandbox, as the merchant would in its panel.
pub async fn conekta_refund_at_sandbox(w: &World, order: &str, cents: i64) {
    let res = w
        .app
        .http
        .post(format!("{}/orders/{order}/refunds", w.sb.base_url()))
        .basic_auth(CONEKTA_KEY, Some(""))
        .header("Accept", "application/vnd.conekta-v2.1.0+json")
        .json(&json!({"amount": cents, "reason": "requested_by_client"}))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success());
}

/// The status of the sandbox's last `payment.updated` notice (`None` inside: not answered yet).
pub fn last_refund_notice_status(w: &World) -> Option<Option<u16>> {
    w.sb.webhooks_sent()
        .iter()
        .rev()
        .find(|h| h.body.contains("payment.updated"))
        .map(|h| h.status)
}

/// Polls `cond` until true or the deadline (5 s) passes.
pub async fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !cond() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn moved(status: &str) -> bool {
    matches!(
        status,
        "paid" | "approved" | "refunded" | "partially_refunded"
    )
}

/// The invariants, checked on the simulator's and the sandbox's own state for every purchase of
/// the world's company (call it once the scenario is at rest):
/// * at most one charge per purchase, and no charge that no purchase made;
/// * charged and not refunded ⇔ the hotspot user exists and is enabled;
/// * no enabled user without a charge; no user left behind by a failed purchase.
pub async fn check_invariants(w: &World) {
    let ledger = w.sb.ledger();
    let users = w.sim.users();
    let purchases = w.purchases().await;
    for l in &ledger {
        assert!(
            l.reference
                .as_deref()
                .is_some_and(|r| purchases.iter().any(|p| p.id == r)),
            "a charge with no purchase: {l:?}"
        );
    }
    for p in &purchases {
        let charges: Vec<_> = ledger
            .iter()
            .filter(|l| l.reference.as_deref() == Some(p.id.as_str()) && moved(&l.status))
            .collect();
        assert!(
            charges.len() <= 1,
            "more than one charge for {}: {charges:?}",
            p.id
        );
        let net: Decimal = charges.iter().map(|l| l.net_captured()).sum();
        let comment = format!("purchase:{}", p.id);
        let user: Vec<_> = users
            .iter()
            .filter(|u| u.comment.as_deref() == Some(comment.as_str()))
            .collect();
        assert!(user.len() <= 1, "several users for {}", p.id);
        let enabled = user.first().is_some_and(|u| !u.disabled);
        if net > Decimal::ZERO && p.state != "expired" {
            assert!(
                enabled,
                "purchase {} ({}) charged {net} but its user is not enabled",
                p.id, p.state
            );
            assert_eq!(p.state, "completed", "charged purchase not completed");
        }
        if enabled {
            assert!(
                net > Decimal::ZERO,
                "purchase {} ({}) has an enabled user without a charge",
                p.id,
                p.state
            );
        }
        if p.state == "expired" {
            // Paid, and used up: its user is gone or disabled, never enabled.
            assert!(
                !enabled,
                "purchase {} expired but its user is enabled",
                p.id
            );
            continue;
        }
        if matches!(p.state.as_str(), "failed" | "declined" | "refunded") {
            assert!(
                user.is_empty(),
                "purchase {} is {} but its user is still on the router",
                p.id,
                p.state
            );
        }
    }
    // Every enabled user on the router belongs to a charged purchase.
    for u in users.iter().filter(|u| !u.disabled) {
        let id = u
            .comment
            .as_deref()
            .and_then(|c| c.strip_prefix("purchase:"))
            .unwrap_or_else(|| panic!("enabled user {} without a purchase", u.name));
        assert!(
            purchases
                .iter()
                .any(|p| p.id == id && p.state == "completed"),
            "enabled user {} of a purchase that is not completed",
            u.name
        );
    }
}

/// A second app on an existing database (a "restarted process").
pub struct ExtraApp {
    pub address: String,
    pub state: actix_web::web::Data<AppState>,
    handle: actix_web::dev::ServerHandle,
}

impl Drop for ExtraApp {
    fn drop(&mut self) {
        let handle = self.handle.clone();
        drop(actix_web::rt::spawn(
            async move { handle.stop(false).await },
        ));
    }
}

/// Same database and secrets as `old` (master key, JWT secrets), new process state.
pub async fn spawn_app_on(
    database_url: &str,
    old: &Config,
    customise: impl FnOnce(&mut Config),
) -> ExtraApp {
    let db = pagos_hotspot::db::connect(database_url).await.unwrap();
    spawn_app_with_db(database_url, db, old, customise).await
}

/// [`spawn_app_on`] over a connection the caller opened (e.g. with a metric callback).
pub async fn spawn_app_with_db(
    database_url: &str,
    db: sea_orm::DatabaseConnection,
    old: &Config,
    customise: impl FnOnce(&mut Config),
) -> ExtraApp {
    use secrecy::{ExposeSecret, SecretString};
    let mut config = Config::for_tests(database_url.to_string());
    config.master_key = pagos_hotspot::config::MasterKey::from_bytes(*old.master_key.expose());
    config.jwt_session_secret =
        SecretString::from(old.jwt_session_secret.expose_secret().to_string());
    config.jwt_apikey_secret =
        SecretString::from(old.jwt_apikey_secret.expose_secret().to_string());
    customise(&mut config);
    let app = Application::build_with_db(config, db).await.unwrap();
    let address = format!("http://127.0.0.1:{}", app.port());
    let state = app.state();
    let handle = crate::helpers::spawn_servers(app).swap_remove(0);
    ExtraApp {
        address,
        state,
        handle,
    }
}
