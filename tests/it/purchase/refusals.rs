//! Purchase saga, refusals: declines, bad tokens, other tenants' or inactive products, an inactive
//! router, amount mismatches, malformed bodies. Nothing is charged and nothing is left on the
//! router; every scenario ends with the invariant check.

use sea_orm::{ActiveModelTrait, IntoActiveModel, Set};
use serde_json::json;

use crate::helpers::purchase::*;

#[actix_web::test]
async fn conekta_decline_removes_the_user_and_answers_402() {
    let w = world().await;
    let (s, v) = w
        .conekta(&conekta_body(w.product.id, "tok_test_card_declined"))
        .await;
    assert_eq!(s, 402, "{v}");
    assert_eq!(v["detail"], "Tarjeta declinada. Contacte a su banco.");
    assert!(
        w.sim.users().is_empty(),
        "the user of a declined purchase is removed"
    );
    let ps = w.purchases().await;
    assert_eq!(ps[0].state, "declined");
    assert_eq!(w.sb.net_captured(), rust_decimal::Decimal::ZERO);
    eventually("telegram rejected message", || {
        w.sb.telegram_messages()
            .iter()
            .any(|m| m.text.contains("Pago Rechazado"))
    })
    .await;
    // A retry of the same token replays the 402 without a new charge attempt.
    let before = w.sb.requests("conekta").len();
    let (s2, v2) = w
        .conekta(&conekta_body(w.product.id, "tok_test_card_declined"))
        .await;
    assert_eq!((s2, v2), (402, v));
    assert_eq!(w.sb.requests("conekta").len(), before);
    check_invariants(&w).await;
}

#[actix_web::test]
async fn insufficient_funds_and_invalid_tokens() {
    let w = world().await;
    let (s, v) = w
        .conekta(&conekta_body(w.product.id, "tok_test_insufficient_funds"))
        .await;
    assert_eq!(s, 402, "{v}");
    assert_eq!(v["detail"], "Fondos insuficientes en la tarjeta.");
    let (s, v) = w
        .conekta(&conekta_body(w.product.id, "tok_test_visa_4241"))
        .await;
    assert_eq!(s, 422, "{v}");
    assert_eq!(
        v["detail"],
        "Token de tarjeta inválido. Genere un nuevo token."
    );
    let (s, v) = w.conekta(&conekta_body(w.product.id, "  ")).await;
    assert_eq!(s, 400, "{v}");
    assert_eq!(v["detail"], "Token de tarjeta inválido o ya utilizado.");
    let fund = mp_card_token(&w, "FUND").await;
    let (s, v) = w.mp(&mp_body(w.product.id, &fund, 15.0)).await;
    assert_eq!(s, 402, "{v}");
    assert_eq!(v["detail"], "❌ Fondos insuficientes en la tarjeta.");
    assert!(w.sim.users().is_empty());
    assert_eq!(w.sb.net_captured(), rust_decimal::Decimal::ZERO);
    check_invariants(&w).await;
}

#[actix_web::test]
async fn products_of_other_tenants_routers_or_inactive_are_not_found() {
    let w = world().await;
    let other = w.app.tenant("Otra Empresa").await;
    let foreign = insert_product(&w.app, &other, "Ajeno", "1h", "15.00", true).await;
    let (second_router, _) = w.app.add_router(&w.tenant.empresa.id, "Router 2").await;
    let other_router = insert_product_for(
        &w.app,
        &w.tenant.empresa.id,
        &second_router.id,
        "Otro router",
        "1h",
        "15.00",
        true,
    )
    .await;
    let inactive = insert_product(&w.app, &w.tenant, "Inactivo", "1h", "15.00", false).await;
    for id in [foreign.id, other_router.id, inactive.id, 999_999] {
        let (s, v) = w.conekta(&conekta_body(id, "tok_test_visa_4242")).await;
        assert_eq!(
            (s, v["detail"].as_str()),
            (404, Some("Producto no encontrado")),
            "product {id}"
        );
        let token = mp_card_token(&w, "APRO").await;
        let (s, v) = w.mp(&mp_body(id, &token, 15.0)).await;
        assert_eq!(
            (s, v["detail"].as_str()),
            (404, Some("Producto no encontrado"))
        );
    }
    assert!(w.sim.users().is_empty());
    assert!(w.sb.ledger().is_empty());
    assert!(w.purchases().await.is_empty());
    check_invariants(&w).await;
}

