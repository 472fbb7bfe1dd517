//! The router broker with `ROUTER_PIPELINE_DEPTH` > 1 (several tagged commands in flight on the
//! one session) against the in-process RouterOS simulator.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use crate::helpers::broker::{fast, scenario, setup, user};
use futures_util::future::join_all;
use pagos_hotspot::config::RouterSettings;
use pagos_hotspot::routeros::{BrokerError, RouterError, RouterState};
use serde_json::json;
use tokio::time::Instant;

/// Depth 4 and short timeouts.
fn piped() -> RouterSettings {
    RouterSettings {
        probe_interval: Duration::from_secs(30),
        queue_timeout: Duration::from_secs(10),
        pipeline_depth: 4,
        ..fast()
    }
}

/// The words of a received sentence, as text.
fn words(s: &pagos_hotspot::routeros::Sentence) -> Vec<String> {
    s.0.iter()
        .map(|w| String::from_utf8_lossy(w).into_owned())
        .collect()
}

type Boxed<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

#[actix_web::test]
async fn two_hundred_callers_pipelined_get_their_own_answers_on_one_session() {
    scenario::two_hundred_callers_get_their_own_answers(piped(), Duration::from_millis(20)).await;
}

#[actix_web::test]
async fn commands_on_one_user_never_overlap_and_run_in_arrival_order() {
    let s = setup(piped()).await;
    let reg = s.reg();
    // The actor is up, so each call below reaches it in the order it is first polled.
    reg.find_user(s.rid(), "warm-up").await.unwrap();
    let id = s.sim.seed_user("same", "pw", "default");
    s.sim.set_latency(Duration::from_millis(20));
    s.sim.record_wire(true);
    let rid = s.rid();
    const SAME: [&str; 7] = [
        "disable", "enable", "disable", "enable", "disable", "enable", "remove",
    ];
    let mut calls: Vec<Boxed<'_, Result<String, BrokerError>>> = Vec::new();
    for (i, verb) in SAME.iter().enumerate() {
        let id = id.clone();
        calls.push(Box::pin(async move {
            match *verb {
                "disable" => reg.disable_user(rid, &id).await,
                "enable" => reg.enable_user(rid, &id).await,
                _ => reg.remove_user(rid, &id).await,
            }
            .map(|()| verb.to_string())
        }));
        // Other users' commands in between, so the session does pipeline.
        for j in 0..3 {
            let name = format!("other-{i}-{j}");
            calls.push(Box::pin(
                async move { reg.create_user(rid, user(&name)).await },
            ));
        }
    }
    // Two adds of one name: the first wins, the second is refused — in that order.
    calls.push(Box::pin(
        async move { reg.create_user(rid, user("dup")).await },
    ));
    calls.push(Box::pin(
        async move { reg.create_user(rid, user("dup")).await },
    ));
    let results = join_all(calls).await;
    let n = results.len();
    for r in &results[..n - 1] {
        assert!(r.is_ok(), "{r:?}");
    }
    assert!(
        matches!(
            &results[n - 1],
            Err(BrokerError::Router(RouterError::AlreadyExists(_)))
        ),
        "{:?}",
        results[n - 1]
    );
    assert!(s.sim.users().iter().all(|u| u.name != "same"));
    assert_eq!(s.sim.users().iter().filter(|u| u.name == "dup").count(), 1);
    assert_eq!(
        s.sim.max_in_flight_per_user(),
        1,
        "same-user commands overlapped"
    );
    assert!(s.sim.max_in_flight_per_connection() > 1, "no pipelining");
    // On the wire, the commands on `same` arrived in the callers' order.
    let id_word = format!("=.id={id}");
    let seen: Vec<String> = s
        .sim
        .wire_log()
        .iter()
        .map(words)
        .filter(|w| w.contains(&id_word))
        .map(|w| w[0].trim_start_matches("/ip/hotspot/user/").to_string())
        .collect();
    assert_eq!(seen, SAME.to_vec());
    assert_eq!(s.sim.connections_opened(), 1);
}

#[actix_web::test]
async fn a_cut_with_commands_in_flight_is_outcome_unknown_for_each_and_recovers() {
    // Depth 4: four adds on the wire when the reply is cut, two more waiting behind them.
    scenario::a_reply_cut_mid_sentence(piped(), 2).await;
}

