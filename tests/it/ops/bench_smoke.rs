//! `pagos-hotspot bench` in its short (CI) mode: the binary runs for 2 s against its in-process
//! simulators and sandbox, with the service as a child process, and its JSON line is checked.

use std::process::Command;

use serde_json::Value;

const KEYS: &[&str] = &[
    "purchases_per_s",
    "p50_ms",
    "p95_ms",
    "p99_ms",
    "router_commands_per_s",
    "router_sessions_opened",
    "router_logins",
    "errors",
    "cpu_s_per_purchase",
    "peak_rss_mb",
];

fn bench(extra: &[&str]) -> Value {
    let stdout = bench_stdout(extra);
    // The human table comes first; the JSON object is the last line.
    assert!(stdout.contains("purchases/s"), "no table:\n{stdout}");
    let last = stdout.lines().last().expect("some output");
    let v: Value = serde_json::from_str(last).unwrap_or_else(|e| panic!("{e}: {last}"));
    for k in KEYS {
        assert!(v.get(*k).is_some(), "key {k} missing: {v}");
    }
    assert!(v["errors"].is_object(), "{v}");
    v
}

/// Runs `pagos-hotspot bench` (2 routers, 4 portals, 2 s, `--json`, plus `extra`): its stdout.
fn bench_stdout(extra: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_pagos-hotspot"))
        .args([
            "bench",
            "--routers",
            "2",
            "--concurrency",
            "4",
            "--router-latency-ms",
            "2",
            "--gateway-latency-ms",
            "2",
            "--duration",
            "2",
            "--json",
        ])
        .args(extra)
        // A fresh SQLite file in a temporary folder, whatever the environment says.
        .env_remove("DATABASE_URL")
        .current_dir(std::env::temp_dir())
        .output()
        .expect("run pagos-hotspot bench");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "bench failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    stdout.into_owned()
}

#[test]
fn the_outage_scenario_recovers_within_a_second_and_refuses_nothing_after() {
    // A restart while idle, then 1 s of outage while 4 portals buy, at the default depth.
    let stdout = bench_stdout(&["--outage-secs", "1"]);
    let last = stdout.lines().last().expect("some output");
    let v: Value = serde_json::from_str(last).unwrap_or_else(|e| panic!("{e}: {last}"));
    assert_eq!(v["restart_idle_refused"], 0, "{v}");
    assert_eq!(v["refused_after_first_ok"], 0, "{v}");
    let first = v["first_ok_after_up_ms"]
        .as_f64()
        .expect("a purchase after the outage");
    assert!(first < 1500.0, "{v}");
    assert!(
        v["refused_before_first_ok"].as_u64().unwrap() > 0,
        "the outage was seen: {v}"
    );
}

fn num(v: &Value, k: &str) -> f64 {
    v[k].as_f64()
        .unwrap_or_else(|| panic!("{k} is not a number: {v}"))
}

#[test]
fn broker_mode_keeps_one_session_per_router() {
    let v = bench(&[]);
    assert_eq!(v["mode"], "broker");
    let purchases = v["purchases"].as_u64().unwrap();
    assert!(purchases > 0, "{v}");
    assert!(num(&v, "purchases_per_s") > 0.0);
    assert_eq!(v["errors"], serde_json::json!({}), "{v}");
    assert_eq!(v["router_sessions_opened"], 2, "{v}");
    assert_eq!(v["router_logins"], 2, "{v}");
    // Two commands per purchase (create the user, enable it) plus the two logins.
    assert!(
        num(&v, "router_commands_per_s") * num(&v, "duration_s") >= 2.0 * purchases as f64,
        "{v}"
    );
    let (p50, p95, p99) = (num(&v, "p50_ms"), num(&v, "p95_ms"), num(&v, "p99_ms"));
    assert!(0.0 < p50 && p50 <= p95 && p95 <= p99, "{v}");
    // Two gateway answers and two router replies at 2 ms each: the floor is 8 ms.
    assert!(p50 >= 8.0, "{v}");
    assert!(num(&v, "cpu_s_per_purchase") > 0.0, "{v}");
    assert!(num(&v, "peak_rss_mb") > 1.0, "{v}");
}

