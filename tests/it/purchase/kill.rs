//! `serve` as a process of its own against the RouterOS simulator and the sandbox gateways,
//! killed (`SIGKILL`) in the middle of purchases and of a refund notice, or facing a stalled,
//! unreachable or reset peer; every outcome is checked on the simulator's and the sandbox's own
//! state: after a restart the reconciler finishes every purchase within seconds (a short saga
//! lease), a notice caught by the kill is applied when redelivered, an unknown charge is "being
//! confirmed" (503) and a retry gets the final answer, an unreachable gateway fails at once, and
//! a router that lost its users never costs another customer his user.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use pagos_hotspot::config::MasterKey;
use pagos_hotspot::crypto::SecretBox;
use pagos_hotspot::db::empresas::{self, NewEmpresa};
use pagos_hotspot::db::productos::{self, NewProducto};
use pagos_hotspot::db::routers::{create_router, NewRouter};
use pagos_hotspot::sandbox::gateways::{SandboxConfig, SandboxGateways, SandboxHandle};
use pagos_hotspot::sandbox::routeros_sim::{RouterSim, SimConfig};
use sea_orm::EntityTrait;

use crate::helpers::purchase::{conekta_body, CONEKTA_KEY};

const BIN: &str = env!("CARGO_BIN_EXE_pagos-hotspot");
const MASTER_KEY: [u8; 32] = [7; 32];
const APIKEY_SECRET: &str = "kill-test-apikey-secret-0123456789";
const SESSION_SECRET: &str = "kill-test-session-secret-0123456789";
/// Conekta test tokens that pay (the sandbox takes each once).
const CARDS: [&str; 4] = [
    "tok_test_visa_4242",
    "tok_test_mastercard_4444",
    "tok_test_mastercard_5100",
    "tok_test_visa_1881",
];

/// A company with Conekta keys, a router on the simulator, a plan; the portal's API key and
/// the plan's id.
async fn seed(database_url: &str, sim: &RouterSim, sb: &SandboxHandle) -> (String, i32) {
    let db = pagos_hotspot::db::connect(database_url).await.unwrap();
    pagos_hotspot::db::migrate(&db).await.unwrap();
    let secrets = SecretBox::new(&MasterKey::from_bytes(MASTER_KEY));
    let new = NewEmpresa {
        conekta_private_key: Some(CONEKTA_KEY.into()),
        ..NewEmpresa::named("Kill test")
    };
    let empresa = empresas::insert(&db, &secrets, new).await.unwrap();
    // Conekta's events are verified with the sandbox's signing key.
    let patch = empresas::EmpresaPatch {
        conekta_webhook_key: Some(sb.conekta_webhook_public_key_pem()),
        ..Default::default()
    };
    let empresa = empresas::update(&db, empresa, patch).await.unwrap();
    let router = NewRouter {
        empresa_id: empresa.id.clone(),
        nombre: "Router".into(),
        host: "127.0.0.1".into(),
        puerto: i32::from(sim.addr().port()),
        usuario: "api".into(),
        password: "router-pass".into(),
        ubicacion: None,
        use_tls: false,
        tls_fingerprint: None,
    };
    let (router, key) = create_router(
        &db,
        &secrets,
        router,
        APIKEY_SECRET,
        Duration::from_secs(3600),
    )
    .await
    .unwrap();
    let product = NewProducto {
        empresa_id: empresa.id,
        router_id: router.id,
        perfil_mikrotik_id: "*2".into(),
        perfil_mikrotik_nombre: "1h".into(),
        nombre_venta: "1 hora".into(),
        descripcion: None,
        imagen_url: None,
        precio: "15.00".parse().unwrap(),
        moneda: "MXN".into(),
        detalles: serde_json::json!([]),
        activo: true,
        orden_visual: 0,
        destacado: false,
        plan: Default::default(),
    };
    let product = productos::insert(&db, product).await.unwrap();
    db.close().await.unwrap();
    (key.api_key, product.id)
}

