//! The hotspot profile a product sells: checked on the router when the product is saved, and
//! at purchase a profile the router no longer has is a clear refusal that reveals nothing of the
//! router, before any charge and with nothing left behind.

use std::time::Duration;

use serde_json::json;

use crate::helpers::call;
use crate::helpers::purchase::*;

const PRODUCTS: &str = "/api/v1/admin/products";

fn new_product(w: &World, perfil: &str) -> serde_json::Value {
    json!({"router_id": w.tenant.router.id, "perfil_mikrotik_id": format!("*{perfil}"),
           "perfil_mikrotik_nombre": perfil, "nombre_venta": format!("Plan {perfil}"), "precio": 10})
}

#[actix_web::test]
async fn a_product_is_saved_only_with_a_profile_its_router_has() {
    let w = world().await;
    let token = Some(w.tenant.admin_token.as_str());
    // The router answers and has no such profile: refused, nothing saved.
    let (s, v) = call(
        &w.app,
        "POST",
        PRODUCTS,
        token,
        Some(new_product(&w, "no-existe")),
    )
    .await;
    assert_eq!(s, 400, "{v}");
    assert_eq!(
        v["detail"],
        "El perfil 'no-existe' no existe en el router. Créelo en el router o elija un perfil existente."
    );
    let (_, list) = call(&w.app, "GET", PRODUCTS, token, None).await;
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    // A profile the router has: saved and marked verified.
    let (s, v) = call(&w.app, "POST", PRODUCTS, token, Some(new_product(&w, "1d"))).await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["perfil_verificado"], true, "{v}");
    assert!(v.get("advertencia").is_none(), "{v}");

    // Switching a product back on checks its profile again; other edits do not touch the router.
    let gone = insert_product(&w.app, &w.tenant, "Plan viejo", "retirado", "20.00", false).await;
    let path = format!("{PRODUCTS}/{}", gone.id);
    let (s, v) = call(&w.app, "PUT", &path, token, Some(json!({"activo": true}))).await;
    assert_eq!(s, 400, "{v}");
    assert!(v["detail"].as_str().unwrap().contains("'retirado'"), "{v}");
    let (_, v) = call(&w.app, "GET", &path, token, None).await;
    assert_eq!(v["activo"], false, "{v}");
    let (s, v) = call(
        &w.app,
        "PUT",
        &path,
        token,
        Some(json!({"descripcion": "x"})),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert!(v.get("perfil_verificado").is_none(), "{v}");

    // The router cannot answer: the product is saved, flagged as unverified.
    w.sim.reboot_with_downtime(Duration::from_secs(60));
    let (s, v) = call(&w.app, "POST", PRODUCTS, token, Some(new_product(&w, "1w"))).await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["perfil_verificado"], false, "{v}");
    assert!(
        v["advertencia"].as_str().unwrap().contains("verificar"),
        "{v}"
    );
}

#[actix_web::test]
async fn a_purchase_of_a_product_whose_profile_is_gone_is_refused_before_any_charge() {
    let w = world().await;
    let gone = insert_product(&w.app, &w.tenant, "Plan viejo", "retirado", "15.00", true).await;
    let (s, v) = w
        .conekta(&conekta_body(gone.id, "tok_test_visa_4242"))
        .await;
    assert_eq!(s, 409, "{v}");
    assert_eq!(
        v["detail"],
        "No se pudo crear el usuario: este plan no está disponible en este momento. Elija otro plan o avise al establecimiento."
    );
    // Nothing of the router's reaches the portal.
    for name in w.sim.profile_names() {
        assert!(!v.to_string().contains(&name), "{name}: {v}");
    }
    // Nothing charged, no hotspot user, the purchase failed, no payment history.
    assert!(w.sb.ledger().is_empty());
    assert!(!w.sb.requests("conekta").iter().any(|r| r.path == "/orders"));
    assert!(w.sim.users().is_empty());
    assert_eq!(w.purchases().await[0].state, "failed");
    let txs = w.transactions().await;
    assert_eq!(txs["total"], 0, "{txs}");
    check_invariants(&w).await;
    // The same portal request succeeds once the product sells a profile the router has.
    let (s, v) = w
        .conekta(&conekta_body(w.product.id, "tok_test_visa_4242"))
        .await;
    assert_eq!(s, 200, "{v}");
}

#[actix_web::test]
async fn a_router_refusing_the_user_is_answered_without_its_reason() {
    let w = world().await;
    let reason = "failure: internal-router-reason 10.9.8.7";
    w.sim.trap_next("/ip/hotspot/user/add", reason);
    let (s, v) = w
        .conekta(&conekta_body(w.product.id, "tok_test_visa_4242"))
        .await;
    assert_eq!(s, 500, "{v}");
    assert_eq!(
        v["detail"],
        "No se pudo crear el usuario: Error en MikroTik"
    );
    assert!(!v.to_string().contains("internal-router-reason"), "{v}");
    // Nothing charged, no hotspot user, nothing half done.
    assert!(w.sb.ledger().is_empty());
    assert!(w.sim.users().is_empty());
    assert_eq!(w.purchases().await[0].state, "failed");
    check_invariants(&w).await;
}
