//! The database work of one purchase, counted statement by statement through sea-orm's metric
//! callback: a regression guard for the hot path (each statement is a round trip to the
//! database — on SQLite a hop to the connection's worker thread — and dominates the service's
//! CPU per purchase, see README → Benchmarks).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::helpers::purchase::*;

/// `INSERT INTO "purchases"` → `INSERT purchases`, `SELECT … FROM "api_keys" …` → `SELECT api_keys`.
fn shape(sql: &str) -> String {
    let words: Vec<String> = sql
        .split_whitespace()
        .map(|w| {
            w.trim_matches(|c| c == '"' || c == '`' || c == '(')
                .to_string()
        })
        .collect();
    let verb = words.first().cloned().unwrap_or_default().to_uppercase();
    let table = match verb.as_str() {
        "INSERT" => words.get(2).cloned(),
        "UPDATE" => words.get(1).cloned(),
        "DELETE" => words.get(2).cloned(),
        _ => words
            .iter()
            .position(|w| w.eq_ignore_ascii_case("FROM"))
            .and_then(|i| words.get(i + 1).cloned()),
    };
    format!("{verb} {}", table.unwrap_or_default())
}

/// The same database as `w`, in a second app whose every sea-orm statement is recorded.
async fn recorded_app(
    w: &World,
    customise: impl FnOnce(&mut pagos_hotspot::config::Config),
) -> (ExtraApp, Arc<Mutex<Vec<String>>>) {
    // sqlx runs BEGIN and COMMIT itself; they are not reported.
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let mut db = pagos_hotspot::db::connect(&w.app.testdb.url).await.unwrap();
    let sink = seen.clone();
    db.set_metric_callback(move |info| {
        sink.lock().unwrap().push(shape(&info.statement.sql));
    });
    let app = spawn_app_with_db(&w.app.testdb.url, db, &w.app.state.config, |c| {
        base_config(c, &w.sb);
        customise(c);
    })
    .await;
    (app, seen)
}

#[actix_web::test]
async fn a_paid_purchase_costs_nine_statements_besides_begin_and_commit() {
    let w = world().await;
    let (app, seen) = recorded_app(&w, |_| {}).await;
    let buy = |holder: &'static str| {
        let w = &w;
        let address = app.address.clone();
        async move {
            let token = mp_card_token(w, holder).await;
            pay_at(
                &w.app.http,
                &address,
                &w.tenant.api_key,
                "/api/v1/payments/pagar-mercado-pago",
                &mp_body(w.product.id, &token, 15.0),
                None,
            )
            .await
        }
    };
    // A first purchase starts the router's actor (which reads the router once).
    let (s, v) = buy("APRO").await;
    assert_eq!(s, 200, "{v}");
    seen.lock().unwrap().clear();

    let (s, v) = buy("APRO").await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["estado_pago"], "approved", "{v}");
    // The last write (the saved response) lands before the reply is sent.
    let got = seen.lock().unwrap().clone();
    let expected = [
        "SELECT api_keys_tracking", // the key (not revoked)
        "SELECT routers",           // its router joined with its company
        "SELECT productos",         // the plan
        "INSERT idempotency_keys",  // registration, one transaction …
        "INSERT purchases",         // … with the purchase, in `creating_user`
        "UPDATE purchases",         // `charging` + the user's router id
        "UPDATE purchases",         // `charged` + the payment id
        "INSERT transacciones",     // the row (ON CONFLICT (purchase_id) DO NOTHING)
        "UPDATE purchases",         // `completed` + the saved answer, lease released
    ];
    assert_eq!(got, expected, "statements of one purchase: {got:#?}");
    check_invariants(&w).await;
}

