#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The router broker with `ROUTER_PIPELINE_DEPTH` > 1 (several tagged commands in flight on the
//! one session) against the in-process RouterOS simulator.

mod common;
mod purchase_support;

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use common::{spawn_app_with, Tenant, TestApp};
use futures_util::future::join_all;
use pagos_hotspot::config::{BrokerMode, Config, RouterSettings};
use pagos_hotspot::routeros::{
    BrokerError, NewHotspotUser, RouterError, RouterRegistry, RouterState,
};
use pagos_hotspot::sandbox::routeros_sim::{RouterSim, SimConfig};
use serde_json::json;
use tokio::time::Instant;

const SIM_USER: &str = "api";
const SIM_PASS: &str = "router-pass";

/// Depth 4 and short timeouts.
fn piped() -> RouterSettings {
    RouterSettings {
        mailbox_capacity: 256,
        connect_timeout: Duration::from_millis(500),
        command_timeout: Duration::from_millis(400),
        idle_timeout: Duration::from_secs(60),
        probe_interval: Duration::from_secs(30),
        reconnect_initial: Duration::from_millis(20),
        reconnect_max: Duration::from_millis(300),
        auth_backoff_initial: Duration::from_secs(5),
        auth_backoff_max: Duration::from_secs(10),
        cancel_grace: Duration::from_millis(200),
        queue_timeout: Duration::from_secs(10),
        revalidate_after: Duration::from_secs(5),
        connect_concurrency: 8,
        mode: BrokerMode::Persistent,
        pipeline_depth: 4,
    }
}

struct Setup {
    app: TestApp,
    sim: RouterSim,
    tenant: Tenant,
}

impl Setup {
    fn reg(&self) -> &RouterRegistry {
        &self.app.state.routers
    }
    fn rid(&self) -> &str {
        &self.tenant.router.id
    }
}

async fn setup(settings: RouterSettings) -> Setup {
    let sim = RouterSim::start(SimConfig::new(SIM_USER, SIM_PASS)).unwrap();
    let app = spawn_app_with(move |c: &mut Config| c.router = settings).await;
    let tenant = app
        .tenant_with_router("Pipeline", "127.0.0.1", sim.addr().port())
        .await;
    Setup { app, sim, tenant }
}

