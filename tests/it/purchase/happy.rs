//! Purchase saga, happy paths: both gateways, both user types, with and without auto-connect,
//! idempotent retries and concurrent duplicates. Every scenario ends with the invariant check.

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{json, Value};

use crate::helpers::purchase::*;
use entity::transaccion;

#[actix_web::test]
async fn conekta_user_password_with_auto_connect() {
    let w = world().await;
    w.sim.add_host("AA:BB:CC:DD:EE:01", "10.5.50.11");
    let mut body = conekta_body(w.product.id, "tok_test_visa_4242");
    body["tipo_usuario"] = json!("usuario_contrasena");
    body["mac_cliente"] = json!("aa:bb:cc:dd:ee:01");
    body["ip_cliente"] = json!("10.5.50.11");
    body["conexion_automatica"] = json!(true);
    let (s, v) = w.conekta(&body).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["success"], true);
    assert_eq!(v["estado_pago"], "paid");
    assert_eq!(v["tipo_usuario"], "usuario_contrasena");
    let user = v["usuario_hotspot"]["usuario"].as_str().unwrap();
    let pass = v["usuario_hotspot"]["contrasena"].as_str().unwrap();
    assert!(user.starts_with("PT-") && user.len() == 8, "{user}");
    assert_eq!(pass.len(), 4);
    assert_eq!(
        v["producto"],
        json!({"nombre":"1 Hora de Internet","precio":15.0,"moneda":"MXN","perfil_mikrotik":"1h",
               "minutos_uso":null,"vigencia_minutos":null,"vigencia_desde":null,"limite_mb":null})
    );
    assert_eq!(
        v["expiracion_hotspot"],
        Value::Null,
        "a plan without a validity"
    );
    assert_eq!(
        v["cliente"],
        json!({"nombre":"Juan Pérez","email":"juan@example.com"})
    );
    assert!(v["id_transaccion"].as_str().unwrap().starts_with("ord_"));
    assert_eq!(v["auto_conexion"]["estado"], "conectado", "{v}");
    assert_eq!(
        v["auto_conexion"]["mac"], "aa:bb:cc:dd:ee:01",
        "echoed as sent"
    );
    assert_eq!(v["auto_conexion"]["ip"], "10.5.50.11");
    assert_eq!(v["auto_conexion"]["verificado"], true);
    assert!(v["auto_conexion"]["session_id"].is_null());
    assert!(v.get("mercado_pago").is_none());

    // The router's own state: the user exists, enabled, with the product's profile and password.
    let users = w.sim.users();
    assert_eq!(users.len(), 1);
    assert_eq!(users[0].name, user);
    assert_eq!(users[0].password, pass);
    assert_eq!(users[0].profile, "1h");
    assert!(!users[0].disabled);
    assert!(w
        .sim
        .active()
        .iter()
        .any(|a| a.user == user && a.address == "10.5.50.11"));
    // The gateway's own state: one paid order carrying our purchase id, at the server price.
    let ledger = w.sb.ledger();
    assert_eq!(ledger.len(), 1);
    assert_eq!(ledger[0].status, "paid");
    assert_eq!(ledger[0].amount, "15.00".parse().unwrap());
    let p = &w.purchases().await[0];
    assert_eq!(ledger[0].reference.as_deref(), Some(p.id.as_str()));
    assert_eq!(p.state, "completed");
    // The transaction row: password encrypted, key id recorded.
    let t = transaccion::Entity::find()
        .filter(transaccion::Column::PurchaseId.eq(p.id.clone()))
        .one(&w.app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(t.transaccion_id.as_deref(), v["id_transaccion"].as_str());
    assert_eq!(t.estado_hotspot, "active");
    assert_eq!(t.gateway.as_deref(), Some("conekta"));
    assert!(t.api_key_usada.as_deref().unwrap().starts_with("key_"));
    let stored = t.password_hotspot.unwrap();
    assert_ne!(stored, pass);
    assert_eq!(
        w.app
            .state
            .secrets
            .decrypt(pagos_hotspot::crypto::field::HOTSPOT_PASSWORD, &stored)
            .unwrap()
            .as_str(),
        pass
    );
    // The card token is never stored; only its hash.
    assert_ne!(p.card_token_hash.as_deref(), Some("tok_test_visa_4242"));
    eventually("telegram paid message", || {
        w.sb.telegram_messages()
            .iter()
            .any(|m| m.text.contains("Pago Aprobado") && !m.text.contains(pass))
    })
    .await;
    check_invariants(&w).await;
}

