//! A real Prometheus (Debian's `prometheus` package) scrapes the service while it serves a
//! short load, and every dashboard query must return data.
//!
//! Needs Debian's `prometheus` binary (or `PROMETHEUS_BIN`); `.ci/run` installs it. Without it
//! the test fails rather than skips.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::helpers::dashboard::{load_dashboard, panel_queries, substitute_variables};
use crate::helpers::purchase::{conekta_body, mp_body, mp_card_token, World};
use pagos_hotspot::db::routers::{create_router, NewRouter};
use pagos_hotspot::gateways::GatewayKind;
use pagos_hotspot::sandbox::routeros_sim::{RouterSim, SimConfig};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Value};

const METRICS_TOKEN: &str = "scrape-token-LOADTEST-0123456789";

/// Panels that may stay empty, with the reason. Each entry must really be empty: when the load
/// starts feeding a panel, the test fails until the entry is removed. Every panel gets data now.
const AWAITING_LOAD: &[(&str, &str)] = &[];

/// The service under load: the purchase world (app, RouterOS simulator, sandbox gateways, a
/// company whose router is the simulator) plus a second router of the same company that is
/// down, with its own API key and product.
struct Load {
    w: World,
    down_sim: RouterSim,
    down_router: String,
    down_key: String,
    down_product: i32,
}

async fn load_world() -> Load {
    let w = crate::helpers::purchase::world_with(|c| {
        c.metrics_token = Some(SecretString::from(METRICS_TOKEN));
        // A charge whose outcome stays unknown is undone at the first reconciler pass.
        c.purchase.unknown_charge_deadline = Duration::ZERO;
        c.purchase.mp_binary_mode = false;
    })
    .await;
    let down_sim = RouterSim::start(SimConfig::new("api", "router-pass")).unwrap();
    down_sim.reboot_with_downtime(Duration::from_secs(3600));
    let (router, key) = create_router(
        &w.app.db,
        &w.app.state.secrets,
        NewRouter {
            empresa_id: w.tenant.empresa.id.clone(),
            nombre: "Router caído".into(),
            host: "127.0.0.1".into(),
            puerto: i32::from(down_sim.addr().port()),
            usuario: "api".into(),
            password: "router-pass".into(),
            ubicacion: None,
            use_tls: false,
            tls_fingerprint: None,
        },
        w.app.state.config.jwt_apikey_secret.expose_secret(),
        w.app.state.config.apikey_ttl,
    )
    .await
    .unwrap();
    let product = crate::helpers::purchase::insert_product_for(
        &w.app,
        &w.tenant.empresa.id,
        &router.id,
        "1 Hora (router caído)",
        "1h",
        "15.00",
        true,
    )
    .await;
    w.sb.set_mp_webhook_url(Some(w.app.url(&format!(
        "/api/v1/webhook/mercado-pago?empresa_id={}",
        w.tenant.empresa.id
    ))));
    Load {
        w,
        down_sim,
        down_router: router.id,
        down_key: key.api_key,
        down_product: product.id,
    }
}

