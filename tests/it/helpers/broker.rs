//! Shared harness of the router-broker suites (`broker/strict.rs` at pipeline depth 1,
//! `broker/pipeline.rs` at a maximum of 4, `broker/adaptive.rs` at the default, adaptive, depth):
//! the app, a RouterOS simulator and a tenant whose router points at it, polling helpers, and the
//! fault scenarios every suite runs with its own settings.

use std::future::Future;
use std::time::Duration;

use futures_util::future::join_all;
use pagos_hotspot::config::{BrokerMode, Config, RouterSettings};
use pagos_hotspot::routeros::{
    ActiveLogin, BrokerError, NewHotspotUser, RouterRegistry, RouterState, RouterStatus,
};
use pagos_hotspot::sandbox::routeros_sim::{RouterSim, SimConfig, SimControl};
use tokio::time::Instant;

use crate::helpers::{spawn_app_with, Tenant, TestApp};

pub const SIM_USER: &str = "api";
pub const SIM_PASS: &str = "router-pass";

/// Depth 1 and short timeouts, so the fault tests stay fast.
pub fn fast() -> RouterSettings {
    RouterSettings {
        mailbox_capacity: 256,
        connect_timeout: Duration::from_millis(500),
        command_timeout: Duration::from_millis(400),
        idle_timeout: Duration::from_secs(60),
        probe_interval: Duration::from_millis(300),
        reconnect_initial: Duration::from_millis(20),
        reconnect_max: Duration::from_millis(300),
        auth_backoff_initial: Duration::from_secs(5),
        auth_backoff_max: Duration::from_secs(10),
        cancel_grace: Duration::from_millis(200),
        queue_timeout: Duration::from_secs(5),
        revalidate_after: Duration::from_secs(5),
        connect_concurrency: 8,
        mode: BrokerMode::Persistent,
        pipeline_depth: 1,
        // The simulator listens on 127.0.0.1.
        allow_loopback: true,
        reply_limits: Default::default(),
    }
}

/// [`fast`] at the default pipeline depth: pipelined, with the adaptive window.
pub fn adaptive() -> RouterSettings {
    RouterSettings {
        pipeline_depth: RouterSettings::default().pipeline_depth,
        ..fast()
    }
}

/// The window a new pipelined session starts with (`routeros::actor::INITIAL_WINDOW`), or 1.
pub fn initial_window(settings: &RouterSettings) -> usize {
    settings.pipeline_depth.min(4)
}

pub struct Setup {
    pub app: TestApp,
    pub sim: RouterSim,
    pub tenant: Tenant,
}

impl Setup {
    pub fn reg(&self) -> &RouterRegistry {
        &self.app.state.routers
    }
    pub fn rid(&self) -> &str {
        &self.tenant.router.id
    }
    /// The router's status as the broker reports it.
    pub async fn status(&self) -> RouterStatus {
        self.reg().status(self.rid()).await.unwrap()
    }
}

pub async fn setup_with(settings: RouterSettings, sim_cfg: SimConfig) -> Setup {
    let sim = RouterSim::start(sim_cfg).unwrap();
    let app = spawn_app_with(move |c: &mut Config| c.router = settings).await;
    let tenant = app
        .tenant_with_router("Broker", "127.0.0.1", sim.addr().port())
        .await;
    Setup { app, sim, tenant }
}

pub async fn setup(settings: RouterSettings) -> Setup {
    setup_with(settings, SimConfig::new(SIM_USER, SIM_PASS)).await
}

/// Polls `cond` every 10 ms until it holds, failing after `limit`.
pub async fn wait_for<F, Fut>(what: &str, limit: Duration, mut cond: F)
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

/// [`wait_for`] on the simulator's own state.
pub async fn wait_sim(
    sim: &SimControl,
    what: &str,
    limit: Duration,
    cond: impl Fn(&SimControl) -> bool,
) {
    wait_for(what, limit, || std::future::ready(cond(sim))).await;
}

pub async fn state_of(reg: &RouterRegistry, id: &str) -> RouterState {
    reg.status(id).await.unwrap().state
}

pub async fn wait_connected(s: &Setup, what: &str) {
    wait_for(what, Duration::from_secs(5), || async {
        s.status().await.state == RouterState::Connected
    })
    .await;
}

