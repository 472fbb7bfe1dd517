//! Running the `pagos-hotspot demo` binary from tests (shared by `tests/it/ops/demo.rs` and
//! `tests/it/ops/portal_browser.rs` through `#[path]`).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_pagos-hotspot");

/// A running demo and what it printed.
pub struct Demo {
    child: Child,
    pub banner: String,
    lines: mpsc::Receiver<String>,
}

impl Demo {
    /// Starts the demo in `dir` on a free port and waits for its banner.
    pub fn start(dir: &Path) -> Demo {
        Demo::start_with_env(dir, &[])
    }

    /// As [`Demo::start`], with these environment variables set.
    pub fn start_with_env(dir: &Path, env: &[(&str, &str)]) -> Demo {
        let stderr = std::fs::File::create(dir.join("demo-stderr.log")).unwrap();
        let mut child = Command::new(BIN)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("RUST_LOG", "info")
            .envs(env.iter().copied())
            .current_dir(dir)
            .args(["demo", "--bind", "127.0.0.1:0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(120);
        let mut banner = String::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    banner.push_str(&line);
                    banner.push('\n');
                    if line.starts_with("Ctrl-C stops the demo") {
                        break;
                    }
                }
                Err(_) => {
                    let log = std::fs::read_to_string(dir.join("demo-stderr.log")).unwrap();
                    let _ = child.kill();
                    panic!("no banner in time; stdout so far:\n{banner}\nstderr:\n{log}");
                }
            }
        }
        Demo {
            child,
            banner,
            lines: rx,
        }
    }

    /// The value after `prefix` on the banner line that starts with it.
    pub fn field(&self, prefix: &str) -> String {
        self.banner
            .lines()
            .find_map(|l| l.strip_prefix(prefix))
            .unwrap_or_else(|| panic!("no {prefix:?} line in:\n{}", self.banner))
            .trim()
            .to_string()
    }

    pub fn base_url(&self) -> String {
        self.field("listening on ")
    }

    /// The shell commands under the `# n.` heading, as printed.
    pub fn commands(&self, n: u32) -> String {
        let heading = format!("# {n}.");
        let mut lines = self.banner.lines().skip_while(|l| !l.starts_with(&heading));
        assert!(
            lines.next().is_some(),
            "no {heading} block in:\n{}",
            self.banner
        );
        lines
            .skip_while(|l| l.starts_with('#'))
            .take_while(|l| !l.trim().is_empty())
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Sends SIGINT (Ctrl-C) and waits for a clean exit.
    pub fn interrupt(mut self) -> String {
        let status = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(30);
        let exit = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            assert!(Instant::now() < deadline, "the demo ignored Ctrl-C");
            std::thread::sleep(Duration::from_millis(50));
        };
        assert!(exit.success(), "exit status {exit:?}");
        let mut rest = String::new();
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(5)) {
            rest.push_str(&line);
            rest.push('\n');
        }
        rest
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Runs a printed snippet with bash; returns (exit code, stdout parsed as JSON).
pub fn run_snippet(script: &str) -> (i32, Value, String) {
    let out = Command::new("bash")
        .args(["-c", script])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let json = serde_json::from_str(stdout.trim()).unwrap_or(Value::Null);
    let detail = format!(
        "script:\n{script}\nstdout:\n{stdout}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), json, detail)
}

/// `curl -sS --fail-with-body ARGS`, its output as JSON.
pub fn curl_json(args: &[&str]) -> Value {
    let out = Command::new("curl")
        .args(["-sS", "--fail-with-body"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "curl {args:?}: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The demo's printed admin login, run as printed; the session token.
pub fn login(demo: &Demo) -> String {
    let (code, body, detail) = run_snippet(&demo.commands(1));
    assert_eq!(code, 0, "{detail}");
    assert_eq!(body["token_type"], "bearer", "{detail}");
    assert_eq!(body["user"]["rol"], "cliente_admin", "{detail}");
    body["access_token"].as_str().unwrap().to_string()
}