/// `pagos-hotspot serve` on `port` with a short saga lease and a reconciler every second, and
/// `extra` environment variables (added or overriding).
fn serve_with(
    dir: &Path,
    database_url: &str,
    port: u16,
    sb: &SandboxHandle,
    extra: &[(&str, String)],
) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("service.log"))
        .unwrap();
    Command::new(BIN)
        .arg("serve")
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", database_url)
        .env("BIND_ADDR", format!("127.0.0.1:{port}"))
        .env(
            "MASTER_KEY",
            base64::engine::general_purpose::STANDARD.encode(MASTER_KEY),
        )
        .env("JWT_APIKEY_SECRET", APIKEY_SECRET)
        .env("JWT_SESSION_SECRET", SESSION_SECRET)
        .env("CONEKTA_API_BASE", sb.base_url())
        .env("MERCADOPAGO_API_BASE", sb.base_url())
        .env("TELEGRAM_API_BASE", sb.base_url())
        .env("ROUTER_ALLOW_LOOPBACK", "true")
        .env("METRICS_ADDR", "off")
        .env("RATE_LIMITS", "off")
        .env("SAGA_LEASE_SECS", "3")
        .env("RECONCILE_INTERVAL_SECS", "1")
        .env("GATEWAY_TIMEOUT_MS", "30000")
        .env("RUST_LOG", "warn")
        .envs(extra.iter().map(|(k, v)| (*k, v.as_str())))
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap()
}

