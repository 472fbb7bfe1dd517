//! A NUL character anywhere in a request is refused before the database (PostgreSQL refuses it
//! in `text`; it used to surface as a 500): 404 in a path or query string, 422 in a JSON body.
//! Nothing is written. Run on SQLite and on PostgreSQL.

use entity::{empresa, producto, usuario};
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{json, Value};

use crate::helpers::purchase::{conekta_body, world};
use crate::helpers::{spawn_app, status_json, TestApp};

async fn counts(app: &TestApp) -> (u64, u64, u64) {
    (
        producto::Entity::find().count(&app.db).await.unwrap(),
        empresa::Entity::find().count(&app.db).await.unwrap(),
        usuario::Entity::find().count(&app.db).await.unwrap(),
    )
}

fn assert_not_found(status: u16, body: &Value, what: &str) {
    assert_eq!(status, 404, "{what}: {body}");
    assert_eq!(body, &json!({"detail": "Not Found"}), "{what}");
}

fn assert_nul_422(status: u16, body: &Value, loc: Value) {
    assert_eq!(status, 422, "{body}");
    let item = &body["detail"][0];
    assert_eq!(item["type"], "value_error", "{body}");
    assert_eq!(item["loc"], loc, "{body}");
    assert!(item["msg"].as_str().unwrap().contains("NUL"), "{body}");
}

#[actix_web::test]
async fn nul_in_unauthenticated_webhook_queries_is_a_404() {
    let app = spawn_app().await;
    let t = app.tenant("Alfa").await;
    for path in [
        "/api/v1/webhook/mercado-pago?empresa_id=%00",
        "/api/v1/webhook/conekta?empresa_id=%00",
        &format!(
            "/api/v1/webhook/mercado-pago?empresa_id={}%00",
            t.empresa.id
        ),
        &format!(
            "/api/v1/webhook/conekta?empresa_id=x&other=%00{}",
            t.empresa.id
        ),
    ] {
        let res = app
            .http
            .post(app.url(path))
            .json(&json!({"type": "payment", "data": {"id": "1"}}))
            .send()
            .await
            .unwrap();
        let (s, v) = status_json(res).await;
        assert_not_found(s, &v, path);
    }
}

#[actix_web::test]
async fn nul_in_path_ids_and_filters_is_a_404_for_every_role() {
    let app = spawn_app().await;
    let t = app.tenant("Alfa").await;
    let root = app.super_admin().await;
    let before = counts(&app).await;
    let cases: [(&str, String, &str); 6] = [
        ("GET", format!("/admin/empresas/{}%00", t.empresa.id), &root),
        ("PUT", "/admin/empresas/%00".into(), &root),
        ("GET", "/api/v1/admin/products/1%00".into(), &t.admin_token),
        (
            "GET",
            "/api/v1/admin/mi-empresa/transacciones?estado=%00".into(),
            &t.admin_token,
        ),
        (
            "GET",
            format!("/api/v1/admin/routers/{}%00/status", t.router.id),
            &t.admin_token,
        ),
        (
            "GET",
            "/api/v1/catalogo_perfiles_venta/%00".into(),
            &t.api_key,
        ),
    ];
    for (method, path, token) in cases {
        let req = match method {
            "GET" => app.http.get(app.url(&path)),
            _ => app.http.put(app.url(&path)).json(&json!({"nombre": "x"})),
        };
        let res = req.bearer_auth(token).send().await.unwrap();
        let (s, v) = status_json(res).await;
        assert_not_found(s, &v, &path);
    }
    assert_eq!(counts(&app).await, before);
}

#[actix_web::test]
async fn nul_in_admin_json_bodies_is_a_422_naming_the_field_and_writes_nothing() {
    let app = spawn_app().await;
    let t = app.tenant("Alfa").await;
    let root = app.super_admin().await;
    let before = counts(&app).await;

    // A product whose sale name holds a NUL; the Spanish alias is named as sent.
    let res = app
        .http
        .post(app.url("/api/v1/admin/products"))
        .bearer_auth(&t.admin_token)
        .json(&json!({
            "router_id": t.router.id,
            "perfil_mikrotik_id": "*1",
            "perfil_mikrotik_nombre": "1h",
            "nombre_venta": "1 hora\u{0}",
            "precio": 15,
        }))
        .send()
        .await
        .unwrap();
    let (s, v) = status_json(res).await;
    assert_nul_422(s, &v, json!(["body", "nombre_venta"]));

    // Nested: the NUL is named by its path.
    let res = app
        .http
        .post(app.url("/api/v1/admin/products"))
        .bearer_auth(&t.admin_token)
        .json(&json!({
            "router_id": t.router.id,
            "perfil_mikrotik_id": "*1",
            "perfil_mikrotik_nombre": "1h",
            "nombre_venta": "1 hora",
            "precio": 15,
            "detalles": [{"texto": "ok"}, {"texto": "mal\u{0}"}],
        }))
        .send()
        .await
        .unwrap();
    let (s, v) = status_json(res).await;
    assert_nul_422(s, &v, json!(["body", "detalles", 1, "texto"]));

    // A company and a user from the operator.
    let res = app
        .http
        .post(app.url("/admin/empresas"))
        .bearer_auth(&root)
        .json(&json!({"nombre": "Beta\u{0}", "contacto_email": "beta@example.com"}))
        .send()
        .await
        .unwrap();
    let (s, v) = status_json(res).await;
    assert_nul_422(s, &v, json!(["body", "nombre"]));

    // Login (no session needed to reach it).
    let res = app
        .http
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"email": "a\u{0}@example.com", "password": "x"}))
        .send()
        .await
        .unwrap();
    let (s, v) = status_json(res).await;
    assert_nul_422(s, &v, json!(["body", "email"]));

    assert_eq!(counts(&app).await, before);
}

#[actix_web::test]
async fn nul_in_a_payment_is_refused_before_anything_external_happens() {
    let w = world().await;
    let mut body = conekta_body(w.product.id, "tok_test_visa_4242");
    body["nombre_cliente"] = json!("Ana\u{0}");
    let (s, v) = w.conekta(&body).await;
    assert_nul_422(s, &v, json!(["body", "nombre_cliente"]));
    assert!(w.sb.ledger().is_empty(), "nothing charged");
    assert!(w.sim.users().is_empty(), "no hotspot user");
    assert!(w.purchases().await.is_empty(), "no purchase recorded");
    // The same purchase without the NUL goes through: the refusal was about the NUL only.
    body["nombre_cliente"] = json!("Ana");
    let (s, v) = w.conekta(&body).await;
    assert_eq!(s, 200, "{v}");
}

#[actix_web::test]
async fn an_escaped_backslash_before_u0000_is_plain_text() {
    let app = spawn_app().await;
    let t = app.tenant("Alfa").await;
    let res = app
        .http
        .post(app.url("/api/v1/admin/products"))
        .bearer_auth(&t.admin_token)
        .json(&json!({
            "router_id": t.router.id,
            "perfil_mikrotik_id": "*1",
            "perfil_mikrotik_nombre": "1h",
            "nombre_venta": "C:\\u0000",
            "precio": 15,
        }))
        .send()
        .await
        .unwrap();
    let (s, v) = status_json(res).await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["nombre_venta"], "C:\\u0000", "{v}");
}
