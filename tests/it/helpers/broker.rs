//! Shared harness of the router-broker suites (`broker/strict.rs` at pipeline depth 1,
//! `broker/pipeline.rs` at depth 4): the app, a RouterOS simulator and a tenant whose router points
//! at it, polling helpers, and the fault scenarios both suites run with their own settings.

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

    /// A `!fatal` reply: the command is refused as unavailable and the broker reconnects.
    pub async fn fatal_ends_in_recovery(settings: RouterSettings) {
        let s = setup(settings).await;
        let reg = s.reg();
        reg.find_user(s.rid(), "x").await.unwrap();
        s.sim.fatal_next();
        let r = reg.find_user(s.rid(), "x").await;
        assert!(matches!(r, Err(BrokerError::Unavailable { .. })), "{r:?}");
        wait_connected(&s, "reconnected after !fatal").await;
        assert_eq!(reg.find_user(s.rid(), "x").await, Ok(None));
        assert_eq!(s.sim.connections_opened(), 2);
    }

    /// As many adds as the depth allows are on the wire (plus `waiting` more behind them) when a
    /// reply is cut mid-sentence. Each add that was sent is `OutcomeUnknown` and did run on the
    /// router (the caller checks before compensating); each one still waiting is `Unavailable`
    /// and did not run. The broker reconnects once and works again.
    pub async fn a_reply_cut_mid_sentence(settings: RouterSettings, waiting: usize) {
        let depth = settings.pipeline_depth;
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
}
