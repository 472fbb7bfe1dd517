//! `pagos-hotspot demo`: the binary in a fresh folder, its printed `curl` commands run exactly
//! as printed (through bash), Ctrl-C, and a second run on the same data.

use std::process::Command;

use crate::helpers::demo::{curl_json, login, run_snippet, Demo};
use serde_json::Value;

/// The demo's router answers through the broker, and every plan's profile exists there with
/// the same `.id`.
fn assert_router_live(base: &str, auth: &str, router_id: &str, plans: &Value) {
    let test = curl_json(&[
        "-H",
        auth,
        &format!("{base}/api/v1/admin/routers/{router_id}/test-connection"),
    ]);
    assert_eq!(test["success"], true, "{test}");
    let profiles = curl_json(&[
        "-H",
        auth,
        &format!("{base}/api/v1/admin/routers/{router_id}/mikrotik-profiles"),
    ]);
    for plan in plans.as_array().unwrap() {
        let found = profiles.as_array().unwrap().iter().any(|p| {
            p["name"] == plan["perfil_mikrotik_nombre"] && p["id"] == plan["perfil_mikrotik_id"]
        });
        assert!(found, "{plan} not among {profiles}");
    }
}

#[test]
fn demo_seeds_once_logs_in_stops_on_ctrl_c_and_reuses_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let demo = Demo::start(dir.path());
    let base = demo.base_url();
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");
    let admin = demo.field("company admin: ");
    let api_key = demo.field("router API key: ");
    assert!(api_key.starts_with("jwt_"));

    // The printed login works as printed.
    let token = login(&demo);

    // The seed: one company with both gateways configured, one router, three plans.
    let auth = format!("Authorization: Bearer {token}");
    let empresa = curl_json(&["-H", &auth, &format!("{base}/api/v1/admin/mi-empresa")]);
    assert_eq!(empresa["nombre"], "WiFi Demo");
    assert_eq!(empresa["conekta_mode"], "test");
    let mp = curl_json(&[
        "-H",
        &auth,
        &format!("{base}/api/v1/admin/mi-empresa/mercado-pago"),
    ]);
    assert_eq!(mp["configuracion_actual"]["access_token"], "********");
    let routers = curl_json(&[
        "-H",
        &auth,
        &format!("{base}/api/v1/admin/mi-empresa/routers"),
    ]);
    assert_eq!(routers["total"], 1);
    let router_id = routers["routers"][0]["id"].as_str().unwrap().to_string();
    let key = format!("X-API-Key: {api_key}");
    let plans = curl_json(&[
        "-H",
        &key,
        &format!("{base}/api/v1/catalogo_perfiles_venta"),
    ]);
    let names: Vec<&str> = plans
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["perfil_mikrotik_nombre"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["1h", "1d", "1w"]);
    // The plans name the simulated router's real profiles (read live through the broker).
    assert_router_live(&base, &auth, &router_id, &plans);
    let public = curl_json(&["-H", &key, &format!("{base}/api/v1/config/public")]);
    assert!(public["empresa"]["mercadopago_public_key"]
        .as_str()
        .unwrap()
        .starts_with("TEST-"));

    // The secrets file is private, and no secret leaked to the logs.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(dir.path().join("data/demo-secrets.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert!(dir.path().join("data/demo.db").exists());

    // The portal page and the docs are up.
    let page = Command::new("curl")
        .args(["-sS", "--fail", &format!("{base}/portal/")])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&page.stdout).contains(&api_key));

    let tail = demo.interrupt();
    assert!(tail.contains("demo stopped"), "{tail}");
    let log = std::fs::read_to_string(dir.path().join("demo-stderr.log")).unwrap();
    let password = admin.split(" / ").nth(1).unwrap();
    assert!(!log.contains(password), "the admin password is in the logs");
    assert!(!log.contains(&api_key[4..]), "the API key is in the logs");

    // Second run: same data, same login, same key; nothing seeded twice.
    let again = Demo::start(dir.path());
    assert_eq!(again.field("company admin: "), admin);
    assert_eq!(again.field("router API key: "), api_key);
    let base2 = again.base_url();
    let token = login(&again);
    let auth = format!("Authorization: Bearer {token}");
    let routers = curl_json(&[
        "-H",
        &auth,
        &format!("{base2}/api/v1/admin/mi-empresa/routers"),
    ]);
    assert_eq!(routers["total"], 1);
    let plans = curl_json(&[
        "-H",
        &key,
        &format!("{base2}/api/v1/catalogo_perfiles_venta"),
    ]);
    assert_eq!(plans.as_array().unwrap().len(), 3);
    // The router row follows the simulator to its new port.
    assert_router_live(&base2, &auth, &router_id, &plans);
    let tail = again.interrupt();
    assert!(tail.contains("demo stopped"), "{tail}");
}

#[test]
fn printed_purchase_commands_work_as_printed() {
    let dir = tempfile::tempdir().unwrap();
    let demo = Demo::start(dir.path());

    let (code, body, detail) = run_snippet(&demo.commands(2));
    assert_eq!(code, 0, "{detail}");
    assert_eq!(body["success"], true, "{detail}");
    assert_eq!(body["estado_pago"], "paid", "{detail}");
    assert!(body["id_transaccion"].as_str().unwrap().starts_with("ord_"));
    assert!(!body["usuario_hotspot"]["usuario"]
        .as_str()
        .unwrap()
        .is_empty());
    assert_eq!(body["auto_conexion"]["estado"], "conectado", "{detail}");

    let (code, body, detail) = run_snippet(&demo.commands(3));
    assert_eq!(code, 0, "{detail}");
    assert_eq!(body["success"], true, "{detail}");
    assert_eq!(body["estado_pago"], "approved", "{detail}");
    assert_eq!(body["tipo_usuario"], "pin", "{detail}");
    assert_eq!(body["mercado_pago"]["status"], "approved", "{detail}");

    // The purchases are in the company's transactions.
    let token = login(&demo);
    let tx = curl_json(&[
        "-H",
        &format!("Authorization: Bearer {token}"),
        &format!("{}/api/v1/admin/mi-empresa/transacciones", demo.base_url()),
    ]);
    // The two newest, above the seeded month of finished purchases.
    let newest: Vec<&str> = tx["transacciones"].as_array().unwrap()[..2]
        .iter()
        .map(|t| t["cliente_nombre"].as_str().unwrap())
        .collect();
    assert_eq!(newest, ["Luis Demo", "Ana Demo"], "{tx}");
    assert!(tx["total"].as_u64().unwrap() > 100, "{tx}");
    demo.interrupt();
}
