//! Access that ends when it should (issue 16): a plan's usage budget, its validity from the
//! purchase or from the first login, enforced by the service's expiry job through the broker,
//! all checked on the simulator's own state and with the purchase invariants. The service's
//! clock is moved by passing a later `now` to the job; the router's by the simulator's
//! fast-forward.

use chrono::{DateTime, Duration as ChronoDuration, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{json, Value};

use entity::audit_log;
use pagos_hotspot::purchase::expiry::{expire_once, ExpiryReport};

use crate::helpers::call;
use crate::helpers::purchase::*;

const PHONE: (&str, &str) = ("AA:BB:CC:DD:EE:31", "10.5.50.31");
const LAPTOP: (&str, &str) = ("AA:BB:CC:DD:EE:32", "10.5.50.32");

/// Sets the world's product's plan through the admin API (English names, as a client may
/// send them); the answer carries the Spanish ones.
async fn set_plan(w: &World, plan: Value) -> Value {
    let path = format!("/api/v1/admin/products/{}", w.product.id);
    let (s, v) = call(
        &w.app,
        "PUT",
        &path,
        Some(&w.tenant.admin_token),
        Some(plan),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    v
}

/// A paid Conekta purchase from the phone: the answer, the user's name and password.
async fn buy(w: &World) -> (Value, String, String) {
    let mut body = conekta_body(w.product.id, "tok_test_visa_4242");
    body["mac_address"] = json!(PHONE.0);
    paid_conekta(w, &body).await
}

async fn online(w: &World, user: &str, pass: &str, (mac, ip): (&str, &str)) {
    w.sim.add_host(mac, ip);
    let v = w.log_in_device(user, pass, mac, ip).await;
    assert_eq!(v["success"], true, "{v}");
}

fn sessions_of(w: &World, user: &str) -> usize {
    w.sim.active().iter().filter(|a| a.user == user).count()
}

fn cookies_of(w: &World, user: &str) -> usize {
    w.sim.cookies().iter().filter(|c| c.user == user).count()
}

async fn pass_at(w: &World, now: DateTime<Utc>) -> ExpiryReport {
    expire_once(&w.app.state, now).await
}

async fn expiry_audits(w: &World) -> Vec<audit_log::Model> {
    audit_log::Entity::find()
        .filter(audit_log::Column::EmpresaId.eq(w.tenant.empresa.id.clone()))
        .filter(audit_log::Column::Action.eq(audit_log::AuditAction::AccesoExpirar))
        .all(&w.app.db)
        .await
        .unwrap()
}

/// The access is over everywhere: purchase `expired` with its end time, transaction
/// `expired`, one audit row, nothing left on the router for the user but (when disabled) the
/// disabled user itself; the device cannot log in again.
async fn assert_ended(w: &World, user: &str, pass: &str, user_kept: bool) {
    let p = w.purchases().await.remove(0);
    assert_eq!(p.state, "expired", "{:?}", p.last_error);
    assert!(p.ended_at.is_some());
    assert!(p.locked_until.is_none(), "lease given back");
    let t = &w.transactions().await["transacciones"][0];
    assert_eq!(t["estado_hotspot"], "expired", "{t}");
    assert_eq!(sessions_of(w, user), 0, "{:?}", w.sim.active());
    assert_eq!(cookies_of(w, user), 0, "{:?}", w.sim.cookies());
    let users: Vec<_> = w
        .sim
        .users()
        .into_iter()
        .filter(|u| u.name == user)
        .collect();
    if user_kept {
        assert_eq!(users.len(), 1);
        assert!(users[0].disabled);
    } else {
        assert!(users.is_empty(), "{users:?}");
    }
    let v = w.log_in_device(user, pass, PHONE.0, PHONE.1).await;
    assert_ne!(v["success"], true, "{v}");
    assert_eq!(expiry_audits(w).await.len(), 1);
    check_invariants(w).await;
}

#[actix_web::test]
async fn a_usage_budget_plans_user_is_removed_once_its_budget_is_used() {
    let w = world().await;
    let v = set_plan(&w, json!({"usage_minutes": 30})).await;
    assert_eq!(v["minutos_uso"], 30, "{v}");
    let (answer, user, pass) = buy(&w).await;
    assert_eq!(answer["producto"]["minutos_uso"], 30, "{answer}");
    assert_eq!(answer["expiracion_hotspot"], Value::Null);
    // The router enforces the budget too: `limit-uptime` on the user.
    let u = w.sim.users().remove(0);
    assert_eq!(u.limit_uptime.as_deref(), Some("30m"));
    online(&w, &user, &pass, PHONE).await;
    // Twenty minutes online: still within the budget.
    w.sim.advance(std::time::Duration::from_secs(20 * 60));
    let r = pass_at(&w, Utc::now()).await;
    assert_eq!((r.examined, r.expired), (1, 0), "{r:?}");
    assert_eq!(sessions_of(&w, &user), 1);
    // Past the budget: the router logs the phone out and keeps its cookie; the laptop's
    // login is refused by the router.
    w.sim.advance(std::time::Duration::from_secs(15 * 60));
    assert_eq!(sessions_of(&w, &user), 0);
    assert_eq!(cookies_of(&w, &user), 1);
    assert_eq!(w.sim.users()[0].uptime, "30m");
    w.sim.add_host(LAPTOP.0, LAPTOP.1);
    let v = w.log_in_device(&user, &pass, LAPTOP.0, LAPTOP.1).await;
    assert_ne!(v["success"], true, "{v}");
    // The service ends the access: the cookie and the user go.
    let r = pass_at(&w, Utc::now()).await;
    assert_eq!(r.expired, 1, "{r:?}");
    assert_ended(&w, &user, &pass, false).await;
    let audit = expiry_audits(&w).await.remove(0);
    assert_eq!(audit.details["motivo"], "uptime");
    // Nothing left to do.
    let r = pass_at(&w, Utc::now()).await;
    assert_eq!((r.examined, r.expired), (0, 0), "{r:?}");
}

#[actix_web::test]
async fn a_validity_from_the_purchase_ends_the_access_when_it_expires() {
    let w = world().await;
    let v = set_plan(&w, json!({"vigencia_minutos": 60})).await;
    assert_eq!(v["vigencia_desde"], "compra", "{v}");
    let before = Utc::now();
    let (answer, user, pass) = buy(&w).await;
    // The end is known at purchase, in the answer and in the payment history.
    let ends = answer["expiracion_hotspot"].as_str().unwrap().to_string();
    let ends_at = chrono::NaiveDateTime::parse_from_str(&ends, "%Y-%m-%dT%H:%M:%S%.f")
        .unwrap()
        .and_utc();
    assert!(ends_at >= before + ChronoDuration::minutes(60) - ChronoDuration::seconds(1));
    assert!(ends_at <= Utc::now() + ChronoDuration::minutes(60));
    assert_eq!(
        w.transactions().await["transacciones"][0]["expiracion_hotspot"],
        json!(ends)
    );
    online(&w, &user, &pass, PHONE).await;
    online(&w, &user, &pass, LAPTOP).await;
    assert_eq!(w.sim.end_session_keeping_cookie(LAPTOP.1), 1);
    // Before the end: nothing happens (no router read is needed for a validity alone).
    let r = pass_at(&w, ends_at - ChronoDuration::minutes(1)).await;
    assert_eq!((r.examined, r.expired), (1, 0), "{r:?}");
    assert_eq!(sessions_of(&w, &user), 1);
    // Past it: every session and cookie goes with the user.
    let r = pass_at(&w, ends_at + ChronoDuration::seconds(1)).await;
    assert_eq!(r.expired, 1, "{r:?}");
    assert_ended(&w, &user, &pass, false).await;
    assert_eq!(expiry_audits(&w).await[0].details["motivo"], "validity");
}

#[actix_web::test]
async fn a_validity_from_the_first_login_starts_when_the_router_shows_it() {
    let w = world().await;
    let v = set_plan(
        &w,
        json!({"validity_minutes": 60, "validity_from": "first_login"}),
    )
    .await;
    assert_eq!(v["vigencia_desde"], "primer_login", "{v}");
    let (answer, user, pass) = buy(&w).await;
    assert_eq!(answer["expiracion_hotspot"], Value::Null, "{answer}");
    assert_eq!(answer["producto"]["vigencia_desde"], "primer_login");
    // Never logged in: however late, nothing ends and no end is set.
    let r = pass_at(&w, Utc::now() + ChronoDuration::days(30)).await;
    assert_eq!((r.first_logins, r.expired), (0, 0), "{r:?}");
    assert!(w.purchases().await[0].expires_at.is_none());
    // The first login is seen through the broker; the validity starts then.
    online(&w, &user, &pass, PHONE).await;
    let seen = Utc::now();
    let r = pass_at(&w, seen).await;
    assert_eq!((r.first_logins, r.expired), (1, 0), "{r:?}");
    let ends_at = w.purchases().await[0].expires_at.unwrap();
    assert!(
        (ends_at - (seen + ChronoDuration::minutes(60)))
            .num_seconds()
            .abs()
            <= 2
    );
    let t = &w.transactions().await["transacciones"][0];
    assert!(t["expiracion_hotspot"].is_string(), "{t}");
    // Recorded once: a later pass does not move it.
    pass_at(&w, seen + ChronoDuration::minutes(5)).await;
    assert_eq!(w.purchases().await[0].expires_at, Some(ends_at));
    assert_eq!(sessions_of(&w, &user), 1);
    // Past the end: the access goes.
    let r = pass_at(&w, ends_at + ChronoDuration::seconds(1)).await;
    assert_eq!(r.expired, 1, "{r:?}");
    assert_ended(&w, &user, &pass, false).await;
}

#[actix_web::test]
async fn a_company_that_disables_expired_users_keeps_them_disabled() {
    let w = world().await;
    let (s, v) = call(
        &w.app,
        "PUT",
        "/api/v1/admin/mi-empresa",
        Some(&w.tenant.admin_token),
        Some(json!({"al_expirar": "deshabilitar"})),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["empresa"]["al_expirar"], "deshabilitar");
    let (s, v) = call(
        &w.app,
        "PUT",
        "/api/v1/admin/mi-empresa",
        Some(&w.tenant.admin_token),
        Some(json!({"al_expirar": "borrar"})),
    )
    .await;
    assert_eq!(s, 422, "{v}");
    set_plan(&w, json!({"vigencia_minutos": 10})).await;
    let (_, user, pass) = buy(&w).await;
    online(&w, &user, &pass, PHONE).await;
    let r = pass_at(&w, Utc::now() + ChronoDuration::minutes(11)).await;
    assert_eq!(r.expired, 1, "{r:?}");
    assert_ended(&w, &user, &pass, true).await;
    assert_eq!(expiry_audits(&w).await[0].details["accion"], "deshabilitar");
}

#[actix_web::test]
async fn a_router_that_is_down_gets_the_expiry_when_it_is_back() {
    let w = world().await;
    set_plan(&w, json!({"vigencia_minutos": 10})).await;
    let (_, user, pass) = buy(&w).await;
    online(&w, &user, &pass, PHONE).await;
    let later = Utc::now() + ChronoDuration::minutes(11);
    // The router's session listing hangs past the command deadline: not ended, retried.
    w.sim.set_latency_for(
        "/ip/hotspot/active/print",
        std::time::Duration::from_secs(5),
    );
    let r = pass_at(&w, later).await;
    assert_eq!((r.expired, r.unfinished), (0, 1), "{r:?}");
    let p = w.purchases().await.remove(0);
    assert_eq!(p.state, "completed");
    assert!(
        p.locked_until.is_none(),
        "the lease is given back for the next pass"
    );
    // Back: the next pass ends it.
    w.sim.clear_latency_overrides();
    let r = pass_at(&w, later).await;
    assert_eq!(r.expired, 1, "{r:?}");
    assert_ended(&w, &user, &pass, false).await;
}

#[actix_web::test]
async fn a_data_budget_is_the_users_limit_bytes_total_and_ends_the_access() {
    let w = world().await;
    set_plan(&w, json!({"limite_mb": 5})).await;
    let (answer, user, pass) = buy(&w).await;
    assert_eq!(answer["producto"]["limite_mb"], 5, "{answer}");
    assert_eq!(
        w.sim.users()[0].limit_bytes_total.as_deref(),
        Some("5000000")
    );
    online(&w, &user, &pass, PHONE).await;
    assert!(w.sim.add_traffic(PHONE.1, 3_000_000, 1_000_000));
    assert_eq!(pass_at(&w, Utc::now()).await.expired, 0);
    assert!(w.sim.add_traffic(PHONE.1, 1_000_000, 0));
    assert_eq!(sessions_of(&w, &user), 0, "the router logs the phone out");
    let r = pass_at(&w, Utc::now()).await;
    assert_eq!(r.expired, 1, "{r:?}");
    assert_ended(&w, &user, &pass, false).await;
    assert_eq!(expiry_audits(&w).await[0].details["motivo"], "data");
}

#[actix_web::test]
async fn the_same_device_reconnects_without_the_password_and_another_does_not() {
    let w = world().await;
    let (_, user, _) = buy(&w).await;
    w.sim.add_host(PHONE.0, PHONE.1);
    w.sim.add_host(LAPTOP.0, LAPTOP.1);
    let path = "/api/v1/hotspot/auto-reconnect";
    // Another device, no password: refused as bad credentials.
    let (_, v) = w
        .portal(
            path,
            json!({"username": user, "current_mac": LAPTOP.0, "current_ip": LAPTOP.1}),
        )
        .await;
    assert_eq!(v["estado"], "credenciales_invalidas", "{v}");
    assert_eq!(sessions_of(&w, &user), 0);
    // The phone that bought it (MAC written in another case and separator): logged in.
    let mac = PHONE.0.to_lowercase().replace(':', "-");
    let (_, v) = w
        .portal(
            path,
            json!({"username": user, "current_mac": mac, "current_ip": PHONE.1}),
        )
        .await;
    assert_eq!(v["success"], true, "{v}");
    assert!(w
        .sim
        .active()
        .iter()
        .any(|a| a.user == user && a.mac_address == PHONE.0));
    check_invariants(&w).await;
}

#[actix_web::test]
async fn live_sessions_are_listed_with_their_purchases_and_one_can_be_kicked() {
    let w = world().await;
    set_plan(&w, json!({"vigencia_minutos": 60})).await;
    let (answer, user, pass) = buy(&w).await;
    online(&w, &user, &pass, PHONE).await;
    online(&w, &user, &pass, LAPTOP).await;
    // A session of a user the service did not sell (made on the router by hand).
    w.sim.seed_user("walkin", "x1", "default");
    online(&w, "walkin", "x1", ("AA:BB:CC:DD:EE:33", "10.5.50.33")).await;
    w.sim.advance(std::time::Duration::from_secs(90));
    assert!(w.sim.add_traffic(PHONE.1, 1_000, 200));
    let path = format!("/api/v1/admin/routers/{}/sesiones", w.tenant.router.id);
    let token = Some(w.tenant.admin_token.as_str());
    let (s, v) = call(&w.app, "GET", &path, token, None).await;
    assert_eq!(s, 200, "{v}");
    let list = v.as_array().unwrap();
    assert_eq!(list.len(), 3, "{v}");
    let phone = list.iter().find(|x| x["ip"] == PHONE.1).unwrap();
    let pid = w.purchases().await[0].id.clone();
    assert_eq!(phone["usuario"], user.as_str());
    assert_eq!(phone["mac"], PHONE.0);
    assert_eq!(phone["uptime"], 90);
    assert_eq!(
        (phone["bytes_in"].clone(), phone["bytes_out"].clone()),
        (json!(1000), json!(200))
    );
    assert_eq!(phone["producto"], "1 Hora de Internet");
    assert_eq!(phone["purchase_id"], pid.as_str());
    assert_eq!(phone["expira_en"], answer["expiracion_hotspot"]);
    let walkin = list.iter().find(|x| x["usuario"] == "walkin").unwrap();
    assert_eq!(
        (walkin["purchase_id"].clone(), walkin["expira_en"].clone()),
        (Value::Null, Value::Null)
    );

    // Kick the phone: its session and its cookie go; the laptop stays online with its own.
    assert_eq!(cookies_of(&w, &user), 2);
    let id = phone["id"].as_str().unwrap();
    let (s, v) = call(&w.app, "DELETE", &format!("{path}/{id}"), token, None).await;
    assert_eq!(s, 200, "{v}");
    let left: Vec<_> = w
        .sim
        .active()
        .into_iter()
        .filter(|a| a.user == user)
        .collect();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].address, LAPTOP.1);
    let cookies: Vec<_> = w
        .sim
        .cookies()
        .into_iter()
        .filter(|c| c.user == user)
        .collect();
    assert_eq!(cookies.len(), 1, "{cookies:?}");
    assert_eq!(cookies[0].mac_address, LAPTOP.0);
    // Again: no such session.
    let (s, v) = call(&w.app, "DELETE", &format!("{path}/{id}"), token, None).await;
    assert_eq!(
        (s, &v["detail"]),
        (404, &json!("Sesión no encontrada en el router"))
    );
    let (s, _) = call(&w.app, "DELETE", &format!("{path}/nonsense"), token, None).await;
    assert_eq!(s, 404);
    // Another company's admin sees nothing of this router.
    let other = w.app.tenant("Otra").await;
    let (s, _) = call(&w.app, "GET", &path, Some(&other.admin_token), None).await;
    assert_eq!(s, 404);
    let (s, _) = call(
        &w.app,
        "DELETE",
        &format!("{path}/{}", left[0].id),
        Some(&other.admin_token),
        None,
    )
    .await;
    assert_eq!(s, 404);
    assert_eq!(sessions_of(&w, &user), 1);
    // (No invariant check here: the walk-in user is enabled without a purchase on purpose.)
    assert!(w.purchases().await.iter().all(|p| p.state == "completed"));
}

