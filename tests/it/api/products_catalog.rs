//! Products (company admin) and the portal catalogue, over real HTTP.

use crate::helpers::{spawn_app, status_json, TestApp};
use pagos_hotspot::db::productos::{self, NewProducto};
use rust_decimal::Decimal;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use serde_json::{json, Value};

use entity::{audit_log, producto};

async fn product_count(app: &TestApp) -> u64 {
    producto::Entity::find().count(&app.db).await.unwrap()
}

async fn post_product(app: &TestApp, token: &str, body: Value) -> (u16, Value) {
    let res = app
        .http
        .post(app.url("/api/v1/admin/products"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    status_json(res).await
}

fn product_body(router_id: &str, perfil: &str) -> Value {
    json!({
        "router_id": router_id,
        "perfil_mikrotik_id": perfil,
        "perfil_mikrotik_nombre": format!("perfil-{perfil}"),
        "nombre_venta": "1 hora",
        "descripcion": "Acceso por una hora",
        "precio": 19.99,
        "detalles": [{"texto": "Conexión inmediata"}, {"icono": "wifi"}],
        "orden_visual": 1,
    })
}

/// A product row written directly (to seed shapes the API no longer accepts).
async fn insert_product(app: &TestApp, new: NewProducto) -> producto::Model {
    productos::insert(&app.db, new).await.unwrap()
}

/// An active, unfeatured 10.00 MXN plan with no details.
fn plan(empresa_id: &str, router_id: &str, perfil: &str) -> NewProducto {
    NewProducto {
        empresa_id: empresa_id.into(),
        router_id: router_id.into(),
        perfil_mikrotik_id: perfil.into(),
        perfil_mikrotik_nombre: format!("p{perfil}"),
        nombre_venta: format!("Plan {perfil}"),
        descripcion: None,
        imagen_url: None,
        precio: Decimal::new(1000, 2),
        moneda: "MXN".into(),
        detalles: json!([]),
        activo: true,
        orden_visual: 0,
        destacado: false,
        plan: Default::default(),
    }
}

#[actix_web::test]
async fn create_get_list_and_duplicate_products() {
    let app = spawn_app().await;
    let a = app.tenant("Alfa").await;

    let (status, body) = post_product(&app, &a.admin_token, product_body(&a.router.id, "*2")).await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_i64().unwrap();
    assert_eq!(body["router_id"], a.router.id);
    assert_eq!(body["perfil_mikrotik_id"], "*2");
    assert_eq!(body["precio"], json!(19.99));
    assert_eq!(body["moneda"], "MXN");
    assert_eq!(body["detalles"], json!(["Conexión inmediata", ""]));
    assert_eq!(body["activo"], true);
    assert_eq!(body["destacado"], false);
    assert_eq!(body["orden_visual"], 1);
    assert_eq!(body["imagen_url"], Value::Null);
    assert!(body["creado_en"].as_str().unwrap().contains('T'));

    // Stored exactly, objects kept.
    let stored = producto::Entity::find_by_id(id as i32)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.precio, Decimal::new(1999, 2));
    assert_eq!(stored.empresa_id, a.empresa.id);
    assert_eq!(
        stored.detalles,
        json!([{"texto": "Conexión inmediata"}, {"icono": "wifi"}])
    );

    // Audited in the same transaction.
    let audits = audit_log::Entity::find()
        .filter(audit_log::Column::TargetType.eq("producto"))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(audits.len(), 1);
    assert_eq!(audits[0].empresa_id.as_deref(), Some(a.empresa.id.as_str()));
    assert_eq!(
        audits[0].target_id.as_deref(),
        Some(id.to_string().as_str())
    );
    assert_eq!(
        audits[0].actor_email.as_deref(),
        Some(a.admin_email.as_str())
    );

    // Duplicate profile on the same router → 409 with the original's text; nothing written.
    let (status, body) = post_product(&app, &a.admin_token, product_body(&a.router.id, "*2")).await;
    assert_eq!(status, 409);
    assert_eq!(
        body["detail"],
        format!(
            "Ya existe un producto con el perfil '*2' para este router ({})",
            a.router.id
        )
    );
    assert_eq!(product_count(&app).await, 1);

    // GET one, list, list by router, unknown router.
    let res = app
        .http
        .get(app.url(&format!("/api/v1/admin/products/{id}")))
        .bearer_auth(&a.admin_token)
        .send()
        .await
        .unwrap();
    let (status, one) = status_json(res).await;
    assert_eq!(status, 200);
    assert_eq!(one["nombre_venta"], "1 hora");

    let (status, _) = post_product(
        &app,
        &a.admin_token,
        json!({"router_id": a.router.id, "perfil_mikrotik_id": "*3", "perfil_mikrotik_nombre": "x",
               "nombre_venta": "Día", "precio": "50", "moneda": "usd", "orden_visual": 0}),
    )
    .await;
    assert_eq!(status, 201);
    let res = app
        .http
        .get(app.url(&format!("/api/v1/admin/products?router_id={}", a.router.id)))
        .bearer_auth(&a.admin_token)
        .send()
        .await
        .unwrap();
    let (status, list) = status_json(res).await;
    assert_eq!(status, 200);
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["nombre_venta"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["Día", "1 hora"], "ordered by orden_visual");
    assert_eq!(list[0]["moneda"], "USD");
    assert_eq!(list[0]["precio"], json!(50.0));
    assert_eq!(list[0]["detalles"], json!([]));

    let res = app
        .http
        .get(app.url("/api/v1/admin/products?router_id=RTR_NOPE"))
        .bearer_auth(&a.admin_token)
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(res).await;
    assert_eq!(
        (status, body["detail"].as_str()),
        (404, Some("Router no encontrado"))
    );

    let res = app
        .http
        .get(app.url("/api/v1/admin/products/999999"))
        .bearer_auth(&a.admin_token)
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(res).await;
    assert_eq!(
        (status, body["detail"].as_str()),
        (404, Some("Producto no encontrado"))
    );

    // A super admin is not a cliente_admin.
    let root = app.super_admin().await;
    let res = app
        .http
        .get(app.url("/api/v1/admin/products"))
        .bearer_auth(&root)
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(res).await;
    assert_eq!(
        (status, body["detail"].as_str()),
        (403, Some("Se requiere rol CLIENTE_ADMIN"))
    );
}

#[actix_web::test]
async fn products_are_isolated_between_companies() {
    let app = spawn_app().await;
    let a = app.tenant("Alfa").await;
    let b = app.tenant("Beta").await;

    // B cannot create a product on A's router.
    let (status, body) = post_product(&app, &b.admin_token, product_body(&a.router.id, "*2")).await;
    assert_eq!(status, 404);
    assert_eq!(
        body["detail"],
        "Router no encontrado o no pertenece a esta empresa"
    );
    assert_eq!(product_count(&app).await, 0);
    assert_eq!(audit_log::Entity::find().count(&app.db).await.unwrap(), 0);

    let (status, created) =
        post_product(&app, &a.admin_token, product_body(&a.router.id, "*2")).await;
    assert_eq!(status, 201);
    let id = created["id"].as_i64().unwrap();
    let before = producto::Entity::find_by_id(id as i32)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();

    // B neither sees nor changes it.
    let res = app
        .http
        .get(app.url("/api/v1/admin/products"))
        .bearer_auth(&b.admin_token)
        .send()
        .await
        .unwrap();
    let (status, list) = status_json(res).await;
    assert_eq!((status, list), (200, json!([])));
    let res = app
        .http
        .get(app.url(&format!("/api/v1/admin/products?router_id={}", a.router.id)))
        .bearer_auth(&b.admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let res = app
        .http
        .get(app.url(&format!("/api/v1/admin/products/{id}")))
        .bearer_auth(&b.admin_token)
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(res).await;
    assert_eq!(
        (status, body["detail"].as_str()),
        (404, Some("Producto no encontrado"))
    );
    let res = app
        .http
        .put(app.url(&format!("/api/v1/admin/products/{id}")))
        .bearer_auth(&b.admin_token)
        .json(&json!({"precio": 1, "activo": false}))
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(res).await;
    assert_eq!(
        (status, body["detail"].as_str()),
        (
            404,
            Some("Producto no encontrado o no pertenece a esta empresa")
        )
    );
    let res = app
        .http
        .delete(app.url(&format!("/api/v1/admin/products/{id}")))
        .bearer_auth(&b.admin_token)
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(res).await;
    assert_eq!(
        (status, body["detail"].as_str()),
        (404, Some("Producto no encontrado"))
    );
    let after = producto::Entity::find_by_id(id as i32)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(before, after);
}

#[actix_web::test]
async fn bad_product_input_is_refused_and_writes_nothing() {
    let app = spawn_app().await;
    let a = app.tenant("Alfa").await;
    let base = product_body(&a.router.id, "*2");
    let with = |k: &str, v: Value| {
        let mut b = base.clone();
        b[k] = v;
        b
    };
    let long = "x".repeat(101);
    for (body, field) in [
        (with("precio", json!(0)), "precio"),
        (with("precio", json!(-5)), "precio"),
        (with("precio", json!(1.999)), "precio"),
        (with("precio", json!("abc")), "precio"),
        (with("precio", json!(100_000_000)), "precio"),
        (with("detalles", json!(["solo texto"])), "detalles"),
        (with("detalles", json!({"texto": "x"})), "detalles"),
        (with("nombre_venta", json!(long)), "nombre_venta"),
        (with("nombre_venta", json!("  ")), "nombre_venta"),
        (
            with("perfil_mikrotik_id", json!(long)),
            "perfil_mikrotik_id",
        ),
        (with("imagen_url", json!("h".repeat(501))), "imagen_url"),
        (with("orden_visual", json!("primero")), "orden_visual"),
    ] {
        let (status, resp) = post_product(&app, &a.admin_token, body.clone()).await;
        assert_eq!(status, 422, "{body} → {resp}");
        let item = &resp["detail"][0];
        assert_eq!(item["loc"][0], "body", "{resp}");
        assert_eq!(item["loc"][1], field, "{resp}");
    }
    // Invalid currencies: the original's string detail (also for > 3 characters: no 500).
    for moneda in ["BTC", "MXNN", ""] {
        let (status, resp) =
            post_product(&app, &a.admin_token, with("moneda", json!(moneda))).await;
        assert_eq!(status, 422);
        assert_eq!(
            resp["detail"],
            "Moneda no válida. Valores permitidos: MXN, USD, EUR"
        );
    }
    let (status, _) = post_product(&app, &a.admin_token, json!({"router_id": a.router.id})).await;
    assert_eq!(status, 422);
    assert_eq!(product_count(&app).await, 0);
    assert_eq!(audit_log::Entity::find().count(&app.db).await.unwrap(), 0);

    // Updates: same checks, row unchanged.
    let (status, created) = post_product(&app, &a.admin_token, base.clone()).await;
    assert_eq!(status, 201);
    let id = created["id"].as_i64().unwrap();
    let before = producto::Entity::find_by_id(id as i32)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    for (body, expect) in [
        (
            json!({"moneda": "BTC"}),
            json!("Moneda no válida. Valores permitidos: MXN, USD, EUR"),
        ),
        (
            json!({"moneda": "EURO", "precio": 5}),
            json!("Moneda no válida. Valores permitidos: MXN, USD, EUR"),
        ),
        (json!({"precio": 5, "detalles": ["x"]}), Value::Null),
        (json!({"precio": 0.001}), Value::Null),
        (json!({"nombre_venta": null}), Value::Null),
        (json!({"activo": null}), Value::Null),
        (json!({"nombre_venta": long}), Value::Null),
    ] {
        let res = app
            .http
            .put(app.url(&format!("/api/v1/admin/products/{id}")))
            .bearer_auth(&a.admin_token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let (status, resp) = status_json(res).await;
        assert_eq!(status, 422, "{body} → {resp}");
        if !expect.is_null() {
            assert_eq!(resp["detail"], expect);
        }
    }
    let after = producto::Entity::find_by_id(id as i32)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(before, after);
    assert_eq!(audit_log::Entity::find().count(&app.db).await.unwrap(), 1);
}

#[actix_web::test]
async fn update_and_soft_delete() {
    let app = spawn_app().await;
    let a = app.tenant("Alfa").await;
    let (_, created) = post_product(&app, &a.admin_token, product_body(&a.router.id, "*2")).await;
    let id = created["id"].as_i64().unwrap();

    let res = app
        .http
        .put(app.url(&format!("/api/v1/admin/products/{id}")))
        .bearer_auth(&a.admin_token)
        .json(
            &json!({"precio": 25.5, "moneda": "eur", "descripcion": null,
                      "detalles": [{"texto": "Nuevo"}], "destacado": true,
                      "router_id": "ignored", "perfil_mikrotik_id": "*9"}),
        )
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(res).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["precio"], json!(25.5));
    assert_eq!(body["moneda"], "EUR");
    assert_eq!(body["descripcion"], Value::Null);
    assert_eq!(body["detalles"], json!(["Nuevo"]));
    assert_eq!(body["destacado"], true);
    assert_eq!(body["nombre_venta"], "1 hora");
    assert_eq!(body["perfil_mikrotik_id"], "*2");
    assert_eq!(body["router_id"], a.router.id);
    let stored = producto::Entity::find_by_id(id as i32)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.precio, Decimal::new(2550, 2));

    let res = app
        .http
        .delete(app.url(&format!("/api/v1/admin/products/{id}")))
        .bearer_auth(&a.admin_token)
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(res).await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({"message": "Producto desactivado", "producto_id": id, "activo": false})
    );
    // Soft: still listed for the admin, inactive.
    let res = app
        .http
        .get(app.url("/api/v1/admin/products"))
        .bearer_auth(&a.admin_token)
        .send()
        .await
        .unwrap();
    let (_, list) = status_json(res).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["activo"], false);

    let actions: Vec<String> = audit_log::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|a| sea_orm::ActiveEnum::to_value(&a.action))
        .collect();
    assert_eq!(
        actions,
        vec![
            "producto.crear",
            "producto.actualizar",
            "producto.desactivar"
        ]
    );
}