#[actix_web::test]
async fn conekta_pin_without_auto_connect() {
    let w = world().await;
    let mut body = conekta_body(w.product.id, "tok_test_mastercard_4444");
    body["tipo_usuario"] = json!("pin");
    let (s, v) = w.conekta(&body).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["tipo_usuario"], "pin");
    let user = v["usuario_hotspot"]["usuario"].as_str().unwrap();
    assert_eq!(v["usuario_hotspot"]["contrasena"], "");
    let digits = user.strip_prefix("PT-").unwrap();
    assert!(digits.len() == 8 && digits.bytes().all(|b| b.is_ascii_digit()));
    assert_eq!(
        v["auto_conexion"],
        json!({"estado":"no_conectado","mac":"","ip":"","mensaje":"Favor de ingresar sus credenciales para conectar a Internet","verificado":false})
    );
    let users = w.sim.users();
    assert_eq!(users.len(), 1);
    assert_eq!(users[0].password, "");
    check_invariants(&w).await;
}

#[actix_web::test]
async fn mercado_pago_approved_charges_the_server_price() {
    let w = world_with(|c| c.public_base_url = Some("https://pagos.example.com".into())).await;
    let token = mp_card_token(&w, "APRO").await;
    // Within ±0.01 of the price: accepted, but the SERVER price is charged.
    let (s, v) = w.mp(&mp_body(w.product.id, &token, 15.005)).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["estado_pago"], "approved");
    assert!(v.get("advertencia").is_none());
    let mp = &v["mercado_pago"];
    assert_eq!(mp["status"], "approved");
    assert_eq!(mp["status_detail"], "accredited");
    assert!(mp["payment_id"].as_i64().unwrap() > 20_000_000_000);
    assert_eq!(
        v["id_transaccion"],
        mp["payment_id"].as_i64().unwrap().to_string()
    );
    // raw_response carries no payer or card data.
    let raw = mp["raw_response"].as_object().unwrap();
    assert!(
        !raw.contains_key("payer") && !raw.contains_key("card") && !raw.contains_key("metadata")
    );
    assert_eq!(raw["status"], "approved");
    let ledger = w.sb.ledger();
    assert_eq!(ledger.len(), 1);
    assert_eq!(ledger[0].amount, "15.00".parse().unwrap());
    let p = &w.purchases().await[0];
    assert_eq!(ledger[0].idempotency_key.as_deref(), Some(p.id.as_str()));
    assert_eq!(ledger[0].reference.as_deref(), Some(p.id.as_str()));
    // The notification URL names the company, so its webhook can be verified with its secret.
    let create =
        w.sb.requests("mercado_pago")
            .into_iter()
            .find(|r| r.method == "POST" && r.path == "/v1/payments")
            .unwrap();
    assert_eq!(
        create.body["notification_url"],
        format!(
            "https://pagos.example.com/api/v1/webhook/mercado-pago?empresa_id={}",
            w.tenant.empresa.id
        )
    );
    assert_eq!(create.body["transaction_amount"], 15.0);
    // The card token never reaches our logs or database.
    assert_ne!(p.card_token_hash.as_deref(), Some(token.as_str()));
    check_invariants(&w).await;
}

#[actix_web::test]
async fn mercado_pago_pin_with_auto_connect_but_no_ip() {
    let w = world().await;
    let token = mp_card_token(&w, "APRO").await;
    let mut body = mp_body(w.product.id, &token, 15.0);
    body["tipo_usuario"] = json!("pin");
    body["mac_cliente"] = json!("AA-BB-CC-DD-EE-02");
    body["conexion_automatica"] = json!(true);
    let (s, v) = w.mp(&body).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["usuario_hotspot"]["contrasena"], "");
    assert_eq!(v["auto_conexion"]["estado"], "no_conectado");
    assert_eq!(
        v["auto_conexion"]["mensaje"],
        "No se pudo conectar automáticamente. Use las credenciales para conectar a Internet"
    );
    assert!(w.sim.active().is_empty());
    check_invariants(&w).await;
}