#[actix_web::test]
async fn a_busy_router_is_answered_after_one_read_and_before_authentication() {
    let w = world().await;
    let (app, seen) = recorded_app(&w, |c| c.router.mailbox_capacity = 1).await;
    w.sim
        .set_latency_for("/ip/hotspot/user/add", Duration::from_millis(600));
    let pay = |token: &'static str, idem: &'static str| {
        let w = &w;
        let address = app.address.clone();
        async move {
            pay_at(
                &w.app.http,
                &address,
                &w.tenant.api_key,
                "/api/v1/payments/pagar-conekta",
                &conekta_body(w.product.id, token),
                Some(idem),
            )
            .await
        }
    };
    let first = pay("tok_test_visa_4242", "first-1");
    let busy = async {
        // The first purchase holds the router's only queue place (and runs no statement while
        // its user creation is on the wire).
        eventually("the first purchase at the router", || {
            w.sim.in_flight() == 1
        })
        .await;
        seen.lock().unwrap().clear();
        let r = pay("tok_test_mastercard_4444", "second-1").await;
        (r, seen.lock().unwrap().clone())
    };
    let ((s1, v1), ((s2, v2), during)) = tokio::join!(first, busy);
    assert_eq!(s1, 200, "{v1}");
    assert_eq!(s2, 503, "{v2}");
    // Only the idempotency lookup (a retry of a held purchase must still replay its answer):
    // no key, router, company or product read, no write.
    assert_eq!(during, ["SELECT idempotency_keys"], "{during:#?}");
    check_invariants(&w).await;
}

/// The hotspot commands the router received since the wire log was turned on, by path (the
/// session's login and health probes left out).
fn router_commands(w: &World) -> Vec<String> {
    w.sim
        .wire_log()
        .iter()
        .filter_map(|s| s.0.first().map(|w| String::from_utf8_lossy(w).into_owned()))
        .filter(|p| p.starts_with("/ip/hotspot/"))
        .collect()
}

#[actix_web::test]
async fn a_purchase_costs_two_router_commands_on_the_session_that_created_its_user() {
    let w = world().await;
    let buy = |token: &'static str| {
        let w = &w;
        async move {
            let (s, v) = w.conekta(&conekta_body(w.product.id, token)).await;
            assert_eq!(s, 200, "{v}");
        }
    };
    // A first purchase opens the router's session.
    buy("tok_test_visa_4242").await;
    w.sim.record_wire(true);
    buy("tok_test_mastercard_4444").await;
    assert_eq!(
        router_commands(&w),
        ["/ip/hotspot/user/add", "/ip/hotspot/user/enable"],
        "the enable goes to the .id this session's add returned"
    );
    check_invariants(&w).await;
}

#[actix_web::test]
async fn after_a_reconnect_the_enable_finds_its_user_by_name_and_comment() {
    // The router is cut (as a reboot does) while the charge runs: the user was created on a
    // session that is gone, so its `.id` proves nothing any more and the enable looks it up.
    let w = world().await;
    let (s, v) = w
        .conekta(&conekta_body(w.product.id, "tok_test_visa_4242"))
        .await;
    assert_eq!(s, 200, "{v}");
    w.sb.set_latency(Duration::from_millis(300));
    w.sim.record_wire(true);
    let charges_before = w.sb.requests("conekta").len();
    let cut = async {
        // The charge reached the gateway: the user was created (its reply is in).
        eventually("the charge at the gateway", || {
            w.sb.requests("conekta").len() > charges_before
        })
        .await;
        w.sim.drop_connections();
    };
    let body = conekta_body(w.product.id, "tok_test_mastercard_4444");
    let ((s, v), ()) = tokio::join!(w.conekta(&body), cut);
    assert_eq!(s, 200, "{v}");
    let cmds = router_commands(&w);
    assert_eq!(
        cmds,
        [
            "/ip/hotspot/user/add",
            "/ip/hotspot/user/print",
            "/ip/hotspot/user/enable"
        ],
        "{cmds:?}"
    );
    let users = w.sim.users();
    assert_eq!(users.len(), 2);
    assert!(users.iter().all(|u| !u.disabled), "{users:?}");
    check_invariants(&w).await;
}
