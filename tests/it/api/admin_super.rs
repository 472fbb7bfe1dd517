//! The super_admin API (`/admin/…`) over real HTTP: shapes, the original's error strings,
//! role checks, refused input leaving the database unchanged, API-key lifecycle seen from the
//! portal, and secrets at rest.

use crate::helpers::{spawn_app, status_json, TestApp, ADMIN_PASSWORD};
use chrono::{Duration, Utc};
use reqwest::Method;
use rust_decimal::Decimal;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter, Set,
};
use serde_json::{json, Value};

use entity::{api_key, audit_log, empresa, producto, router, transaccion, usuario};
use pagos_hotspot::crypto::field;

/// Sends a request with an optional bearer token and JSON body.
async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = app.http.request(method, app.url(path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    status_json(req.send().await.unwrap()).await
}

/// Sends a raw (possibly malformed) body.
async fn call_raw(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    raw: &str,
) -> (u16, Value) {
    let res = app
        .http
        .request(method, app.url(path))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(raw.to_string())
        .send()
        .await
        .unwrap();
    status_json(res).await
}

/// Row counts of every table these routes write.
async fn counts(app: &TestApp) -> [u64; 6] {
    [
        empresa::Entity::find().count(&app.db).await.unwrap(),
        router::Entity::find().count(&app.db).await.unwrap(),
        api_key::Entity::find().count(&app.db).await.unwrap(),
        usuario::Entity::find().count(&app.db).await.unwrap(),
        producto::Entity::find().count(&app.db).await.unwrap(),
        audit_log::Entity::find().count(&app.db).await.unwrap(),
    ]
}

async fn audit_count(app: &TestApp, action: &str) -> u64 {
    audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq(action))
        .count(&app.db)
        .await
        .unwrap()
}

/// The portal route authenticated by a router API key.
async fn portal(app: &TestApp, key: &str) -> (u16, Value) {
    let res = app
        .http
        .get(app.url("/api/v1/config/public"))
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    status_json(res).await
}

fn keys_of(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
    k.sort();
    k
}

fn sorted(keys: &[&str]) -> Vec<String> {
    let mut k: Vec<String> = keys.iter().map(|s| s.to_string()).collect();
    k.sort();
    k
}

fn assert_422(status: u16, body: &Value, ctx: &str) {
    assert_eq!(status, 422, "{ctx}: {body}");
    assert!(body["detail"].is_array(), "{ctx}: {body}");
}

/// The original's keys, and `zona_horaria` (added: the company's time zone).
const EMPRESA_KEYS: [&str; 8] = [
    "id",
    "nombre",
    "contacto_email",
    "contacto_telefono",
    "conekta_mode",
    "activa",
    "creada_en",
    "zona_horaria",
];