#[actix_web::test]
async fn auto_connect_without_an_ip_finds_it_in_the_hotspot_host_table() {
    let w = world().await;
    w.sim.add_host("AA:BB:CC:DD:EE:03", "10.5.50.33");
    let mut body = conekta_body(w.product.id, "tok_test_visa_4242");
    body["mac_cliente"] = json!("aa-bb-cc-dd-ee-03");
    body["conexion_automatica"] = json!(true);
    let (s, v) = w.conekta(&body).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["auto_conexion"]["estado"], "conectado", "{v}");
    assert_eq!(v["auto_conexion"]["ip"], "10.5.50.33");
    let user = v["usuario_hotspot"]["usuario"].as_str().unwrap();
    assert!(
        w.sim.active().iter().any(|a| a.user == user),
        "the router shows the session"
    );
    check_invariants(&w).await;
}

#[actix_web::test]
async fn retries_with_the_same_key_or_token_replay_the_first_answer() {
    let w = world().await;
    let body = conekta_body(w.product.id, "tok_test_visa_4242");
    let path = "/api/v1/payments/pagar-conekta";
    let (s1, v1) = w.pay(path, &body, Some("portal-retry-1")).await;
    assert_eq!(s1, 200, "{v1}");
    let (s2, v2) = w.pay(path, &body, Some("portal-retry-1")).await;
    assert_eq!(s2, 200);
    assert_eq!(
        v2["usuario_hotspot"], v1["usuario_hotspot"],
        "same credentials, password included"
    );
    assert_eq!(v2["id_transaccion"], v1["id_transaccion"]);
    // Without the header, the same card token is the same purchase.
    let body2 = conekta_body(w.product.id, "tok_test_mastercard_5100");
    let (s3, v3) = w.pay(path, &body2, None).await;
    assert_eq!(s3, 200, "{v3}");
    let (s4, v4) = w.pay(path, &body2, None).await;
    assert_eq!((s4, &v4["usuario_hotspot"]), (s3, &v3["usuario_hotspot"]));
    // The same key with a different body is refused.
    let mut other = body.clone();
    other["nombre_cliente"] = json!("Otra Persona");
    let (s5, v5) = w.pay(path, &other, Some("portal-retry-1")).await;
    assert_eq!(s5, 422, "{v5}");
    assert_eq!(
        v5["detail"],
        "La clave Idempotency-Key ya se usó con una solicitud diferente."
    );
    // One charge for the keyed purchase, one for the token purchase.
    assert_eq!(w.sb.ledger().len(), 2);
    assert_eq!(w.sim.users().len(), 2);
    check_invariants(&w).await;
}

#[actix_web::test]
async fn concurrent_duplicates_make_exactly_one_charge() {
    let w = world().await;
    w.sb.set_latency(std::time::Duration::from_millis(300));
    let token = mp_card_token(&w, "APRO").await;
    let body = mp_body(w.product.id, &token, 15.0);
    let path = "/api/v1/payments/pagar-mercado-pago";
    let calls = (0..4).map(|_| w.pay(path, &body, Some("double-click")));
    let results = futures_util::future::join_all(calls).await;
    let users: Vec<_> = results
        .iter()
        .map(|(s, v)| {
            assert_eq!(*s, 200, "{v}");
            v["usuario_hotspot"].clone()
        })
        .collect();
    assert!(users.windows(2).all(|p| p[0] == p[1]), "{users:?}");
    assert_eq!(w.sb.ledger().len(), 1);
    assert_eq!(w.purchases().await.len(), 1);
    check_invariants(&w).await;
}

#[actix_web::test]
async fn card_tokens_and_hotspot_passwords_never_reach_the_logs() {
    let w = world().await;
    let token = mp_card_token(&w, "APRO").await;
    let mut body = conekta_body(w.product.id, "tok_test_amex_8431");
    body["tipo_usuario"] = json!("usuario_contrasena");
    let ((s1, v1), logs1) = crate::helpers::capture_logs(w.conekta(&body)).await;
    let ((s2, v2), logs2) =
        crate::helpers::capture_logs(w.mp(&mp_body(w.product.id, &token, 15.0))).await;
    assert_eq!((s1, s2), (200, 200), "{v1} {v2}");
    let logs = format!("{logs1}\n{logs2}");
    assert!(logs.contains("purchase completed"), "the capture works");
    for secret in [
        "tok_test_amex_8431".to_string(),
        token.clone(),
        format!(
            "\"{}\"",
            v1["usuario_hotspot"]["contrasena"].as_str().unwrap()
        ),
        format!(
            "\"{}\"",
            v2["usuario_hotspot"]["contrasena"].as_str().unwrap()
        ),
        CONEKTA_KEY.to_string(),
        MP_TOKEN.to_string(),
    ] {
        assert!(!logs.contains(&secret), "{secret} leaked into the logs");
    }
}
