//! The router broker at its default settings: several tagged commands in flight on the one
//! session, as many as the adaptive window allows (at most `ROUTER_PIPELINE_DEPTH`, default 16),
//! against the in-process RouterOS simulator. The fault scenarios of `strict.rs` run here too.

use std::time::Duration;

use crate::helpers::broker::{adaptive, scenario, setup, Setup};
use futures_util::future::join_all;
use pagos_hotspot::config::RouterSettings;
use pagos_hotspot::routeros::{BrokerError, RouterError};
use serde_json::json;

/// `n` concurrent lookups; how many were refused with a `!trap` (anything else fails).
async fn round(s: &Setup, n: usize) -> usize {
    let (reg, rid) = (s.reg(), s.rid());
    let calls = (0..n).map(|i| async move { reg.find_user(rid, &format!("u{i}")).await });
    let mut trapped = 0;
    for r in join_all(calls).await {
        match r {
            Ok(None) => {}
            Err(BrokerError::Router(RouterError::Trap { .. })) => trapped += 1,
            other => panic!("{other:?}"),
        }
    }
    trapped
}

/// A distant router (20 ms each way): the window grows to fill the round trips.
async fn grown() -> Setup {
    let s = setup(adaptive()).await;
    s.sim.set_latency(Duration::from_millis(20));
    for _ in 0..3 {
        assert_eq!(round(&s, 100).await, 0);
    }
    s
}

#[test]
fn the_default_is_pipelined_with_at_most_sixteen_in_flight() {
    assert_eq!(RouterSettings::default().pipeline_depth, 16);
}

#[actix_web::test]
async fn by_default_several_commands_are_in_flight_on_one_session_and_the_window_grows() {
    let s = grown().await;
    let max = s.sim.max_in_flight_per_connection();
    // It started at 4 and grew while round trips dominated; never past the maximum.
    assert!((12..=16).contains(&max), "max in flight {max}");
    assert_eq!(s.sim.connections_opened(), 1);
    assert_eq!(s.sim.max_in_flight_per_user(), 1);
}

#[actix_web::test]
async fn the_window_shrinks_when_the_router_takes_longer_per_command() {
    let s = grown().await;
    let before = s.sim.max_in_flight_per_connection();
    assert!(before >= 12, "{before}");
    // The router now spends 20 ms of its own on each command, one at a time: beyond a few in
    // flight, commands only queue inside it.
    s.sim.set_service_time(Duration::from_millis(20));
    for _ in 0..3 {
        assert_eq!(round(&s, 40).await, 0);
    }
    s.sim.reset_max_in_flight();
    assert_eq!(round(&s, 40).await, 0);
    let after = s.sim.max_in_flight_per_connection();
    assert!(after <= before / 2, "{after} in flight (before: {before})");
    assert!(after >= 2, "{after}: still pipelined");
}

#[actix_web::test]
async fn the_window_shrinks_when_the_router_traps_under_load() {
    let s = grown().await;
    // Under load the router refuses a command arriving while 6 are in flight.
    s.sim.set_trap_over_in_flight(Some(6));
    let first = round(&s, 100).await;
    assert!(first > 0, "the router never trapped");
    for _ in 0..3 {
        round(&s, 100).await;
    }
    s.sim.reset_max_in_flight();
    let last = round(&s, 100).await;
    let max = s.sim.max_in_flight_per_connection();
    // At most one trapped command above the router's limit, and few traps once adapted: a
    // fixed window of 16 would have about 10 of every 16 commands refused (60 in a round);
    // the adapted window only probes past the limit now and then. (Not compared with the first
    // round: how many it trapped depends on how fast the window reacted within it.)
    assert!(max <= 7, "{max} in flight");
    assert!(last <= 10, "traps: first round {first}, last round {last}");
}

#[actix_web::test]
async fn two_hundred_callers_get_their_own_answers_at_the_default_depth() {
    scenario::two_hundred_callers_get_their_own_answers(adaptive(), Duration::from_millis(20))
        .await;
}

#[actix_web::test]
async fn a_router_restart_while_idle_refuses_no_purchase() {
    use crate::helpers::purchase::*;
    let w = world().await;
    let buy = || async {
        let token = mp_card_token(&w, "APRO").await;
        let (st, v) = w.mp(&mp_body(w.product.id, &token, 15.0)).await;
        assert_eq!(st, 200, "{v}");
        assert_eq!(v["estado_pago"], json!("approved"), "{v}");
    };
    buy().await;
    w.sim.reboot();
    for _ in 0..5 {
        buy().await;
    }
    assert_eq!(w.sim.connections_opened(), 2);
    check_invariants(&w).await;
}

#[actix_web::test]
async fn a_command_during_backoff_connects_at_once() {
    scenario::a_command_during_backoff_connects_at_once(adaptive()).await;
}

#[actix_web::test]
async fn on_demand_attempts_are_rate_limited_while_the_router_is_down() {
    scenario::on_demand_attempts_are_rate_limited_while_the_router_is_down(adaptive()).await;
}

#[actix_web::test]
async fn a_session_dropped_silently_is_replaced_on_use() {
    scenario::a_session_dropped_silently_is_replaced_on_use(adaptive()).await;
}

#[actix_web::test]
async fn reboot_is_detected_and_recovered() {
    scenario::reboot_is_detected_and_recovered(adaptive()).await;
}

#[actix_web::test]
async fn a_session_that_died_idle_is_replaced_before_a_changing_command() {
    scenario::a_session_that_died_idle_is_replaced_before_a_changing_command(adaptive()).await;
}

#[actix_web::test]
async fn a_reply_cut_mid_sentence_ends_in_recovery() {
    // Four adds on the wire (the initial window), two waiting behind them.
    scenario::a_reply_cut_mid_sentence(adaptive(), 2).await;
}

#[actix_web::test]
async fn a_silent_router_is_cancelled_then_reconnected() {
    scenario::a_silent_router_is_cancelled_then_reconnected(adaptive()).await;
}

#[actix_web::test]
async fn fatal_ends_in_recovery() {
    scenario::fatal_ends_in_recovery(adaptive()).await;
}

#[actix_web::test]
async fn wrong_password_marks_auth_failed_and_an_api_password_change_recovers() {
    scenario::wrong_password_marks_auth_failed_and_an_api_password_change_recovers(adaptive())
        .await;
}

#[actix_web::test]
async fn reconnect_intervals_grow_and_are_jittered() {
    scenario::reconnect_intervals_grow_and_are_jittered(adaptive()).await;
}

#[actix_web::test]
async fn a_restart_mid_command_is_outcome_unknown_and_queued_commands_move_to_the_new_actor() {
    scenario::a_restart_mid_command(adaptive()).await;
}

#[actix_web::test]
async fn a_revocation_leaves_the_user_no_way_in() {
    scenario::revoke_access_leaves_the_user_no_way_in(adaptive()).await;
}

#[actix_web::test]
async fn five_hundred_routers_down_and_back_do_not_storm() {
    scenario::five_hundred_routers_down_and_back_do_not_storm(adaptive()).await;
}