#[actix_web::test]
async fn an_inactive_router_is_refused_before_anything_happens() {
    let w = world().await;
    let mut r = w.tenant.router.clone().into_active_model();
    r.activo = Set(false);
    r.update(&w.app.db).await.unwrap();
    let (s, v) = w
        .conekta(&conekta_body(w.product.id, "tok_test_visa_4242"))
        .await;
    assert_eq!(s, 400, "{v}");
    assert_eq!(
        v["detail"],
        "El router está inactivo. Actívalo primero desde el panel."
    );
    assert_eq!(w.sim.commands_total(), 0, "the router was never contacted");
    assert!(w.sb.ledger().is_empty());
    assert!(w.purchases().await.is_empty());
    check_invariants(&w).await;
}

#[actix_web::test]
async fn mercado_pago_amount_mismatch_and_missing_configuration() {
    let w = world().await;
    let token = mp_card_token(&w, "APRO").await;
    let (s, v) = w.mp(&mp_body(w.product.id, &token, 14.98)).await;
    assert_eq!(s, 400);
    assert_eq!(
        v["detail"],
        "El monto ($14.98) no coincide con el producto ($15.00)"
    );
    // Without an access token: the original's 400.
    let res = w
        .app
        .http
        .post(
            w.app
                .url("/api/v1/admin/mi-empresa/configurar-credenciales"),
        )
        .bearer_auth(&w.tenant.admin_token)
        .json(&json!({"access_token": ""}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let (s, v) = w.mp(&mp_body(w.product.id, &token, 15.0)).await;
    assert_eq!(
        (s, v["detail"].as_str()),
        (400, Some("La empresa no tiene configurado Mercado Pago"))
    );
    assert!(w.sb.ledger().is_empty());
    assert!(w.sim.users().is_empty());
    check_invariants(&w).await;
}

/// The product, priced in `moneda`.
async fn priced_in(w: &World, moneda: &str) {
    let mut p = w.product.clone().into_active_model();
    p.moneda = Set(moneda.into());
    p.update(&w.app.db).await.unwrap();
}

#[actix_web::test]
async fn mercado_pago_refuses_a_product_its_account_cannot_charge_before_anything_happens() {
    let w = world().await;
    // USD 15 through a Mexican account (site MLM, pesos only): it would be charged MXN 15.
    priced_in(&w, "USD").await;
    let token = mp_card_token(&w, "APRO").await;
    let (s, v) = w.mp(&mp_body(w.product.id, &token, 15.0)).await;
    assert_eq!(s, 400, "{v}");
    assert_eq!(
        v["detail"],
        "La cuenta de pago de la empresa cobra en MXN y no puede cobrar este producto en USD"
    );
    let charges = w.sb.requests("mercado_pago");
    assert!(
        !charges.iter().any(|r| r.path == "/v1/payments"),
        "no charge was attempted: {charges:?}"
    );
    assert!(w.sb.ledger().is_empty());
    assert_eq!(w.sim.commands_total(), 0, "the router was never contacted");
    assert!(w.purchases().await.is_empty(), "nothing was registered");
    // An account of a site this service does not know charges in no known currency.
    let w2 = world().await;
    w2.sb.set_mp_site_id("MXX");
    let token = mp_card_token(&w2, "APRO").await;
    let (s, v) = w2.mp(&mp_body(w2.product.id, &token, 15.0)).await;
    assert_eq!(s, 400, "{v}");
    assert_eq!(
        v["detail"],
        "La cuenta de pago de la empresa no puede cobrar en MXN"
    );
    assert!(w2.sb.ledger().is_empty());
    check_invariants(&w).await;
    check_invariants(&w2).await;
}

#[actix_web::test]
async fn a_mercado_pago_charge_read_back_in_another_currency_is_not_confirmed() {
    let w = world().await;
    let token = mp_card_token(&w, "APRO").await;
    let (s, v) = w.mp(&mp_body(w.product.id, &token, 15.0)).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(w.sb.ledger()[0].currency, "MXN");
    // The account now charges pesos of another country (the service still believes MXN): the
    // payment is approved for 15 ARS, and the independent read reports so.
    w.sb.set_mp_site_id("MLA");
    let token = mp_card_token(&w, "APRO").await;
    let (s, v) = w.mp(&mp_body(w.product.id, &token, 15.0)).await;
    assert_eq!(s, 402, "{v}");
    let ledger = w.sb.ledger();
    assert_eq!(ledger.len(), 2);
    assert_eq!(ledger[1].currency, "ARS");
    assert_eq!(
        ledger[1].net_captured(),
        rust_decimal::Decimal::ZERO,
        "refunded: {ledger:?}"
    );
    let purchases = w.purchases().await;
    assert_eq!(
        purchases.iter().filter(|p| p.state == "completed").count(),
        1
    );
    assert_eq!(
        w.sim.users().len(),
        1,
        "the second purchase's user was removed"
    );
    check_invariants(&w).await;
}

#[actix_web::test]
async fn malformed_bodies_bad_macs_and_ips_are_422_before_anything_external() {
    let w = world().await;
    let base = conekta_body(w.product.id, "tok_test_visa_4242");
    let cases = [
        ("mac_cliente", json!("[/user add name=x]"), "mac_cliente"),
        ("mac_cliente", json!("AA:BB:CC:DD:EE"), "mac_cliente"),
        ("mac_cliente", json!("AA:BB-CC:DD:EE:FF"), "mac_cliente"),
        (
            "ip_cliente",
            json!("10.0.0.1; /system reboot"),
            "ip_cliente",
        ),
        ("ip_cliente", json!("999.1.1.1"), "ip_cliente"),
        ("tipo_usuario", json!("admin"), "tipo_usuario"),
        ("nombre_cliente", json!("x".repeat(101)), "nombre_cliente"),
        (
            "telefono_cliente",
            json!("1".repeat(21)),
            "telefono_cliente",
        ),
        ("email_cliente", json!("not-an-email"), "email_cliente"),
        ("producto_id", json!("uno"), "producto_id"),
    ];
    for (field, value, loc) in cases {
        let mut body = base.clone();
        body[field] = value.clone();
        let (s, v) = w.conekta(&body).await;
        assert_eq!(s, 422, "{field}={value}: {v}");
        assert_eq!(v["detail"][0]["loc"], json!(["body", loc]), "{v}");
    }
    let mut missing = base.clone();
    missing.as_object_mut().unwrap().remove("token_tarjeta");
    let (s, v) = w.conekta(&missing).await;
    assert_eq!(s, 422);
    assert_eq!(v["detail"][0]["type"], "missing");
    let res = w
        .app
        .http
        .post(w.app.url("/api/v1/payments/pagar-conekta"))
        .header("X-API-Key", &w.tenant.api_key)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    // MP: issuer_id must be a string; a bad MAC too.
    let mut mp = mp_body(w.product.id, "tok", 15.0);
    mp["issuer_id"] = json!(24);
    assert_eq!(w.mp(&mp).await.0, 422);
    let mut mp = mp_body(w.product.id, "tok", 15.0);
    mp["mac_cliente"] = json!("zz:zz:zz:zz:zz:zz");
    assert_eq!(w.mp(&mp).await.0, 422);
    assert_eq!(w.sim.commands_total(), 0);
    assert!(w.sb.ledger().is_empty());
    assert!(w.purchases().await.is_empty());
    check_invariants(&w).await;
}

#[actix_web::test]
async fn payment_routes_are_rate_limited_per_client_ip() {
    let sb_cfg = |c: &mut pagos_hotspot::config::Config| c.rate_limits = true;
    let w = world_with(sb_cfg).await;
    let mut statuses = vec![];
    // Invalid requests have a budget of 30 per address (RATE_LIMIT_INVALID_PER_IP).
    for _ in 0..32 {
        let mut body = conekta_body(w.product.id, "tok_test_visa_4242");
        body["mac_cliente"] = json!("bad");
        statuses.push(w.conekta(&body).await.0);
    }
    assert!(statuses[..30].iter().all(|s| *s == 422), "{statuses:?}");
    assert_eq!(statuses[30..], [429, 429], "{statuses:?}");
    check_invariants(&w).await;
}