#[actix_web::test]
async fn a_router_that_lost_its_users_is_repaired_by_the_sync() {
    let w = world().await;
    set_plan(&w, json!({"minutos_uso": 60})).await;
    // A budget plan used for 20 minutes, another purchase refunded at the gateway whose
    // notice revoked it (its disabled user stays on the router), and a `purchase:` user the
    // service never made.
    let (_, user, pass) = buy(&w).await;
    online(&w, &user, &pass, PHONE).await;
    w.sim.advance(std::time::Duration::from_secs(20 * 60));
    assert_eq!(
        pass_at(&w, Utc::now()).await.expired,
        0,
        "the job records the usage"
    );
    let body = conekta_body(w.product.id, "tok_test_mastercard_4444");
    let (refunded, gone_user, _) = paid_conekta(&w, &body).await;
    let order = refunded["id_transaccion"].as_str().unwrap();
    conekta_refund_at_sandbox(&w, order, 1500).await;
    assert_eq!(conekta_notice(&w, order, "order.refunded").await, Some(200));
    let ghost = pagos_hotspot::routeros::commands::NewHotspotUser {
        name: "ghost".into(),
        comment: Some("purchase:ghost-0000".into()),
        ..Default::default()
    };
    w.app
        .state
        .routers
        .create_user(&w.tenant.router.id, ghost)
        .await
        .unwrap();
    let path = format!("/api/v1/admin/routers/{}/sincronizar", w.tenant.router.id);
    let token = Some(w.tenant.admin_token.as_str());

    // In sync but for the revoked user (removed) and the ghost (reported, left alone).
    let (s, v) = call(&w.app, "POST", &path, token, None).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["eliminados"][0]["usuario"], gone_user.as_str(), "{v}");
    assert_eq!(v["desconocidos"][0]["usuario"], "ghost", "{v}");
    assert_eq!(v["recreados"], json!([]), "{v}");
    assert!(!w.sim.users().iter().any(|u| u.name == gone_user));
    assert!(w.sim.users().iter().any(|u| u.name == "ghost"));

    // The router is reset: every user is gone. The sync gives the paying customer back the
    // 40 minutes left, with the same credentials.
    w.sim.forget_users();
    let (s, v) = call(&w.app, "POST", &path, token, None).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["recreados"][0]["usuario"], user.as_str(), "{v}");
    assert_eq!(v["desconocidos"], json!([]), "{v}");
    let users = w.sim.users();
    let u = users.iter().find(|u| u.name == user).unwrap();
    assert!(!u.disabled);
    assert_eq!(u.limit_uptime.as_deref(), Some("40m"));
    assert!(
        !users.iter().any(|u| u.name == gone_user),
        "a revoked purchase stays gone"
    );
    let p = w
        .purchases()
        .await
        .into_iter()
        .find(|p| p.state == "completed")
        .unwrap();
    assert_eq!(p.router_user_id.as_deref(), Some(u.id.as_str()));
    online(&w, &user, &pass, PHONE).await;
    // Nothing more to do.
    let (_, v) = call(&w.app, "POST", &path, token, None).await;
    assert_eq!(
        (v["recreados"].clone(), v["eliminados"].clone()),
        (json!([]), json!([])),
        "{v}"
    );
    check_invariants(&w).await;
}

