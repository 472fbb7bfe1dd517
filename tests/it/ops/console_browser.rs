//! The operator console (`/consola/`) end to end in headless Chromium on the demo: a
//! playwright-core script (tests/browser/console.mjs) walks the company admin and the operator
//! through their screens and screenshots each one into tests/artifacts/console/ (the copies in
//! docs/img/ come from there). Every API call the console made must be a route of
//! `/openapi.json`.
//!
//! Needs Debian's `chromium` and `npm ci` in tests/browser (see the README); without them the
//! test fails, it does not skip.

use std::process::Command;

use crate::helpers::demo::Demo;
use serde_json::{json, Value};

/// `user / password` from a banner line.
fn login_pair(line: &str) -> Value {
    let (user, password) = line.split_once(" / ").unwrap();
    json!([user.trim(), password.trim()])
}

/// Whether `path` matches the OpenAPI template `tpl` (`{x}` is one segment, `{x:.+}` the rest).
fn matches_template(tpl: &str, path: &str) -> bool {
    let t: Vec<&str> = tpl.split('/').collect();
    let p: Vec<&str> = path.split('/').collect();
    if t.last().is_some_and(|s| s.contains(":.")) {
        return p.len() >= t.len() && t.iter().zip(&p).all(|(a, b)| a.starts_with('{') || a == b);
    }
    t.len() == p.len()
        && t.iter()
            .zip(&p)
            .all(|(a, b)| (a.starts_with('{') && !b.is_empty()) || a == b)
}

fn documented(spec: &Value, method: &str, path: &str) -> bool {
    spec["paths"]
        .as_object()
        .unwrap()
        .iter()
        .any(|(tpl, ops)| matches_template(tpl, path) && ops.get(method.to_lowercase()).is_some())
}

