//! A refund or chargeback after access was granted takes the access away on the router itself:
//! the hotspot user is disabled, its active sessions are logged out and its MAC cookies are
//! forgotten, all checked on the simulator's own state. A revocation the router interrupts is
//! finished by the reconciler. A partial refund keeps the access and records the refunded amount.

use std::time::Duration;

use serde_json::Value;

use crate::helpers::purchase::*;

const PHONE: (&str, &str) = ("AA:BB:CC:DD:EE:21", "10.5.50.21");
const LAPTOP: (&str, &str) = ("AA:BB:CC:DD:EE:22", "10.5.50.22");

/// Logs a device in with the purchase's credentials and checks the router shows its session.
async fn online(w: &World, user: &str, pass: &str, (mac, ip): (&str, &str)) {
    w.sim.add_host(mac, ip);
    let v = w.log_in_device(user, pass, mac, ip).await;
    assert_eq!(v["success"], true, "{v}");
    assert!(
        w.sim
            .active()
            .iter()
            .any(|a| a.user == user && a.address == ip),
        "{:?}",
        w.sim.active()
    );
}

fn sessions_of(w: &World, user: &str) -> usize {
    w.sim.active().iter().filter(|a| a.user == user).count()
}

fn cookies_of(w: &World, user: &str) -> usize {
    w.sim.cookies().iter().filter(|c| c.user == user).count()
}

/// A paid Conekta purchase: its order id, hotspot user name and password.
async fn conekta_purchase(w: &World) -> (String, String, String) {
    let (s, v) = w
        .conekta(&conekta_body(w.product.id, "tok_test_visa_4242"))
        .await;
    assert_eq!(s, 200, "{v}");
    let text = |v: &Value| v.as_str().unwrap().to_string();
    (
        text(&v["id_transaccion"]),
        text(&v["usuario_hotspot"]["usuario"]),
        text(&v["usuario_hotspot"]["contrasena"]),
    )
}

#[actix_web::test]
async fn a_refund_logs_every_device_out_and_forgets_their_cookies() {
    let w = world().await;
    let (_, pid) = mp_purchase_with_webhooks(&w).await;
    let u = w.sim.users().remove(0);
    // The laptop was online earlier: its session ended by itself, its MAC cookie stays (it
    // would log the laptop in again on its next visit). The phone is online now.
    online(&w, &u.name, &u.password, LAPTOP).await;
    assert_eq!(w.sim.end_session_keeping_cookie(LAPTOP.1), 1);
    online(&w, &u.name, &u.password, PHONE).await;
    assert_eq!((sessions_of(&w, &u.name), cookies_of(&w, &u.name)), (1, 2));

    assert_eq!(refund_and_await_notice(&w, pid).await, Some(200));
    assert_eq!(w.purchases().await[0].state, "revoked");
    // On the router: no session, no cookie, the user disabled.
    assert_eq!(sessions_of(&w, &u.name), 0, "{:?}", w.sim.active());
    assert_eq!(cookies_of(&w, &u.name), 0, "{:?}", w.sim.cookies());
    assert!(w.sim.users()[0].disabled);
    // The phone cannot come back with the same credentials.
    let v = w
        .log_in_device(&u.name, &u.password, PHONE.0, PHONE.1)
        .await;
    assert_ne!(v["success"], true, "{v}");
    assert_eq!(sessions_of(&w, &u.name), 0);
    check_invariants(&w).await;

    // The gateway repeats the notice: nothing changes, nothing fails.
    let status = w.sb.send_mp_webhook(pid, "payment.updated").await.unwrap();
    assert_eq!(status, Some(200));
    assert_eq!(w.purchases().await[0].state, "revoked");
}