#[actix_web::test]
async fn plan_fields_take_english_aliases_and_the_spanish_name_wins() {
    let w = world().await;
    let token = Some(w.tenant.admin_token.as_str());
    let body = json!({
        "router_id": w.tenant.router.id, "perfil_mikrotik_id": "*9", "perfil_mikrotik_nombre": "1d",
        "nombre_venta": "Un día", "precio": 40,
        "minutos_uso": 120, "usage_minutes": 999,
        "validity_minutes": 1440, "validity_from": "first_login",
        "limite_mb": 500, "data_limit_mb": 1,
    });
    let (s, v) = call(&w.app, "POST", "/api/v1/admin/products", token, Some(body)).await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(
        (
            &v["minutos_uso"],
            &v["vigencia_minutos"],
            &v["vigencia_desde"],
            &v["limite_mb"]
        ),
        (
            &json!(120),
            &json!(1440),
            &json!("primer_login"),
            &json!(500)
        ),
        "{v}"
    );
    assert!(
        v.get("usage_minutes").is_none(),
        "answers carry the Spanish names only"
    );
    let id = v["id"].as_i64().unwrap();
    // The portal's catalogue shows them too.
    let res = w
        .app
        .http
        .get(w.app.url(&format!("/api/v1/catalogo_perfiles_venta/{id}")))
        .header("X-API-Key", &w.tenant.api_key)
        .send()
        .await
        .unwrap();
    let (s, c) = crate::helpers::status_json(res).await;
    assert_eq!(s, 200, "{c}");
    assert_eq!(
        (&c["minutos_uso"], &c["limite_mb"]),
        (&json!(120), &json!(500)),
        "{c}"
    );
    // Update: `null` clears; a bad value is refused and changes nothing.
    let path = format!("/api/v1/admin/products/{id}");
    let (s, v) = call(
        &w.app,
        "PUT",
        &path,
        token,
        Some(json!({"limite_mb": null, "data_limit_mb": 7})),
    )
    .await;
    assert_eq!((s, &v["limite_mb"]), (200, &Value::Null), "{v}");
    for bad in [
        json!({"minutos_uso": 0}),
        json!({"vigencia_desde": "mañana"}),
        json!({"usage_minutes": "x"}),
    ] {
        let (s, v) = call(&w.app, "PUT", &path, token, Some(bad.clone())).await;
        assert_eq!(s, 422, "{bad}: {v}");
        assert!(v["detail"].is_array(), "{v}");
    }
    let (_, v) = call(&w.app, "GET", &path, token, None).await;
    assert_eq!(
        (&v["minutos_uso"], &v["vigencia_desde"]),
        (&json!(120), &json!("primer_login")),
        "{v}"
    );
    // A product without any of them behaves as before: all null.
    let (_, v) = call(
        &w.app,
        "GET",
        &format!("/api/v1/admin/products/{}", w.product.id),
        token,
        None,
    )
    .await;
    assert_eq!(
        (
            &v["minutos_uso"],
            &v["vigencia_minutos"],
            &v["vigencia_desde"],
            &v["limite_mb"]
        ),
        (&Value::Null, &Value::Null, &Value::Null, &Value::Null)
    );
}
