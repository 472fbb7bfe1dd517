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
