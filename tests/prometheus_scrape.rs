#![allow(clippy::unwrap_used, clippy::expect_used)]
//! A real Prometheus (Debian's `prometheus` package) scrapes the service while it serves a
//! short load, and every dashboard query must return data.
//!
//! Needs Debian's `prometheus` binary (or `PROMETHEUS_BIN`); `.ci/run` installs it. Without it
//! the test fails rather than skips.

mod common;
mod dashboard;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{spawn_app_with, Tenant, TestApp};
use dashboard::{load_dashboard, panel_queries, substitute_variables};
use secrecy::SecretString;
use serde_json::Value;

const METRICS_TOKEN: &str = "scrape-token-LOADTEST-0123456789";

/// Panels that stay empty until the code recording their metrics exists, with the reason.
/// Each entry must really be empty: when the load starts feeding a panel, the test fails until
/// the entry is removed.
const AWAITING_LOAD: &[(&str, &str)] = &[
    ("Routers up", "router broker (issue 4)"),
    ("Routers down", "router broker (issue 4)"),
    ("Router reconnects", "router broker (issue 4)"),
    ("Router up by router", "router broker (issue 4)"),
    ("Router session age", "router broker (issue 4)"),
    (
        "Command latency (p50 / p95 / p99)",
        "router broker (issue 4)",
    ),
    ("Command latency p95 by command", "router broker (issue 4)"),
    ("Commands by outcome", "router broker (issue 4)"),
    ("Queue depth", "router broker (issue 4)"),
    ("Router command failures", "router broker (issue 4)"),
    ("Payment rate", "purchase saga (issue 6)"),
    ("Revenue rate (per hour)", "purchase saga (issue 6)"),
    ("Revenue (last 24 h)", "purchase saga (issue 6)"),
    ("Purchases completed (last 24 h)", "purchase saga (issue 6)"),
    ("Purchase duration p95", "purchase saga (issue 6)"),
    ("Gateway request latency p95", "purchase saga (issue 6)"),
    ("Webhooks by outcome", "webhook routes (issue 6)"),
    ("Payment failures", "purchase saga (issue 6)"),
    ("Compensations", "purchase saga (issue 6)"),
    ("Purchases by outcome", "purchase saga (issue 6)"),
    ("Reconciler actions", "reconciler (issue 6)"),
];

/// One round of the load the dashboard is checked under. It must touch every panel: portal
/// requests (good, unauthenticated, unknown path), admin logins, and — to be added by the
/// router broker and purchase issues, against `routeros-sim` and the sandbox gateways on
/// 127.0.0.1 — paid, declined and failing purchases on both gateways (with a compensation),
/// a webhook, a reconciler pass, and one router that is down.
async fn generate_load(app: &TestApp, tenant: &Tenant, round: usize) {
    let http = &app.http;
    for _ in 0..5 {
        let res = http.get(app.url("/health")).send().await.unwrap();
        assert_eq!(res.status(), 200);
        let res = http
            .get(app.url("/api/v1/config/public"))
            .header("x-api-key", &tenant.api_key)
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
    app.login(&tenant.admin_email, common::ADMIN_PASSWORD).await;
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
    let app = spawn_app_with(|c| c.metrics_token = Some(SecretString::from(METRICS_TOKEN))).await;
    let tenant = app.tenant("Carga").await;
    let target = app.address.trim_start_matches("http://").to_string();
    let mut prom = start_prometheus(&target);
    let http = reqwest::Client::new();

    // Load in rounds, each followed by a fresh scrape, so that every series has several
    // samples and rates are defined; then one more scrape after the last round.
    let mut scraped = wait_for_scrape(&mut prom, &http, None).await;
    for round in 0..3 {
        generate_load(&app, &tenant, round).await;
        let after = scraped.clone();
        scraped = wait_for_scrape(&mut prom, &http, Some(&after)).await;
    }
    let after = scraped.clone();
    wait_for_scrape(&mut prom, &http, Some(&after)).await;

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

    // The scrape itself is counted by the middleware, with the matched route.
    let v = get_json(
        &http,
        &format!("{}/api/v1/query", prom.base),
        &[(
            "query",
            r#"http_requests_total{route="/metrics",status="200"}"#,
        )],
    )
    .await
    .unwrap();
    let scrapes: f64 = v["data"]["result"][0]["value"][1]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(scrapes >= 4.0, "{v}");
}
