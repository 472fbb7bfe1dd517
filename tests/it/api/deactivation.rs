//! A company deactivated by an operator is cut at once: its admins' sessions and logins and its
//! portal keys; what finishes, refunds or revokes its customers' purchases still runs (a refund
//! notice still revokes access). Reactivation restores everything. The same for a deactivated
//! user.

use std::time::Duration;

use sea_orm::{ActiveModelTrait, EntityTrait, IntoActiveModel, Set};
use serde_json::{json, Value};

use entity::usuario;

use crate::helpers::purchase::{check_invariants, mp_body, mp_card_token, world, MP_TOKEN};
use crate::helpers::{call, status_json, TestApp, ADMIN_PASSWORD};

async fn set_activa(app: &TestApp, root: &str, empresa_id: &str, activa: bool) {
    let (s, v) = call(
        app,
        "PUT",
        &format!("/admin/empresas/{empresa_id}"),
        Some(root),
        Some(json!({"activa": activa})),
    )
    .await;
    assert_eq!(s, 200, "{v}");
}

async fn login_status(app: &TestApp, email: &str) -> (u16, Value) {
    let res = app
        .http
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"email": email, "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    status_json(res).await
}

#[actix_web::test]
async fn a_deactivated_company_is_cut_at_once_and_reactivation_restores_it() {
    let w = world().await;
    let app = &w.app;
    let t = &w.tenant;
    let root = app.super_admin().await;
    w.sb.set_mp_webhook_url(Some(app.url(&format!(
        "/api/v1/webhook/mercado-pago?empresa_id={}",
        t.empresa.id
    ))));
    // A customer bought before the deactivation.
    let token = mp_card_token(&w, "APRO").await;
    let (s, v) = w.mp(&mp_body(w.product.id, &token, 15.0)).await;
    assert_eq!(s, 200, "{v}");
    let payment_id = v["mercado_pago"]["payment_id"].as_i64().unwrap();

    set_activa(app, &root, &t.empresa.id, false).await;

    // The admin's existing session: reads and edits refused.
    let router_path = format!("/api/v1/admin/mi-empresa/routers/{}", t.router.id);
    let product_path = format!("/api/v1/admin/products/{}", w.product.id);
    let cases: [(&str, &str, Option<Value>); 4] = [
        ("GET", "/api/v1/admin/mi-empresa", None),
        ("PUT", &product_path, Some(json!({"precio": 1}))),
        (
            "PUT",
            &router_path,
            Some(json!({"host": "evil.example.com"})),
        ),
        (
            "PUT",
            "/api/v1/admin/mi-empresa",
            Some(json!({"nombre": "Otro"})),
        ),
    ];
    for (method, path, body) in cases.clone() {
        let (s, v) = call(app, method, path, Some(&t.admin_token), body).await;
        assert_eq!(
            (s, &v["detail"]),
            (401, &json!("Empresa no activa")),
            "{method} {path}"
        );
    }
    // A new login is refused like any other failed login.
    let (s, v) = login_status(app, &t.admin_email).await;
    assert_eq!((s, &v["detail"]), (401, &json!("Credenciales incorrectas")));
    // The portal key: nothing new is sold.
    let token = mp_card_token(&w, "APRO").await;
    let (s, v) = w.mp(&mp_body(w.product.id, &token, 15.0)).await;
    assert_eq!(s, 401, "{v}");
    assert_eq!(w.sb.ledger().len(), 1, "no new charge");

    // A refund of the earlier purchase still revokes its access (nothing is left charged
    // without access, nor enabled without a charge).
    let res = app
        .http
        .post(format!(
            "{}/v1/payments/{payment_id}/refunds",
            w.sb.base_url()
        ))
        .bearer_auth(MP_TOKEN)
        .header("X-Idempotency-Key", "refund-while-inactive")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while w.purchases().await[0].state != "revoked" {
        assert!(tokio::time::Instant::now() < deadline, "refund not applied");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(w.sim.users()[0].disabled);
    check_invariants(&w).await;

    // Reactivation restores the session, logins, edits and sales.
    set_activa(app, &root, &t.empresa.id, true).await;
    let (s, v) = call(
        app,
        "GET",
        "/api/v1/admin/mi-empresa",
        Some(&t.admin_token),
        None,
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = call(
        app,
        "PUT",
        &product_path,
        Some(&t.admin_token),
        Some(json!({"precio": 16})),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = login_status(app, &t.admin_email).await;
    assert_eq!(s, 200, "{v}");
    let token = mp_card_token(&w, "APRO").await;
    let (s, v) = w.mp(&mp_body(w.product.id, &token, 16.0)).await;
    assert_eq!(s, 200, "{v}");
    check_invariants(&w).await;
}

#[actix_web::test]
async fn a_deactivated_user_is_cut_at_once_and_reactivation_restores_it() {
    let app = crate::helpers::spawn_app().await;
    let t = app.tenant("Alfa").await;
    let user = usuario::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.email == t.admin_email)
        .unwrap();
    let set = |activo: bool| {
        let mut m = user.clone().into_active_model();
        m.activo = Set(activo);
        m.update(&app.db)
    };
    set(false).await.unwrap();
    let (s, v) = call(
        &app,
        "GET",
        "/api/v1/admin/mi-empresa",
        Some(&t.admin_token),
        None,
    )
    .await;
    assert_eq!((s, &v["detail"]), (401, &json!("Usuario no activo")));
    let (s, _) = login_status(&app, &t.admin_email).await;
    assert_eq!(s, 401);
    set(true).await.unwrap();
    let (s, v) = call(
        &app,
        "GET",
        "/api/v1/admin/mi-empresa",
        Some(&t.admin_token),
        None,
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = login_status(&app, &t.admin_email).await;
    assert_eq!(s, 200, "{v}");
}
