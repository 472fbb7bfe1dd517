//! The captive portal, end to end in headless Chromium: the demo binary serves it, a
//! playwright-core script (tests/browser/portal.mjs) types the sandbox's test cards into it
//! (Conekta and Mercado Pago: approved, declined, insufficient funds; a pending Mercado Pago
//! payment approved while the portal polls), logs a device in through a stand-in for the
//! router's `$(link-login-only)` page (after a purchase, and a returning PIN customer after the
//! router refused a login), and buys a plan from `portal.zip` unpacked and served by a
//! plain static server. Screenshots are kept in tests/artifacts/; with `UPDATE_DOC_IMAGES=1`
//! they also replace docs/img/ (the screenshots in docs/portal.md).
//!
//! Needs Debian's `chromium` and `npm ci` in tests/browser (see the README); without them the
//! test fails, it does not skip.

use std::io::Read as _;
use std::path::Path;
use std::process::Command;

use crate::helpers::demo::{curl_json, login, Demo};
use serde_json::Value;

const SHOTS: [&str; 5] = [
    "portal-form.png",
    "portal-approved.png",
    "portal-pin.png",
    "portal-router-login.png",
    "portal-zip.png",
];

/// `POST portal.zip` for the demo's router with its key; the unpacked files in `into`.
fn fetch_portal_zip(demo: &Demo, into: &Path) -> Vec<String> {
    let base = demo.base_url();
    let token = login(demo);
    let auth = format!("Authorization: Bearer {token}");
    let routers = curl_json(&[
        "-H",
        &auth,
        &format!("{base}/api/v1/admin/mi-empresa/routers"),
    ]);
    let router_id = routers["routers"][0]["id"].as_str().unwrap().to_string();
    let api_key = demo.field("router API key: ");
    let zip_path = into.join("portal.zip");
    let out = Command::new("curl")
        .args(["-sS", "--fail-with-body", "-X", "POST", "-H", &auth])
        .args(["-H", "Content-Type: application/json", "-o"])
        .arg(&zip_path)
        .arg("-d")
        .arg(serde_json::json!({ "api_key": api_key }).to_string())
        .arg(format!(
            "{base}/api/v1/admin/routers/{router_id}/portal.zip"
        ))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bytes = std::fs::read(&zip_path).unwrap();
    assert!(
        bytes.len() < 100 * 1024,
        "the folder is {} bytes",
        bytes.len()
    );
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut names = Vec::new();
    for i in 0..archive.len() {
        let mut f = archive.by_index(i).unwrap();
        let name = f.name().to_string();
        let mut content = Vec::new();
        f.read_to_end(&mut content).unwrap();
        std::fs::write(into.join(&name), &content).unwrap();
        if name == "login.html" {
            let html = String::from_utf8(content).unwrap();
            assert!(html.contains(&format!("\"{base}\"")), "API base filled in");
            assert!(
                html.contains(&format!("\"{api_key}\"")),
                "API key filled in"
            );
        }
        names.push(name);
    }
    names.sort();
    names
}

fn run_browser(root: &Path, chromium: &str, args: &[&str]) -> Value {
    let out = Command::new("node")
        .arg(root.join("tests/browser/portal.mjs"))
        .args(args)
        .env("CHROMIUM_PATH", chromium)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "browser script failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    serde_json::from_str(stdout.trim().lines().last().unwrap()).unwrap()
}

fn assert_outcomes(summary: &Value) {
    assert_eq!(summary["plans"][0], "1 hora");
    let conekta = &summary["conekta"];
    let text = |v: &Value| v.as_str().unwrap().to_lowercase();
    assert!(
        text(&conekta["declined"]).contains("declinada"),
        "{summary}"
    );
    assert!(
        text(&conekta["insufficient"]).contains("fondos"),
        "{summary}"
    );
    assert!(!conekta["approved"]["usuario"].as_str().unwrap().is_empty());
    assert!(!conekta["approved"]["contrasena"]
        .as_str()
        .unwrap()
        .is_empty());
    let mp = &summary["mercado_pago"];
    assert!(text(&mp["rejected"]).contains("rechazad"), "{summary}");
    assert!(text(&mp["insufficient"]).contains("fondos"), "{summary}");
    assert_eq!(mp["approved"]["label"], "PIN");
    assert_eq!(summary["pending"]["title"], "¡Pago aprobado!");
    assert!(summary["router_login"]["session"]
        .as_str()
        .unwrap()
        .starts_with('*'));
    assert_eq!(summary["returning"]["user"], mp["approved"]["usuario"]);
    assert!(summary["api_requests"].as_u64().unwrap() > 10);
}

#[test]
fn portal_sells_plans_with_typed_cards_in_headless_chromium() {
    let (root, chromium) = crate::helpers::browser::prerequisites();
    let root = root.as_path();
    let shots = root.join("tests/artifacts");
    std::fs::create_dir_all(&shots).unwrap();
    for s in SHOTS {
        let _ = std::fs::remove_file(shots.join(s));
    }

    let dir = tempfile::tempdir().unwrap();
    // Without binary mode a Mercado Pago payment can stay pending (cardholder CONT).
    let demo = Demo::start_with_env(dir.path(), &[("MP_BINARY_MODE", "false")]);
    let unzipped = dir.path().join("hotspot");
    std::fs::create_dir_all(&unzipped).unwrap();
    let names = fetch_portal_zip(&demo, &unzipped);
    assert_eq!(names, ["login.html", "portal.css", "portal.js"]);

    let sandbox = demo
        .field("in this process: sandbox gateways at ")
        .split(',')
        .next()
        .unwrap()
        .to_string();
    let summary = run_browser(
        root,
        &chromium,
        &[
            &demo.base_url(),
            &sandbox,
            unzipped.to_str().unwrap(),
            shots.to_str().unwrap(),
        ],
    );
    assert_outcomes(&summary);
    for s in SHOTS {
        let png = std::fs::read(shots.join(s)).unwrap();
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "{s} is a PNG");
        if std::env::var("UPDATE_DOC_IMAGES").is_ok_and(|v| v == "1") {
            std::fs::write(root.join("docs/img").join(s), &png).unwrap();
        }
    }
    demo.interrupt();
}
