//! The sample captive portal, end to end in headless Chromium: the demo binary serves it, a
//! playwright-core script (tests/browser/portal.mjs) buys plans through it, and a screenshot is
//! kept in tests/artifacts/portal.png.
//!
//! Needs Debian's `chromium` and `npm ci` in tests/browser (see the README); without them the
//! test fails, it does not skip.

use std::path::Path;
use std::process::Command;

use crate::helpers::demo::Demo;
use serde_json::Value;

#[test]
fn portal_sells_a_plan_in_headless_chromium() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let chromium = std::env::var("CHROMIUM_PATH").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        Path::new(&chromium).exists(),
        "{chromium} is missing: apt-get install -y chromium"
    );
    assert!(
        root.join("tests/browser/node_modules/playwright-core")
            .exists(),
        "playwright-core is missing: (cd tests/browser && npm ci)"
    );
    let artifacts = root.join("tests/artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let shot = artifacts.join("portal.png");
    let _ = std::fs::remove_file(&shot);

    let dir = tempfile::tempdir().unwrap();
    let demo = Demo::start(dir.path());
    let out = Command::new("node")
        .arg(root.join("tests/browser/portal.mjs"))
        .arg(demo.base_url())
        .arg(&shot)
        .env("CHROMIUM_PATH", &chromium)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "browser script failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    let summary: Value = serde_json::from_str(stdout.trim().lines().last().unwrap()).unwrap();
    assert_eq!(summary["plans"][0], "1 hora");
    assert!(!summary["conekta"]["usuario"].as_str().unwrap().is_empty());
    let png = std::fs::read(&shot).unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG screenshot");
    demo.interrupt();
}
