//! Hotspot helpers (`auto-reconnect`, `profile-info`) and `estado-pago`: passwords required and
//! checked exactly, nothing secret returned, router outages reported as such.

use std::time::Duration;

use serde_json::{json, Value};

use crate::helpers::purchase::*;

async fn post(w: &World, path: &str, body: Value) -> (u16, Value) {
    w.portal(path, body).await
}

#[actix_web::test]
async fn auto_reconnect_requires_the_password_and_returns_no_router_records() {
    let w = world().await;
    w.sim.add_host("AA:BB:CC:DD:EE:10", "10.5.50.20");
    let (s, v) = w
        .conekta(&conekta_body(w.product.id, "tok_test_visa_4242"))
        .await;
    assert_eq!(s, 200, "{v}");
    let user = v["usuario_hotspot"]["usuario"]
        .as_str()
        .unwrap()
        .to_string();
    let pass = v["usuario_hotspot"]["contrasena"]
        .as_str()
        .unwrap()
        .to_string();
    let path = "/api/v1/hotspot/auto-reconnect";
    // No password: refused, no login.
    let (s, v) = post(
        &w,
        path,
        json!({"username": user, "current_mac": "AA:BB:CC:DD:EE:10", "current_ip": "10.5.50.20"}),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(v["estado"], "credenciales_invalidas", "{v}");
    assert!(w.sim.active().is_empty());
    // Wrong password: refused.
    let (_, wrong) = post(&w, path, json!({"username": user, "password": "0000x", "current_mac": "AA:BB:CC:DD:EE:10", "current_ip": "10.5.50.20"})).await;
    assert_eq!(wrong["estado"], "credenciales_invalidas");
    // Bad MAC: 422.
    let (s, _) = post(
        &w,
        path,
        json!({"username": user, "password": pass, "current_mac": "$(reboot)"}),
    )
    .await;
    assert_eq!(s, 422);
    // Right password: logged in; nothing secret in the answer.
    let (_, v) = post(&w, path, json!({"username": user, "password": pass, "current_mac": "AA:BB:CC:DD:EE:10", "current_ip": "10.5.50.20"})).await;
    assert_eq!(v["success"], true, "{v}");
    assert_eq!(v["auto_conexion"], "conectado");
    assert!(!v.to_string().contains(&format!("\"{pass}\"")), "{v}");
    assert!(w.sim.active().iter().any(|a| a.user == user));
    // Unknown user: the same answer as a wrong password, so that the endpoint does not tell
    // which usernames exist.
    let (_, unknown) = post(
        &w,
        path,
        json!({"username": "PT-NOPE1", "password": "0000x", "current_mac": "AA:BB:CC:DD:EE:10", "current_ip": "10.5.50.20"}),
    )
    .await;
    let without_time = |mut v: serde_json::Value| {
        v.as_object_mut().unwrap().remove("timestamp");
        v
    };
    assert_eq!(without_time(unknown), without_time(wrong));
    // Router outage: reported as such, not as an expired user.
    w.sim.reboot_with_downtime(Duration::from_secs(60));
    let (_, v) = post(
        &w,
        path,
        json!({"username": user, "password": pass, "current_mac": "AA:BB:CC:DD:EE:10"}),
    )
    .await;
    assert_eq!(v["estado"], "router_no_disponible", "{v}");
}

#[actix_web::test]
async fn profile_info_checks_pins_and_passwords_exactly() {
    let w = world().await;
    w.sim.seed_user("PT-0LEAD", "0457", "1h");
    w.sim.seed_user("PT-12345678", "", "1d");
    let path = "/api/v1/hotspot/user/profile-info";
    let (s, v) = post(
        &w,
        path,
        json!({"username": "PT-0LEAD", "password": "0457"}),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(v["estado"], "ok", "{v}");
    assert_eq!(v["tipo_usuario"], "usuario_contrasena");
    assert_eq!(v["profile"], "1h");
    assert_eq!(v["disabled"], false);
    assert!(v["datos_completos"].get("password").is_none());
    assert!(!v.to_string().contains("0457"));
    let (_, v) = post(&w, path, json!({"username": "PT-0LEAD", "password": "457"})).await;
    assert_eq!(v["estado"], "credenciales_invalidas");
    // PIN: valid only without a password (an empty string counts as sent).
    let (_, v) = post(&w, path, json!({"username": "PT-12345678"})).await;
    assert_eq!(
        (v["estado"].as_str(), v["tipo_usuario"].as_str()),
        (Some("ok"), Some("pin"))
    );
    let (_, v) = post(
        &w,
        path,
        json!({"username": "PT-12345678", "password": null}),
    )
    .await;
    assert_eq!(v["estado"], "ok");
    let (_, v) = post(&w, path, json!({"username": "PT-12345678", "password": ""})).await;
    assert_eq!(v["estado"], "credenciales_invalidas");
    w.sim.reboot_with_downtime(Duration::from_secs(60));
    let (_, v) = post(&w, path, json!({"username": "PT-12345678"})).await;
    assert_eq!(v["estado"], "router_no_disponible");
}

#[actix_web::test]
async fn profile_info_is_rate_limited() {
    let w = world_with(|c| c.rate_limits = true).await;
    let mut statuses = vec![];
    for _ in 0..8 {
        statuses.push(
            post(
                &w,
                "/api/v1/hotspot/user/profile-info",
                json!({"username": "PT-X", "password": "1"}),
            )
            .await
            .0,
        );
    }
    assert!(statuses.contains(&429), "{statuses:?}");
}

#[actix_web::test]
async fn estado_pago_reports_this_routers_payments_only() {
    let w = world().await;
    let token = mp_card_token(&w, "APRO").await;
    let (s, v) = w.mp(&mp_body(w.product.id, &token, 15.0)).await;
    assert_eq!(s, 200, "{v}");
    let pid = v["mercado_pago"]["payment_id"].as_i64().unwrap();
    let get = |path: String| {
        let http = w.app.http.clone();
        let key = w.tenant.api_key.clone();
        async move {
            crate::helpers::status_json(
                http.get(path)
                    .header("X-API-Key", key)
                    .send()
                    .await
                    .unwrap(),
            )
            .await
        }
    };
    let (s, v) = get(w.app.url(&format!("/api/v1/payments/estado-pago/{pid}"))).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["success"], true);
    assert_eq!(v["payment_id"], pid);
    assert_eq!(v["status"], "approved");
    assert_eq!(v["amount"], 15.0);
    let (s, _) = get(w.app.url("/api/v1/payments/estado-pago/20000000999")).await;
    assert_eq!(s, 404);
    let (s, _) = get(w.app.url("/api/v1/payments/estado-pago/abc")).await;
    assert_eq!(s, 422);
}
