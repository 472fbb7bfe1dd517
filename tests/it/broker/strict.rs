//! The router broker (one actor per router) against the in-process RouterOS simulator.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::helpers::broker::{fast, scenario, setup, state_of, user, wait_sim, SIM_PASS, SIM_USER};
use futures_util::future::join_all;
use pagos_hotspot::config::BrokerMode;
use pagos_hotspot::routeros::actor::{Backoff, RouterObserver};
use pagos_hotspot::routeros::{BrokerError, NewHotspotUser, RouterError, RouterState};
use pagos_hotspot::sandbox::routeros_sim::{RouterSim, SimConfig};
use sea_orm::{ActiveModelTrait, IntoActiveModel, Set};
use tokio::time::Instant;

#[actix_web::test]
async fn a_thousand_commands_use_exactly_one_session() {
    let s = setup(fast()).await;
    let reg = s.reg();
    for round in 0..10 {
        let calls =
            (0..100).map(|i| reg.find_user(s.rid(), if i % 2 == 0 { "nobody" } else { "x" }));
        for r in join_all(calls).await {
            assert_eq!(r.unwrap(), None, "round {round}");
        }
    }
    assert_eq!(s.sim.connections_opened(), 1);
    assert_eq!(s.sim.logins_ok(), 1);
    assert!(s.sim.commands_total() >= 1000);
    let st = reg.status(s.rid()).await.unwrap();
    assert_eq!(st.state, RouterState::Connected);
    assert!(st.commands_total >= 1000);
    assert!(st.router_version.unwrap().starts_with(s.sim.version()));
    assert!(st.avg_command_ms.is_some());
}

#[actix_web::test]
async fn two_hundred_concurrent_callers_get_their_own_answers_one_command_on_the_wire() {
    scenario::two_hundred_callers_get_their_own_answers(fast(), Duration::from_millis(1)).await;
}

#[actix_web::test]
async fn a_revocation_leaves_the_user_no_way_in() {
    scenario::revoke_access_leaves_the_user_no_way_in(fast()).await;
}