#[actix_web::test]
async fn a_revocation_the_router_interrupts_is_finished_by_the_reconciler() {
    let w = world().await;
    let (order, user, pass) = conekta_purchase(&w).await;
    online(&w, &user, &pass, PHONE).await;
    conekta_refund_at_sandbox(&w, &order, 1500).await;
    // The router stops answering part-way through the revocation (its session listing hangs
    // past the command deadline).
    w.sim
        .set_latency_for("/ip/hotspot/active/print", Duration::from_secs(5));
    assert_eq!(
        conekta_notice(&w, &order, "order.refunded").await,
        Some(200)
    );
    // Not done: the phone is still online, so the purchase is not `revoked`.
    let p = w.purchases().await.remove(0);
    assert_eq!(p.state, "revoking", "{:?}", p.last_error);
    assert_eq!(sessions_of(&w, &user), 1);

    // The router answers again; the reconciler finishes the revocation.
    w.sim.clear_latency_overrides();
    let state = w.app.state.clone();
    w.reconcile_until(&state, |ps| ps[0].state == "revoked")
        .await;
    assert_eq!(sessions_of(&w, &user), 0, "{:?}", w.sim.active());
    assert_eq!(cookies_of(&w, &user), 0, "{:?}", w.sim.cookies());
    assert!(w.sim.users()[0].disabled);
    check_invariants(&w).await;
}

#[actix_web::test]
async fn a_partial_refund_keeps_the_access_and_records_the_refunded_amount() {
    let w = world().await;
    let (order, user, pass) = conekta_purchase(&w).await;
    online(&w, &user, &pass, PHONE).await;
    conekta_refund_at_sandbox(&w, &order, 500).await;
    assert_eq!(
        conekta_notice(&w, &order, "order.partially_refunded").await,
        Some(200)
    );
    assert_eq!(w.purchases().await[0].state, "completed");
    assert_eq!(sessions_of(&w, &user), 1);
    assert!(!w.sim.users()[0].disabled);
    // The payment history shows what was refunded.
    let v = w.transactions().await;
    let t = &v["transacciones"][0];
    assert_eq!(t["monto"], 15.0, "{v}");
    assert_eq!(t["monto_reembolsado"], 5.0, "{v}");
    assert_eq!(t["estado_pago"], "partially_refunded", "{v}");
    check_invariants(&w).await;
}

#[actix_web::test]
async fn a_refund_whose_notice_never_came_is_found_by_the_refund_check() {
    use pagos_hotspot::purchase::refund_check::{check_once, Cursor};
    // One gateway read a pass, to see the cursor move through the completed purchases.
    let w = world_with(|c| c.purchase.refund_check_max_reads = 1).await;
    let mut pids = vec![];
    for _ in 0..2 {
        let token = mp_card_token(&w, "APRO").await;
        let (s, v) = w.mp(&mp_body(w.product.id, &token, 15.0)).await;
        assert_eq!(s, 200, "{v}");
        pids.push(v["mercado_pago"]["payment_id"].as_i64().unwrap());
    }
    // The second payment is refunded in the merchant's panel; no notice reaches the service.
    refund_at_sandbox(&w, pids[1]).await;
    assert!(w.sb.webhooks_sent().is_empty());
    let state = w.app.state.clone();
    let mut cursor = Cursor::default();
    let first = check_once(&state, &mut cursor).await;
    assert_eq!(
        (first.read, first.revoked),
        (1, 0),
        "the first purchase is still paid"
    );
    let second = check_once(&state, &mut cursor).await;
    assert_eq!((second.read, second.revoked), (1, 1));
    let purchases = w.purchases().await;
    let states: Vec<_> = purchases.iter().map(|p| p.state.as_str()).collect();
    assert_eq!(
        states.iter().filter(|s| **s == "revoked").count(),
        1,
        "{states:?}"
    );
    let users = w.sim.users();
    assert_eq!(users.iter().filter(|u| u.disabled).count(), 1, "{users:?}");
    // Past the last purchase, the check starts over from the window's start.
    let third = check_once(&state, &mut cursor).await;
    assert_eq!(third.read, 0, "the end of the window");
    let fourth = check_once(&state, &mut cursor).await;
    assert_eq!(
        (fourth.read, fourth.revoked),
        (1, 0),
        "the remaining completed purchase"
    );
    check_invariants(&w).await;
}
