//! Transaction reporting, the dashboard and the audit-log readers, over real HTTP.

use crate::helpers::{spawn_app, status_json, TestApp};
use chrono::{DateTime, TimeZone, Utc};
use rust_decimal::Decimal;
use sea_orm::{ActiveModelTrait, Set};
use serde_json::{json, Value};

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

async fn get(app: &TestApp, token: &str, path: &str) -> (u16, Value) {
    let res = app
        .http
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    status_json(res).await
}

fn ids(body: &Value, key: &str) -> Vec<i64> {
    body[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_i64().unwrap())
        .collect()
}

const TX: &str = "/api/v1/admin/mi-empresa/transacciones";

#[actix_web::test]
async fn transactions_list_shape_and_pagination_edges() {
    let app = spawn_app().await;
    let a = app.tenant("Alfa").await;
    let mut seeded = Vec::new();
    for i in 0..7 {
        let t = app
            .insert_transaccion(
                &a.empresa.id,
                &a.router.id,
                Decimal::new(1000 + i, 2),
                "paid",
                Some("conekta"),
                Utc.with_ymd_and_hms(2025, 1, 10 + i as u32, 12, 0, 0)
                    .unwrap(),
            )
            .await;
        seeded.push(t);
    }
    let newest_first: Vec<i64> = seeded.iter().rev().map(|t| t.id as i64).collect();

    let (status, body) = get(&app, &a.admin_token, TX).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["empresa_id"], a.empresa.id);
    assert_eq!(body["total"], 7);
    assert_eq!(body["limit"], 50);
    assert_eq!(body["offset"], 0);
    assert_eq!(ids(&body, "transacciones"), newest_first);
    let first = &body["transacciones"][0];
    let mut keys: Vec<&String> = first.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        vec![
            "cliente_nombre",
            "creada_en",
            "estado_hotspot",
            "estado_pago",
            "expiracion_hotspot",
            "gateway",
            "id",
            "monto",
            "monto_reembolsado",
            "router_id",
            "transaccion_id"
        ]
    );
    // Added keys (the console's columns and filters).
    assert_eq!(first["gateway"], "conekta");
    assert_eq!(first["router_id"], json!(a.router.id));
    assert_eq!(first["monto"], json!(10.06));
    // Added key (refunded amount): null when nothing was refunded.
    assert_eq!(first["monto_reembolsado"], json!(null));
    assert_eq!(first["creada_en"], "2025-01-16T12:00:00");
    assert_eq!(
        first["transaccion_id"],
        seeded[6].transaccion_id.clone().unwrap()
    );

    let (status, body) = get(&app, &a.admin_token, &format!("{TX}?limit=1")).await;
    assert_eq!(status, 200);
    assert_eq!(
        (body["limit"].as_i64(), body["total"].as_i64()),
        (Some(1), Some(7))
    );
    assert_eq!(ids(&body, "transacciones"), newest_first[..1].to_vec());

    let (status, body) = get(&app, &a.admin_token, &format!("{TX}?limit=2&offset=2")).await;
    assert_eq!(status, 200);
    assert_eq!(ids(&body, "transacciones"), newest_first[2..4].to_vec());

    let (status, body) = get(&app, &a.admin_token, &format!("{TX}?limit=500")).await;
    assert_eq!(
        (status, body["transacciones"].as_array().unwrap().len()),
        (200, 7)
    );

    let (status, body) = get(&app, &a.admin_token, &format!("{TX}?offset=7")).await;
    assert_eq!(status, 200);
    assert_eq!(
        (body["total"].as_i64(), body["transacciones"].clone()),
        (Some(7), json!([]))
    );
    let (status, body) = get(&app, &a.admin_token, &format!("{TX}?offset=100000")).await;
    assert_eq!((status, body["transacciones"].clone()), (200, json!([])));

    for (query, field, kind) in [
        ("limit=0", "limit", "greater_than_equal"),
        ("limit=501", "limit", "less_than_equal"),
        ("limit=-3", "limit", "greater_than_equal"),
        ("limit=abc", "limit", "int_parsing"),
        ("offset=-1", "offset", "greater_than_equal"),
        ("offset=1.5", "offset", "int_parsing"),
        ("formato=xml", "formato", "enum"),
        ("desde=ayer", "desde", "datetime_parsing"),
        ("hasta=2025-13-01", "hasta", "datetime_parsing"),
    ] {
        let (status, body) = get(&app, &a.admin_token, &format!("{TX}?{query}")).await;
        assert_eq!(status, 422, "{query}: {body}");
        assert_eq!(body["detail"][0]["loc"], json!(["query", field]), "{query}");
        assert_eq!(body["detail"][0]["type"], kind, "{query}");
    }
}