async fn catalog(app: &TestApp, key: &str, path: &str) -> (u16, Value) {
    let res = app
        .http
        .get(app.url(&format!("/api/v1/catalogo_perfiles_venta{path}")))
        .header("X-API-Key", key)
        .send()
        .await
        .unwrap();
    status_json(res).await
}

#[actix_web::test]
async fn catalog_is_scoped_to_the_key_router_and_active_products() {
    let app = spawn_app().await;
    let a = app.tenant("Alfa").await;
    let (router2, key2) = app.add_router(&a.empresa.id, "Segundo").await;
    let b = app.tenant("Beta").await;
    let e = &a.empresa.id;
    let r = &a.router.id;

    let p_plain = insert_product(
        &app,
        NewProducto {
            detalles: json!([{"texto": "a"}]),
            activo: true,
            orden_visual: 2,
            destacado: false,
            plan: Default::default(),
            ..plan(e, r, "*1")
        },
    )
    .await;
    let p_feat = insert_product(
        &app,
        NewProducto {
            detalles: json!(["• Conexión inmediata"]),
            activo: true,
            orden_visual: 2,
            destacado: true,
            plan: Default::default(),
            ..plan(e, r, "*2")
        },
    )
    .await;
    let p_first = insert_product(
        &app,
        NewProducto {
            detalles: json!([{"horas": 5, "ok": true}]),
            activo: true,
            orden_visual: 0,
            destacado: false,
            plan: Default::default(),
            ..plan(e, r, "*3")
        },
    )
    .await;
    let p_inactive = insert_product(
        &app,
        NewProducto {
            detalles: json!([]),
            activo: false,
            orden_visual: 0,
            destacado: true,
            plan: Default::default(),
            ..plan(e, r, "*4")
        },
    )
    .await;
    let p_other_router = insert_product(
        &app,
        NewProducto {
            detalles: json!([]),
            activo: true,
            orden_visual: 0,
            destacado: false,
            plan: Default::default(),
            ..plan(e, &router2.id, "*1")
        },
    )
    .await;
    let p_b = insert_product(
        &app,
        NewProducto {
            detalles: json!([]),
            activo: true,
            orden_visual: 0,
            destacado: false,
            plan: Default::default(),
            ..plan(&b.empresa.id, &b.router.id, "*1")
        },
    )
    .await;

    let (status, list) = catalog(&app, &a.api_key, "").await;
    assert_eq!(status, 200, "{list}");
    let ids: Vec<i64> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_i64().unwrap())
        .collect();
    assert_eq!(
        ids,
        vec![p_first.id as i64, p_feat.id as i64, p_plain.id as i64],
        "orden_visual asc, then destacado desc; inactive and other routers hidden"
    );
    let first = &list[0];
    let keys: Vec<&String> = first.as_object().unwrap().keys().collect();
    let mut expected = vec![
        "creado_en",
        "descripcion",
        "destacado",
        "detalles",
        "id",
        "imagen_url",
        "limite_mb",
        "minutos_uso",
        "moneda",
        "nombre_venta",
        "perfil_mikrotik_id",
        "perfil_mikrotik_nombre",
        "precio",
        "vigencia_desde",
        "vigencia_minutos",
    ];
    expected.sort();
    assert_eq!(keys, expected);
    assert_eq!(first["detalles"], json!([{"horas": "5", "ok": "True"}]));
    assert_eq!(
        list[1]["detalles"],
        json!([{"value": "• Conexión inmediata"}])
    );
    assert_eq!(list[2]["detalles"], json!([{"texto": "a"}]));
    assert_eq!(list[2]["precio"], json!(10.0));

    // The Bearer form of the key works too.
    let res = app
        .http
        .get(app.url("/api/v1/catalogo_perfiles_venta"))
        .bearer_auth(&a.api_key)
        .send()
        .await
        .unwrap();
    let (status, list_bearer) = status_json(res).await;
    assert_eq!((status, &list_bearer), (200, &list));

    // Router 2's key sees only router 2's product; B sees only B's.
    let (_, list2) = catalog(&app, &key2, "").await;
    assert_eq!(list2.as_array().unwrap().len(), 1);
    assert_eq!(list2[0]["id"], p_other_router.id);
    let (_, list_b) = catalog(&app, &b.api_key, "").await;
    assert_eq!(list_b.as_array().unwrap().len(), 1);
    assert_eq!(list_b[0]["id"], p_b.id);

    // Single product: this router's active one only.
    let (status, one) = catalog(&app, &a.api_key, &format!("/{}", p_plain.id)).await;
    assert_eq!((status, one["id"].as_i64()), (200, Some(p_plain.id as i64)));
    for other in [p_inactive.id, p_other_router.id, p_b.id, 999_999] {
        let (status, body) = catalog(&app, &a.api_key, &format!("/{other}")).await;
        assert_eq!(status, 404);
        assert_eq!(body["detail"], "Producto no encontrado o no disponible");
    }
    let (status, body) = catalog(&app, &a.api_key, "/abc").await;
    assert_eq!(
        (status, body["detail"].as_str()),
        (404, Some("Producto no encontrado o no disponible"))
    );
    let (status, _) = catalog(&app, &b.api_key, &format!("/{}", p_plain.id)).await;
    assert_eq!(status, 404);

    // No key → the original's 403.
    let res = app
        .http
        .get(app.url("/api/v1/catalogo_perfiles_venta"))
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(res).await;
    assert_eq!(
        (status, body["detail"].as_str()),
        (403, Some("Not authenticated"))
    );

    // An inactive router sells nothing: empty catalogue, 404 for items.
    let mut r2: entity::router::ActiveModel = a.router.clone().into();
    r2.activo = Set(false);
    r2.update(&app.db).await.unwrap();
    let (status, list) = catalog(&app, &a.api_key, "").await;
    assert_eq!((status, list), (200, json!([])));
    let (status, _) = catalog(&app, &a.api_key, &format!("/{}", p_plain.id)).await;
    assert_eq!(status, 404);
}

