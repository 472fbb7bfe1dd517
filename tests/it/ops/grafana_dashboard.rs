//! The Grafana dashboard uses only metrics the service exports, covers every required topic,
//! and is a well-formed, provisionable dashboard.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::helpers::dashboard::{
    all_panels, load_dashboard, metric_names, panel_queries, variable_selectors, PanelQuery,
};
use pagos_hotspot::gateways::GatewayKind;
use pagos_hotspot::metrics::{
    self, CompensationKind, GatewayOperation, Metrics, PaymentOutcome, PurchaseOutcome,
    ReconcilerAction, RouterOutcome, WebhookOutcome, ALL_METRIC_NAMES, HISTOGRAM_NAMES,
};
use rust_decimal::Decimal;

/// Records one sample in every family through the public API.
fn touch_every_series(m: &Metrics) {
    m.register_router("RTR_TOUCH");
    m.set_router_up("RTR_TOUCH", true);
    m.observe_router_command("create_user", RouterOutcome::Ok, Duration::from_millis(5));
    m.set_router_queue_depth("RTR_TOUCH", 1);
    m.inc_router_reconnects("RTR_TOUCH");
    m.set_router_session_age("RTR_TOUCH", Duration::from_secs(30));
    m.set_active_sessions("RTR_TOUCH", 3);
    m.record_expiration("validity");
    m.record_drift(&pagos_hotspot::purchase::drift::DriftReport::default());
    m.record_payment(GatewayKind::Conekta, PaymentOutcome::Paid);
    m.add_revenue(GatewayKind::Conekta, "MXN", Decimal::new(1999, 2));
    m.observe_purchase(
        GatewayKind::Conekta,
        PurchaseOutcome::Completed,
        Duration::from_millis(900),
    );
    m.record_compensation(CompensationKind::Refund, true);
    m.record_reconciler_action(ReconcilerAction::Retried);
    m.set_reconciler_backlog(0);
    m.record_webhook(GatewayKind::MercadoPago, WebhookOutcome::Duplicate);
    m.observe_gateway_request(
        GatewayKind::Conekta,
        GatewayOperation::Get,
        "ok",
        Duration::from_millis(80),
    );
}

/// Series names in a text exposition (`# HELP`/`# TYPE` lines skipped).
fn exposed_series(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.split(['{', ' ']).next().unwrap().to_string())
        .collect()
}

/// The family a series name belongs to (`x_bucket` → `x` for histograms).
fn family_of(series: &str) -> &str {
    for suffix in ["_bucket", "_sum", "_count"] {
        if let Some(base) = series.strip_suffix(suffix) {
            if HISTOGRAM_NAMES.contains(&base) {
                return base;
            }
        }
    }
    series
}

/// Problems with the metric names of the given queries, against the exported series.
fn check_names(queries: &[PanelQuery], exported: &BTreeSet<String>) -> Vec<String> {
    let mut problems = Vec::new();
    for q in queries {
        let names = metric_names(&q.expr);
        if names.is_empty() {
            problems.push(format!(
                "{} / {}: no metric in {:?}",
                q.panel_title, q.ref_id, q.expr
            ));
        }
        for name in names {
            if !exported.contains(&name) {
                problems.push(format!(
                    "{} / {}: {name} is not an exported series ({:?})",
                    q.panel_title, q.ref_id, q.expr
                ));
            }
            if !ALL_METRIC_NAMES.contains(&family_of(&name)) {
                problems.push(format!(
                    "{} / {}: {name} is not a metric of pagos_hotspot::metrics",
                    q.panel_title, q.ref_id
                ));
            }
        }
    }
    problems
}