#[test]
fn connect_per_request_opens_a_session_per_command() {
    let v = bench(&["--connect-per-request"]);
    assert_eq!(v["mode"], "connect-per-request");
    let purchases = v["purchases"].as_u64().unwrap();
    assert!(purchases > 0, "{v}");
    let sessions = v["router_sessions_opened"].as_u64().unwrap();
    assert!(
        sessions > purchases,
        "{sessions} sessions for {purchases} purchases: {v}"
    );
    assert_eq!(v["router_logins"].as_u64().unwrap(), sessions, "{v}");
}

#[test]
fn pipeline_depth_reaches_the_service_and_the_report() {
    let v = bench(&["--router-pipeline-depth", "4"]);
    assert_eq!(v["mode"], "broker");
    assert_eq!(v["router_pipeline_depth"], 4, "{v}");
    assert!(v["purchases"].as_u64().unwrap() > 0, "{v}");
    assert_eq!(v["errors"], serde_json::json!({}), "{v}");
    assert_eq!(v["router_sessions_opened"], 2, "{v}");
    let max = v["router_max_in_flight_per_session"].as_u64().unwrap();
    assert!((1..=4).contains(&max), "{v}");
    // The default is the service's: pipelined (adaptive), at most 16 in flight.
    let default = bench(&[]);
    assert_eq!(default["router_pipeline_depth"], 16, "{default}");
    let max = default["router_max_in_flight_per_session"]
        .as_u64()
        .unwrap();
    assert!((1..=16).contains(&max), "{default}");
    let strict = bench(&["--router-pipeline-depth", "1"]);
    assert_eq!(strict["router_max_in_flight_per_session"], 1, "{strict}");
}

#[test]
fn bad_arguments_are_refused_clearly() {
    for (args, text) in [
        (
            &["--router-pipeline-depth", "4", "--connect-per-request"][..],
            "cannot be combined with --connect-per-request",
        ),
        (
            &["--router-pipeline-depth", "0"][..],
            "--router-pipeline-depth must be",
        ),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_pagos-hotspot"))
            .args(["bench", "--duration", "1"])
            .args(args)
            .output()
            .unwrap();
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(text), "{stderr}");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_pagos-hotspot"))
        .args(["bench", "--routers", "0", "--duration", "1"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--routers must be"), "{stderr}");
}

/// The simulator's busy clock (the hot-router figure): it runs only while a command waits for
/// its reply, and does not run while the session is idle.
#[tokio::test]
async fn simulator_busy_time_counts_commands_in_flight_only() {
    use pagos_hotspot::routeros::{ConnectOptions, RouterClient};
    use pagos_hotspot::sandbox::routeros_sim::{RouterSim, SimConfig};
    use std::time::{Duration, Instant};

    let mut cfg = SimConfig::new("api", "pw");
    cfg.latency = Duration::from_millis(40);
    let sim = RouterSim::start(cfg).unwrap();
    assert_eq!(sim.busy_time(), Duration::ZERO);
    let mut o = ConnectOptions::new("127.0.0.1", sim.addr().port(), "api", "pw");
    o.connect_timeout = Duration::from_secs(5);
    o.command_timeout = Duration::from_secs(5);
    let mut c = RouterClient::connect(&o).await.unwrap(); // the login: one reply at 40 ms
    let started = Instant::now();
    for _ in 0..3 {
        c.system_identity().await.unwrap();
    }
    let wall = started.elapsed();
    let busy = sim.busy_time();
    // Login + 3 commands, 40 ms each.
    assert!(busy >= Duration::from_millis(160), "{busy:?}");
    assert!(
        busy <= wall + Duration::from_millis(200),
        "{busy:?} vs {wall:?}"
    );
    // Idle (nothing in flight for 100 ms): the clock stands still.
    let idle_from = sim.busy_time();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(sim.busy_time(), idle_from);
}