async fn create_router_http(app: &TestApp, token: &str, empresa_id: &str, nombre: &str) -> Value {
    let (s, b) = call(
        app,
        Method::POST,
        &format!("/admin/empresas/{empresa_id}/routers"),
        Some(token),
        Some(json!({
            "empresa_id": "ignored",
            "nombre": nombre,
            "host": "127.0.0.1",
            "usuario": "api",
            "password": "Router-Pa55-word",
        })),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    b
}

async fn insert_product(app: &TestApp, empresa_id: &str, router_id: &str) -> producto::Model {
    producto::ActiveModel {
        empresa_id: Set(empresa_id.into()),
        router_id: Set(router_id.into()),
        perfil_mikrotik_id: Set("*2".into()),
        perfil_mikrotik_nombre: Set("1hora".into()),
        nombre_venta: Set("1 hora".into()),
        descripcion: Set(None),
        imagen_url: Set(None),
        precio: Set(Decimal::new(1500, 2)),
        moneda: Set("MXN".into()),
        detalles: Set(json!([])),
        activo: Set(true),
        orden_visual: Set(0),
        destacado: Set(false),
        creado_en: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .unwrap()
}

#[actix_web::test]
async fn empresas_create_list_get_and_update() {
    let app = spawn_app().await;
    let token = app.super_admin().await;

    let (s, created) = call(
        &app,
        Method::POST,
        "/admin/empresas",
        Some(&token),
        Some(json!({
            "nombre": "Hotel Sol",
            "contacto_email": "ventas@hotelsol.mx",
            "contacto_telefono": "5551234567",
            "conekta_private_key": "key_PRIVATE_abcdef123456",
            "conekta_public_key": "key_PUBLIC_abcdef",
            "conekta_mode": "live",
            "extra_field_is_ignored": 1,
        })),
    )
    .await;
    assert_eq!(s, 200, "{created}");
    assert_eq!(keys_of(&created), sorted(&EMPRESA_KEYS));
    let id = created["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("EMP_") && id.len() == 14, "{id}");
    assert_eq!(created["nombre"], "Hotel Sol");
    assert_eq!(created["contacto_telefono"], "5551234567");
    assert_eq!(created["conekta_mode"], "live");
    assert_eq!(created["activa"], true);
    assert!(created["creada_en"].as_str().unwrap().contains('T'));
    assert!(!created.to_string().contains("key_PRIVATE"));
    assert_eq!(audit_count(&app, "empresa.create").await, 1);

    // Defaults: conekta_mode "test", no phone.
    let (s, second) = call(
        &app,
        Method::POST,
        "/admin/empresas",
        Some(&token),
        Some(json!({"nombre": "Café Luna", "contacto_email": "luna@example.com"})),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(second["conekta_mode"], "test");
    assert_eq!(second["contacto_telefono"], Value::Null);

    let (s, list) = call(&app, Method::GET, "/admin/empresas", Some(&token), None).await;
    assert_eq!(s, 200);
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2);
    for e in list {
        assert_eq!(keys_of(e), sorted(&EMPRESA_KEYS));
    }
    assert!(!Value::Array(list.clone())
        .to_string()
        .contains("key_PRIVATE"));

    let (s, one) = call(
        &app,
        Method::GET,
        &format!("/admin/empresas/{id}"),
        Some(&token),
        None,
    )
    .await;
    assert_eq!((s, &one), (200, &created));
    let (s, b) = call(
        &app,
        Method::GET,
        "/admin/empresas/EMP_NOPE",
        Some(&token),
        None,
    )
    .await;
    assert_eq!(
        (s, b["detail"].as_str()),
        (404, Some("Empresa no encontrada"))
    );

    // Partial update: only the keys sent change; null clears the phone.
    let (s, upd) = call(
        &app,
        Method::PUT,
        &format!("/admin/empresas/{id}"),
        Some(&token),
        Some(json!({"nombre": "Hotel Sol y Mar", "contacto_telefono": null})),
    )
    .await;
    assert_eq!(s, 200, "{upd}");
    assert_eq!(upd["nombre"], "Hotel Sol y Mar");
    assert_eq!(upd["contacto_email"], "ventas@hotelsol.mx");
    assert_eq!(upd["contacto_telefono"], Value::Null);
    assert_eq!(upd["conekta_mode"], "live");
    let stored = empresa::Entity::find_by_id(id.clone())
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.nombre, "Hotel Sol y Mar");
    assert_eq!(stored.contacto_telefono, None);
    assert_eq!(audit_count(&app, "empresa.update").await, 1);
    let (s, b) = call(
        &app,
        Method::PUT,
        "/admin/empresas/EMP_NOPE",
        Some(&token),
        Some(json!({"nombre": "x"})),
    )
    .await;
    assert_eq!(
        (s, b["detail"].as_str()),
        (404, Some("Empresa no encontrada"))
    );

    // An empty update changes nothing and records nothing.
    let (s, same) = call(
        &app,
        Method::PUT,
        &format!("/admin/empresas/{id}"),
        Some(&token),
        Some(json!({})),
    )
    .await;
    assert_eq!((s, &same), (200, &upd));
    assert_eq!(audit_count(&app, "empresa.update").await, 1);

    // Refused updates change nothing.
    let before = counts(&app).await;
    for bad in [
        json!({"nombre": ""}),
        json!({"nombre": "n".repeat(101)}),
        json!({"contacto_email": "not-an-email"}),
        json!({"contacto_telefono": "1".repeat(21)}),
        json!({"activa": "yes"}),
    ] {
        let (s, b) = call(
            &app,
            Method::PUT,
            &format!("/admin/empresas/{id}"),
            Some(&token),
            Some(bad.clone()),
        )
        .await;
        assert_422(s, &b, &bad.to_string());
    }
    assert_eq!(counts(&app).await, before);
    let again = empresa::Entity::find_by_id(id.clone())
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again, stored);
}

#[actix_web::test]
async fn deactivating_a_company_stops_its_api_keys() {
    let app = spawn_app().await;
    let token = app.super_admin().await;
    let t = app.tenant("Hotel").await;
    let (s, _) = portal(&app, &t.api_key).await;
    assert_eq!(s, 200);

    let path = format!("/admin/empresas/{}", t.empresa.id);
    let (s, b) = call(
        &app,
        Method::PUT,
        &path,
        Some(&token),
        Some(json!({"activa": false})),
    )
    .await;
    assert_eq!((s, &b["activa"]), (200, &json!(false)), "{b}");
    let (s, b) = portal(&app, &t.api_key).await;
    assert_eq!((s, b["detail"].as_str()), (401, Some("Empresa no activa")));

    let (s, _) = call(
        &app,
        Method::PUT,
        &path,
        Some(&token),
        Some(json!({"activa": true})),
    )
    .await;
    assert_eq!(s, 200);
    let (s, _) = portal(&app, &t.api_key).await;
    assert_eq!(s, 200);
    assert_eq!(audit_count(&app, "empresa.update").await, 2);
}

#[actix_web::test]
async fn empresa_create_refuses_bad_input_without_writing() {
    let app = spawn_app().await;
    let token = app.super_admin().await;
    let before = counts(&app).await;
    let ok = json!({"nombre": "Hotel", "contacto_email": "a@example.com"});
    let with = |k: &str, v: Value| {
        let mut b = ok.clone();
        b[k] = v;
        b
    };
    let mut without_email = ok.clone();
    without_email
        .as_object_mut()
        .unwrap()
        .remove("contacto_email");
    for bad in [
        json!({}),
        without_email,
        with("nombre", json!(5)),
        with("nombre", json!("")),
        with("nombre", json!("n".repeat(101))),
        with("contacto_email", json!("not-an-email")),
        with(
            "contacto_email",
            json!(format!("{}@example.com", "a".repeat(95))),
        ),
        with("contacto_telefono", json!("5".repeat(21))),
        with("conekta_mode", json!("production")),
        with("conekta_private_key", json!("k".repeat(256))),
        with("conekta_public_key", json!(["x"])),
    ] {
        let (s, b) = call(
            &app,
            Method::POST,
            "/admin/empresas",
            Some(&token),
            Some(bad.clone()),
        )
        .await;
        assert_422(s, &b, &bad.to_string());
    }
    let (s, b) = call(
        &app,
        Method::POST,
        "/admin/empresas",
        Some(&token),
        Some(with("conekta_mode", json!("staging"))),
    )
    .await;
    assert_eq!(s, 422);
    assert_eq!(b["detail"][0]["loc"], json!(["body", "conekta_mode"]));
    for raw in ["{not json", "[1,2]", "", "null"] {
        let (s, b) = call_raw(&app, Method::POST, "/admin/empresas", &token, raw).await;
        assert_422(s, &b, raw);
    }
    assert_eq!(counts(&app).await, before);
}

#[actix_web::test]
async fn dashboard_and_company_stats() {
    let app = spawn_app().await;
    let token = app.super_admin().await;
    let a = app.tenant("A").await; // 1 router, 1 cliente_admin
    let b = app.tenant("B").await;
    let mut inactive = b.empresa.clone().into_active_model();
    inactive.activa = Set(false);
    inactive.update(&app.db).await.unwrap();

    let (s, d) = call(&app, Method::GET, "/admin/dashboard", Some(&token), None).await;
    assert_eq!(s, 200);
    assert_eq!(keys_of(&d), sorted(&["estadisticas", "timestamp"]));
    assert_eq!(
        d["estadisticas"],
        json!({"total_empresas": 2, "empresas_activas": 1, "total_usuarios": 3})
    );
    assert!(d["timestamp"].as_str().unwrap().contains('T'));

    // A second router (then disabled), a revoked key and an expired key.
    let r2 = create_router_http(&app, &token, &a.empresa.id, "R2").await;
    let r2_id = r2["id"].as_str().unwrap();
    let (s, _) = call(
        &app,
        Method::PUT,
        &format!(
            "/admin/empresas/{}/routers/{r2_id}/toggle-activo",
            a.empresa.id
        ),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(s, 200);
    let path = format!("/admin/empresas/{}/stats", a.empresa.id);
    let (s, st) = call(&app, Method::GET, &path, Some(&token), None).await;
    assert_eq!(s, 200, "{st}");
    assert_eq!(keys_of(&st), sorted(&["empresa", "estadisticas"]));
    assert_eq!(
        keys_of(&st["empresa"]),
        sorted(&["id", "nombre", "activa", "creada_en", "contacto_email"])
    );
    assert_eq!(st["empresa"]["id"], a.empresa.id);
    assert_eq!(
        st["estadisticas"],
        json!({"total_routers": 2, "routers_activos": 1, "routers_inactivos": 1,
               "total_usuarios_admin": 1, "api_keys_activas": 2})
    );
    let key = api_key::Entity::find()
        .filter(api_key::Column::RouterId.eq(r2_id))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let mut expired = key.into_active_model();
    expired.expires_at = Set(Utc::now() - Duration::hours(1));
    expired.update(&app.db).await.unwrap();
    let (_, st) = call(&app, Method::GET, &path, Some(&token), None).await;
    assert_eq!(st["estadisticas"]["api_keys_activas"], 1);

    let (s, b) = call(
        &app,
        Method::GET,
        "/admin/empresas/EMP_NOPE/stats",
        Some(&token),
        None,
    )
    .await;
    assert_eq!(
        (s, b["detail"].as_str()),
        (404, Some("Empresa no encontrada"))
    );
}

const ROUTER_KEYS: [&str; 10] = [
    "id",
    "empresa_id",
    "nombre",
    "host",
    "puerto",
    "ubicacion",
    "activo",
    "use_tls",
    "tls_fingerprint",
    "creado_en",
];

#[actix_web::test]
async fn routers_create_list_get_and_toggle() {
    let app = spawn_app().await;
    let token = app.super_admin().await;
    let e = app.insert_empresa("Hotel").await;
    let other = app.insert_empresa("Otro").await;

    let r = create_router_http(&app, &token, &e.id, "Lobby").await;
    let mut expected = ROUTER_KEYS.to_vec();
    expected.extend(["api_key", "api_key_info"]);
    assert_eq!(keys_of(&r), sorted(&expected));
    let rid = r["id"].as_str().unwrap().to_string();
    assert!(rid.starts_with("RTR_") && rid.len() == 12);
    assert_eq!(
        r["empresa_id"], e.id,
        "the path wins over the body's empresa_id"
    );
    assert_eq!(r["puerto"], 8728);
    assert_eq!(r["activo"], true);
    assert_eq!(r["ubicacion"], Value::Null);
    assert_eq!(r["use_tls"], false);
    assert_eq!(
        keys_of(&r["api_key_info"]),
        sorted(&["key_id", "issued_at", "expires_at", "type"])
    );
    assert_eq!(r["api_key_info"]["type"], "router_api_key");
    assert!(r["api_key_info"]["key_id"]
        .as_str()
        .unwrap()
        .starts_with("key_"));
    let key = r["api_key"].as_str().unwrap();
    assert!(key.starts_with("jwt_"));
    let (s, cfg) = portal(&app, key).await;
    assert_eq!((s, &cfg["router"]["id"]), (200, &json!(rid)));
    assert!(!r.to_string().contains("Router-Pa55-word"));
    assert_eq!(audit_count(&app, "router.create").await, 1);

    // TLS variant: default port 8729, fingerprint stored lowercase, colons accepted.
    let fp = "AB:".repeat(31) + "AB";
    let (s, tls) = call(
        &app,
        Method::POST,
        &format!("/admin/empresas/{}/routers", e.id),
        Some(&token),
        Some(json!({"nombre": "TLS", "host": "router.example.com", "usuario": "api",
                    "password": "p", "ubicacion": "Piso 2", "use_tls": true, "tls_fingerprint": fp})),
    )
    .await;
    assert_eq!(s, 200, "{tls}");
    assert_eq!(tls["puerto"], 8729);
    assert_eq!(tls["use_tls"], true);
    assert_eq!(tls["tls_fingerprint"], "ab".repeat(32));
    assert_eq!(tls["ubicacion"], "Piso 2");

    let (s, list) = call(
        &app,
        Method::GET,
        &format!("/admin/empresas/{}/routers", e.id),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(s, 200);
    let list = list.as_array().unwrap().clone();
    assert_eq!(list.len(), 2);
    for item in &list {
        assert_eq!(keys_of(item), sorted(&ROUTER_KEYS));
    }
    let (s, list) = call(
        &app,
        Method::GET,
        &format!("/admin/empresas/{}/routers", other.id),
        Some(&token),
        None,
    )
    .await;
    assert_eq!((s, list), (200, json!([])));
    let (s, b) = call(
        &app,
        Method::GET,
        "/admin/empresas/EMP_NOPE/routers",
        Some(&token),
        None,
    )
    .await;
    assert_eq!(
        (s, b["detail"].as_str()),
        (404, Some("Empresa no encontrada"))
    );

    let path = format!("/admin/empresas/{}/routers/{rid}", e.id);
    let (s, one) = call(&app, Method::GET, &path, Some(&token), None).await;
    assert_eq!(s, 200);
    assert_eq!(keys_of(&one), sorted(&ROUTER_KEYS));
    assert_eq!(one["nombre"], "Lobby");
    // The router under another company's path is not found.
    let foreign = format!("/admin/empresas/{}/routers/{rid}", other.id);
    for (m, p) in [
        (Method::GET, foreign.clone()),
        (Method::PUT, format!("{foreign}/toggle-activo")),
        (Method::POST, format!("{foreign}/regenerate-api-key")),
        (Method::GET, format!("{foreign}/api-keys")),
        (Method::GET, format!("{foreign}/api-key-status")),
        (Method::POST, format!("{foreign}/api-keys/key_x/revoke")),
        (Method::DELETE, foreign.clone()),
        (
            Method::GET,
            format!("/admin/empresas/{}/routers/RTR_NOPE", e.id),
        ),
    ] {
        let (s, b) = call(&app, m.clone(), &p, Some(&token), None).await;
        assert_eq!(
            (s, b["detail"].as_str()),
            (
                404,
                Some("Router no encontrado o no pertenece a la empresa")
            ),
            "{m} {p}"
        );
    }
    assert_eq!(router::Entity::find().count(&app.db).await.unwrap(), 2);
    let missing = format!("/admin/empresas/EMP_NOPE/routers/{rid}");
    for (m, p) in [
        (Method::GET, missing.clone()),
        (Method::PUT, format!("{missing}/toggle-activo")),
        (Method::POST, format!("{missing}/regenerate-api-key")),
        (Method::GET, format!("{missing}/api-keys")),
        (Method::GET, format!("{missing}/api-key-status")),
        (Method::POST, format!("{missing}/api-keys/key_x/revoke")),
        (Method::DELETE, missing.clone()),
    ] {
        let (s, b) = call(&app, m.clone(), &p, Some(&token), None).await;
        assert_eq!(
            (s, b["detail"].as_str()),
            (404, Some("Empresa no encontrada")),
            "{m} {p}"
        );
    }
    let unchanged = router::Entity::find_by_id(rid.clone())
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(unchanged.activo);

    // Toggle off and on.
    let (s, b) = call(
        &app,
        Method::PUT,
        &format!("{path}/toggle-activo"),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(
        (s, b),
        (
            200,
            json!({"message": "Router desactivado correctamente", "router_id": rid, "activo": false})
        )
    );
    let stored = router::Entity::find_by_id(rid.clone())
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(!stored.activo);
    let (s, b) = call(
        &app,
        Method::PUT,
        &format!("{path}/toggle-activo"),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(
        (s, b),
        (
            200,
            json!({"message": "Router activado correctamente", "router_id": rid, "activo": true})
        )
    );
    assert_eq!(audit_count(&app, "router.deactivate").await, 1);
    assert_eq!(audit_count(&app, "router.activate").await, 1);
}

#[actix_web::test]
async fn router_create_refuses_bad_input_without_writing() {
    let app = spawn_app().await;
    let token = app.super_admin().await;
    let e = app.insert_empresa("Hotel").await;
    let path = format!("/admin/empresas/{}/routers", e.id);
    let ok = json!({"nombre": "R", "host": "10.0.0.1", "usuario": "api", "password": "pw"});
    let with = |k: &str, v: Value| {
        let mut b = ok.clone();
        b[k] = v;
        b
    };
    let before = counts(&app).await;
    for bad in [
        json!({"host": "10.0.0.1"}),
        with("host", json!("http://10.0.0.1")),
        with("host", json!("10.0.0.1:8728")),
        with("host", json!("a b")),
        with("host", json!("h".repeat(256))),
        with("host", json!(17)),
        with("puerto", json!(0)),
        with("puerto", json!(65536)),
        with("puerto", json!("8728")),
        with("puerto", json!(8728.5)),
        with("nombre", json!("")),
        with("nombre", json!("n".repeat(101))),
        with("usuario", json!("u".repeat(101))),
        with("password", json!("")),
        with("password", json!("p".repeat(256))),
        with("ubicacion", json!("u".repeat(201))),
        with("use_tls", json!("yes")),
        with("tls_fingerprint", json!("abc")),
        with("tls_fingerprint", json!("g".repeat(64))),
    ] {
        let (s, b) = call(&app, Method::POST, &path, Some(&token), Some(bad.clone())).await;
        assert_422(s, &b, &bad.to_string());
    }
    // An oversize password is never echoed back.
    let (_, b) = call(
        &app,
        Method::POST,
        &path,
        Some(&token),
        Some(with("password", json!("S3cr".repeat(70)))),
    )
    .await;
    assert!(!b.to_string().contains("S3cr"));
    let (s, b) = call_raw(&app, Method::POST, &path, &token, "{\"nombre\": ").await;
    assert_422(s, &b, "malformed");
    let (s, b) = call(
        &app,
        Method::POST,
        "/admin/empresas/EMP_NOPE/routers",
        Some(&token),
        Some(ok.clone()),
    )
    .await;
    assert_eq!(
        (s, b["detail"].as_str()),
        (404, Some("Empresa no encontrada"))
    );
    assert_eq!(counts(&app).await, before);
}

#[actix_web::test]
async fn regenerate_revokes_every_active_key_atomically() {
    let app = spawn_app().await;
    let token = app.super_admin().await;
    let t = app.tenant("Hotel").await;
    let base = format!("/admin/empresas/{}/routers/{}", t.empresa.id, t.router.id);

    // A second active key (the original failed with a 500 here).
    let extra = pagos_hotspot::auth::api_key::issue(
        &t.router.id,
        &t.empresa.id,
        secrecy::ExposeSecret::expose_secret(&app.state.config.jwt_apikey_secret),
        std::time::Duration::from_secs(3600),
    )
    .unwrap();
    pagos_hotspot::db::api_keys::insert(
        &app.db,
        pagos_hotspot::ids::EmpresaId(&t.empresa.id),
        pagos_hotspot::ids::RouterId(&t.router.id),
        &extra,
    )
    .await
    .unwrap();
    assert_eq!(portal(&app, &extra.api_key).await.0, 200);
    assert_eq!(portal(&app, &t.api_key).await.0, 200);

    let (s, b) = call(
        &app,
        Method::POST,
        &format!("{base}/regenerate-api-key"),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        keys_of(&b),
        sorted(&[
            "message",
            "router_id",
            "new_api_key",
            "api_key_info",
            "previous_key_revoked"
        ])
    );
    assert_eq!(b["message"], "API Key regenerada exitosamente");
    assert_eq!(b["router_id"], t.router.id);
    assert_eq!(b["previous_key_revoked"], true);
    assert_eq!(b["api_key_info"]["type"], "router_api_key");
    let new_key = b["new_api_key"].as_str().unwrap().to_string();
    let new_id = b["api_key_info"]["key_id"].as_str().unwrap().to_string();

    for old in [&t.api_key, &extra.api_key] {
        let (s, body) = portal(&app, old).await;
        assert_eq!(
            (s, body["detail"].as_str()),
            (401, Some("API Key no válida o revocada"))
        );
    }
    assert_eq!(portal(&app, &new_key).await.0, 200);
    let active: Vec<api_key::Model> = api_key::Entity::find()
        .filter(api_key::Column::RouterId.eq(t.router.id.clone()))
        .filter(api_key::Column::Revoked.eq(false))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(active.len(), 1);
    assert_eq!(active[0].key_id, new_id);
    let r = router::Entity::find_by_id(t.router.id.clone())
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(r.api_key_hash, active[0].key_hash);
    assert_eq!(audit_count(&app, "router.regenerate_api_key").await, 1);

    // History: newest first, revoked ones carry revoked_at.
    let (s, keys) = call(
        &app,
        Method::GET,
        &format!("{base}/api-keys"),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(s, 200, "{keys}");
    let keys = keys.as_array().unwrap();
    assert_eq!(keys.len(), 3);
    for k in keys {
        assert_eq!(
            keys_of(k),
            sorted(&[
                "key_id",
                "router_id",
                "empresa_id",
                "issued_at",
                "expires_at",
                "revoked",
                "revoked_at",
                "last_used",
                "use_count"
            ])
        );
    }
    assert_eq!(keys[0]["key_id"], new_id);
    assert_eq!(keys[0]["revoked"], false);
    assert_eq!(keys[0]["revoked_at"], Value::Null);
    for k in &keys[1..] {
        assert_eq!(k["revoked"], true);
        assert!(k["revoked_at"].as_str().unwrap().contains('T'));
    }
    assert!(keys[0]["issued_at"].as_str().unwrap() >= keys[1]["issued_at"].as_str().unwrap());

    // An inactive router cannot regenerate, and nothing changes.
    let mut off = r.into_active_model();
    off.activo = Set(false);
    off.update(&app.db).await.unwrap();
    let before = counts(&app).await;
    let (s, b) = call(
        &app,
        Method::POST,
        &format!("{base}/regenerate-api-key"),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(
        (s, b["detail"].as_str()),
        (
            400,
            Some("No se puede regenerar API key de un router inactivo")
        )
    );
    assert_eq!(counts(&app).await, before);
    assert_eq!(portal(&app, &new_key).await.0, 200);
}

#[actix_web::test]
async fn concurrent_regenerations_leave_exactly_one_active_key() {
    let app = spawn_app().await;
    let token = app.super_admin().await;
    let t = app.tenant("Hotel").await;
    let path = format!(
        "/admin/empresas/{}/routers/{}/regenerate-api-key",
        t.empresa.id, t.router.id
    );
    let calls = (0..4).map(|_| call(&app, Method::POST, &path, Some(&token), None));
    let results = futures_util::future::join_all(calls).await;
    // Serialised by the router-row write: every call succeeds, one after the other.
    for (s, b) in &results {
        assert_eq!(*s, 200, "{b}");
    }
    let issued: std::collections::HashSet<&str> = results
        .iter()
        .map(|(_, b)| b["new_api_key"].as_str().unwrap())
        .collect();
    assert_eq!(issued.len(), 4);
    let active = api_key::Entity::find()
        .filter(api_key::Column::RouterId.eq(t.router.id.clone()))
        .filter(api_key::Column::Revoked.eq(false))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(active.len(), 1, "{results:?}");
    let r = router::Entity::find_by_id(t.router.id.clone())
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(r.api_key_hash, active[0].key_hash);
}

#[actix_web::test]
async fn revoking_one_key() {
    let app = spawn_app().await;
    let token = app.super_admin().await;
    let t = app.tenant("Hotel").await;
    let base = format!("/admin/empresas/{}/routers/{}", t.empresa.id, t.router.id);
    let key = api_key::Entity::find()
        .filter(api_key::Column::RouterId.eq(t.router.id.clone()))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let other = app.tenant("Otro").await;
    let other_key = api_key::Entity::find()
        .filter(api_key::Column::RouterId.eq(other.router.id.clone()))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();

    for kid in ["key_nope", other_key.key_id.as_str()] {
        let (s, b) = call(
            &app,
            Method::POST,
            &format!("{base}/api-keys/{kid}/revoke"),
            Some(&token),
            None,
        )
        .await;
        assert_eq!(
            (s, b["detail"].as_str()),
            (404, Some("API Key no encontrada")),
            "{kid}"
        );
    }
    assert_eq!(portal(&app, &other.api_key).await.0, 200);

    let (s, b) = call(
        &app,
        Method::POST,
        &format!("{base}/api-keys/{}/revoke", key.key_id),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        keys_of(&b),
        sorted(&["message", "key_id", "router_id", "revoked_at"])
    );
    assert_eq!(b["message"], "API Key revocada exitosamente");
    assert_eq!(b["key_id"], key.key_id);
    assert_eq!(b["router_id"], t.router.id);
    let stored = api_key::Entity::find_by_id(key.key_id.clone())
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(stored.revoked);
    assert_eq!(
        b["revoked_at"],
        pagos_hotspot::wire::iso(stored.revoked_at.unwrap())
    );
    let (s, body) = portal(&app, &t.api_key).await;
    assert_eq!(
        (s, body["detail"].as_str()),
        (401, Some("API Key no válida o revocada"))
    );
    assert_eq!(audit_count(&app, "router.revoke_api_key").await, 1);

    let before = counts(&app).await;
    let (s, b) = call(
        &app,
        Method::POST,
        &format!("{base}/api-keys/{}/revoke", key.key_id),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(
        (s, b["detail"].as_str()),
        (400, Some("La API Key ya está revocada"))
    );
    assert_eq!(counts(&app).await, before);

    let (_, keys) = call(
        &app,
        Method::GET,
        &format!("{base}/api-keys"),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(keys[0]["revoked_at"], b_revoked_at(&stored));
}

fn b_revoked_at(k: &api_key::Model) -> Value {
    json!(pagos_hotspot::wire::iso(k.revoked_at.unwrap()))
}

#[actix_web::test]
async fn api_key_status_follows_the_original_rules() {
    let app = spawn_app().await;
    let token = app.super_admin().await;
    let t = app.tenant("Hotel").await;
    let path = format!(
        "/admin/empresas/{}/routers/{}/api-key-status",
        t.empresa.id, t.router.id
    );
    let status_keys = sorted(&[
        "router_id",
        "has_active_key",
        "key_id",
        "issued_at",
        "expires_at",
        "expires_in_days",
        "last_used",
        "use_count",
        "status",
        "warning",
        "recommendation",
    ]);

    let (s, b) = call(&app, Method::GET, &path, Some(&token), None).await;
    assert_eq!(s, 200);
    assert_eq!(keys_of(&b), status_keys);
    assert_eq!(b["has_active_key"], true);
    assert_eq!(b["status"], "active");
    assert_eq!(b["use_count"], 0);
    assert_eq!(b["last_used"], Value::Null);
    let days = b["expires_in_days"].as_i64().unwrap();
    assert!((363..=365).contains(&days), "{days}");
    assert_eq!(b["warning"], "Esta API Key nunca ha sido usada");
    assert_eq!(
        b["recommendation"],
        "Verificar que el cliente la esté usando correctamente"
    );

    // Used once (counters are batched: flush them), then no warning.
    assert_eq!(portal(&app, &t.api_key).await.0, 200);
    app.state.key_usage.flush(&app.db).await.unwrap();
    let (_, b) = call(&app, Method::GET, &path, Some(&token), None).await;
    assert_eq!(b["use_count"], 1);
    assert!(b["last_used"].as_str().unwrap().contains('T'));
    assert_eq!(
        (&b["warning"], &b["recommendation"]),
        (&Value::Null, &Value::Null)
    );

    // Expiring in 10 days.
    let key = api_key::Entity::find_by_id(b["key_id"].as_str().unwrap().to_string())
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let mut soon = key.clone().into_active_model();
    soon.expires_at = Set(Utc::now() + Duration::days(10) + Duration::hours(1));
    soon.update(&app.db).await.unwrap();
    let (_, b) = call(&app, Method::GET, &path, Some(&token), None).await;
    assert_eq!(b["expires_in_days"], 10);
    assert_eq!(b["warning"], "La API Key expira en 10 días");
    assert_eq!(
        b["recommendation"],
        "Considerar regenerar la API Key pronto"
    );

    // Expired.
    let mut gone = key.clone().into_active_model();
    gone.expires_at = Set(Utc::now() - Duration::hours(1));
    gone.update(&app.db).await.unwrap();
    let (_, b) = call(&app, Method::GET, &path, Some(&token), None).await;
    assert_eq!(b["status"], "expired");
    assert_eq!(b["expires_in_days"], -1);
    assert_eq!(b["warning"], "La API Key ha expirado");
    assert_eq!(b["recommendation"], "Generar una nueva API Key");

    // No active key.
    let mut revoked = key.into_active_model();
    revoked.revoked = Set(true);
    revoked.update(&app.db).await.unwrap();
    let (s, b) = call(&app, Method::GET, &path, Some(&token), None).await;
    assert_eq!(s, 200);
    assert_eq!(keys_of(&b), status_keys);
    assert_eq!(b["has_active_key"], false);
    assert_eq!(b["status"], "no_key");
    assert_eq!(b["recommendation"], "Generar una nueva API Key");
    for k in [
        "key_id",
        "issued_at",
        "expires_at",
        "expires_in_days",
        "last_used",
        "use_count",
        "warning",
    ] {
        assert_eq!(b[k], Value::Null, "{k}");
    }
}

#[actix_web::test]
async fn deleting_a_router() {
    let app = spawn_app().await;
    let token = app.super_admin().await;
    let t = app.tenant("Hotel").await;
    let path = format!("/admin/empresas/{}/routers/{}", t.empresa.id, t.router.id);

    // With products: refused with the original's message, nothing changes.
    let p1 = insert_product(&app, &t.empresa.id, &t.router.id).await;
    let before = counts(&app).await;
    let (s, b) = call(&app, Method::DELETE, &path, Some(&token), None).await;
    assert_eq!(
        (s, b["detail"].as_str()),
        (
            400,
            Some("No se puede eliminar el router porque tiene 1 producto(s) asociado(s)")
        )
    );
    assert_eq!(counts(&app).await, before);
    assert_eq!(portal(&app, &t.api_key).await.0, 200);
    producto::Entity::delete_by_id(p1.id)
        .exec(&app.db)
        .await
        .unwrap();

    // A sale of this router is kept after the delete.
    transaccion::ActiveModel {
        transaccion_id: Set(Some("ord_test_1".into())),
        empresa_id: Set(t.empresa.id.clone()),
        router_id: Set(t.router.id.clone()),
        monto: Set(Decimal::new(1500, 2)),
        moneda: Set("MXN".into()),
        estado_pago: Set("paid".into()),
        estado_hotspot: Set("active".into()),
        webhook_processed: Set(false),
        metadata_json: Set(json!({})),
        creada_en: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .unwrap();

    let (s, b) = call(&app, Method::DELETE, &path, Some(&token), None).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        b,
        json!({"message": "Router eliminado exitosamente", "router_id": t.router.id, "empresa_id": t.empresa.id})
    );
    assert!(router::Entity::find_by_id(t.router.id.clone())
        .one(&app.db)
        .await
        .unwrap()
        .is_none());
    assert_eq!(
        api_key::Entity::find()
            .filter(api_key::Column::RouterId.eq(t.router.id.clone()))
            .count(&app.db)
            .await
            .unwrap(),
        0
    );
    assert_eq!(transaccion::Entity::find().count(&app.db).await.unwrap(), 1);
    let (s, body) = portal(&app, &t.api_key).await;
    assert_eq!(
        (s, body["detail"].as_str()),
        (401, Some("API Key no válida o revocada"))
    );
    assert_eq!(audit_count(&app, "router.delete").await, 1);
    let (s, b) = call(&app, Method::DELETE, &path, Some(&token), None).await;
    assert_eq!(
        (s, b["detail"].as_str()),
        (
            404,
            Some("Router no encontrado o no pertenece a la empresa")
        )
    );
}

const USER_KEYS: [&str; 8] = [
    "id",
    "email",
    "nombre",
    "rol",
    "empresa_id",
    "activo",
    "ultimo_login",
    "creado_en",
];

#[actix_web::test]
async fn usuarios_create_with_the_original_checks() {
    let app = spawn_app().await;
    let token = app.super_admin().await;
    let e = app.insert_empresa("Hotel").await;
    let new = |email: &str, rol: &str, empresa_id: Option<&str>| json!({"email": email, "password": "long-enough-pw", "nombre": "Ana", "rol": rol, "empresa_id": empresa_id});

    let (s, b) = call(
        &app,
        Method::POST,
        "/admin/usuarios",
        Some(&token),
        Some(new("Ana@Hotel.mx", "cliente_admin", Some(&e.id))),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(keys_of(&b), sorted(&["message", "usuario"]));
    assert_eq!(b["message"], "Usuario creado exitosamente");
    assert_eq!(
        keys_of(&b["usuario"]),
        sorted(&["id", "email", "nombre", "rol", "empresa_id", "activo"])
    );
    assert_eq!(b["usuario"]["email"], "Ana@Hotel.mx");
    assert_eq!(b["usuario"]["rol"], "cliente_admin");
    assert_eq!(b["usuario"]["empresa_id"], e.id);
    assert_eq!(b["usuario"]["activo"], true);
    assert_eq!(audit_count(&app, "usuario.create").await, 1);
    // The new account can log in (password stored hashed).
    let stored = usuario::Entity::find_by_id(b["usuario"]["id"].as_i64().unwrap() as i32)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(!stored.password_hash.contains("long-enough-pw"));
    app.login("Ana@Hotel.mx", "long-enough-pw").await;

    let (s, b) = call(
        &app,
        Method::POST,
        "/admin/usuarios",
        Some(&token),
        Some(new("ops@example.com", "super_admin", None)),
    )
    .await;
    assert_eq!((s, &b["usuario"]["empresa_id"]), (200, &Value::Null), "{b}");

    let before = counts(&app).await;
    let cases: Vec<(Value, u16, &str)> = vec![
        (
            new("x@example.com", "root", Some(&e.id)),
            400,
            "Rol inválido. Debe ser 'super_admin' o 'cliente_admin'",
        ),
        // rol is checked before the empresa
        (
            new("x@example.com", "admin", None),
            400,
            "Rol inválido. Debe ser 'super_admin' o 'cliente_admin'",
        ),
        (
            new("x@example.com", "cliente_admin", None),
            400,
            "cliente_admin requiere empresa_id",
        ),
        (
            new("x@example.com", "cliente_admin", Some("")),
            400,
            "cliente_admin requiere empresa_id",
        ),
        (
            new("x@example.com", "cliente_admin", Some("EMP_NOPE")),
            404,
            "Empresa no encontrada",
        ),
        // the empresa lookup comes before the super_admin check
        (
            new("x@example.com", "super_admin", Some("EMP_NOPE")),
            404,
            "Empresa no encontrada",
        ),
        (
            new("x@example.com", "super_admin", Some(&e.id)),
            400,
            "super_admin no debe tener empresa_id",
        ),
        (
            new("ana@hotel.MX", "cliente_admin", Some(&e.id)),
            400,
            "El email ya está registrado",
        ),
        (
            new("OPS@example.com", "super_admin", None),
            400,
            "El email ya está registrado",
        ),
    ];
    for (body, status, detail) in cases {
        let (s, b) = call(
            &app,
            Method::POST,
            "/admin/usuarios",
            Some(&token),
            Some(body.clone()),
        )
        .await;
        assert_eq!((s, b["detail"].as_str()), (status, Some(detail)), "{body}");
    }
    // Password policy.
    let mut short = new("y@example.com", "cliente_admin", Some(&e.id));
    short["password"] = json!("1234567");
    let (s, b) = call(
        &app,
        Method::POST,
        "/admin/usuarios",
        Some(&token),
        Some(short),
    )
    .await;
    assert_eq!(
        (s, b["detail"].as_str()),
        (
            400,
            Some("La contraseña debe tener entre 8 y 256 caracteres")
        )
    );
    // Schema errors: 422.
    let mut long_name = new("z@example.com", "cliente_admin", Some(&e.id));
    long_name["nombre"] = json!("n".repeat(101));
    for bad in [
        new("not-an-email", "cliente_admin", Some(&e.id)),
        new(
            &format!("{}@example.com", "a".repeat(95)),
            "cliente_admin",
            Some(&e.id),
        ),
        long_name,
        json!({"email": "q@example.com", "password": "long-enough-pw", "nombre": "Q"}),
        json!({"email": "q@example.com", "password": 12345678, "nombre": "Q", "rol": "super_admin"}),
    ] {
        let (s, b) = call(
            &app,
            Method::POST,
            "/admin/usuarios",
            Some(&token),
            Some(bad.clone()),
        )
        .await;
        assert_422(s, &b, &bad.to_string());
    }
    let (s, b) = call_raw(&app, Method::POST, "/admin/usuarios", &token, "{{").await;
    assert_422(s, &b, "malformed");
    assert_eq!(counts(&app).await, before);
}

#[actix_web::test]
async fn usuarios_list_get_and_toggle() {
    let app = spawn_app().await;
    let root_email = "root@example.com";
    let root = app.insert_user(root_email, "super_admin", None).await;
    let token = app.login(root_email, ADMIN_PASSWORD).await;
    let a = app.tenant("A").await;
    let b = app.tenant("B").await;

    let (s, all) = call(&app, Method::GET, "/admin/usuarios", Some(&token), None).await;
    assert_eq!(s, 200);
    let all = all.as_array().unwrap();
    assert_eq!(all.len(), 3);
    for u in all {
        assert_eq!(keys_of(u), sorted(&USER_KEYS));
    }
    let (_, supers) = call(
        &app,
        Method::GET,
        "/admin/usuarios?rol=super_admin",
        Some(&token),
        None,
    )
    .await;
    assert_eq!(supers.as_array().unwrap().len(), 1);
    assert_eq!(supers[0]["id"], root.id);
    let (_, of_a) = call(
        &app,
        Method::GET,
        &format!("/admin/usuarios?empresa_id={}", a.empresa.id),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(of_a.as_array().unwrap().len(), 1);
    assert_eq!(of_a[0]["email"], a.admin_email);
    let (_, none) = call(
        &app,
        Method::GET,
        &format!(
            "/admin/usuarios?rol=super_admin&empresa_id={}",
            b.empresa.id
        ),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(none, json!([]));

    let target = usuario::Entity::find()
        .filter(usuario::Column::Email.eq(b.admin_email.clone()))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let (s, u) = call(
        &app,
        Method::GET,
        &format!("/admin/usuarios/{}", target.id),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(keys_of(&u), sorted(&USER_KEYS));
    assert_eq!(u["email"], b.admin_email);
    assert_eq!(u["empresa_id"], b.empresa.id);
    let (s, e) = call(
        &app,
        Method::GET,
        "/admin/usuarios/999999",
        Some(&token),
        None,
    )
    .await;
    assert_eq!(
        (s, e["detail"].as_str()),
        (404, Some("Usuario no encontrado"))
    );
    let (s, e) = call(&app, Method::GET, "/admin/usuarios/abc", Some(&token), None).await;
    assert_422(s, &e, "non-numeric id");

    // Toggle: the cliente_admin's session stops working at once.
    let path = format!("/admin/usuarios/{}/toggle-activo", target.id);
    let (s, r) = call(&app, Method::PUT, &path, Some(&token), None).await;
    assert_eq!(
        (s, r),
        (
            200,
            json!({"message": "Usuario desactivado", "usuario_id": target.id, "activo": false})
        )
    );
    let res = app
        .http
        .post(app.url("/api/v1/auth/logout"))
        .bearer_auth(&b.admin_token)
        .send()
        .await
        .unwrap();
    let (s, body) = status_json(res).await;
    assert_eq!(
        (s, body["detail"].as_str()),
        (401, Some("Usuario no activo"))
    );
    let (s, r) = call(&app, Method::PUT, &path, Some(&token), None).await;
    assert_eq!(
        (s, r),
        (
            200,
            json!({"message": "Usuario activado", "usuario_id": target.id, "activo": true})
        )
    );
    assert_eq!(audit_count(&app, "usuario.deactivate").await, 1);
    assert_eq!(audit_count(&app, "usuario.activate").await, 1);

    let before = counts(&app).await;
    let (s, e) = call(
        &app,
        Method::PUT,
        &format!("/admin/usuarios/{}/toggle-activo", root.id),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(
        (s, e["detail"].as_str()),
        (400, Some("No puedes desactivar tu propio usuario"))
    );
    let (s, e) = call(
        &app,
        Method::PUT,
        "/admin/usuarios/999999/toggle-activo",
        Some(&token),
        None,
    )
    .await;
    assert_eq!(
        (s, e["detail"].as_str()),
        (404, Some("Usuario no encontrado"))
    );
    assert_eq!(counts(&app).await, before);
    let me = usuario::Entity::find_by_id(root.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(me.activo);
}

#[actix_web::test]
async fn every_route_requires_a_super_admin() {
    let app = spawn_app().await;
    let t = app.tenant("Hotel").await;
    let e = &t.empresa.id;
    let r = &t.router.id;
    let routes: Vec<(Method, String)> = vec![
        (Method::POST, "/admin/empresas".into()),
        (Method::GET, "/admin/empresas".into()),
        (Method::GET, format!("/admin/empresas/{e}")),
        (Method::PUT, format!("/admin/empresas/{e}")),
        (Method::GET, "/admin/dashboard".into()),
        (Method::GET, format!("/admin/empresas/{e}/stats")),
        (Method::POST, format!("/admin/empresas/{e}/routers")),
        (Method::GET, format!("/admin/empresas/{e}/routers")),
        (Method::GET, format!("/admin/empresas/{e}/routers/{r}")),
        (
            Method::PUT,
            format!("/admin/empresas/{e}/routers/{r}/toggle-activo"),
        ),
        (
            Method::POST,
            format!("/admin/empresas/{e}/routers/{r}/regenerate-api-key"),
        ),
        (
            Method::GET,
            format!("/admin/empresas/{e}/routers/{r}/api-keys"),
        ),
        (
            Method::POST,
            format!("/admin/empresas/{e}/routers/{r}/api-keys/key_x/revoke"),
        ),
        (
            Method::GET,
            format!("/admin/empresas/{e}/routers/{r}/api-key-status"),
        ),
        (Method::DELETE, format!("/admin/empresas/{e}/routers/{r}")),
        (Method::POST, "/admin/usuarios".into()),
        (Method::GET, "/admin/usuarios".into()),
        (Method::GET, "/admin/usuarios/1".into()),
        (Method::PUT, "/admin/usuarios/1/toggle-activo".into()),
    ];
    let before = counts(&app).await;
    for (m, p) in &routes {
        // A cliente_admin, with an invalid body where one is expected: still the 403.
        let res = app
            .http
            .request(m.clone(), app.url(p))
            .bearer_auth(&t.admin_token)
            .header("content-type", "application/json")
            .body("{not json")
            .send()
            .await
            .unwrap();
        let (s, b) = status_json(res).await;
        assert_eq!(
            (s, b["detail"].as_str()),
            (403, Some("Se requiere rol SUPER_ADMIN")),
            "{m} {p}"
        );
        // And with a valid-looking body too.
        let (s, b) = call(
            &app,
            m.clone(),
            p,
            Some(&t.admin_token),
            Some(json!({"nombre": "x"})),
        )
        .await;
        assert_eq!(
            (s, b["detail"].as_str()),
            (403, Some("Se requiere rol SUPER_ADMIN")),
            "{m} {p}"
        );
        let (s, b) = call(&app, m.clone(), p, None, None).await;
        assert_eq!(
            (s, b["detail"].as_str()),
            (403, Some("Not authenticated")),
            "{m} {p}"
        );
        let (s, _) = call(&app, m.clone(), p, Some("garbage"), None).await;
        assert_eq!(s, 401, "{m} {p}");
        // The router API key is no admin session either.
        let (s, _) = call(&app, m.clone(), p, Some(&t.api_key), None).await;
        assert_eq!(s, 401, "{m} {p}");
    }
    assert_eq!(counts(&app).await, before);
    assert_eq!(portal(&app, &t.api_key).await.0, 200);
}

/// Every occurrence of `needle` in `haystack`.
fn contains_bytes(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[actix_web::test]
async fn secrets_are_encrypted_at_rest() {
    let app = spawn_app().await;
    let token = app.super_admin().await;
    let conekta_private = "key_PrIvAtE_9f8e7d6c5b4a3210";
    let router_password = "R0uter-Pa55w0rd-Zx9";

    let (s, emp) = call(
        &app,
        Method::POST,
        "/admin/empresas",
        Some(&token),
        Some(json!({"nombre": "Hotel", "contacto_email": "a@example.com",
                    "conekta_private_key": conekta_private, "conekta_public_key": "key_pub_123"})),
    )
    .await;
    assert_eq!(s, 200);
    let eid = emp["id"].as_str().unwrap().to_string();
    let (s, r) = call(
        &app,
        Method::POST,
        &format!("/admin/empresas/{eid}/routers"),
        Some(&token),
        Some(
            json!({"nombre": "R", "host": "127.0.0.1", "puerto": 8728, "usuario": "api",
                    "password": router_password}),
        ),
    )
    .await;
    assert_eq!(s, 200);
    let rid = r["id"].as_str().unwrap().to_string();

    // Nothing the API returns contains them.
    for p in [
        "/admin/empresas".to_string(),
        format!("/admin/empresas/{eid}"),
        format!("/admin/empresas/{eid}/routers"),
        format!("/admin/empresas/{eid}/routers/{rid}"),
    ] {
        let (_, b) = call(&app, Method::GET, &p, Some(&token), None).await;
        let text = b.to_string();
        assert!(
            !text.contains(conekta_private) && !text.contains(router_password),
            "{p}"
        );
        assert!(
            !text.contains("password") && !text.contains("\"usuario\""),
            "{p}: {text}"
        );
    }

    // The raw rows hold ciphertext that decrypts back to the secrets.
    let e = empresa::Entity::find_by_id(eid.clone())
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let stored_key = e.conekta_private_key.clone().unwrap();
    assert!(!stored_key.contains(conekta_private));
    assert_eq!(
        app.state
            .secrets
            .decrypt(field::CONEKTA_PRIVATE_KEY, &stored_key)
            .unwrap()
            .as_str(),
        conekta_private
    );
    let row = router::Entity::find_by_id(rid.clone())
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(!row.password_encrypted.contains(router_password));
    assert_eq!(
        app.state
            .secrets
            .decrypt(field::ROUTER_PASSWORD, &row.password_encrypted)
            .unwrap()
            .as_str(),
        router_password
    );
    let audit = audit_log::Entity::find().all(&app.db).await.unwrap();
    assert!(audit.len() >= 2);
    for a in &audit {
        let d = a.details.to_string();
        assert!(
            !d.contains(conekta_private) && !d.contains(router_password),
            "{d}"
        );
    }

    // SQLite: the database file and its WAL hold no cleartext either.
    if app.testdb.kind == pagos_hotspot::db::testing::Backend::Sqlite {
        let path = app
            .testdb
            .url
            .trim_start_matches("sqlite://")
            .split('?')
            .next()
            .unwrap()
            .to_string();
        let mut seen_any = false;
        for suffix in ["", "-wal", "-journal"] {
            let file = format!("{path}{suffix}");
            if let Ok(bytes) = std::fs::read(&file) {
                // Sanity: the file really holds our data (the company id).
                seen_any |= contains_bytes(&bytes, eid.as_bytes());
                assert!(
                    !contains_bytes(&bytes, conekta_private.as_bytes()),
                    "{file}"
                );
                assert!(
                    !contains_bytes(&bytes, router_password.as_bytes()),
                    "{file}"
                );
            }
        }
        assert!(
            seen_any,
            "the company id was not found in the SQLite files under {path}"
        );
    }
}

/// Many admin changes at once (each a read-then-write transaction) all succeed: on SQLite a
/// deferred transaction that read before another connection committed would otherwise fail
/// with "database is locked" when it tries to write.
#[actix_web::test]
async fn concurrent_admin_changes_all_succeed() {
    let app = spawn_app().await;
    let token = app.super_admin().await;
    let mut tenants = Vec::new();
    for i in 0..4 {
        tenants.push(app.tenant(&format!("T{i}")).await);
    }
    let mut calls = Vec::new();
    for round in 0..3 {
        for t in &tenants {
            let e = &t.empresa.id;
            let r = &t.router.id;
            calls.push((
                Method::PUT,
                format!("/admin/empresas/{e}/routers/{r}/toggle-activo"),
                None,
            ));
            calls.push((
                Method::PUT,
                format!("/admin/empresas/{e}"),
                Some(json!({"nombre": format!("Empresa {round}")})),
            ));
            let admin = usuario::Entity::find()
                .filter(usuario::Column::Email.eq(t.admin_email.clone()))
                .one(&app.db)
                .await
                .unwrap()
                .unwrap();
            calls.push((
                Method::PUT,
                format!("/admin/usuarios/{}/toggle-activo", admin.id),
                None,
            ));
            calls.push((
                Method::POST,
                format!("/admin/empresas/{e}/routers"),
                Some(
                    json!({"nombre": "R", "host": "127.0.0.1", "usuario": "api", "password": "pw"}),
                ),
            ));
        }
    }
    let before = audit_log::Entity::find().count(&app.db).await.unwrap();
    let results = futures_util::future::join_all(
        calls
            .iter()
            .map(|(m, p, b)| call(&app, m.clone(), p, Some(&token), b.clone())),
    )
    .await;
    for ((m, p, _), (s, b)) in calls.iter().zip(&results) {
        assert_eq!(*s, 200, "{m} {p}: {b}");
    }
    let after = audit_log::Entity::find().count(&app.db).await.unwrap();
    // Every call changed something (a rename may repeat the name of an earlier round, which
    // changes nothing: at least the toggles and creates are audited).
    assert!(after - before >= 36, "{before} -> {after}");
    // Three flips each: every router and every company admin ends up inactive.
    for t in &tenants {
        let r = router::Entity::find_by_id(t.router.id.clone())
            .one(&app.db)
            .await
            .unwrap()
            .unwrap();
        assert!(!r.activo, "{}", r.id);
        let u = usuario::Entity::find()
            .filter(usuario::Column::Email.eq(t.admin_email.clone()))
            .one(&app.db)
            .await
            .unwrap()
            .unwrap();
        assert!(!u.activo, "{}", u.email);
        assert_eq!(
            router::Entity::find()
                .filter(router::Column::EmpresaId.eq(t.empresa.id.clone()))
                .count(&app.db)
                .await
                .unwrap(),
            4
        );
    }
}
