//! Memory per idle router actor, with 1,000 routers in one process. The simulator runs as a
//! separate process (`pagos-hotspot routeros-sim`) so its per-connection memory is not counted.
//! Prints the figure (run with `--nocapture` to see it).

use std::process::Stdio;
use std::time::Duration;

use crate::helpers::spawn_app_with;
use pagos_hotspot::routeros::footprint::measure_idle_actors;
use pagos_hotspot::routeros::RouterState;
use tokio::io::{AsyncBufReadExt, BufReader};

const WARM: usize = 10;
const MEASURED: usize = 1000;

#[actix_web::test]
async fn memory_per_idle_actor_with_a_thousand_routers() {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_pagos-hotspot"))
        .args([
            "routeros-sim",
            "--listen",
            "127.0.0.1:0",
            "--user",
            "api",
            "--password",
            "router-pass",
            "--max-sessions",
            "2000",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let addr: std::net::SocketAddr = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let line = lines.next_line().await.unwrap().expect("simulator exited");
            if let Some(a) = line.strip_prefix("listening on ") {
                return a.trim().parse().unwrap();
            }
        }
    })
    .await
    .expect("simulator did not start");

    let app = spawn_app_with(|c| {
        c.router.connect_concurrency = 16;
        c.router.probe_interval = Duration::from_secs(600);
    })
    .await;
    let empresa = app.insert_empresa("Scale").await;
    let ids = app
        .routers_on(&empresa.id, addr.port(), WARM + MEASURED)
        .await;
    let reg = &app.state.routers;

    // One-time costs (broker thread, connection pools) are paid before measuring.
    measure_idle_actors(reg, &ids[..WARM], WARM).await.unwrap();
    let f = measure_idle_actors(reg, &ids[WARM..], 50).await.unwrap();
    assert_eq!(reg.running(), WARM + MEASURED);
    let fleet = reg.fleet_status().await.unwrap();
    assert_eq!(
        fleet
            .iter()
            .filter(|r| r.status.state == RouterState::Connected)
            .count(),
        WARM + MEASURED
    );
    let per = f.per_actor_bytes();
    println!(
        "idle router actor footprint: {:.1} KiB per actor (session included; {} actors; RSS {:.1} -> {:.1} MiB)",
        per as f64 / 1024.0,
        f.actors,
        f.rss_before as f64 / 1048576.0,
        f.rss_after as f64 / 1048576.0
    );
    assert!(f.rss_after > 0, "RSS not readable");
    assert!(per < 256 * 1024, "{per} bytes per idle actor");
    reg.stop_all();
    child.kill().await.unwrap();
}