#[actix_web::test]
async fn transaction_filters_have_exact_edges() {
    let app = spawn_app().await;
    let a = app.tenant("Alfa").await;
    let e = &a.empresa.id;
    let r = &a.router.id;
    let m = Decimal::new(1000, 2);
    let before = app
        .insert_transaccion(e, r, m, "paid", None, at("2025-01-14T23:59:59.999999Z"))
        .await;
    let start = app
        .insert_transaccion(e, r, m, "paid", None, at("2025-01-15T00:00:00Z"))
        .await;
    let mid = app
        .insert_transaccion(e, r, m, "pending", None, at("2025-01-15T12:30:00.250Z"))
        .await;
    let late = app
        .insert_transaccion(e, r, m, "approved", None, at("2025-01-15T23:59:59.500Z"))
        .await;
    let next = app
        .insert_transaccion(e, r, m, "paid", None, at("2025-01-16T00:00:00Z"))
        .await;
    let id = |t: &entity::transaccion::Model| t.id as i64;

    let cases: Vec<(&str, Vec<i64>)> = vec![
        // Bare dates: desde from 00:00 inclusive; hasta includes the whole day.
        (
            "desde=2025-01-15&hasta=2025-01-15",
            vec![id(&late), id(&mid), id(&start)],
        ),
        (
            "desde=2025-01-15",
            vec![id(&next), id(&late), id(&mid), id(&start)],
        ),
        ("hasta=2025-01-14", vec![id(&before)]),
        // Date-times: desde inclusive, hasta exclusive.
        (
            "desde=2025-01-15T12:30:00.250",
            vec![id(&next), id(&late), id(&mid)],
        ),
        (
            "hasta=2025-01-15T12:30:00.250",
            vec![id(&start), id(&before)],
        ),
        (
            "hasta=2025-01-16T00:00:00",
            vec![id(&late), id(&mid), id(&start), id(&before)],
        ),
        // Offsets are converted to UTC (01:00+01:00 is 00:00Z).
        (
            "desde=2025-01-15T01:00:00%2B01:00&hasta=2025-01-15T00:00:01Z",
            vec![id(&start)],
        ),
        // estado, alone and combined.
        ("estado=paid", vec![id(&next), id(&start), id(&before)]),
        (
            "estado=paid&desde=2025-01-15&hasta=2025-01-15",
            vec![id(&start)],
        ),
        ("estado=approved", vec![id(&late)]),
        ("estado=refunded", vec![]),
        // Empty parameters are ignored.
        (
            "estado=&desde=&hasta=",
            vec![id(&next), id(&late), id(&mid), id(&start), id(&before)],
        ),
    ];
    for (query, expected) in cases {
        let (status, body) = get(&app, &a.admin_token, &format!("{TX}?{query}")).await;
        assert_eq!(status, 200, "{query}: {body}");
        assert_eq!(ids(&body, "transacciones"), expected, "{query}");
        assert_eq!(
            body["total"].as_u64(),
            Some(expected.len() as u64),
            "{query}"
        );
    }
    // total counts with the same filters, not the page.
    let (_, body) = get(&app, &a.admin_token, &format!("{TX}?estado=paid&limit=1")).await;
    assert_eq!(
        (body["total"].as_i64(), ids(&body, "transacciones")),
        (Some(3), vec![id(&next)])
    );

    let (status, body) = get(
        &app,
        &a.admin_token,
        &format!("{TX}?desde=2025-01-16&hasta=2025-01-15"),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(body["detail"][0]["loc"], json!(["query", "desde"]));
    let (status, _) = get(
        &app,
        &a.admin_token,
        &format!("{TX}?estado={}", "x".repeat(21)),
    )
    .await;
    assert_eq!(status, 422);
}

/// A small RFC 4180 reader (quoted fields, doubled quotes, CRLF records).
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                other => field.push(other),
            }
            continue;
        }
        match c {
            '"' => quoted = true,
            ',' => row.push(std::mem::take(&mut field)),
            '\r' => {}
            '\n' => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            other => field.push(other),
        }
    }
    assert!(!quoted, "unterminated quote");
    assert!(field.is_empty() && row.is_empty(), "missing final CRLF");
    rows
}