async fn wait_healthy(http: &reqwest::Client, base: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(r) = http.get(format!("{base}/health")).send().await {
            if r.status().is_success() {
                return;
            }
        }
        assert!(Instant::now() < deadline, "the service did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[actix_web::test]
async fn purchases_caught_by_a_kill_are_finished_within_seconds_of_the_restart() {
    let s = Stack::start(&[]).await;
    let (sim, sb, http, base) = (&s.sim, &s.sb, &s.http, s.base.as_str());
    let (api_key, product_id) = (s.api_key.as_str(), s.product_id);
    let database_url = s.database_url.as_str();

    // Every charge is made at the gateway, and its answer never comes back.
    sb.set_hang_for(Duration::from_secs(60));
    for _ in CARDS {
        sb.charge_then_timeout_next();
    }
    let buys: Vec<_> = CARDS
        .iter()
        .map(|card| {
            let req = http
                .post(format!("{base}/api/v1/payments/pagar-conekta"))
                .header("x-api-key", api_key)
                .json(&conekta_body(product_id, card))
                .send();
            actix_web::rt::spawn(req)
        })
        .collect();
    crate::helpers::purchase::eventually("every charge made", || sb.ledger().len() == CARDS.len())
        .await;
    // Killed with the sagas in flight: nobody gets an answer.
    s.kill();
    for b in buys {
        assert!(b.await.unwrap().is_err(), "an answer from a killed service");
    }
    sb.set_hang_for(Duration::ZERO);

    let restarted = Instant::now();
    s.restart().await;
    let db = pagos_hotspot::db::connect(database_url).await.unwrap();
    let deadline = restarted + Duration::from_secs(20);
    let purchases = loop {
        let ps = entity::purchase::Entity::find().all(&db).await.unwrap();
        if ps.len() == CARDS.len() && ps.iter().all(|p| p.state == "completed") {
            break ps;
        }
        let states: Vec<_> = ps.iter().map(|p| p.state.as_str()).collect();
        assert!(
            Instant::now() < deadline,
            "not finished 20 s after the restart: {states:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let recovered = restarted.elapsed();
    s.kill();

    // One charge per purchase, none refunded; one enabled user per purchase, its own.
    let ledger = sb.ledger();
    assert_eq!(ledger.len(), CARDS.len());
    assert!(ledger.iter().all(|e| e.refunded.is_zero()), "{ledger:?}");
    let users = sim.users();
    assert_eq!(users.len(), CARDS.len(), "{users:?}");
    for p in &purchases {
        let comment = format!("purchase:{}", p.id);
        let user = users
            .iter()
            .find(|u| u.comment.as_deref() == Some(comment.as_str()))
            .unwrap_or_else(|| panic!("no user of its own for {}", p.id));
        assert!(!user.disabled, "{user:?}");
    }
    eprintln!(
        "recovered {} purchases in {recovered:?} after the restart",
        CARDS.len()
    );
}

/// A free port on 127.0.0.1.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[actix_web::test]
async fn a_refund_notice_caught_by_a_kill_is_applied_when_redelivered() {
    let s = Stack::start(&[]).await;
    let (sim, sb, http, base) = (&s.sim, &s.sb, &s.http, s.base.as_str());
    let (api_key, product_id) = (s.api_key.as_str(), s.product_id);
    let database_url = s.database_url.as_str();
    let res = http
        .post(format!("{base}/api/v1/payments/pagar-conekta"))
        .header("x-api-key", api_key)
        .json(&conekta_body(product_id, CARDS[0]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let db = pagos_hotspot::db::connect(database_url).await.unwrap();
    let purchase = entity::purchase::Entity::find().all(&db).await.unwrap()[0].clone();
    assert_eq!(purchase.state, "completed");
    let order = purchase.gateway_payment_id.clone().unwrap();

    // The merchant refunds; the service records the notice, then stalls re-reading the order
    // (the gateway is slow) and is killed there.
    let empresa = purchase.empresa_id.clone();
    sb.set_conekta_webhook_url(Some(format!(
        "{base}/api/v1/webhook/conekta?empresa_id={empresa}"
    )));
    sb.set_latency(Duration::from_secs(4));
    let refund = http
        .post(format!("{}/orders/{order}/refunds", sb.base_url()))
        .basic_auth(CONEKTA_KEY, Some(""))
        .header("Accept", "application/vnd.conekta-v2.1.0+json")
        .json(&serde_json::json!({"amount": 1500, "reason": "requested_by_client"}))
        .send()
        .await
        .unwrap();
    assert!(refund.status().is_success());
    let recorded = Instant::now() + Duration::from_secs(20);
    loop {
        let events = entity::webhook_event::Entity::find()
            .all(&db)
            .await
            .unwrap();
        if events.iter().any(|e| e.outcome == "received") {
            break;
        }
        assert!(
            Instant::now() < recorded,
            "the notice never reached the service"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    s.kill();
    sb.set_latency(Duration::ZERO);
    // The sandbox recorded its delivery before sending it (the service had it already).
    let is_refund = |h: &pagos_hotspot::sandbox::gateways::SentWebhook| h.body.contains("refund");
    let notice = sb
        .webhooks_sent()
        .into_iter()
        .rev()
        .find(is_refund)
        .expect("the refund notice");

    // Restarted, the gateway delivers the same notice again until it is acknowledged.
    s.restart().await;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let mut rb = http.post(&notice.url).body(notice.body.clone());
        for (k, v) in &notice.headers {
            rb = rb.header(k.as_str(), v.as_str());
        }
        let res = rb.send().await.unwrap();
        let status = res.status();
        let v: serde_json::Value = res.json().await.unwrap_or_default();
        if status == 200 && v.get("duplicate").is_none() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the redelivered notice was never applied: {status} {v}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let after = entity::purchase::Entity::find().all(&db).await.unwrap()[0].clone();
    s.kill();
    assert_eq!(after.state, "revoked");
    let user = &sim.users()[0];
    assert!(user.disabled, "{user:?}");
    assert!(sb.ledger()[0].refunded > rust_decimal::Decimal::ZERO);
}

/// The service as a process of its own, with the simulator and the sandbox beside it.
struct Stack {
    _dir: tempfile::TempDir,
    database_url: String,
    sim: RouterSim,
    sb: SandboxHandle,
    api_key: String,
    product_id: i32,
    base: String,
    port: u16,
    extra: Vec<(&'static str, String)>,
    http: reqwest::Client,
    service: std::sync::Mutex<Child>,
}

impl Drop for Stack {
    fn drop(&mut self) {
        self.kill();
    }
}

impl Stack {
    async fn start(extra: &[(&'static str, String)]) -> Stack {
        let dir = tempfile::tempdir().unwrap();
        let database_url = format!("sqlite://{}/db.sqlite?mode=rwc", dir.path().display());
        let sim = RouterSim::start(SimConfig::new("api", "router-pass")).unwrap();
        let sb = SandboxGateways::start(SandboxConfig::default()).unwrap();
        let (api_key, product_id) = seed(&database_url, &sim, &sb).await;
        let port = free_port();
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        let service = serve_with(dir.path(), &database_url, port, &sb, extra);
        wait_healthy(&http, &base).await;
        Stack {
            _dir: dir,
            database_url,
            sim,
            sb,
            api_key,
            product_id,
            base,
            port,
            extra: extra.to_vec(),
            http,
            service: std::sync::Mutex::new(service),
        }
    }

    /// `SIGKILL`, and wait for the process to be gone.
    fn kill(&self) {
        let mut service = self.service.lock().unwrap_or_else(|e| e.into_inner());
        let _ = service.kill();
        let _ = service.wait();
    }

    /// A new service process on the same database and port.
    async fn restart(&self) {
        self.kill();
        let service = serve_with(
            self._dir.path(),
            &self.database_url,
            self.port,
            &self.sb,
            &self.extra,
        );
        *self.service.lock().unwrap_or_else(|e| e.into_inner()) = service;
        wait_healthy(&self.http, &self.base).await;
    }

    async fn buy(&self, card: &str, key: &str) -> reqwest::Response {
        self.http
            .post(format!("{}/api/v1/payments/pagar-conekta", self.base))
            .header("x-api-key", &self.api_key)
            .header("idempotency-key", key)
            .json(&conekta_body(self.product_id, card))
            .send()
            .await
            .unwrap()
    }

    async fn purchases(&self) -> Vec<entity::purchase::Model> {
        let db = pagos_hotspot::db::connect(&self.database_url)
            .await
            .unwrap();
        let mut ps = entity::purchase::Entity::find().all(&db).await.unwrap();
        ps.sort_by_key(|p| p.created_at);
        db.close().await.unwrap();
        ps
    }

    /// Polls the service's database until `done` holds (20 s at most).
    async fn until(&self, what: &str, done: impl Fn(&[entity::purchase::Model]) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let ps = self.purchases().await;
            if done(&ps) {
                return;
            }
            let states: Vec<_> = ps.iter().map(|p| p.state.as_str()).collect();
            assert!(Instant::now() < deadline, "{what}: {states:?}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

#[actix_web::test]
async fn a_stalled_gateway_is_answered_being_confirmed_by_the_service_process() {
    let s = Stack::start(&[("GATEWAY_TIMEOUT_MS", "800".into())]).await;
    // The charge is made and its answer hangs; the lookup by reference fails once.
    s.sb.set_hang_for(Duration::from_secs(3));
    s.sb.charge_then_timeout_next();
    let stall = async {
        crate::helpers::purchase::eventually("the charge", || s.sb.ledger().len() == 1).await;
        s.sb.fail_next(1);
    };
    let (res, ()) = futures_util::future::join(s.buy(CARDS[0], "stalled-1"), stall).await;
    assert_eq!(res.status(), 503);
    let retry = res.headers().get("retry-after").cloned();
    assert_eq!(retry.as_ref().and_then(|v| v.to_str().ok()), Some("5"));
    assert_eq!(s.purchases().await[0].state, "charging");
    // The service's reconciler finds the charge; the retry with the same key gets the purchase.
    s.until("completed by the reconciler", |ps| {
        ps[0].state == "completed"
    })
    .await;
    let res = s.buy(CARDS[0], "stalled-1").await;
    assert_eq!(res.status(), 200);
    let v: serde_json::Value = res.json().await.unwrap();
    let users = s.sim.users();
    assert_eq!(users.len(), 1);
    assert_eq!(v["usuario_hotspot"]["usuario"], users[0].name);
    assert!(!users[0].disabled);
    assert_eq!(s.sb.ledger().len(), 1, "one charge");
}

#[actix_web::test]
async fn a_gateway_never_reached_fails_at_once_in_the_service_process() {
    let closed = format!("http://127.0.0.1:{}", free_port());
    let s = Stack::start(&[("CONEKTA_API_BASE", closed)]).await;
    let res = s.buy(CARDS[0], "never-sent").await;
    assert_eq!(res.status(), 500);
    let ps = s.purchases().await;
    assert_eq!(ps.len(), 1);
    assert_eq!(
        ps[0].state, "failed",
        "undone at once, not left for the reconciler"
    );
    assert!(s.sim.users().is_empty());
    // The key is free: the same request is a new attempt.
    assert_eq!(s.buy(CARDS[0], "never-sent").await.status(), 500);
    assert_eq!(s.purchases().await.len(), 2);
    assert!(s.sb.ledger().is_empty());
}

#[actix_web::test]
async fn a_router_reset_never_costs_another_customer_his_user_in_the_service_process() {
    let s = Stack::start(&[("UNKNOWN_CHARGE_DEADLINE_SECS", "0".into())]).await;
    // A: the create and the lookup fail; A waits in `charging` with its user `*1`.
    s.sb.fail_next(2);
    assert_eq!(s.buy(CARDS[0], "a").await.status(), 503);
    let a = s.purchases().await[0].clone();
    assert_eq!(a.router_user_id.as_deref(), Some("*1"));
    // The router is reset; B buys and gets `*1`.
    s.sim.forget_users();
    assert_eq!(s.buy(CARDS[1], "b").await.status(), 200);
    let b_user = s.sim.users()[0].clone();
    assert_eq!(b_user.id, "*1");
    // The service's reconciler undoes A; B's user stays.
    s.until("A undone", |ps| {
        ps.iter().any(|p| p.id == a.id && p.state == "failed")
    })
    .await;
    let users = s.sim.users();
    assert_eq!(users, vec![b_user]);
    assert!(!users[0].disabled);
    assert_eq!(s.sb.ledger().len(), 1, "B's charge only");
}