pub fn user(name: &str) -> NewHotspotUser {
    NewHotspotUser {
        name: name.into(),
        password: Some("1234".into()),
        profile: Some("default".into()),
        disabled: Some(true),
        ..Default::default()
    }
}

/// Scenarios both suites run, each with its own [`RouterSettings`] (and so its pipeline depth).
/// What differs by depth is checked against `settings.pipeline_depth`, explicitly.
pub mod scenario {
    use super::*;

    /// 200 concurrent callers each create a user and look it up: everyone gets their own answers,
    /// over one session, and no more commands are on the wire at once than the depth allows (at
    /// depth > 1, more than one: it does pipeline); never two on one user. `latency` is the
    /// simulator's delay before every reply.
    pub async fn two_hundred_callers_get_their_own_answers(
        settings: RouterSettings,
        latency: Duration,
    ) {
        let depth = settings.pipeline_depth;
        let s = setup(settings).await;
        s.sim.set_latency(latency);
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
        if depth == 1 {
            assert_eq!(max, 1, "max in flight per connection");
        } else {
            assert!(
                max > 1 && max <= depth,
                "max in flight per connection: {max}"
            );
        }
        assert_eq!(s.sim.max_in_flight_per_user(), 1);
        let st = s.status().await;
        assert_eq!(st.state, RouterState::Connected);
        assert!(st.commands_total >= 400, "{}", st.commands_total);
        assert_eq!(st.queue_depth, 0);
    }

    /// Revoking a user's access on the router: its user disabled, its active sessions and MAC
    /// cookies removed (a cookie left by a session that ended by itself included), the router's
    /// state read back; idempotent; another user, or a user of that name with another comment,
    /// untouched. The two removals also run alone.
    pub async fn revoke_access_leaves_the_user_no_way_in(settings: RouterSettings) {
        let s = setup(settings).await;
        let (reg, rid) = (s.reg(), s.rid());
        for (name, mac, ip) in [
            ("PT-REV1", "AA:BB:CC:00:00:01", "10.5.50.31"),
            ("PT-REV1", "AA:BB:CC:00:00:02", "10.5.50.32"),
            ("PT-KEEP", "AA:BB:CC:00:00:03", "10.5.50.33"),
        ] {
            if s.sim.users().iter().all(|u| u.name != name) {
                s.sim.seed_user(name, "1234", "1h");
            }
            s.sim.add_host(mac, ip);
            let login = ActiveLogin {
                user: name.into(),
                password: "1234".into(),
                ip: ip.into(),
                mac_address: Some(mac.into()),
            };
            reg.active_login(rid, login).await.unwrap();
        }
        // One device of PT-REV1 went away: its session ended, its cookie stays.
        assert_eq!(s.sim.end_session_keeping_cookie("10.5.50.32"), 1);
        let of = |name: &str| {
            let sessions = s.sim.active().iter().filter(|a| a.user == name).count();
            let cookies = s.sim.cookies().iter().filter(|c| c.user == name).count();
            let enabled = s.sim.users().iter().any(|u| u.name == name && !u.disabled);
            (sessions, cookies, enabled)
        };
        assert_eq!(of("PT-REV1"), (1, 2, true));

        let r = reg.revoke_access(rid, "PT-REV1", None).await.unwrap();
        assert!(r.is_complete(), "{r:?}");
        assert!(r.user_found && !r.foreign_user, "{r:?}");
        assert_eq!(r.sessions_removed, 1, "{r:?}");
        // Removing the session also dropped its own cookie [DOC]; the other one is removed here.
        assert_eq!(r.cookies_removed, 1, "{r:?}");
        assert_eq!(of("PT-REV1"), (0, 0, false));
        assert_eq!(of("PT-KEEP"), (1, 1, true));
        // Again: nothing left to do, still complete.
        let again = reg.revoke_access(rid, "PT-REV1", None).await.unwrap();
        assert!(again.is_complete() && again.sessions_removed + again.cookies_removed == 0);
        // A user gone entirely is no error either.
        let gone = reg.revoke_access(rid, "PT-NONE", None).await.unwrap();
        assert!(gone.is_complete() && !gone.user_found, "{gone:?}");
        // Someone else's user of that name (another comment) is left alone.
        let foreign = reg
            .revoke_access(rid, "PT-KEEP", Some("purchase:other"))
            .await
            .unwrap();
        assert!(foreign.foreign_user, "{foreign:?}");
        assert_eq!(of("PT-KEEP"), (1, 1, true));
        // The removals alone: cookies first (the session stays), then the session.
        assert_eq!(reg.remove_cookies(rid, "PT-KEEP").await.unwrap(), 1);
        assert_eq!(of("PT-KEEP"), (1, 0, true));
        assert_eq!(reg.remove_active_sessions(rid, "PT-KEEP").await.unwrap(), 1);
        assert_eq!(of("PT-KEEP"), (0, 0, true));
        assert_eq!(reg.remove_active_sessions(rid, "PT-KEEP").await.unwrap(), 0);
    }