#[actix_web::test]
async fn csv_export_round_trips_and_defuses_formulas() {
    let app = spawn_app().await;
    let a = app.tenant("Alfa").await;
    let e = &a.empresa.id;
    let r = &a.router.id;
    let t1 = app
        .insert_transaccion(
            e,
            r,
            Decimal::new(5000, 2),
            "paid",
            Some("conekta"),
            at("2025-01-15T10:00:00Z"),
        )
        .await;
    let t2 = app
        .insert_transaccion(
            e,
            r,
            Decimal::new(1050, 2),
            "approved",
            Some("mercado_pago"),
            at("2025-01-15T11:00:00.5Z"),
        )
        .await;
    let mut m: entity::transaccion::ActiveModel = t2.clone().into();
    m.cliente_nombre = Set(Some("Pérez, \"Juan\"\nSegunda línea".into()));
    m.cliente_email = Set(Some("=HYPERLINK(\"http://x\")".into()));
    m.producto_id = Set(Some(42));
    m.pagada_en = Set(Some(at("2025-01-15T11:00:05Z")));
    let t2 = m.update(&app.db).await.unwrap();
    let mut m: entity::transaccion::ActiveModel = t1.clone().into();
    m.cliente_nombre = Set(Some("@SUM(A1)".into()));
    m.cliente_email = Set(Some("+1-555".into()));
    m.transaccion_id = Set(Some("-ord_1".into()));
    let t1 = m.update(&app.db).await.unwrap();

    let res = app
        .http
        .get(app.url(&format!("{TX}?formato=csv")))
        .bearer_auth(&a.admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let ctype = res.headers()["content-type"].to_str().unwrap().to_string();
    assert!(ctype.starts_with("text/csv"), "{ctype}");
    assert_eq!(res.headers()["x-total-count"], "2");
    let text = res.text().await.unwrap();
    let rows = parse_csv(&text);
    assert_eq!(
        rows[0],
        vec![
            "id",
            "transaccion_id",
            "creada_en",
            "pagada_en",
            "estado_pago",
            "estado_hotspot",
            "monto",
            "moneda",
            "cliente_nombre",
            "cliente_email",
            "producto_id",
            "router_id",
            "gateway"
        ]
    );
    assert_eq!(rows.len(), 3);
    // Newest first.
    assert_eq!(
        rows[1],
        vec![
            t2.id.to_string(),
            t2.transaccion_id.clone().unwrap(),
            "2025-01-15T11:00:00.500000".into(),
            "2025-01-15T11:00:05".into(),
            "approved".into(),
            "active".into(),
            "10.50".into(),
            "MXN".into(),
            "Pérez, \"Juan\"\nSegunda línea".into(),
            "'=HYPERLINK(\"http://x\")".into(),
            "42".into(),
            a.router.id.clone(),
            "mercado_pago".into(),
        ]
    );
    assert_eq!(rows[2][0], t1.id.to_string());
    assert_eq!(rows[2][1], "'-ord_1");
    assert_eq!(rows[2][3], "");
    assert_eq!(rows[2][6], "50.00");
    assert_eq!(rows[2][8], "'@SUM(A1)");
    assert_eq!(rows[2][9], "'+1-555");
    assert_eq!(rows[2][10], "");
    // No cell of the file starts with a formula character.
    for row in &rows[1..] {
        for cell in row {
            assert!(!cell.starts_with(['=', '+', '-', '@']), "{cell}");
        }
    }

    // Filters and paging apply to the CSV too.
    let res = app
        .http
        .get(app.url(&format!("{TX}?formato=csv&estado=paid")))
        .bearer_auth(&a.admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-total-count"], "1");
    let rows = parse_csv(&res.text().await.unwrap());
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1][0], t1.id.to_string());
}