/// Polls `cond` every 10 ms until it holds, failing after `limit`.
async fn wait_for<F, Fut>(what: &str, limit: Duration, mut cond: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let start = Instant::now();
    loop {
        if cond().await {
            return;
        }
        assert!(start.elapsed() < limit, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn wait_connected(s: &Setup, what: &str) {
    let reg = s.reg().clone();
    let id = s.rid().to_string();
    wait_for(what, Duration::from_secs(5), || {
        let reg = reg.clone();
        let id = id.clone();
        async move { reg.status(&id).await.unwrap().state == RouterState::Connected }
    })
    .await;
}

fn user(name: &str) -> NewHotspotUser {
    NewHotspotUser {
        name: name.into(),
        password: Some("1234".into()),
        profile: Some("default".into()),
        disabled: Some(true),
        ..Default::default()
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
    let s = setup(piped()).await;
    s.sim.set_latency(Duration::from_millis(20));
    let reg = s.reg();
    let rid = s.rid();
    let names: Vec<String> = (0..200).map(|i| format!("p{i:03}")).collect();
    let results = join_all(names.iter().map(|n| async move {
        let id = reg.create_user(rid, user(n)).await?;
        let found = reg.find_user(rid, n).await?;
        Ok::<_, BrokerError>((id, found))
    }))
    .await;
    let sim_users = s.sim.users();
    assert_eq!(sim_users.len(), 200);
    for (name, r) in names.iter().zip(results) {
        let (id, found) = r.unwrap();
        let on_router = sim_users.iter().find(|u| u.id == id).unwrap();
        assert_eq!(&on_router.name, name, "caller got another caller's id");
        let found = found.expect("the user just created");
        assert_eq!(&found.name, name, "caller got another caller's row");
        assert_eq!(found.id, id);
    }
    assert_eq!(s.sim.connections_opened(), 1, "exactly one session");
    assert_eq!(s.sim.logins_ok(), 1);
    let max = s.sim.max_in_flight_per_connection();
    assert!(max > 1 && max <= 4, "max in flight per connection: {max}");
    assert_eq!(s.sim.max_in_flight_per_user(), 1);
    let st = reg.status(s.rid()).await.unwrap();
    assert_eq!(st.state, RouterState::Connected);
    assert!(st.commands_total >= 400, "{}", st.commands_total);
    assert_eq!(st.queue_depth, 0);
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
    let s = setup(piped()).await;
    let reg = s.reg();
    reg.find_user(s.rid(), "warm-up").await.unwrap();
    s.sim
        .set_latency_for("/ip/hotspot/user/add", Duration::from_millis(300));
    let names: Vec<String> = (0..6).map(|i| format!("cut{i}")).collect();
    let adds = join_all(names.iter().map(|n| reg.create_user(s.rid(), user(n))));
    let cutter = async {
        let sim = s.sim.control();
        wait_for("4 adds in flight", Duration::from_secs(2), || {
            let sim = sim.clone();
            async move { sim.in_flight() == 4 }
        })
        .await;
        s.sim.cut_next_reply_mid_sentence();
    };
    let (results, ()) = tokio::join!(adds, cutter);
    let on_router: Vec<String> = s.sim.users().into_iter().map(|u| u.name).collect();
    let mut unknown = 0;
    for (name, r) in names.iter().zip(&results) {
        match r {
            // Sent: it did run on the router, but the caller cannot know.
            Err(BrokerError::OutcomeUnknown) => {
                unknown += 1;
                assert!(on_router.contains(name), "{name}");
            }
            // Never sent (waiting behind the depth when the session went).
            Err(BrokerError::Unavailable { .. }) => {
                assert!(
                    !on_router.contains(name),
                    "{name} ran but was reported unsent"
                );
            }
            other => panic!("{name}: {other:?}"),
        }
    }
    assert_eq!(unknown, 4, "{results:?}");
    s.sim.clear_latency_overrides();
    wait_connected(&s, "reconnected after the cut").await;
    let id = reg.create_user(s.rid(), user("after-cut")).await.unwrap();
    let found = reg.find_user(s.rid(), "after-cut").await.unwrap().unwrap();
    assert_eq!(found.id, id);
    assert_eq!(s.sim.connections_opened(), 2);
    assert_eq!(reg.status(s.rid()).await.unwrap().reconnects, 1);
}

#[actix_web::test]
async fn a_command_that_never_answers_is_cancelled_while_the_others_complete() {
    let s = setup(piped()).await;
    let reg = s.reg();
    reg.find_user(s.rid(), "warm-up").await.unwrap();
    s.sim.set_latency(Duration::from_millis(20));
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
    use purchase_support::*;
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
    let mut settings = piped();
    settings.probe_interval = Duration::from_millis(300);
    let s = setup(settings).await;
    let reg = s.reg();
    // Uptime has one-second resolution: let it pass 1 s so a reboot makes it go backwards.
    let sim = s.sim.control();
    wait_for("sim uptime >= 1.1 s", Duration::from_secs(3), || {
        let sim = sim.clone();
        async move { sim.uptime() >= Duration::from_millis(1100) }
    })
    .await;
    reg.find_user(s.rid(), "x").await.unwrap();
    s.sim.reboot();
    wait_for(
        "reconnected after reboot",
        Duration::from_secs(5),
        || async {
            let st = reg.status(s.rid()).await.unwrap();
            st.state == RouterState::Connected && st.reconnects >= 1
        },
    )
    .await;
    assert_eq!(reg.status(s.rid()).await.unwrap().reboots_detected, 1);
    assert!(reg.create_user(s.rid(), user("after-reboot")).await.is_ok());
    assert_eq!(s.sim.connections_opened(), 2);
}

#[actix_web::test]
async fn a_pipelined_session_that_died_idle_is_replaced_before_a_changing_command() {
    let mut settings = piped();
    settings.revalidate_after = Duration::from_millis(1);
    let s = setup(settings).await;
    let reg = s.reg();
    reg.find_user(s.rid(), "x").await.unwrap();
    s.sim.reboot();
    let sim = s.sim.control();
    wait_for("session cut", Duration::from_secs(2), || {
        let sim = sim.clone();
        async move { sim.sessions_open() == 0 }
    })
    .await;
    // Definite success, not "outcome unknown": nothing was sent into the dead session.
    let id = reg
        .create_user(s.rid(), user("after-idle-death"))
        .await
        .unwrap();
    assert_eq!(s.sim.users()[0].id, id);
    assert_eq!(s.sim.connections_opened(), 2);
    let st = reg.status(s.rid()).await.unwrap();
    assert_eq!(st.state, RouterState::Connected);
    assert_eq!(st.reconnects, 1);
}

#[actix_web::test]
async fn pipelined_fatal_ends_in_recovery() {
    let s = setup(piped()).await;
    let reg = s.reg();
    reg.find_user(s.rid(), "x").await.unwrap();
    s.sim.fatal_next();
    let r = reg.find_user(s.rid(), "x").await;
    assert!(matches!(r, Err(BrokerError::Unavailable { .. })), "{r:?}");
    wait_connected(&s, "reconnected after !fatal").await;
    assert_eq!(reg.find_user(s.rid(), "x").await, Ok(None));
    assert_eq!(s.sim.connections_opened(), 2);
}

#[actix_web::test]
async fn a_pipelined_restart_mid_command_is_outcome_unknown_and_waiting_commands_move() {
    let mut settings = piped();
    settings.command_timeout = Duration::from_secs(3);
    let s = setup(settings).await;
    let reg = s.reg();
    reg.find_user(s.rid(), "x").await.unwrap();
    s.sim
        .set_latency_for("/ip/hotspot/user/add", Duration::from_millis(400));
    let first = reg.create_user(s.rid(), user("slow"));
    // Same user: it waits for the add, unsent, when the actor restarts.
    let second = reg.find_user(s.rid(), "slow");
    let stopper = async {
        let sim = s.sim.control();
        wait_for("add in flight", Duration::from_secs(2), || {
            let sim = sim.clone();
            async move { sim.in_flight() == 1 }
        })
        .await;
        reg.stop(s.rid());
    };
    let (a, b, ()) = tokio::join!(first, second, stopper);
    assert_eq!(a, Err(BrokerError::OutcomeUnknown));
    // The waiting command never reached the old session: it ran on a new actor and sees the
    // add that did happen.
    let found = b.unwrap().expect("the add ran on the router");
    assert_eq!(found.name, "slow");
    assert_eq!(s.sim.connections_opened(), 2);
}