/// Portal requests (good, unauthenticated, unknown path) and an admin login.
async fn portal_and_admin_requests(w: &World, round: usize) {
    let app = &w.app;
    let http = &app.http;
    for _ in 0..5 {
        let res = http.get(app.url("/health")).send().await.unwrap();
        assert_eq!(res.status(), 200);
        let res = http
            .get(app.url("/api/v1/config/public"))
            .header("x-api-key", &w.tenant.api_key)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
    }
    let res = http
        .get(app.url("/api/v1/config/public"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let res = http
        .get(app.url(&format!("/no/such/page/{round}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    app.login(&w.tenant.admin_email, crate::helpers::ADMIN_PASSWORD)
        .await;
    // The router's live sessions (`router_active_sessions`).
    let path = format!("/api/v1/admin/routers/{}/sesiones", w.tenant.router.id);
    let token = Some(w.tenant.admin_token.as_str());
    let (s, v) = crate::helpers::call(app, "GET", &path, token, None).await;
    assert_eq!(s, 200, "{v}");
}

/// One round of the load the dashboard is checked under; it touches every panel. Portal
/// requests (good, unauthenticated, unknown path) and an admin login; purchases against the
/// RouterOS simulator and the sandbox gateways on 127.0.0.1: paid on both gateways (one with a
/// MAC and auto-connect), a declined Conekta card, a rejected and a pending Mercado Pago
/// payment, a Conekta charge lost to gateway 5xx (left for the reconciler, which undoes it: a
/// compensation), a signed Mercado Pago webhook, a reconciler pass, and a purchase on the router
/// that is down (`router_up` 0, a failed router command).
async fn generate_load(load: &Load, round: usize) {
    let w = &load.w;
    let app = &w.app;
    let http = &app.http;
    portal_and_admin_requests(w, round).await;

    let conekta = "/api/v1/payments/pagar-conekta";
    let mp = "/api/v1/payments/pagar-mercado-pago";
    let key = |what: &str| format!("load-{round}-{what}");
    // The sandbox takes each Conekta test token once: two paying tokens per round (the rounds
    // are 0..3), and its two declining tokens (the third round's reused one is refused too).
    const PAYING: [&str; 6] = [
        "tok_test_visa_4242",
        "tok_test_mastercard_4444",
        "tok_test_mastercard_5100",
        "tok_test_visa_1881",
        "tok_test_amex_0005",
        "tok_test_amex_8431",
    ];
    let declining = ["tok_test_card_declined", "tok_test_insufficient_funds"][round % 2];

    // Paid, Conekta, with a MAC and auto-connect.
    w.sim.add_host("AA:BB:CC:DD:EE:10", "10.5.50.10");
    let mut body = conekta_body(w.product.id, PAYING[2 * round]);
    body["tipo_usuario"] = json!("usuario_contrasena");
    body["mac_cliente"] = json!("AA:BB:CC:DD:EE:10");
    body["ip_cliente"] = json!("10.5.50.10");
    body["conexion_automatica"] = json!(true);
    let (s, v) = w.pay(conekta, &body, Some(&key("conekta-paid"))).await;
    assert_eq!(s, 200, "{v}");
    // Declined, Conekta.
    let body = conekta_body(w.product.id, declining);
    let (s, v) = w.pay(conekta, &body, Some(&key("conekta-declined"))).await;
    assert_eq!(s, 402, "{v}");
    // Paid, Mercado Pago; then its signed notification.
    let token = mp_card_token(w, "APRO").await;
    let (s, v) = w
        .pay(
            mp,
            &mp_body(w.product.id, &token, 15.0),
            Some(&key("mp-paid")),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let payment_id = v["mercado_pago"]["payment_id"].as_i64().unwrap();
    let status =
        w.sb.send_mp_webhook(payment_id, "payment.updated")
            .await
            .unwrap();
    assert_eq!(status, Some(200));
    // Rejected and pending, Mercado Pago.
    let token = mp_card_token(w, "OTHE").await;
    let (s, v) = w
        .pay(
            mp,
            &mp_body(w.product.id, &token, 15.0),
            Some(&key("mp-rejected")),
        )
        .await;
    assert_eq!(s, 402, "{v}");
    let token = mp_card_token(w, "PEND").await;
    let (s, v) = w
        .pay(
            mp,
            &mp_body(w.product.id, &token, 15.0),
            Some(&key("mp-pending")),
        )
        .await;
    assert_eq!((s, &v["estado_pago"]), (200, &json!("pending")), "{v}");
    // The gateway fails the charge and the lookup by reference: the outcome is unknown, the
    // purchase stays `charging` until the reconciler undoes it. Only Conekta's requests fail:
    // the notification the sandbox relays for the pending Mercado Pago payment above may still
    // be on its way, and the service's read of that payment must not use up a failure.
    w.sb.fail_next_on(GatewayKind::Conekta, 2);
    let body = conekta_body(w.product.id, PAYING[2 * round + 1]);
    let (s, v) = w.pay(conekta, &body, Some(&key("conekta-lost"))).await;
    assert_eq!(s, 503, "{v}");
    let state = app.state.clone();
    w.reconcile_until(&state, |ps| ps.iter().all(|p| p.state != "charging"))
        .await;
    // The router that is down: nothing is charged.
    let (s, v) = crate::helpers::purchase::pay_at(
        http,
        &app.address,
        &load.down_key,
        conekta,
        &conekta_body(load.down_product, "tok_test_visa_4242"),
        Some(&key("router-down")),
    )
    .await;
    assert_eq!(s, 503, "{v}");
    assert!(load.down_sim.users().is_empty());
}

/// The Prometheus child process, killed on drop.
struct Prometheus {
    child: Child,
    base: String,
    _dir: tempfile::TempDir,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start_prometheus(target: &str) -> Prometheus {
    let bin = std::env::var("PROMETHEUS_BIN").unwrap_or_else(|_| "prometheus".into());
    let dir = tempfile::tempdir().unwrap();
    let config = format!(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n\
         scrape_configs:\n  - job_name: pagos-hotspot\n    metrics_path: /metrics\n\
         \x20   authorization:\n      type: Bearer\n      credentials: {METRICS_TOKEN}\n\
         \x20   static_configs:\n      - targets: ['{target}']\n"
    );
    let config_path = dir.path().join("prometheus.yml");
    std::fs::write(&config_path, config).unwrap();
    let port = free_port();
    let log = std::fs::File::create(dir.path().join("prometheus.log")).unwrap();
    let child = Command::new(&bin)
        .arg(format!("--config.file={}", config_path.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.path().join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--log.level=warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::from(log))
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {bin:?} (apt-get install prometheus): {e}"));
    Prometheus {
        child,
        base: format!("http://127.0.0.1:{port}"),
        _dir: dir,
    }
}

fn prometheus_log(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("prometheus.log")).unwrap_or_default()
}

async fn get_json(http: &reqwest::Client, url: &str, query: &[(&str, &str)]) -> Option<Value> {
    let res = http.get(url).query(query).send().await.ok()?;
    res.json().await.ok()
}

/// The `lastScrape` time of our target once it is healthy.
async fn last_scrape(prom: &Prometheus, http: &reqwest::Client) -> Option<String> {
    let v = get_json(http, &format!("{}/api/v1/targets", prom.base), &[]).await?;
    let target = v["data"]["activeTargets"]
        .as_array()?
        .iter()
        .find(|t| t["labels"]["job"] == "pagos-hotspot")?
        .clone();
    if target["health"] != "up" {
        return None;
    }
    target["lastScrape"].as_str().map(str::to_string)
}

/// Waits for a successful scrape newer than `after`.
async fn wait_for_scrape(
    prom: &mut Prometheus,
    http: &reqwest::Client,
    after: Option<&str>,
) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(t) = last_scrape(prom, http).await {
            if after.is_none_or(|a| t.as_str() > a) {
                return t;
            }
        }
        if let Ok(Some(status)) = prom.child.try_wait() {
            panic!(
                "prometheus exited ({status}): {}",
                prometheus_log(prom._dir.path())
            );
        }
        assert!(
            Instant::now() < deadline,
            "no successful scrape; targets: {:?}; log: {}",
            get_json(http, &format!("{}/api/v1/targets", prom.base), &[]).await,
            prometheus_log(prom._dir.path())
        );
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
}

#[actix_web::test]
async fn every_dashboard_query_returns_data_from_a_real_prometheus() {
    let load = load_world().await;
    let target = load.w.app.address.trim_start_matches("http://").to_string();
    let mut prom = start_prometheus(&target);
    let http = reqwest::Client::new();

    // Load in rounds, each followed by a fresh scrape, so that every series has several
    // samples and rates are defined; then one more scrape after the last round.
    let mut scraped = wait_for_scrape(&mut prom, &http, None).await;
    for round in 0..3 {
        generate_load(&load, round).await;
        let after = scraped.clone();
        scraped = wait_for_scrape(&mut prom, &http, Some(&after)).await;
    }
    let after = scraped.clone();
    wait_for_scrape(&mut prom, &http, Some(&after)).await;
    crate::helpers::purchase::check_invariants(&load.w).await;

    let dash = load_dashboard();
    let queries = panel_queries(&dash);
    let mut report = Vec::new();
    let mut failures = Vec::new();
    for q in &queries {
        let expr = substitute_variables(&q.expr);
        let v = get_json(
            &http,
            &format!("{}/api/v1/query", prom.base),
            &[("query", &expr)],
        )
        .await
        .unwrap_or(Value::Null);
        assert_eq!(
            v["status"], "success",
            "{} / {}: {expr}: {v}",
            q.panel_title, q.ref_id
        );
        let results = v["data"]["result"].as_array().map_or(0, Vec::len);
        let awaiting = AWAITING_LOAD.iter().find(|(t, _)| *t == q.panel_title);
        report.push(format!(
            "{:<6} {:<40} {} {}",
            if results > 0 { "DATA" } else { "EMPTY" },
            q.panel_title,
            q.ref_id,
            awaiting.map_or(String::new(), |(_, why)| format!("(awaiting {why})"))
        ));
        match (results > 0, awaiting) {
            (true, None) | (false, Some(_)) => {}
            (false, None) => failures.push(format!(
                "{} / {}: no data for {expr}",
                q.panel_title, q.ref_id
            )),
            (true, Some(_)) => failures.push(format!(
                "{} / {} has data now: remove it from AWAITING_LOAD",
                q.panel_title, q.ref_id
            )),
        }
    }
    eprintln!("{}", report.join("\n"));
    for (title, _) in AWAITING_LOAD {
        assert!(
            queries.iter().any(|q| q.panel_title == *title),
            "AWAITING_LOAD names an unknown panel {title:?}"
        );
    }
    assert!(failures.is_empty(), "{failures:#?}");

    // What the load did is what Prometheus saw.
    let value = |expr: String| {
        let http = http.clone();
        let url = format!("{}/api/v1/query", prom.base);
        async move {
            let v = get_json(&http, &url, &[("query", &expr)]).await.unwrap();
            let results = v["data"]["result"].as_array().cloned().unwrap_or_default();
            assert_eq!(results.len(), 1, "{expr}: {v}");
            results[0]["value"][1]
                .as_str()
                .unwrap()
                .parse::<f64>()
                .unwrap()
        }
    };
    let up = load.w.tenant.router.id.clone();
    let down = load.down_router.clone();
    assert_eq!(value(format!("router_up{{router_id=\"{up}\"}}")).await, 1.0);
    assert_eq!(
        value(format!("router_up{{router_id=\"{down}\"}}")).await,
        0.0
    );
    let at_least = [
        // The scrape itself is counted by the middleware, with the matched route.
        (
            r#"sum(http_requests_total{route="/metrics",status="200"})"#,
            4.0,
        ),
        (
            r#"sum(purchase_duration_seconds_count{outcome="completed"})"#,
            6.0,
        ),
        (r#"sum(payments_total{outcome=~"declined|rejected"})"#, 6.0),
        (r#"sum(payments_total{outcome="pending"})"#, 3.0),
        (r#"sum(payment_amount_total{currency="MXN"})"#, 90.0),
        (
            r#"sum(compensations_total{kind="remove_user",outcome="ok"})"#,
            3.0,
        ),
        (r#"sum(reconciler_actions_total)"#, 3.0),
        (r#"sum(webhooks_total{gateway="mercado_pago"})"#, 3.0),
        (r#"sum(router_commands_total{outcome!="ok"})"#, 3.0),
        (
            r#"sum(gateway_request_duration_seconds_count{operation="find_by_reference"})"#,
            3.0,
        ),
    ];
    for (expr, min) in at_least {
        let got = value(expr.to_string()).await;
        assert!(got >= min, "{expr} = {got}, expected at least {min}");
    }
}

/// The label values of every sample in a Prometheus text exposition.
fn label_values(text: &str) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let Some((name, rest)) = line.split_once('{') else {
            continue;
        };
        let labels = &rest[..rest.rfind('}').unwrap()];
        // `key="value",…` with `\"` and `\\` escapes inside values.
        let mut chars = labels.chars().peekable();
        loop {
            let key: String = chars.by_ref().take_while(|c| *c != '=').collect();
            if key.is_empty() {
                break;
            }
            assert_eq!(chars.next(), Some('"'), "{line}");
            let mut value = String::new();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => value.extend(chars.next()),
                    '"' => break,
                    c => value.push(c),
                }
            }
            out.push((
                name.to_string(),
                key.trim_start_matches(',').to_string(),
                value,
            ));
            if chars.peek() == Some(&',') {
                chars.next();
            }
        }
    }
    out
}

/// True when `s` contains six hex pairs joined by `:` or `-` (a MAC address).
fn has_mac(s: &str) -> bool {
    let b = s.as_bytes();
    (0..b.len()).any(|i| {
        b.len() >= i + 17
            && (0..6)
                .all(|k| b[i + 3 * k].is_ascii_hexdigit() && b[i + 3 * k + 1].is_ascii_hexdigit())
            && (0..5).all(|k| matches!(b[i + 3 * k + 2], b':' | b'-'))
    })
}

#[test]
fn the_label_checks_recognise_what_they_look_for() {
    assert!(has_mac("x aa:bb:CC:dd:ee:01 y"));
    assert!(has_mac("AA-BB-CC-DD-EE-02"));
    assert!(!has_mac("aa:bb:cc:dd:ee"));
    assert!(!has_mac("/api/v1/payments/pagar-conekta"));
    let parsed =
        label_values("# HELP x y\nx_total{a=\"1\",route=\"/p/{id}\",b=\"q\\\"@\"} 3\nplain 1\n");
    assert_eq!(
        parsed,
        vec![
            ("x_total".into(), "a".into(), "1".into()),
            ("x_total".into(), "route".into(), "/p/{id}".into()),
            ("x_total".into(), "b".into(), "q\"@".into()),
        ]
    );
}

/// After a round of purchases (customers' e-mails, a MAC, hotspot users `PT-…`), no label value
/// of `/metrics` carries an e-mail, a MAC address or a hotspot username: labels stay bounded.
#[actix_web::test]
async fn metric_labels_carry_no_email_mac_or_hotspot_user_after_purchases() {
    let load = load_world().await;
    generate_load(&load, 0).await;
    let app = &load.w.app;
    let res = app
        .http
        .get(app.url("/metrics"))
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let text = res.text().await.unwrap();
    let labels = label_values(&text);
    // The load was recorded: purchases on both gateways, routers, webhooks.
    for (metric, key, value) in [
        ("payments_total", "gateway", "conekta"),
        ("payments_total", "gateway", "mercado_pago"),
        ("purchase_duration_seconds_count", "outcome", "completed"),
        ("router_up", "router_id", load.w.tenant.router.id.as_str()),
        ("router_up", "router_id", load.down_router.as_str()),
        ("webhooks_total", "gateway", "mercado_pago"),
        (
            "http_requests_total",
            "route",
            "/api/v1/payments/pagar-conekta",
        ),
    ] {
        assert!(
            labels
                .iter()
                .any(|(m, k, v)| m == metric && k == key && v == value),
            "no {metric}{{{key}=\"{value}\"}} in:\n{text}"
        );
    }
    let users: Vec<String> = load
        .w
        .purchases()
        .await
        .into_iter()
        .filter_map(|p| p.hotspot_username)
        .collect();
    assert!(!users.is_empty());
    for (metric, key, value) in &labels {
        assert!(
            !value.contains('@') && !has_mac(value) && !value.contains("PT-"),
            "{metric}{{{key}=\"{value}\"}}: an unbounded label value"
        );
        assert!(!users.iter().any(|u| value.contains(u.as_str())));
    }
    // Series count stays small: what the load added (a handful per route, gateway and router)
    // beyond the series every instance has at zero from the start.
    let at_start = label_values(
        &pagos_hotspot::metrics::Metrics::new()
            .unwrap()
            .render()
            .unwrap(),
    )
    .len();
    assert!(
        labels.len() - at_start < 3000,
        "{} label values, {at_start} at start",
        labels.len()
    );
}