#[actix_web::test]
async fn dashboard_numbers_on_mixed_states() {
    let app = spawn_app().await;
    let a = app.tenant("Alfa").await;
    app.add_router(&a.empresa.id, "Segundo").await;
    let e = &a.empresa.id;
    let r = &a.router.id;
    let rows = [
        ("50.00", "paid", Some("conekta")),
        ("10.50", "approved", Some("mercado_pago")),
        ("0.10", "approved", Some("mercado_pago")),
        ("0.20", "approved", Some("mercado_pago")),
        ("7.25", "pending", Some("mercado_pago")),
        ("3.00", "rejected", Some("mercado_pago")),
        ("20.00", "refunded", Some("conekta")),
        ("5.00", "pending", None),
    ];
    let mut seeded = Vec::new();
    for (i, (monto, estado, gw)) in rows.iter().enumerate() {
        let t = app
            .insert_transaccion(
                e,
                r,
                monto.parse().unwrap(),
                estado,
                *gw,
                Utc.with_ymd_and_hms(2025, 2, 1, 8, i as u32, 0).unwrap(),
            )
            .await;
        seeded.push(t);
    }

    let (status, body) = get(&app, &a.admin_token, "/api/v1/admin/mi-empresa/dashboard").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["empresa"], json!({"nombre": "Alfa", "activa": true}));
    assert_eq!(
        body["estadisticas"],
        json!({
            "total_transacciones": 8,
            "ingresos_totales": 96.05,
            "transacciones_pagadas": 1,
            "transacciones_pendientes": 2,
            "total_routers": 2,
            "ingresos_confirmados": 60.8,
            "transacciones_aprobadas_mp": 3,
            "transacciones_confirmadas": 4,
        })
    );
    let recent = body["transacciones_recientes"].as_array().unwrap();
    assert_eq!(recent.len(), 5);
    let expected_ids: Vec<i64> = seeded.iter().rev().take(5).map(|t| t.id as i64).collect();
    assert_eq!(ids(&body, "transacciones_recientes"), expected_ids);
    assert_eq!(
        recent[0],
        json!({
            "id": seeded[7].id,
            "transaccion_id": seeded[7].transaccion_id,
            "monto": 5.0,
            "estado": "pending",
            "fecha": "2025-02-01T08:07:00",
        })
    );

    // Another company's admin sees an empty dashboard and no transactions.
    let b = app.tenant("Beta").await;
    let (status, body) = get(&app, &b.admin_token, "/api/v1/admin/mi-empresa/dashboard").await;
    assert_eq!(status, 200);
    assert_eq!(body["estadisticas"]["total_transacciones"], 0);
    assert_eq!(body["estadisticas"]["ingresos_totales"], json!(0.0));
    assert_eq!(body["estadisticas"]["total_routers"], 1);
    assert_eq!(body["transacciones_recientes"], json!([]));
    let (_, body) = get(&app, &b.admin_token, TX).await;
    assert_eq!(
        (body["total"].as_i64(), body["transacciones"].clone()),
        (Some(0), json!([]))
    );
    let res = app
        .http
        .get(app.url(&format!("{TX}?formato=csv")))
        .bearer_auth(&b.admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(parse_csv(&res.text().await.unwrap()).len(), 1);

    // Sessions only: no token → 403, a super admin → 403.
    let res = app.http.get(app.url(TX)).send().await.unwrap();
    assert_eq!(res.status(), 403);
    let root = app.super_admin().await;
    let (status, body) = get(&app, &root, "/api/v1/admin/mi-empresa/dashboard").await;
    assert_eq!(
        (status, body["detail"].as_str()),
        (403, Some("Se requiere rol CLIENTE_ADMIN"))
    );
}