#[actix_web::test]
async fn debug_dump_needs_the_company_admin_too() {
    let app = spawn_app().await;
    let a = app.tenant("Alfa").await;
    let b = app.tenant("Beta").await;
    let (router2, _) = app.add_router(&a.empresa.id, "Segundo").await;
    let e = &a.empresa.id;
    let mine = insert_product(
        &app,
        NewProducto {
            detalles: json!(["x"]),
            activo: false,
            orden_visual: 0,
            destacado: false,
            plan: Default::default(),
            ..plan(e, &a.router.id, "*1")
        },
    )
    .await;
    insert_product(
        &app,
        NewProducto {
            detalles: json!([]),
            activo: true,
            orden_visual: 0,
            destacado: false,
            plan: Default::default(),
            ..plan(e, &router2.id, "*1")
        },
    )
    .await;

    // The key alone (either header), or with another company's admin, or an admin alone: 404.
    let (status, body) = catalog(&app, &a.api_key, "/debug").await;
    assert_eq!((status, body), (404, json!({"detail": "Not Found"})));
    for (key, token) in [
        (Some(a.api_key.as_str()), Some(b.admin_token.as_str())),
        (None, Some(a.admin_token.as_str())),
        (Some("jwt_bogus"), Some(a.admin_token.as_str())),
    ] {
        let mut req = app
            .http
            .get(app.url("/api/v1/catalogo_perfiles_venta/debug"));
        if let Some(k) = key {
            req = req.header("X-API-Key", k);
        }
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let (status, body) = status_json(req.send().await.unwrap()).await;
        assert_eq!((status, body), (404, json!({"detail": "Not Found"})));
    }

    // Key + the same company's admin: this router's products, inactive included.
    let res = app
        .http
        .get(app.url("/api/v1/catalogo_perfiles_venta/debug"))
        .header("X-API-Key", &a.api_key)
        .bearer_auth(&a.admin_token)
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(res).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["router_id"], a.router.id);
    assert_eq!(body["empresa_id"], a.empresa.id);
    assert_eq!(body["total_productos"], 1);
    let p = &body["productos"][0];
    assert_eq!(p["id"], mine.id);
    assert_eq!(p["activo"], false);
    assert_eq!(p["detalles_raw"], json!(["x"]));
    assert_eq!(p["detalles_tipo"], "list");
    assert_eq!(p["detalles_normalizado"], json!([{"value": "x"}]));
}
