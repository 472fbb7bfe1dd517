//! The routes the operator console added: the per-day dashboard series in the company's time
//! zone, transaction filters by gateway and router, the transaction detail, `zona_horaria`.

use crate::helpers::{call, spawn_app};
use chrono::{Duration, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde_json::{json, Value};

const SERIE: &str = "/api/v1/admin/mi-empresa/dashboard/serie";
const TX: &str = "/api/v1/admin/mi-empresa/transacciones";

fn sum(v: &Value) -> f64 {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .sum()
}

#[actix_web::test]
async fn series_counts_confirmed_payments_per_local_day_by_gateway_and_router() {
    let app = spawn_app().await;
    let a = app.tenant("Alfa").await;
    let (r2, _) = app.add_router(&a.empresa.id, "Terraza").await;
    let other = app.tenant("Beta").await;
    let now = Utc::now();
    let rows = [
        (
            &a.router.id,
            1500,
            "paid",
            "conekta",
            now - Duration::seconds(3),
        ),
        (
            &r2.id,
            5000,
            "approved",
            "mercado_pago",
            now - Duration::seconds(2),
        ),
        (
            &a.router.id,
            1500,
            "refunded",
            "conekta",
            now - Duration::seconds(1),
        ),
        (
            &a.router.id,
            20000,
            "paid",
            "conekta",
            now - Duration::days(3),
        ),
        // Outside 30 days, and another company's sale.
        (
            &a.router.id,
            9900,
            "paid",
            "conekta",
            now - Duration::days(40),
        ),
    ];
    for (router, cents, estado, gw, at) in rows {
        app.insert_transaccion(
            &a.empresa.id,
            router,
            Decimal::new(cents, 2),
            estado,
            Some(gw),
            at,
        )
        .await;
    }
    app.insert_transaccion(
        &other.empresa.id,
        &other.router.id,
        Decimal::new(777, 0),
        "paid",
        Some("conekta"),
        now,
    )
    .await;

    let (status, s) = call(&app, "GET", SERIE, Some(&a.admin_token), None).await;
    assert_eq!(status, 200, "{s}");
    assert_eq!(s["zona_horaria"], "America/Mexico_City");
    assert_eq!(s["dias"], 30);
    let fechas = s["fechas"].as_array().unwrap();
    assert_eq!(fechas.len(), 30);
    let tz: Tz = "America/Mexico_City".parse().unwrap();
    let today = now
        .with_timezone(&tz)
        .date_naive()
        .format("%Y-%m-%d")
        .to_string();
    assert_eq!(fechas[29], json!(today));
    assert_eq!(sum(&s["total"]["ingresos"]), 265.0, "{s}");
    assert_eq!(sum(&s["total"]["compras"]), 3.0, "{s}");
    assert_eq!(s["hoy"]["compras"], 2, "{s}");
    assert_eq!(s["hoy"]["ingresos"], json!(65.0));
    assert_eq!(s["hoy"]["reembolsadas"], 1);
    let gw: Vec<&str> = s["por_gateway"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["gateway"].as_str().unwrap())
        .collect();
    assert_eq!(gw, ["conekta", "mercado_pago"]);
    let terraza = s["por_router"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["router_id"] == json!(r2.id))
        .unwrap();
    assert_eq!(terraza["nombre"], "Terraza");
    assert_eq!(sum(&terraza["ingresos"]), 50.0);

    let (status, s7) = call(
        &app,
        "GET",
        &format!("{SERIE}?dias=7"),
        Some(&a.admin_token),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(s7["fechas"].as_array().unwrap().len(), 7);
    for bad in ["0", "367", "siete"] {
        let (status, body) = call(
            &app,
            "GET",
            &format!("{SERIE}?dias={bad}"),
            Some(&a.admin_token),
            None,
        )
        .await;
        assert_eq!(status, 422, "{bad}: {body}");
        assert!(body["detail"].is_array(), "{body}");
    }
    // Operators have no company: the route is the company admin's.
    let sa = app.super_admin().await;
    let (status, _) = call(&app, "GET", SERIE, Some(&sa), None).await;
    assert_eq!(status, 403);
}

#[actix_web::test]
async fn zona_horaria_is_validated_saved_and_moves_the_days() {
    let app = spawn_app().await;
    let a = app.tenant("Alfa").await;
    let (_, e) = call(
        &app,
        "GET",
        "/api/v1/admin/mi-empresa",
        Some(&a.admin_token),
        None,
    )
    .await;
    assert_eq!(e["zona_horaria"], "America/Mexico_City");
    let (status, body) = call(
        &app,
        "PUT",
        "/api/v1/admin/mi-empresa",
        Some(&a.admin_token),
        Some(json!({"zona_horaria": "Marte/Base"})),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert!(body["detail"][0]["msg"]
        .as_str()
        .unwrap()
        .contains("Zona horaria desconocida"));
    let (status, body) = call(
        &app,
        "PUT",
        "/api/v1/admin/mi-empresa",
        Some(&a.admin_token),
        Some(json!({"zona_horaria": null})),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    let (_, e) = call(
        &app,
        "GET",
        "/api/v1/admin/mi-empresa",
        Some(&a.admin_token),
        None,
    )
    .await;
    assert_eq!(
        e["zona_horaria"], "America/Mexico_City",
        "nothing saved by a refused update"
    );

    let (status, body) = call(
        &app,
        "PUT",
        "/api/v1/admin/mi-empresa",
        Some(&a.admin_token),
        Some(json!({"zona_horaria": "Asia/Tokyo"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["empresa"]["zona_horaria"], "Asia/Tokyo");
    let (_, s) = call(
        &app,
        "GET",
        &format!("{SERIE}?dias=1"),
        Some(&a.admin_token),
        None,
    )
    .await;
    assert_eq!(s["zona_horaria"], "Asia/Tokyo");
    let tz: Tz = "Asia/Tokyo".parse().unwrap();
    let today = Utc::now()
        .with_timezone(&tz)
        .date_naive()
        .format("%Y-%m-%d")
        .to_string();
    assert_eq!(s["fechas"], json!([today]));
    let sa = app.super_admin().await;
    let (_, e) = call(
        &app,
        "GET",
        &format!("/admin/empresas/{}", a.empresa.id),
        Some(&sa),
        None,
    )
    .await;
    assert_eq!(e["zona_horaria"], "Asia/Tokyo");
}

#[actix_web::test]
async fn transactions_filter_by_gateway_and_router_and_show_one_in_full() {
    let app = spawn_app().await;
    let a = app.tenant("Alfa").await;
    let (r2, _) = app.add_router(&a.empresa.id, "Terraza").await;
    let b = app.tenant("Beta").await;
    let now = Utc::now();
    let mut made = vec![];
    for (empresa, router, monto, estado, gw) in [
        (&a.empresa.id, &a.router.id, 15, "paid", "conekta"),
        (&a.empresa.id, &r2.id, 50, "approved", "mercado_pago"),
        (&a.empresa.id, &r2.id, 20, "paid", "conekta"),
        (&b.empresa.id, &b.router.id, 9, "paid", "conekta"),
    ] {
        let t = app
            .insert_transaccion(
                empresa,
                router,
                Decimal::new(monto, 0),
                estado,
                Some(gw),
                now,
            )
            .await;
        made.push(t);
    }
    let (t1, foreign) = (&made[0], &made[3]);

    let count = |q: String| {
        let app = &app;
        let token = a.admin_token.clone();
        async move {
            let (status, body) = call(app, "GET", &format!("{TX}?{q}"), Some(&token), None).await;
            assert_eq!(status, 200, "{q}: {body}");
            body["total"].as_u64().unwrap()
        }
    };
    assert_eq!(count("gateway=conekta".into()).await, 2);
    assert_eq!(count("gateway=mercado_pago".into()).await, 1);
    assert_eq!(count(format!("router_id={}", r2.id)).await, 2);
    assert_eq!(
        count(format!("router_id={}&gateway=conekta&estado=paid", r2.id)).await,
        1
    );
    assert_eq!(count(format!("router_id={}", b.router.id)).await, 0);
    assert_eq!(count("gateway=&router_id=".into()).await, 3);
    let (status, _) = call(
        &app,
        "GET",
        &format!("{TX}?gateway={}", "x".repeat(21)),
        Some(&a.admin_token),
        None,
    )
    .await;
    assert_eq!(status, 422);
    // The CSV takes the same filters.
    let res = app
        .http
        .get(app.url(&format!("{TX}?formato=csv&gateway=mercado_pago")))
        .bearer_auth(&a.admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-total-count"], "1");
    let csv = res.text().await.unwrap();
    assert_eq!(csv.trim_end().lines().count(), 2, "{csv}");
    assert!(
        csv.lines().nth(1).unwrap().ends_with(",mercado_pago"),
        "{csv}"
    );

    let (status, d) = call(
        &app,
        "GET",
        &format!("{TX}/{}", t1.id),
        Some(&a.admin_token),
        None,
    )
    .await;
    assert_eq!(status, 200, "{d}");
    assert_eq!(d["id"], t1.id);
    assert_eq!(d["gateway"], "conekta");
    assert_eq!(d["monto"], json!(15.0));
    assert_eq!(d["router"]["nombre"], json!(a.router.nombre));
    assert!(d.get("password_hotspot").is_none(), "{d}");
    for missing in [foreign.id.to_string(), "999999".into(), "abc".into()] {
        let (status, body) = call(
            &app,
            "GET",
            &format!("{TX}/{missing}"),
            Some(&a.admin_token),
            None,
        )
        .await;
        assert_eq!(status, 404, "{missing}: {body}");
        assert_eq!(body["detail"], "Transaction not found");
    }
}