    /// The router reboots: the uptime going backwards is detected, the broker reconnects and
    /// commands work again.
    pub async fn reboot_is_detected_and_recovered(mut settings: RouterSettings) {
        settings.probe_interval = Duration::from_millis(300);
        let s = setup(settings).await;
        let reg = s.reg();
        // Uptime has one-second resolution: let it pass 1 s so a reboot makes it go backwards.
        wait_sim(
            &s.sim,
            "sim uptime >= 1.1 s",
            Duration::from_secs(3),
            |sim| sim.uptime() >= Duration::from_millis(1100),
        )
        .await;
        reg.find_user(s.rid(), "x").await.unwrap();
        s.sim.reboot();
        wait_for(
            "reconnected after reboot",
            Duration::from_secs(5),
            || async {
                let st = s.status().await;
                st.state == RouterState::Connected && st.reconnects >= 1
            },
        )
        .await;
        assert_eq!(s.status().await.reboots_detected, 1);
        assert!(reg.create_user(s.rid(), user("after-reboot")).await.is_ok());
        assert_eq!(s.sim.connections_opened(), 2);
    }

    /// The session dies while idle; the next changing command revalidates it first, so it gets a
    /// definite success on a new session, not "outcome unknown".
    pub async fn a_session_that_died_idle_is_replaced_before_a_changing_command(
        mut settings: RouterSettings,
    ) {
        // The probe would find the dead session too; keep it out of the way.
        settings.probe_interval = Duration::from_secs(60);
        settings.revalidate_after = Duration::from_millis(1);
        let s = setup(settings).await;
        let reg = s.reg();
        reg.find_user(s.rid(), "x").await.unwrap();
        s.sim.reboot();
        wait_sim(&s.sim, "session cut", Duration::from_secs(2), |sim| {
            sim.sessions_open() == 0
        })
        .await;
        // Definite success: the dead session was detected before sending.
        let id = reg
            .create_user(s.rid(), user("after-idle-death"))
            .await
            .unwrap();
        assert_eq!(s.sim.users()[0].id, id);
        assert_eq!(s.sim.connections_opened(), 2);
        let st = s.status().await;
        assert_eq!(st.state, RouterState::Connected);
        assert_eq!(st.reconnects, 1);
    }

    /// A `!fatal` reply ends the session: the read that got it runs again on a new session and
    /// is answered (a read is safe to repeat); the broker is connected again.
    pub async fn fatal_ends_in_recovery(settings: RouterSettings) {
        let s = setup(settings).await;
        let reg = s.reg();
        reg.find_user(s.rid(), "x").await.unwrap();
        s.sim.fatal_next();
        assert_eq!(reg.find_user(s.rid(), "x").await, Ok(None));
        assert_eq!(s.sim.connections_opened(), 2);
        wait_connected(&s, "reconnected after !fatal").await;
        assert_eq!(reg.find_user(s.rid(), "x").await, Ok(None));
        assert_eq!(s.sim.connections_opened(), 2);
        assert_eq!(s.status().await.reconnects, 1);
    }

