//! Cross-test: two independent third-party clients from PyPI (`librouteros`, `routeros-api`)
//! against the simulator BINARY. Requires `pip install librouteros==4.2.2 routeros-api==0.21.0`;
//! the test FAILS when they are missing. `PYTHON` selects the interpreter (default `python3`).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const USER: &str = "api";
const PASS: &str = "s3cret";

struct Sim {
    child: Child,
    addr: std::net::SocketAddr,
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn_sim(version: &str) -> Sim {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pagos-hotspot"))
        .args([
            "routeros-sim",
            "--listen",
            "127.0.0.1:0",
            "--user",
            USER,
            "--password",
            PASS,
            "--version",
            version,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn the simulator binary");
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .parse()
        .unwrap();
    Sim { child, addr }
}

fn python() -> String {
    std::env::var("PYTHON").unwrap_or_else(|_| "python3".into())
}

fn run_script(script: &str, sim: &Sim, mode: &str) {
    let path = format!("{}/tests/python/{script}", env!("CARGO_MANIFEST_DIR"));
    let start = Instant::now();
    let out = Command::new(python())
        .args([
            path.as_str(),
            "127.0.0.1",
            &sim.addr.port().to_string(),
            USER,
            PASS,
            mode,
        ])
        .output()
        .expect("run python");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{script} ({mode}) failed after {:?}:\nstdout:\n{stdout}\nstderr:\n{stderr}",
        start.elapsed()
    );
    assert!(stdout.contains("OK "), "{script}: {stdout}");
}

#[test]
fn python_packages_are_installed() {
    let out = Command::new(python())
        .args(["-c", "import librouteros, routeros_api"])
        .output()
        .expect("python3 must be installed");
    assert!(
        out.status.success(),
        "pip install librouteros==4.2.2 routeros-api==0.21.0 is required:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn librouteros_against_sim_v7_18_with_empty() {
    let sim = spawn_sim("7.18.2");
    run_script("routeros_librouteros.py", &sim, "plain");
}

#[test]
fn routeros_api_against_sim_v7_18_with_empty() {
    let sim = spawn_sim("7.18.2");
    run_script("routeros_routeros_api.py", &sim, "plain");
}

#[test]
fn both_clients_against_sim_v6_49_without_empty() {
    let sim = spawn_sim("6.49.10");
    run_script("routeros_librouteros.py", &sim, "plain");
    run_script("routeros_routeros_api.py", &sim, "plain");
}

#[test]
fn both_clients_legacy_md5_login_against_pre_6_43() {
    let sim = spawn_sim("6.40.9");
    run_script("routeros_librouteros.py", &sim, "legacy");
    run_script("routeros_routeros_api.py", &sim, "legacy");
}

#[test]
fn sim_binary_prints_address_and_serves() {
    let sim = spawn_sim("7.18.2");
    let deadline = Instant::now() + Duration::from_secs(5);
    let stream = std::net::TcpStream::connect_timeout(&sim.addr, Duration::from_secs(2));
    assert!(stream.is_ok() && Instant::now() < deadline);
}
