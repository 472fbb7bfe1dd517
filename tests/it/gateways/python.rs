//! Checks that need Python (they FAIL, never skip, when Python or a package is missing):
//! * the official `conekta` and `mercadopago` SDKs from PyPI, pointed at the sandbox BINARY, complete create, get
//!   and refund;
//! * every Conekta request our client sends validates against Conekta's OpenAPI file.
//!
//! CI: `python3 -m pip install conekta==9.0.0 mercadopago==3.6.0 pyyaml jsonschema cryptography`.
//! `PYTHON` selects the interpreter (default `python3`); the spec is the vendored
//! `tests/fixtures/conekta/openapi-2.3.0.yaml`.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use pagos_hotspot::gateways::{
    build_http_client, ChargeOutcome, ConektaClient, ConektaOrderRequest,
};
use pagos_hotspot::sandbox::gateways::{SandboxConfig, SandboxGateways};

fn python() -> String {
    std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_owned())
}

fn script(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/python")
        .join(name)
}

fn run_python(args: &[&str]) {
    let out = Command::new(python())
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {} (set PYTHON): {e}", python()));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    eprintln!("{stderr}");
    assert!(
        out.status.success(),
        "{args:?} failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
}

struct Sandbox(Child);

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn official_sdks_complete_create_get_refund_against_the_sandbox_binary() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pagos-hotspot"))
        .args(["sandbox-gateways", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let guard = Sandbox(child);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let base = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("sandbox printed no address");
    let base = base.trim();
    assert!(
        base.starts_with("http://127.0.0.1:"),
        "unexpected first line: {base:?}"
    );
    run_python(&[script("gateways_sdk_crosstest.py").to_str().unwrap(), base]);
    drop(guard);
}

fn spec_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/conekta/openapi-2.3.0.yaml")
}

#[actix_web::test]
async fn every_conekta_request_validates_against_the_openapi_file() {
    let spec = spec_path();
    assert!(
        spec.exists(),
        "Conekta OpenAPI file not found at {}",
        spec.display()
    );
    let sb = SandboxGateways::start(SandboxConfig::default()).unwrap();
    let c = ConektaClient::new(
        &sb.base_url(),
        build_http_client(Duration::from_secs(10)).unwrap(),
    );
    let key = "key_openapi_check";
    let req = |token: &str, reference: &str, pre: bool| ConektaOrderRequest {
        amount_cents: 1999,
        currency: "mxn".into(),
        product_name: "1h".into(),
        customer_name: "Juan Pérez".into(),
        customer_email: "juan@example.mx".into(),
        customer_phone: None,
        card_token: token.into(),
        our_reference: reference.into(),
        metadata: BTreeMap::from([
            ("router_id".to_owned(), serde_json::json!(3)),
            ("auto_connect_requested".to_owned(), serde_json::json!(true)),
            (
                "mac_cliente".to_owned(),
                serde_json::json!("AA:BB:CC:DD:EE:FF"),
            ),
        ]),
        pre_authorize: pre,
    };
    let paid = c
        .create_order(key, &req("tok_test_visa_4242", "pur-oa-1", false))
        .await
        .unwrap();
    assert!(paid.is_paid());
    let id = paid.gateway_id().unwrap().to_owned();
    let declined = c
        .create_order(key, &req("tok_test_card_declined", "pur-oa-2", false))
        .await
        .unwrap();
    assert!(matches!(declined, ChargeOutcome::Declined { .. }));
    c.get_order(key, &id).await.unwrap();
    c.find_order_by_reference(key, "pur-oa-1")
        .await
        .unwrap()
        .unwrap();
    c.refund(key, &id, 999).await.unwrap();
    let pre = c
        .create_order(key, &req("tok_test_amex_0005", "pur-oa-3", true))
        .await
        .unwrap();
    c.capture(key, pre.gateway_id().unwrap()).await.unwrap();
    let pre = c
        .create_order(key, &req("tok_test_visa_1881", "pur-oa-4", true))
        .await
        .unwrap();
    c.cancel(key, pre.gateway_id().unwrap()).await.unwrap();

    let recorded = sb.requests("conekta");
    assert!(recorded.len() >= 9);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("conekta-requests.json");
    std::fs::write(&file, serde_json::to_vec_pretty(&recorded).unwrap()).unwrap();
    run_python(&[
        script("gateways_conekta_openapi.py").to_str().unwrap(),
        spec.to_str().unwrap(),
        file.to_str().unwrap(),
    ]);
    sb.stop().await;
}