    /// As many adds as the window allows are on the wire (plus `waiting` more behind them) when a
    /// reply is cut mid-sentence. Each add that was sent is `OutcomeUnknown` and did run on the
    /// router (the caller checks before compensating); each one still waiting never reached the
    /// old session: it runs once on the new one, or is `Unavailable` and did not run. The broker
    /// reconnects once and works again.
    pub async fn a_reply_cut_mid_sentence(settings: RouterSettings, waiting: usize) {
        let depth = initial_window(&settings);
        let s = setup(settings).await;
        let reg = s.reg();
        reg.find_user(s.rid(), "warm-up").await.unwrap();
        s.sim
            .set_latency_for("/ip/hotspot/user/add", Duration::from_millis(300));
        let names: Vec<String> = (0..depth + waiting).map(|i| format!("cut{i}")).collect();
        let adds = join_all(names.iter().map(|n| reg.create_user(s.rid(), user(n))));
        let cutter = async {
            let what = format!("{depth} adds in flight");
            wait_sim(&s.sim, &what, Duration::from_secs(2), |sim| {
                sim.in_flight() == depth
            })
            .await;
            s.sim.cut_next_reply_mid_sentence();
        };
        let (results, ()) = tokio::join!(adds, cutter);
        let on_router: Vec<String> = s.sim.users().into_iter().map(|u| u.name).collect();
        let mut unknown = Vec::new();
        for (name, r) in names.iter().zip(&results) {
            match r {
                // Sent: it did run on the router, but the caller cannot know.
                Err(BrokerError::OutcomeUnknown) => {
                    unknown.push(name);
                    assert!(on_router.contains(name), "{name}");
                }
                // Never sent (waiting behind the depth when the session went).
                Err(BrokerError::Unavailable { .. }) => {
                    assert!(
                        !on_router.contains(name),
                        "{name} ran but was reported unsent"
                    );
                }
                // Waiting when the session went: ran once, on the new session.
                Ok(id) => {
                    let runs: Vec<_> = s
                        .sim
                        .users()
                        .into_iter()
                        .filter(|u| &u.name == name)
                        .collect();
                    assert_eq!(runs.len(), 1, "{name}");
                    assert_eq!(&runs[0].id, id);
                }
                other => panic!("{name}: {other:?}"),
            }
        }
        assert_eq!(unknown.len(), depth, "{results:?}");
        s.sim.clear_latency_overrides();
        wait_connected(&s, "reconnected after the cut").await;
        // What the caller sees when it checks before compensating: the add did run.
        for name in unknown {
            assert!(
                reg.find_user(s.rid(), name).await.unwrap().is_some(),
                "{name}"
            );
        }
        let id = reg.create_user(s.rid(), user("after-cut")).await.unwrap();
        let found = reg.find_user(s.rid(), "after-cut").await.unwrap().unwrap();
        assert_eq!(found.id, id);
        assert_eq!(s.sim.connections_opened(), 2);
        assert_eq!(s.status().await.reconnects, 1);
    }

    /// The actor restarts while an add is on the wire: the add is `OutcomeUnknown`; the commands
    /// waiting behind it never reached the old session and run once, on a new actor. A command on
    /// the same user waits at any depth; at depth 1 a command on another user waits too (at a
    /// greater depth it would be sent at once, so it is only sent at depth 1).
    pub async fn a_restart_mid_command(mut settings: RouterSettings) {
        settings.command_timeout = Duration::from_secs(3);
        let depth = settings.pipeline_depth;
        let s = setup(settings).await;
        let reg = s.reg();
        let rid = s.rid();
        reg.find_user(rid, "x").await.unwrap();
        s.sim
            .set_latency_for("/ip/hotspot/user/add", Duration::from_millis(400));
        let first = reg.create_user(rid, user("slow"));
        let same_user = reg.find_user(rid, "slow");
        let other_user = async {
            if depth == 1 {
                Some(reg.create_user(rid, user("queued")).await)
            } else {
                None
            }
        };
        let stopper = async {
            wait_sim(&s.sim, "add in flight", Duration::from_secs(2), |sim| {
                sim.in_flight() == 1
            })
            .await;
            reg.stop(rid);
        };
        let (a, b, c, ()) = tokio::join!(first, same_user, other_user, stopper);
        assert_eq!(a, Err(BrokerError::OutcomeUnknown));
        // The same-user command ran on the new actor and sees the add that did happen.
        let found = b.unwrap().expect("the add ran on the router");
        assert_eq!(found.name, "slow");
        if let Some(c) = c {
            // The other user's add ran once, on the new actor.
            let id = c.unwrap();
            let queued: Vec<_> = s
                .sim
                .users()
                .into_iter()
                .filter(|u| u.name == "queued")
                .collect();
            assert_eq!(queued.len(), 1);
            assert_eq!(queued[0].id, id);
        }
        assert_eq!(s.sim.connections_opened(), 2);
    }