#[test]
fn the_extractor_finds_exactly_the_metric_names() {
    let cases: &[(&str, &[&str])] = &[
        ("sum(router_up)", &["router_up"]),
        ("count(router_up) - sum(router_up)", &["router_up", "router_up"]),
        (
            r#"histogram_quantile(0.95, sum by (le, route) (rate(http_request_duration_seconds_bucket{route=~"a|b", x="}"}[$__rate_interval])))"#,
            &["http_request_duration_seconds_bucket"],
        ),
        (
            "sum(rate(payments_total[5m])) by (gateway) / on (gateway) group_left(version) pagos_hotspot_build_info offset 1h",
            &["payments_total", "pagos_hotspot_build_info"],
        ),
        (
            "sum without (instance) (increase(payment_amount_total[24h])) * 3600 > bool 0.5e1",
            &["payment_amount_total"],
        ),
        (
            r#"router_queue_depth{router_id=~"$router"} and ignoring(le) reconciler_backlog"#,
            &["router_queue_depth", "reconciler_backlog"],
        ),
        ("max_over_time(router_session_age_seconds[${__range}])", &["router_session_age_seconds"]),
    ];
    for (expr, expected) in cases {
        assert_eq!(metric_names(expr), *expected, "{expr}");
    }
}

#[test]
fn the_check_rejects_unknown_and_misused_names() {
    let exported: BTreeSet<String> = ["router_up", "router_command_duration_seconds_bucket"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let q = |expr: &str| PanelQuery {
        panel_title: "p".into(),
        ref_id: "A".into(),
        expr: expr.into(),
    };
    assert!(check_names(&[q("sum(router_up)")], &exported).is_empty());
    // An unknown metric, a histogram used without its suffix, and an expression with none.
    assert_eq!(
        check_names(&[q("rate(nonexistent_total[5m])")], &exported).len(),
        2
    );
    assert_eq!(
        check_names(&[q("rate(router_command_duration_seconds[5m])")], &exported).len(),
        1
    );
    assert_eq!(check_names(&[q("vector(1)")], &exported).len(), 1);
}

#[actix_web::test]
async fn every_dashboard_expression_uses_only_exported_metrics() {
    let app = crate::helpers::spawn_app().await;
    touch_every_series(&app.state.metrics);
    // Also one real request, so the HTTP series come from the middleware.
    let res = app.http.get(app.url("/health")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let res = app
        .http
        .get(app.metrics_url("/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let text = res.text().await.unwrap();
    let exported = exposed_series(&text);

    // Every family of the module is registered and exported, and nothing else is.
    let families: BTreeSet<&str> = exported.iter().map(|s| family_of(s)).collect();
    let named: BTreeSet<&str> = ALL_METRIC_NAMES.iter().copied().collect();
    assert_eq!(
        families, named,
        "exported families differ from ALL_METRIC_NAMES"
    );
    for h in HISTOGRAM_NAMES {
        for suffix in ["_bucket", "_sum", "_count"] {
            assert!(exported.contains(&format!("{h}{suffix}")), "{h}{suffix}");
        }
    }

    let dash = load_dashboard();
    let queries = panel_queries(&dash);
    assert!(queries.len() >= 20, "only {} queries", queries.len());
    let problems = check_names(&queries, &exported);
    assert!(problems.is_empty(), "{problems:#?}");

    let selectors = variable_selectors(&dash);
    assert!(!selectors.is_empty());
    for s in selectors {
        for name in metric_names(&s) {
            assert!(exported.contains(&name), "variable uses {name}");
        }
    }
}

/// Panels (not rows) whose title contains `title_part` (case-insensitive) and whose queries
/// use `metric`.
fn panels_about<'a>(
    queries: &'a [PanelQuery],
    title_part: &str,
    metric: &str,
) -> Vec<&'a PanelQuery> {
    queries
        .iter()
        .filter(|q| {
            q.panel_title
                .to_lowercase()
                .contains(&title_part.to_lowercase())
        })
        .filter(|q| metric_names(&q.expr).iter().any(|n| n == metric))
        .collect()
}

#[test]
fn every_required_topic_has_a_panel() {
    let dash = load_dashboard();
    let queries = panel_queries(&dash);
    let rows: Vec<String> = all_panels(&dash)
        .iter()
        .filter(|p| p["type"] == "row")
        .map(|p| p["title"].as_str().unwrap().to_string())
        .collect();
    for row in [
        "Router fleet health",
        "Router commands",
        "Payments",
        "Failures and compensations",
        "Reconciler",
    ] {
        assert!(rows.iter().any(|r| r == row), "missing row {row}: {rows:?}");
    }
    let topics = [
        ("routers up", metrics::ROUTER_UP),
        ("router up by router", metrics::ROUTER_UP),
        ("reconnects", "router_reconnects_total"),
        ("command latency", "router_command_duration_seconds_bucket"),
        ("queue depth", metrics::ROUTER_QUEUE_DEPTH),
        ("payment rate", metrics::PAYMENTS_TOTAL),
        ("revenue rate", metrics::PAYMENT_AMOUNT_TOTAL),
        ("payment failures", metrics::PAYMENTS_TOTAL),
        ("router command failures", metrics::ROUTER_COMMANDS_TOTAL),
        ("compensations", metrics::COMPENSATIONS_TOTAL),
        ("reconciler backlog", metrics::RECONCILER_BACKLOG),
        ("reconciler actions", metrics::RECONCILER_ACTIONS_TOTAL),
        (
            "gateway request latency",
            "gateway_request_duration_seconds_bucket",
        ),
        ("webhooks", metrics::WEBHOOKS_TOTAL),
        ("purchase duration", "purchase_duration_seconds_bucket"),
    ];
    for (title, metric) in topics {
        assert!(
            !panels_about(&queries, title, metric).is_empty(),
            "no panel titled like {title:?} querying {metric}"
        );
    }
    // Latency panels are quantiles of histograms, failure panels filter on bad outcomes.
    for q in panels_about(
        &queries,
        "command latency",
        "router_command_duration_seconds_bucket",
    ) {
        assert!(q.expr.starts_with("histogram_quantile("), "{}", q.expr);
        assert!(q.expr.contains("by (le"), "{}", q.expr);
    }
    for q in panels_about(&queries, "payment failures", metrics::PAYMENTS_TOTAL) {
        assert!(q.expr.contains("declined"), "{}", q.expr);
    }
}

#[test]
fn the_dashboard_is_well_formed_and_provisionable() {
    let dash = load_dashboard();
    assert_eq!(dash["uid"], "pagos-hotspot");
    assert!(dash["schemaVersion"].as_u64().unwrap() >= 36);
    // The data source is a variable of type `datasource`.
    let vars = dash["templating"]["list"].as_array().unwrap();
    let ds = vars.iter().find(|v| v["name"] == "datasource").unwrap();
    assert_eq!(ds["type"], "datasource");
    assert_eq!(ds["query"], "prometheus");
    let mut ids = BTreeSet::new();
    for p in all_panels(&dash) {
        let title = p["title"].as_str().unwrap();
        assert!(
            ids.insert(p["id"].as_u64().unwrap()),
            "duplicate id in {title}"
        );
        let grid = &p["gridPos"];
        let (x, w) = (grid["x"].as_u64().unwrap(), grid["w"].as_u64().unwrap());
        assert!(
            x + w <= 24 && grid["h"].as_u64().unwrap() > 0,
            "{title}: bad gridPos"
        );
        if p["type"] == "row" {
            continue;
        }
        assert_eq!(p["datasource"]["uid"], "${datasource}", "{title}");
        assert_eq!(p["datasource"]["type"], "prometheus", "{title}");
        let targets = p["targets"].as_array().unwrap();
        assert!(!targets.is_empty(), "{title} has no query");
        for t in targets {
            assert_eq!(t["datasource"]["uid"], "${datasource}", "{title}");
            assert!(
                t["refId"].as_str().is_some_and(|r| !r.is_empty()),
                "{title}"
            );
        }
    }

    // Provisioning files exist and point at the right places.
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("grafana");
    let ds_yaml =
        std::fs::read_to_string(root.join("provisioning/datasources/prometheus.yaml")).unwrap();
    assert!(ds_yaml.contains("apiVersion: 1"));
    assert!(ds_yaml.contains("type: prometheus"));
    let dash_yaml =
        std::fs::read_to_string(root.join("provisioning/dashboards/pagos-hotspot.yaml")).unwrap();
    assert!(dash_yaml.contains("apiVersion: 1"));
    assert!(dash_yaml.contains("type: file"));
    let prom = std::fs::read_to_string(root.join("prometheus.yml")).unwrap();
    assert!(prom.contains("metrics_path: /metrics"));
}