fn openapi(base: &str) -> Value {
    let out = Command::new("curl")
        .args(["-sS", "--fail-with-body", &format!("{base}/openapi.json")])
        .output()
        .unwrap();
    assert!(out.status.success());
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn template_matching() {
    assert!(matches_template(
        "/api/v1/admin/routers/{router_id}/status",
        "/api/v1/admin/routers/RTR_1/status"
    ));
    assert!(!matches_template(
        "/api/v1/admin/routers/{router_id}/status",
        "/api/v1/admin/routers/RTR_1/estado"
    ));
    assert!(!matches_template("/admin/empresas", "/admin/empresas/x"));
    assert!(matches_template(
        "/consola/{file:.+}",
        "/consola/vendor/a.js"
    ));
}

#[test]
#[allow(clippy::too_many_lines)]
fn console_walks_both_roles_in_headless_chromium() {
    let (root, chromium) = crate::helpers::browser::prerequisites();
    let shots = root.join("tests/artifacts/console");
    let _ = std::fs::remove_dir_all(&shots);
    std::fs::create_dir_all(&shots).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let demo = Demo::start(dir.path());
    let base = demo.base_url();
    assert_eq!(demo.field("operator console: "), format!("{base}/consola/"));
    let config = json!({
        "admin": login_pair(&demo.field("company admin: ")),
        "operator": login_pair(&demo.field("operator (super_admin): ")),
        "api_key": demo.field("router API key: "),
    });
    // A purchase with auto-connect (the banner's Conekta command), so there is a live session
    // to kick and a real payment to refund.
    let (code, body, detail) = crate::helpers::demo::run_snippet(&demo.commands(2));
    assert_eq!(code, 0, "{detail}");
    assert_eq!(body["success"], true, "{detail}");
    let config_path = dir.path().join("console.json");
    std::fs::write(&config_path, config.to_string()).unwrap();

    let out = Command::new("node")
        .arg(root.join("tests/browser/console.mjs"))
        .arg(&base)
        .arg(&config_path)
        .arg(&shots)
        .env("CHROMIUM_PATH", &chromium)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "browser script failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    let s: Value = serde_json::from_str(stdout.trim().lines().last().unwrap()).unwrap();
    assert_eq!(s["pageErrors"], Value::Null, "{s}");

    // Dashboard: 30 days drawn, from the seeded month, through both gateways.
    assert_eq!(s["dashboard"]["days"], 30, "{s}");
    assert_eq!(s["dashboard"]["points"], "30", "{s}");
    assert!(s["dashboard"]["purchases"].as_u64().unwrap() > 60, "{s}");
    assert!(
        s["dashboard"]["daysWithSales"].as_u64().unwrap() >= 25,
        "{s}"
    );
    assert_eq!(
        s["dashboard"]["gateways"],
        json!(["conekta", "mercado_pago"])
    );
    assert_eq!(s["routerState"], "connected", "{s}");
    // Live sessions: the purchase's device was online, the kick ends its session.
    let before = s["sessionsBefore"].as_u64().unwrap();
    assert!(before >= 1, "{s}");
    assert_eq!(s["sessionsAfter"].as_u64().unwrap(), before - 1, "{s}");
    // The product's validity fields went through the form.
    assert!(
        s["productPlan"].as_str().unwrap().contains("120 min"),
        "{s}"
    );
    assert!(s["productPlan"].as_str().unwrap().contains("500 MB"), "{s}");
    // A partial refund through the gateway: recorded on the transaction.
    assert!(
        s["refunded"].as_str().unwrap().contains("Reembolsado$5.00"),
        "{s}"
    );
    assert_eq!(s["refundLeft"], 1, "the rest can still be refunded: {s}");
    assert!(s["setupRsc"].as_u64().unwrap() > 5, "{s}");
    assert!(s["setupSteps"].as_u64().unwrap() >= 3, "{s}");
    assert_eq!(s["portalZip"], "PK", "{s}");

    // Products: the live picker offered the router's profiles; the new plan is on sale.
    for p in ["default", "1h", "1d", "1w"] {
        assert!(s["profiles"].as_array().unwrap().contains(&json!(p)), "{s}");
    }
    assert!(
        s["catalogue"]
            .as_array()
            .unwrap()
            .contains(&json!("Plan consola 2 horas")),
        "{s}"
    );

    // Transactions: the filter narrows, pages, and the CSV holds the same filter.
    let (total, filtered) = (
        s["txTotal"].as_u64().unwrap(),
        s["txFiltered"].as_u64().unwrap(),
    );
    assert!(filtered > 0 && filtered < total, "{s}");
    assert_eq!(s["txFilteredGateways"], json!(["Conekta"]), "{s}");
    assert_eq!(s["paged"], true, "{s}");
    assert!(s["csv"]["header"]
        .as_str()
        .unwrap()
        .starts_with("id,transaccion_id"));
    assert_eq!(s["csv"]["rows"].as_u64().unwrap(), filtered.min(500), "{s}");
    assert_eq!(s["csv"]["gateways"], json!(["conekta"]), "{s}");
    assert!(s["detail"].as_str().unwrap().contains("Conekta"), "{s}");
    assert!(
        s["passwordError"].as_str().unwrap().contains("incorrecta"),
        "{s}"
    );
    assert_eq!(s["phoneOverflow"], false, "{s}");
    // Gateways: secrets masked, a bad webhook key refused with the API's detail.
    assert!(
        s["webhookUrl"]
            .as_str()
            .unwrap()
            .contains("/api/v1/webhook/mercado-pago?empresa_id=EMP_"),
        "{s}"
    );
    assert!(
        s["conektaCard"]
            .as_str()
            .unwrap()
            .contains("llave privada: ********"),
        "{s}"
    );
    assert!(s["pemError"].as_str().unwrap().contains("PEM"), "{s}");
    assert!(
        s["mpCard"]
            .as_str()
            .unwrap()
            .contains("secreto del webhook: ********"),
        "{s}"
    );
    assert!(
        !s["mpCard"].as_str().unwrap().contains("whsec-console-test"),
        "{s}"
    );

    // Operator: a regenerated key replaces the old one at once.
    assert_eq!(s["oldKeyBefore"], 200, "{s}");
    assert_eq!(s["keys"]["old"], 401, "{s}");
    assert_eq!(s["keys"]["fresh"], 200, "{s}");
    assert!(s["fleetConnected"].as_u64().unwrap() >= 1, "{s}");
    // A deactivated company's admin lands on the login page and cannot log in again.
    assert!(
        s["lockedOut"]
            .as_str()
            .unwrap()
            .contains("Empresa no activa"),
        "{s}"
    );
    assert!(!s["loginWhileInactive"].as_str().unwrap().is_empty(), "{s}");
    assert_eq!(s["afterLogout"], 401, "{s}");

    // Every call the console made is documented.
    let spec = openapi(&base);
    let calls = s["requests"].as_array().unwrap();
    assert!(calls.len() > 20, "{s}");
    let undocumented: Vec<&Value> = calls
        .iter()
        .filter(|c| !documented(&spec, c[0].as_str().unwrap(), c[1].as_str().unwrap()))
        .collect();
    assert!(
        undocumented.is_empty(),
        "console calls not in /openapi.json: {undocumented:?}"
    );

    for name in s["screens"].as_array().unwrap() {
        let png =
            std::fs::read(shots.join(format!("console-{}.png", name.as_str().unwrap()))).unwrap();
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "{name} is a PNG");
    }
    assert!(s["screens"].as_array().unwrap().len() >= 20, "{s}");
    eprintln!("login page painted in {} ms", s["loginPaintMs"]);
    demo.interrupt();
}