    /// A router that stops answering: the command is cancelled and `OutcomeUnknown` within the
    /// deadline and grace; the session is dropped, attempts back off, and it recovers.
    pub async fn a_silent_router_is_cancelled_then_reconnected(settings: RouterSettings) {
        let s = setup(settings).await;
        let reg = s.reg();
        reg.find_user(s.rid(), "x").await.unwrap();
        s.sim.record_wire(true);
        s.sim.set_silent(true);
        let t = Instant::now();
        let r = reg.create_user(s.rid(), user("silent")).await;
        assert_eq!(r, Err(BrokerError::OutcomeUnknown));
        assert!(
            t.elapsed() < Duration::from_millis(1500),
            "took {:?}",
            t.elapsed()
        );
        let cancelled = s
            .sim
            .wire_log()
            .iter()
            .any(|sentence| sentence.0.first().is_some_and(|w| w.as_ref() == b"/cancel"));
        assert!(cancelled, "the timed-out command was not cancelled");
        // The router still does not answer: the session is dropped and re-attempts back off.
        wait_for("backing off", Duration::from_secs(3), || async {
            state_of(reg, s.rid()).await == RouterState::BackingOff
        })
        .await;
        s.sim.set_silent(false);
        wait_connected(&s, "reconnected after silence").await;
        reg.create_user(s.rid(), user("after-silence"))
            .await
            .unwrap();
    }