#[actix_web::test]
async fn audit_log_readers_are_scoped() {
    let app = spawn_app().await;
    let a = app.tenant("Alfa").await;
    let b = app.tenant("Beta").await;
    for (t, perfil) in [(&a, "*1"), (&b, "*1"), (&a, "*2")] {
        let res = app
            .http
            .post(app.url("/api/v1/admin/products"))
            .bearer_auth(&t.admin_token)
            .json(
                &json!({"router_id": t.router.id, "perfil_mikrotik_id": perfil,
                          "perfil_mikrotik_nombre": "p", "nombre_venta": "Plan", "precio": 10}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
    }

    // Company A's admin: its two entries, newest first, with the documented keys.
    let (status, body) = get(&app, &a.admin_token, "/api/v1/admin/mi-empresa/auditoria").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["empresa_id"], a.empresa.id);
    assert_eq!(body["total"], 2);
    let entries = body["registros"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert!(entries[0]["id"].as_i64().unwrap() > entries[1]["id"].as_i64().unwrap());
    let mut keys: Vec<&String> = entries[0].as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        vec![
            "action",
            "actor_email",
            "actor_role",
            "at",
            "details",
            "empresa_id",
            "id",
            "target_id",
            "target_type"
        ]
    );
    assert_eq!(entries[0]["actor_email"], a.admin_email);
    assert_eq!(entries[0]["actor_role"], "cliente_admin");
    assert_eq!(entries[0]["action"], "producto.crear");
    assert_eq!(entries[0]["details"]["perfil_mikrotik_id"], "*2");
    for entry in entries {
        assert_eq!(entry["empresa_id"], a.empresa.id);
    }
    // B's admin sees only B's entry; the empresa_id query parameter cannot widen it.
    let (_, body) = get(
        &app,
        &b.admin_token,
        &format!(
            "/api/v1/admin/mi-empresa/auditoria?empresa_id={}",
            a.empresa.id
        ),
    )
    .await;
    assert_eq!(body["total"], 1);
    assert_eq!(body["registros"][0]["empresa_id"], b.empresa.id);

    // The operator sees everything, can filter by company and page.
    let root = app.super_admin().await;
    let (status, body) = get(&app, &root, "/admin/auditoria").await;
    assert_eq!(status, 200);
    assert_eq!(body["total"], 3);
    let (_, body) = get(
        &app,
        &root,
        &format!("/admin/auditoria?empresa_id={}", b.empresa.id),
    )
    .await;
    assert_eq!(body["total"], 1);
    assert_eq!(body["registros"][0]["empresa_id"], b.empresa.id);
    let (_, body) = get(&app, &root, "/admin/auditoria?limit=1&offset=1").await;
    assert_eq!(
        (
            body["total"].as_i64(),
            body["registros"].as_array().unwrap().len()
        ),
        (Some(3), 1)
    );
    assert_eq!(body["registros"][0]["empresa_id"], b.empresa.id);
    let (status, _) = get(&app, &root, "/admin/auditoria?limit=501").await;
    assert_eq!(status, 422);

    // Roles are exclusive.
    let (status, body) = get(&app, &a.admin_token, "/admin/auditoria").await;
    assert_eq!(
        (status, body["detail"].as_str()),
        (403, Some("Se requiere rol SUPER_ADMIN"))
    );
    let (status, _) = get(&app, &root, "/api/v1/admin/mi-empresa/auditoria").await;
    assert_eq!(status, 403);
}
