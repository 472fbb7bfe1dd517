//! The standalone sandbox and RouterOS simulator are driven over HTTP, as kill and fault tests
//! that run them as processes of their own need: `/__sandbox/…` on the sandbox gateways,
//! `routeros-sim --control ADDR` on the simulator.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use pagos_hotspot::routeros::{ConnectOptions, RouterClient};
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_pagos-hotspot");

/// Kills the child when the test ends, however it ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `pagos-hotspot <args>` and returns it with its first `n` lines of output.
fn start(args: &[&str], n: usize) -> (Running, Vec<String>) {
    let mut child = Command::new(BIN)
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let running = Running(child);
    let lines = (0..n)
        .map(|_| rx.recv_timeout(Duration::from_secs(30)).unwrap())
        .collect();
    (running, lines)
}

#[actix_web::test]
async fn the_sandbox_gateways_process_takes_its_faults_over_http() {
    let (_sandbox, lines) = start(&["sandbox-gateways", "--listen", "127.0.0.1:0"], 1);
    let base = lines[0].trim().to_string();
    let http = reqwest::Client::new();
    let control = |path: &str, body: Value| {
        http.post(format!("{base}/__sandbox/{path}"))
            .json(&body)
            .send()
    };
    let ledger: Value = http
        .get(format!("{base}/__sandbox/ledger"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ledger, json!([]));
    let order = || {
        http.post(format!("{base}/orders"))
            .basic_auth("key_test_standalone", Some(""))
            .header("Accept", "application/vnd.conekta-v2.1.0+json")
            .json(&json!({}))
            .send()
    };
    let unfaulted = order().await.unwrap().status();
    assert_ne!(unfaulted, 500);
    let res = control("fail-next", json!({"n": 1, "gateway": "conekta"}))
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(order().await.unwrap().status(), 500, "the armed fault");
    assert_eq!(order().await.unwrap().status(), unfaulted, "used up");
    let res = control("latency", json!({"ms": 400})).await.unwrap();
    assert_eq!(res.status(), 200);
    let started = Instant::now();
    order().await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(400));
    let res = http
        .post(format!("{base}/__sandbox/approve-pending/42"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404, "no such pending payment");
}

#[actix_web::test]
async fn the_routeros_simulator_process_takes_its_faults_over_http() {
    let args = [
        "routeros-sim",
        "--listen",
        "127.0.0.1:0",
        "--user",
        "api",
        "--password",
        "sim-pass",
        "--control",
        "127.0.0.1:0",
    ];
    let (_sim, lines) = start(&args, 2);
    let api: std::net::SocketAddr = lines[0]
        .trim_start_matches("listening on ")
        .parse()
        .unwrap();
    let control = format!("http://{}", lines[1].trim_start_matches("control on "));
    let opts = ConnectOptions::new("127.0.0.1", api.port(), "api", "sim-pass");
    RouterClient::connect(&opts).await.unwrap().quit().await;

    let http = reqwest::Client::new();
    let users: Value = http
        .get(format!("{control}/users"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(users, json!([]));
    let res = http
        .post(format!("{control}/hosts"))
        .json(&json!({"mac": "AA:BB:CC:DD:EE:01", "ip": "10.5.50.9"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);

    // A reboot with 1.5 s of downtime: refused, then back.
    let res = http
        .post(format!("{control}/reboot"))
        .json(&json!({"down_ms": 1500}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let rebooted = Instant::now();
    assert!(RouterClient::connect(&opts).await.is_err(), "down");
    let back = loop {
        if let Ok(mut c) = RouterClient::connect(&opts).await {
            c.quit().await;
            break rebooted.elapsed();
        }
        assert!(
            rebooted.elapsed() < Duration::from_secs(10),
            "never came back"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(back >= Duration::from_millis(1000), "{back:?}");
    let res = http
        .post(format!("{control}/forget-users"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}