    /// Refused credentials: `auth_failed` with a long backoff, callers refused at once without
    /// another login (no on-demand attempt either), and a password change through the API recovers.
    pub async fn wrong_password_marks_auth_failed_and_an_api_password_change_recovers(
        settings: RouterSettings,
    ) {
        let s = setup(settings).await;
        let reg = s.reg();
        reg.find_user(s.rid(), "x").await.unwrap();
        s.sim.set_password("new-pass-1");
        s.sim.reboot();
        wait_for("auth_failed", Duration::from_secs(3), || async {
            state_of(reg, s.rid()).await == RouterState::AuthFailed
        })
        .await;
        let st = reg.status(s.rid()).await.unwrap();
        assert!(st.last_error.unwrap().contains("authentication"));
        // Much longer backoff than the 20-300 ms of connection failures.
        assert!(st.next_attempt_in_ms.unwrap() >= 1000);
        let failed = s.sim.logins_failed();
        let t = Instant::now();
        assert_eq!(
            reg.find_user(s.rid(), "x").await,
            Err(BrokerError::AuthFailed)
        );
        assert!(t.elapsed() < Duration::from_millis(250));
        assert_eq!(
            s.sim.logins_failed(),
            failed,
            "a refused router is not hammered"
        );

        // The admin fixes the password through the API: the actor restarts with it.
        let res = s
            .app
            .http
            .put(
                s.app
                    .url(&format!("/api/v1/admin/mi-empresa/routers/{}", s.rid())),
            )
            .bearer_auth(&s.tenant.admin_token)
            .json(&serde_json::json!({"password_encrypted": "new-pass-1"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(reg.find_user(s.rid(), "x").await, Ok(None));
        assert_eq!(state_of(reg, s.rid()).await, RouterState::Connected);
    }

    /// Two routers with nothing listening: background attempts double with jitter up to the cap,
    /// on different schedules; a caller is refused at once (an attempt ran within the last second).
    pub async fn reconnect_intervals_grow_and_are_jittered(settings: RouterSettings) {
        // A port with nothing listening: every attempt is refused at once.
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let app = spawn_app_with(move |c| c.router = settings).await;
        let a = app.tenant_with_router("A", "127.0.0.1", port).await;
        let b = app.tenant_with_router("B", "127.0.0.1", port).await;
        let reg = &app.state.routers;
        for t in [&a, &b] {
            let r = reg.find_user(&t.router.id, "x").await;
            assert!(matches!(r, Err(BrokerError::Unavailable { .. })), "{r:?}");
        }
        wait_for("7 attempts each", Duration::from_secs(5), || async {
            reg.attempt_times(&a.router.id).len() >= 7 && reg.attempt_times(&b.router.id).len() >= 7
        })
        .await;
        let gaps = |id: &str| -> Vec<Duration> {
            let t = reg.attempt_times(id);
            t.windows(2).map(|w| w[1] - w[0]).take(6).collect()
        };
        let (ga, gb) = (gaps(&a.router.id), gaps(&b.router.id));
        for g in [&ga, &gb] {
            // Doubling with ±50 % jitter: every second step is strictly longer until the cap.
            assert!(g[2] > g[0] && g[3] > g[1], "{g:?}");
            // Capped at 300 ms (plus scheduling slack).
            assert!(g.iter().all(|d| *d < Duration::from_millis(450)), "{g:?}");
            assert!(g[0] < Duration::from_millis(150), "{g:?}");
        }
        assert_ne!(ga, gb, "two routers follow the same schedule: no jitter");
        // While backing off, callers are refused at once.
        let t = Instant::now();
        let _ = reg.find_user(&a.router.id, "x").await;
        assert!(t.elapsed() < Duration::from_millis(200));
    }

    /// Settings for the reconnect-on-demand scenarios: background reconnects 5-15 s away (so
    /// only an on-demand attempt can serve a command soon) and a probe that notices a lost
    /// session within 100 ms.
    fn slow_background(mut settings: RouterSettings) -> RouterSettings {
        settings.reconnect_initial = Duration::from_secs(10);
        settings.reconnect_max = Duration::from_secs(30);
        settings.probe_interval = Duration::from_millis(100);
        settings
    }

    /// The router restarts (down 1.2 s) and the actor backs off; once the router accepts
    /// connections again, a command arriving long before the background attempt connects at once
    /// and runs.
    pub async fn a_command_during_backoff_connects_at_once(settings: RouterSettings) {
        let s = setup(slow_background(settings)).await;
        let (reg, rid) = (s.reg(), s.rid());
        reg.find_user(rid, "x").await.unwrap();
        s.sim.reboot_with_downtime(Duration::from_millis(1200));
        wait_for("backing off", Duration::from_secs(3), || async {
            state_of(reg, rid).await == RouterState::BackingOff
        })
        .await;
        wait_sim(&s.sim, "router up again", Duration::from_secs(5), |sim| {
            sim.uptime() > Duration::ZERO
        })
        .await;
        let st = s.status().await;
        assert_eq!(st.state, RouterState::BackingOff);
        let next = st.next_attempt_in_ms.unwrap();
        assert!(next >= 3000, "next background attempt in {next} ms");
        let t = Instant::now();
        let id = reg.create_user(rid, user("on-demand")).await.unwrap();
        assert!(
            t.elapsed() < Duration::from_secs(1),
            "took {:?}",
            t.elapsed()
        );
        assert!(s
            .sim
            .users()
            .iter()
            .any(|u| u.id == id && u.name == "on-demand"));
        assert_eq!(s.sim.logins_ok(), 2);
        let st = s.status().await;
        assert_eq!(st.state, RouterState::Connected);
        assert_eq!(st.reconnects, 1);
    }

    /// The router stays down: callers are refused promptly, and the attempts they trigger (seen
    /// by the simulator) are at most one a second.
    pub async fn on_demand_attempts_are_rate_limited_while_the_router_is_down(
        settings: RouterSettings,
    ) {
        let s = setup(slow_background(settings)).await;
        let (reg, rid) = (s.reg(), s.rid());
        reg.find_user(rid, "x").await.unwrap();
        s.sim.reboot_with_downtime(Duration::from_secs(60));
        wait_for("backing off", Duration::from_secs(3), || async {
            state_of(reg, rid).await == RouterState::BackingOff
        })
        .await;
        let before = s.sim.connections_opened();
        let start = Instant::now();
        let mut calls = 0;
        while start.elapsed() < Duration::from_millis(2500) {
            let t = Instant::now();
            let r = reg.find_user(rid, "x").await;
            assert!(matches!(r, Err(BrokerError::Unavailable { .. })), "{r:?}");
            assert!(
                t.elapsed() < Duration::from_millis(500),
                "{:?}",
                t.elapsed()
            );
            calls += 1;
            // A caller every 20 ms (load, not a wait for a condition).
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let attempts: Vec<Instant> = reg
            .attempt_times(rid)
            .into_iter()
            .filter(|t| *t >= start)
            .collect();
        assert!(calls > 50, "{calls}");
        assert!((2..=3).contains(&attempts.len()), "{attempts:?}");
        for w in attempts.windows(2) {
            assert!(w[1] - w[0] >= Duration::from_millis(990), "{attempts:?}");
        }
        assert_eq!(s.sim.connections_opened() - before, attempts.len());
    }

    /// The router drops the session without a word (no probe notices it in time): the next
    /// command of each kind finds it dead, gets a new session and runs — a change (a purchase's
    /// add), a lookup, the identity (`validar-empresa-router`), the resource, a host listing.
    pub async fn a_session_dropped_silently_is_replaced_on_use(mut settings: RouterSettings) {
        settings.probe_interval = Duration::from_secs(60);
        let s = setup(settings).await;
        let (reg, rid) = (s.reg(), s.rid());
        s.sim.add_host("AA:BB:CC:00:00:09", "10.5.50.9");
        reg.find_user(rid, "x").await.unwrap();
        let drop_all = || async {
            s.sim.drop_connections();
            wait_sim(&s.sim, "session dropped", Duration::from_secs(2), |sim| {
                sim.sessions_open() == 0
            })
            .await;
        };
        drop_all().await;
        let id = reg.create_user(rid, user("after-drop")).await.unwrap();
        assert!(s.sim.users().iter().any(|u| u.id == id));
        drop_all().await;
        let found = reg.find_user(rid, "after-drop").await.unwrap();
        assert_eq!(found.map(|u| u.id), Some(id));
        drop_all().await;
        assert_eq!(reg.identity(rid).await.unwrap(), "MikroTik");
        drop_all().await;
        assert!(reg.resource(rid).await.unwrap().uptime.is_some());
        drop_all().await;
        let host = reg.find_host(rid, "AA:BB:CC:00:00:09").await.unwrap();
        assert_eq!(host.map(|h| h.address), Some(Some("10.5.50.9".to_string())));
        assert_eq!(s.sim.connections_opened(), 6);
        assert_eq!(s.sim.logins_ok(), 6);
        let st = s.status().await;
        assert_eq!(st.state, RouterState::Connected);
    }

    /// 500 routers on one simulator go down for 500 ms and come back: every one reconnects,
    /// through the fleet-wide gate (at most 8 attempts at once), without a reconnect storm, and
    /// the first attempts after the outage are spread out.
    pub async fn five_hundred_routers_down_and_back_do_not_storm(base: RouterSettings) {
        let mut sim_cfg = SimConfig::new(SIM_USER, SIM_PASS);
        sim_cfg.max_sessions = 1000;
        let sim = RouterSim::start(sim_cfg).unwrap();
        let mut settings = base;
        settings.reconnect_initial = Duration::from_millis(100);
        settings.reconnect_max = Duration::from_millis(800);
        // Idle sessions learn of the outage from the probe.
        settings.probe_interval = Duration::from_millis(200);
        let app = spawn_app_with(move |c| c.router = settings).await;
        let empresa = app.insert_empresa("Fleet").await;
        let ids = app.routers_on(&empresa.id, sim.addr().port(), 500).await;
        let reg = &app.state.routers;
        for r in join_all(ids.iter().map(|id| reg.find_user(id, "x"))).await {
            assert_eq!(r.unwrap(), None);
        }
        assert_eq!(sim.connections_opened(), 500);
        let gate = reg.connect_gate();
        assert!(gate.max_in_flight() <= 8, "{}", gate.max_in_flight());
        let before = gate.attempts();

        let down_at = Instant::now();
        sim.reboot_with_downtime(Duration::from_millis(500));
        let all_up = || async {
            let fleet = reg.fleet_status().await.unwrap();
            fleet
                .iter()
                .filter(|f| f.status.state == RouterState::Connected && f.status.reconnects >= 1)
                .count()
                == 500
        };
        wait_for("all 500 back", Duration::from_secs(20), all_up).await;
        let attempts = gate.attempts() - before;
        assert!(gate.max_in_flight() <= 8, "{}", gate.max_in_flight());
        // 500 ms of downtime with a 100 ms doubling backoff: a handful of attempts per router.
        assert!(
            attempts <= 500 * 5,
            "{attempts} attempts: a reconnect storm"
        );
        // The first attempts after the outage are spread out, not all at the same instant.
        let firsts: Vec<Duration> = ids
            .iter()
            .filter_map(|id| reg.attempt_times(id).into_iter().find(|t| *t >= down_at))
            .map(|t| t - down_at)
            .collect();
        assert_eq!(firsts.len(), 500);
        let min = firsts.iter().min().unwrap();
        let max = firsts.iter().max().unwrap();
        assert!(
            *max - *min >= Duration::from_millis(40),
            "first attempts within {:?}",
            *max - *min
        );
        for r in join_all(ids.iter().take(50).map(|id| reg.find_user(id, "x"))).await {
            assert_eq!(r.unwrap(), None);
        }
        reg.stop_all();
    }
}
