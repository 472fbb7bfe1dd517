//! The binary's configuration handling and its bootstrap commands.

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_pagos-hotspot");
const KEY: &str = "MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE="; // base64 of 32 bytes

fn base(dir: &std::path::Path) -> Command {
    let mut c = Command::new(BIN);
    c.env_clear()
        .current_dir(dir)
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env(
            "DATABASE_URL",
            format!("sqlite://{}/db.sqlite?mode=rwc", dir.display()),
        )
        .env("BIND_ADDR", "127.0.0.1:0");
    c
}

const SESSION: (&str, &str) = ("JWT_SESSION_SECRET", "ssssssssssssssssssssssssssssssss");
const APIKEY: (&str, &str) = ("JWT_APIKEY_SECRET", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");

/// The three required secrets, all valid, then `extra`.
fn valid_secrets_and(extra: (&'static str, &'static str)) -> Vec<(&'static str, &'static str)> {
    vec![SESSION, APIKEY, ("MASTER_KEY", KEY), extra]
}

#[test]
fn serve_names_the_missing_or_malformed_setting_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (vec![], "JWT_SESSION_SECRET"),
        (vec![SESSION], "JWT_APIKEY_SECRET"),
        (vec![SESSION, APIKEY], "MASTER_KEY"),
        (
            vec![SESSION, APIKEY, ("MASTER_KEY", "too-short")],
            "MASTER_KEY",
        ),
        (valid_secrets_and(("BIND_ADDR", "nonsense")), "BIND_ADDR"),
        (
            valid_secrets_and(("CONEKTA_API_BASE", "ftp://x")),
            "CONEKTA_API_BASE",
        ),
        (
            valid_secrets_and((
                "BACKEND_CORS_ORIGINS",
                "[\"http://ok.example\", \"not an origin\"]",
            )),
            "BACKEND_CORS_ORIGINS",
        ),
        (
            valid_secrets_and(("ROUTER_PIPELINE_DEPTH", "0")),
            "ROUTER_PIPELINE_DEPTH",
        ),
        (
            valid_secrets_and(("ROUTER_PIPELINE_DEPTH", "abc")),
            "ROUTER_PIPELINE_DEPTH",
        ),
        (
            valid_secrets_and(("ROUTER_PIPELINE_DEPTH", "33")),
            "ROUTER_PIPELINE_DEPTH",
        ),
        (
            valid_secrets_and(("METRICS_ADDR", "localhost-9464")),
            "METRICS_ADDR",
        ),
    ];
    for (env, name) in cases {
        let out = base(dir.path())
            .envs(env.clone())
            .arg("serve")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
        assert!(stderr.contains(name), "names {name}: {stderr}");
    }
}

#[test]
fn migrate_creates_the_sqlite_file_and_create_super_admin_keeps_the_password_secret() {
    let dir = tempfile::tempdir().unwrap();
    let out = base(dir.path()).arg("migrate").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.path().join("db.sqlite").exists());
    let out = base(dir.path())
        .args([
            "create-super-admin",
            "--email",
            "ops@example.com",
            "--password",
            "a-long-secret-pw",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(all.contains("ops@example.com"));
    assert!(
        !all.contains("a-long-secret-pw"),
        "the password is never printed"
    );
    let bytes = std::fs::read(dir.path().join("db.sqlite")).unwrap();
    assert!(!String::from_utf8_lossy(&bytes).contains("a-long-secret-pw"));
    // Bad input is refused with a clear message.
    let out = base(dir.path())
        .args([
            "create-super-admin",
            "--email",
            "not-an-email",
            "--password",
            "a-long-secret-pw",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid e-mail"));
}