#[actix_web::test]
async fn a_command_that_never_answers_is_cancelled_while_the_others_complete() {
    let s = setup(piped()).await;
    let reg = s.reg();
    // The latency is there from the start, so the adaptive window measures its baseline with it
    // (a jump from 0 to 20 ms would read as a slower router and halve the window).
    s.sim.set_latency(Duration::from_millis(20));
    reg.find_user(s.rid(), "warm-up").await.unwrap();
    s.sim
        .set_latency_for("/ip/hotspot/user/add", Duration::from_secs(30));
    s.sim.record_wire(true);
    let rid = s.rid();
    let t0 = Instant::now();
    let slow = async {
        let r = reg.create_user(s.rid(), user("never")).await;
        (r, t0.elapsed())
    };
    let others = async {
        let reads = (0..12).map(|i| async move {
            if i % 3 == 0 {
                reg.list_profiles(rid).await.map(|p| p.len())
            } else {
                reg.find_user(rid, &format!("nobody{i}"))
                    .await
                    .map(|u| usize::from(u.is_some()))
            }
        });
        let r = join_all(reads).await;
        (r, t0.elapsed())
    };
    let ((slow_r, slow_t), (others_r, others_t)) = tokio::join!(slow, others);
    assert_eq!(slow_r, Err(BrokerError::OutcomeUnknown));
    assert!(slow_t >= Duration::from_millis(400), "{slow_t:?}");
    assert!(slow_t < Duration::from_millis(1500), "{slow_t:?}");
    for r in others_r {
        r.unwrap();
    }
    assert!(
        others_t < Duration::from_millis(400),
        "the others waited for the slow one: {others_t:?}"
    );
    // `/cancel =tag=<the add's tag>` went out.
    let log: Vec<Vec<String>> = s.sim.wire_log().iter().map(words).collect();
    let add_tag = log
        .iter()
        .find(|w| w[0] == "/ip/hotspot/user/add")
        .and_then(|w| {
            w.iter()
                .find_map(|x| x.strip_prefix(".tag=").map(str::to_string))
        })
        .unwrap();
    assert!(
        log.iter()
            .any(|w| w[0] == "/cancel" && w.contains(&format!("=tag={add_tag}"))),
        "{log:?}"
    );
    // The session survived the cancel and keeps working.
    s.sim.clear_latency_overrides();
    reg.create_user(s.rid(), user("after")).await.unwrap();
    assert_eq!(s.sim.connections_opened(), 1);
    assert!(s.sim.max_in_flight_per_connection() > 1);
    let st = reg.status(s.rid()).await.unwrap();
    assert_eq!(st.state, RouterState::Connected);
}

#[actix_web::test]
async fn pipelined_purchases_end_to_end_keep_the_invariants() {
    use crate::helpers::purchase::*;
    let w = world_with(|c| c.router.pipeline_depth = 4).await;
    w.sim.set_latency(Duration::from_millis(20));
    let mut tokens = Vec::new();
    for _ in 0..8 {
        tokens.push(mp_card_token(&w, "APRO").await);
    }
    let bodies: Vec<_> = tokens
        .iter()
        .map(|t| mp_body(w.product.id, t, 15.0))
        .collect();
    let buys = bodies.iter().map(|b| w.mp(b));
    let results = join_all(buys).await;
    let mut names = Vec::new();
    for (st, v) in &results {
        assert_eq!(*st, 200, "{v}");
        assert_eq!(v["estado_pago"], json!("approved"), "{v}");
        names.push(
            v["usuario_hotspot"]["usuario"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 8, "each purchase got its own user");
    let users = w.sim.users();
    for n in &names {
        assert!(users.iter().any(|u| &u.name == n && !u.disabled), "{n}");
    }
    assert_eq!(w.sim.connections_opened(), 1);
    assert_eq!(w.sim.max_in_flight_per_user(), 1);
    check_invariants(&w).await;
}

#[actix_web::test]
async fn pipelined_reboot_is_detected_and_recovered() {
    scenario::reboot_is_detected_and_recovered(piped()).await;
}

#[actix_web::test]
async fn a_pipelined_session_that_died_idle_is_replaced_before_a_changing_command() {
    scenario::a_session_that_died_idle_is_replaced_before_a_changing_command(piped()).await;
}

#[actix_web::test]
async fn pipelined_fatal_ends_in_recovery() {
    scenario::fatal_ends_in_recovery(piped()).await;
}

#[actix_web::test]
async fn a_pipelined_restart_mid_command_is_outcome_unknown_and_waiting_commands_move() {
    scenario::a_restart_mid_command(piped()).await;
}

#[actix_web::test]
async fn a_pipelined_revocation_leaves_the_user_no_way_in() {
    scenario::revoke_access_leaves_the_user_no_way_in(piped()).await;
}