#[actix_web::test]
async fn callers_beyond_the_bound_get_busy_at_once() {
    let mut settings = fast();
    settings.mailbox_capacity = 8;
    settings.command_timeout = Duration::from_secs(2);
    let s = setup(settings).await;
    let reg = s.reg();
    reg.find_user(s.rid(), "warm").await.unwrap();
    s.sim.set_latency(Duration::from_millis(100));
    let timed = (0..100).map(|_| async {
        let t = Instant::now();
        let r = reg.find_user(s.rid(), "x").await;
        (r, t.elapsed())
    });
    let watcher = async {
        let mut max = 0;
        for _ in 0..40 {
            max = max.max(reg.status(s.rid()).await.unwrap().queue_depth);
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        max
    };
    let (results, max_depth) = tokio::join!(join_all(timed), watcher);
    let mut ok = 0;
    let mut busy = 0;
    for (r, took) in results {
        match r {
            Ok(None) => ok += 1,
            Err(BrokerError::Busy { retry_after_secs }) => {
                busy += 1;
                assert!(took < Duration::from_millis(250), "Busy took {took:?}");
                assert!((1..=30).contains(&retry_after_secs));
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(ok, 8, "exactly the queue's capacity is served");
    assert_eq!(busy, 92);
    assert!(max_depth <= 8, "queue grew to {max_depth}");
    assert!(max_depth >= 1);
    assert_eq!(s.sim.max_in_flight_per_connection(), 1);
}

#[actix_web::test]
async fn purchase_finishing_commands_are_never_refused_for_a_full_queue() {
    let mut settings = fast();
    settings.mailbox_capacity = 4;
    settings.command_timeout = Duration::from_secs(2);
    let s = setup(settings).await;
    let reg = s.reg();
    let id = reg
        .create_user(
            s.rid(),
            NewHotspotUser {
                name: "PT-PRIO1".into(),
                password: Some("1234".into()),
                profile: Some("default".into()),
                disabled: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    s.sim.set_latency(Duration::from_millis(50));
    // Flood the queue with lookups, then enable the (paid) user while it is full.
    let flood = (0..40).map(|_| reg.find_user(s.rid(), "x"));
    let enable = async {
        tokio::time::sleep(Duration::from_millis(20)).await;
        reg.enable_user(s.rid(), &id).await
    };
    let (results, enabled) = tokio::join!(join_all(flood), enable);
    let busy = results
        .iter()
        .filter(|r| matches!(r, Err(BrokerError::Busy { .. })))
        .count();
    assert!(busy > 0, "the queue really was full");
    assert_eq!(enabled, Ok(()), "the enable step went through");
    assert!(s
        .sim
        .users()
        .iter()
        .any(|u| u.name == "PT-PRIO1" && !u.disabled));
    assert_eq!(s.sim.max_in_flight_per_connection(), 1);
}

#[actix_web::test]
async fn reboot_is_detected_and_recovered() {
    scenario::reboot_is_detected_and_recovered(fast()).await;
}

#[actix_web::test]
async fn a_session_that_died_idle_is_replaced_before_a_changing_command() {
    scenario::a_session_that_died_idle_is_replaced_before_a_changing_command(fast()).await;
}

#[actix_web::test]
async fn a_reply_cut_mid_sentence_ends_in_recovery() {
    // Depth 1: the one add on the wire is cut; nothing waits behind it.
    scenario::a_reply_cut_mid_sentence(fast(), 0).await;
}

#[actix_web::test]
async fn a_silent_router_is_cancelled_then_reconnected() {
    scenario::a_silent_router_is_cancelled_then_reconnected(fast()).await;
}
#[actix_web::test]
async fn fatal_ends_in_recovery() {
    scenario::fatal_ends_in_recovery(fast()).await;
}

#[actix_web::test]
async fn wrong_password_marks_auth_failed_and_an_api_password_change_recovers() {
    scenario::wrong_password_marks_auth_failed_and_an_api_password_change_recovers(fast()).await;
}
#[actix_web::test]
async fn reconnect_intervals_grow_and_are_jittered() {
    scenario::reconnect_intervals_grow_and_are_jittered(fast()).await;
}
#[test]
fn backoff_schedule_doubles_with_jitter_and_caps() {
    let mut seen = std::collections::HashSet::new();
    for _ in 0..200 {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_secs(2));
        let d: Vec<Duration> = (0..8).map(|_| b.next_delay()).collect();
        for (i, v) in d.iter().enumerate() {
            let base = (100u64 << i).min(2000) as f64;
            let ms = v.as_secs_f64() * 1000.0;
            assert!(
                ms >= base * 0.5 - 1.0 && ms <= (base * 1.5).min(2000.0) + 1.0,
                "step {i}: {ms}"
            );
        }
        seen.insert(d[0]);
        b.reset();
        assert!(b.next_delay() <= Duration::from_millis(150));
    }
    assert!(seen.len() > 50, "no jitter");
}

#[actix_web::test]
async fn five_hundred_routers_down_and_back_do_not_storm() {
    scenario::five_hundred_routers_down_and_back_do_not_storm(fast()).await;
}
#[actix_web::test]
async fn a_disabled_router_is_refused_with_a_clear_error() {
    let s = setup(fast()).await;
    let reg = s.reg();
    reg.find_user(s.rid(), "x").await.unwrap();
    let mut m = s.tenant.router.clone().into_active_model();
    m.activo = Set(false);
    m.update(&s.app.db).await.unwrap();
    reg.router_changed(s.rid()).await;
    assert_eq!(
        reg.find_user(s.rid(), "x").await,
        Err(BrokerError::Disabled)
    );
    assert_eq!(state_of(reg, s.rid()).await, RouterState::Disabled);
    wait_sim(&s.sim, "session closed", Duration::from_secs(2), |sim| {
        sim.sessions_open() == 0
    })
    .await;
    let e: pagos_hotspot::error::ApiError = BrokerError::Disabled.into();
    assert_eq!(
        e.to_string(),
        "400 Bad Request: El router está inactivo. Actívalo primero desde el panel."
    );
    assert_eq!(
        reg.find_user("RTR_NOPE", "x").await,
        Err(BrokerError::UnknownRouter)
    );
}

#[actix_web::test]
async fn unchanged_settings_keep_the_session_and_a_host_change_restarts_it() {
    let s = setup(fast()).await;
    let reg = s.reg();
    reg.find_user(s.rid(), "x").await.unwrap();
    reg.router_changed(s.rid()).await;
    reg.find_user(s.rid(), "x").await.unwrap();
    assert_eq!(s.sim.connections_opened(), 1);
    let other = RouterSim::start(SimConfig::new(SIM_USER, SIM_PASS)).unwrap();
    let res = s
        .app
        .http
        .put(
            s.app
                .url(&format!("/api/v1/admin/mi-empresa/routers/{}", s.rid())),
        )
        .bearer_auth(&s.tenant.admin_token)
        .json(&serde_json::json!({"puerto": other.addr().port()}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    reg.create_user(s.rid(), user("moved")).await.unwrap();
    assert_eq!(other.users().len(), 1);
    assert!(s.sim.users().is_empty());
}

#[actix_web::test]
async fn a_restart_mid_command_is_outcome_unknown_and_queued_commands_move_to_the_new_actor() {
    scenario::a_restart_mid_command(fast()).await;
}

#[actix_web::test]
async fn an_idle_actor_stops_and_restarts_on_demand() {
    let mut settings = fast();
    settings.idle_timeout = Duration::from_millis(300);
    settings.probe_interval = Duration::from_millis(100);
    let s = setup(settings).await;
    let reg = s.reg();
    reg.find_user(s.rid(), "x").await.unwrap();
    assert_eq!(reg.running(), 1);
    wait_sim(&s.sim, "idle stop", Duration::from_secs(3), |sim| {
        reg.running() == 0 && sim.sessions_open() == 0
    })
    .await;
    assert_eq!(state_of(reg, s.rid()).await, RouterState::Idle);
    assert_eq!(reg.find_user(s.rid(), "x").await, Ok(None));
    assert_eq!(s.sim.connections_opened(), 2);
}

#[actix_web::test]
async fn the_probe_keeps_the_session_warm() {
    let mut settings = fast();
    settings.probe_interval = Duration::from_millis(50);
    let s = setup(settings).await;
    let reg = s.reg();
    reg.find_user(s.rid(), "x").await.unwrap();
    let after_first = s.sim.commands_total();
    wait_sim(&s.sim, "probes", Duration::from_secs(3), |sim| {
        sim.commands_total() >= after_first + 3
    })
    .await;
    assert_eq!(s.sim.connections_opened(), 1);
}

#[actix_web::test]
async fn traps_are_definite_and_keep_the_session() {
    let s = setup(fast()).await;
    let reg = s.reg();
    let id = reg.create_user(s.rid(), user("dup")).await.unwrap();
    let again = reg.create_user(s.rid(), user("dup")).await;
    assert!(
        matches!(
            again,
            Err(BrokerError::Router(RouterError::AlreadyExists(_)))
        ),
        "{again:?}"
    );
    reg.enable_user(s.rid(), &id).await.unwrap();
    assert!(!s.sim.users()[0].disabled);
    reg.disable_user(s.rid(), &id).await.unwrap();
    assert!(s.sim.users()[0].disabled);
    reg.remove_user(s.rid(), &id).await.unwrap();
    assert!(matches!(
        reg.remove_user(s.rid(), &id).await,
        Err(BrokerError::Router(RouterError::NotFound(_)))
    ));
    let profiles = reg.list_profiles(s.rid()).await.unwrap();
    assert!(profiles.iter().any(|p| p.name == "default"));
    assert_eq!(s.sim.connections_opened(), 1);
}

#[actix_web::test]
async fn mac_binding_and_active_login() {
    use pagos_hotspot::routeros::{ActiveLogin, BindingType, NewIpBinding};
    let s = setup(fast()).await;
    let reg = s.reg();
    let mac = "AA:BB:CC:DD:EE:01";
    let bid = reg
        .bind_mac(
            s.rid(),
            NewIpBinding {
                mac_address: Some(mac.into()),
                address: None,
                to_address: None,
                server: None,
                kind: BindingType::Bypassed,
                comment: Some("test".into()),
            },
        )
        .await
        .unwrap();
    assert_eq!(s.sim.ip_bindings()[0].id, bid);
    assert_eq!(reg.find_bindings(s.rid(), mac).await.unwrap().len(), 1);
    reg.create_user(
        s.rid(),
        NewHotspotUser {
            disabled: Some(false),
            ..user("guest")
        },
    )
    .await
    .unwrap();
    s.sim.add_host("AA:BB:CC:DD:EE:02", "10.5.50.10");
    reg.active_login(
        s.rid(),
        ActiveLogin {
            user: "guest".into(),
            password: "1234".into(),
            ip: "10.5.50.10".into(),
            mac_address: None,
        },
    )
    .await
    .unwrap();
    assert_eq!(s.sim.active().len(), 1);
}

#[derive(Default)]
struct Recorder {
    commands: Mutex<Vec<(String, &'static str, &'static str)>>,
    ups: AtomicUsize,
    downs: AtomicUsize,
}

impl RouterObserver for Recorder {
    fn command(&self, router_id: &str, command: &'static str, outcome: &'static str, _e: Duration) {
        self.commands
            .lock()
            .unwrap()
            .push((router_id.to_string(), command, outcome));
    }
    fn up(&self, _router_id: &str, up: bool) {
        if up {
            self.ups.fetch_add(1, Ordering::SeqCst);
        } else {
            self.downs.fetch_add(1, Ordering::SeqCst);
        }
    }
}

#[actix_web::test]
async fn metrics_hooks_are_called() {
    let s = setup(fast()).await;
    let rec = Arc::new(Recorder::default());
    s.reg().set_observer(rec.clone());
    s.reg().find_user(s.rid(), "x").await.unwrap();
    let _ = s.reg().remove_user(s.rid(), "*FFFF").await;
    let cmds = rec.commands.lock().unwrap().clone();
    assert!(
        cmds.contains(&(s.rid().to_string(), "find_user", "ok")),
        "{cmds:?}"
    );
    assert!(
        cmds.contains(&(s.rid().to_string(), "remove_user", "trap")),
        "{cmds:?}"
    );
    assert_eq!(rec.ups.load(Ordering::SeqCst), 1);
}

#[actix_web::test]
async fn connect_per_request_mode_logs_in_for_every_command() {
    let mut settings = fast();
    settings.mode = BrokerMode::ConnectPerRequest;
    let s = setup(settings).await;
    let reg = s.reg();
    for _ in 0..5 {
        assert_eq!(reg.find_user(s.rid(), "x").await, Ok(None));
    }
    assert_eq!(s.sim.connections_opened(), 5);
    assert_eq!(s.sim.logins_ok(), 5);
    assert_eq!(reg.running(), 0);
}

#[actix_web::test]
async fn commands_that_waited_too_long_in_the_queue_are_refused_unrun() {
    let mut settings = fast();
    settings.command_timeout = Duration::from_secs(2);
    settings.queue_timeout = Duration::from_millis(300);
    let s = setup(settings).await;
    let reg = s.reg();
    reg.find_user(s.rid(), "warm").await.unwrap();
    s.sim
        .set_latency_for("/ip/hotspot/user/add", Duration::from_millis(150));
    let names: Vec<String> = (0..6).map(|i| format!("q{i}")).collect();
    let results = join_all(names.iter().map(|n| reg.create_user(s.rid(), user(n)))).await;
    let users = s.sim.users();
    let mut refused = 0;
    for (name, r) in names.iter().zip(results) {
        match r {
            Ok(id) => assert!(users.iter().any(|u| &u.name == name && u.id == id)),
            Err(BrokerError::Busy { .. }) => {
                refused += 1;
                assert!(
                    users.iter().all(|u| &u.name != name),
                    "{name} was refused but ran"
                );
            }
            other => panic!("{other:?}"),
        }
    }
    assert!(refused >= 2, "only {refused} refused");
    assert!(refused <= 5, "the first command must run");
}

#[actix_web::test]
async fn a_command_during_backoff_connects_at_once() {
    scenario::a_command_during_backoff_connects_at_once(fast()).await;
}

#[actix_web::test]
async fn on_demand_attempts_are_rate_limited_while_the_router_is_down() {
    scenario::on_demand_attempts_are_rate_limited_while_the_router_is_down(fast()).await;
}

#[actix_web::test]
async fn a_session_dropped_silently_is_replaced_on_use() {
    scenario::a_session_dropped_silently_is_replaced_on_use(fast()).await;
}
