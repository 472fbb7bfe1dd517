//! The client against the in-process simulator: login methods, TLS, every typed command, trap
//! classification, `!empty` dialects, tags and strict serialisation.

use std::sync::Arc;
use std::time::Duration;

use pagos_hotspot::routeros::commands::{self, print};
use pagos_hotspot::routeros::dialect::msg;
use pagos_hotspot::routeros::{
    ActiveLogin, BindingType, Command, ConnectOptions, HotspotUserUpdate, LoginMethod,
    NewHotspotUser, NewIpBinding, RouterClient, RouterError, TlsMode,
};
use pagos_hotspot::sandbox::routeros_sim::{LoginMode, RouterSim, SimConfig};

const USER: &str = "api";
const PASS: &str = "s3cret";

fn sim_with(cfg: SimConfig) -> RouterSim {
    RouterSim::start(cfg).unwrap()
}

fn sim() -> RouterSim {
    sim_with(SimConfig::new(USER, PASS))
}

fn opts(sim: &RouterSim) -> ConnectOptions {
    let mut o = ConnectOptions::new("127.0.0.1", sim.addr().port(), USER, PASS);
    o.connect_timeout = Duration::from_secs(5);
    o.command_timeout = Duration::from_secs(5);
    o
}

async fn client(sim: &RouterSim) -> RouterClient {
    RouterClient::connect(&opts(sim)).await.unwrap()
}

fn guest(name: &str) -> NewHotspotUser {
    NewHotspotUser {
        name: name.into(),
        password: Some("0457".into()),
        profile: Some("1h".into()),
        limit_uptime: Some("01:00:00".into()),
        limit_bytes_total: None,
        mac_address: Some("aa:bb:cc:dd:ee:01".into()),
        server: None,
        comment: Some("venta 17".into()),
        disabled: Some(true),
    }
}

#[tokio::test]
async fn plain_login_and_system_info() {
    let sim = sim();
    let mut c = client(&sim).await;
    assert_eq!(sim.logins_ok(), 1);
    let res = c.system_resource().await.unwrap();
    assert_eq!(res.version.as_deref(), Some("7.18.2 (stable)"));
    assert!(res.uptime.is_some());
    assert!(res.board_name.is_some());
    assert_eq!(c.system_identity().await.unwrap(), "MikroTik");
    assert!(!c.is_broken());
}

#[tokio::test]
async fn wrong_password_is_auth_failed() {
    let sim = sim();
    let mut o = opts(&sim);
    o.password = "nope".into();
    let e = RouterClient::connect(&o).await.unwrap_err();
    assert_eq!(e, RouterError::AuthFailed(msg::LOGIN_FAILED.into()));
    assert!(e.is_session_fatal());
    assert_eq!(sim.logins_failed(), 1);
    assert_eq!(sim.logins_ok(), 0);
}

#[tokio::test]
async fn legacy_challenge_login_on_old_router() {
    let sim = sim_with(SimConfig::new(USER, PASS).version("6.40.9"));
    // Plain login against a pre-6.43 router sees a challenge: refused unless Auto/Legacy.
    let mut o = opts(&sim);
    let e = RouterClient::connect(&o).await.unwrap_err();
    assert!(matches!(e, RouterError::AuthFailed(_)), "{e:?}");

    o.login = LoginMethod::Legacy;
    let mut c = RouterClient::connect(&o).await.unwrap();
    assert_eq!(c.system_identity().await.unwrap(), "MikroTik");

    o.login = LoginMethod::Auto;
    let mut c = RouterClient::connect(&o).await.unwrap();
    assert!(c.user_profiles().await.unwrap().len() >= 4);

    o.password = "bad".into();
    let e = RouterClient::connect(&o).await.unwrap_err();
    assert_eq!(e, RouterError::AuthFailed(msg::LOGIN_FAILED_LEGACY.into()));
    assert_eq!(sim.logins_ok(), 2);
}

#[tokio::test]
async fn legacy_login_refused_on_modern_router() {
    // 6.45.1+: the bare /login still returns a challenge, the response is refused.
    let sim = sim();
    let mut o = opts(&sim);
    o.login = LoginMethod::Legacy;
    let e = RouterClient::connect(&o).await.unwrap_err();
    assert_eq!(e, RouterError::AuthFailed(msg::LOGIN_FAILED.into()));
    // Both methods on a 6.43–6.45.0 router.
    let mut cfg = SimConfig::new(USER, PASS).version("6.44.6");
    cfg.login_mode = Some(LoginMode::Both);
    let sim = sim_with(cfg);
    let mut o = opts(&sim);
    o.login = LoginMethod::Legacy;
    RouterClient::connect(&o).await.unwrap();
    o.login = LoginMethod::Plain;
    RouterClient::connect(&o).await.unwrap();
}

#[tokio::test]
async fn hotspot_user_lifecycle() {
    let sim = sim();
    let mut c = client(&sim).await;
    let id = c.hotspot_user_add(&guest("PT-0001")).await.unwrap();
    assert!(id.starts_with('*'), "{id}");

    let u = c.hotspot_user_find("PT-0001").await.unwrap().unwrap();
    assert_eq!(u.id, id);
    // Values stay strings: the leading zero survives.
    assert_eq!(u.password.as_deref(), Some("0457"));
    assert_eq!(u.profile.as_deref(), Some("1h"));
    assert_eq!(u.limit_uptime.as_deref(), Some("1h"));
    assert_eq!(u.mac_address.as_deref(), Some("AA:BB:CC:DD:EE:01"));
    assert_eq!(u.comment.as_deref(), Some("venta 17"));
    assert_eq!(u.server.as_deref(), Some("all"));
    assert!(u.disabled);

    c.hotspot_user_enable(&id).await.unwrap();
    assert!(!sim.users()[0].disabled);
    c.hotspot_user_disable(&id).await.unwrap();
    assert!(sim.users()[0].disabled);
    c.hotspot_user_set(
        &id,
        &HotspotUserUpdate {
            profile: Some("1d".into()),
            comment: Some("renovado".into()),
            disabled: Some(false),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let snap = &sim.users()[0];
    assert_eq!(snap.profile, "1d");
    assert_eq!(snap.comment.as_deref(), Some("renovado"));
    assert!(!snap.disabled);

    // Duplicate name: the router's exact text, classified.
    let e = c.hotspot_user_add(&guest("PT-0001")).await.unwrap_err();
    assert_eq!(e, RouterError::AlreadyExists(msg::USER_EXISTS.into()));
    assert!(!c.is_broken(), "a trap keeps the session");

    // Bad values.
    let mut bad = guest("PT-0002");
    bad.profile = Some("nope".into());
    assert_eq!(
        c.hotspot_user_add(&bad).await.unwrap_err(),
        RouterError::InvalidValue(msg::PROFILE_MISMATCH.into())
    );
    let mut bad = guest("PT-0002");
    bad.mac_address = Some("zz".into());
    assert_eq!(
        c.hotspot_user_add(&bad).await.unwrap_err(),
        RouterError::InvalidValue(msg::MAC_REQUIRED.into())
    );

    c.hotspot_user_remove(&id).await.unwrap();
    assert!(sim.users().is_empty());
    assert_eq!(
        c.hotspot_user_remove(&id).await.unwrap_err(),
        RouterError::NotFound(msg::NO_SUCH_ITEM.into())
    );
    assert!(c.hotspot_user_find("PT-0001").await.unwrap().is_none());
    assert!(!c.is_broken());
}

#[tokio::test]
async fn print_with_queries_and_proplist() {
    let sim = sim();
    let mut c = client(&sim).await;
    for (n, p) in [("a1", "1h"), ("a2", "1d"), ("a3", "1h")] {
        let mut u = guest(n);
        u.profile = Some(p.into());
        u.mac_address = None;
        c.hotspot_user_add(&u).await.unwrap();
    }
    let rows = c
        .hotspot_user_print(&[("profile", "1h")], Some(&[".id", "name"]))
        .await
        .unwrap();
    let names: Vec<_> = rows.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(names, ["a1", "a3"]);
    assert!(rows
        .iter()
        .all(|u| u.profile.is_none() && u.password.is_none()));

    // OR query through the generic run.
    let cmd = Command::new("/ip/hotspot/user/print")
        .proplist(&["name"])
        .query_eq("name", "a1")
        .query_eq("name", "a2")
        .query_ops("|");
    let r = c.run(&cmd, Duration::from_secs(2)).await.unwrap();
    assert_eq!(r.rows.len(), 2);
    assert!(r.rows.iter().all(|a| a.len() == 1));

    // count-only.
    let r = c
        .run(
            &Command::new("/ip/hotspot/user/print").flag("count-only"),
            Duration::from_secs(2),
        )
        .await
        .unwrap();
    assert_eq!(r.ret().as_deref(), Some("3"));

    // A property no row has gives bare !re rows.
    let r = c
        .run(
            &print(commands::USER, &[], Some(&["email"])),
            Duration::from_secs(2),
        )
        .await
        .unwrap();
    assert_eq!(r.rows.len(), 3);
    assert!(r.rows.iter().all(|a| a.is_empty()));
}

#[tokio::test]
async fn empty_dialects() {
    for (version, expect_empty) in [
        ("7.18.2", true),
        ("7.19.3", true),
        ("7.17.2", false),
        ("6.49.10", false),
    ] {
        let sim = sim_with(SimConfig::new(USER, PASS).version(version));
        let mut c = client(&sim).await;
        let r = c
            .run(
                &print(commands::USER, &[("name", "nobody")], None),
                Duration::from_secs(2),
            )
            .await
            .unwrap();
        assert!(r.rows.is_empty());
        assert_eq!(r.empty, expect_empty, "{version}");
        assert!(c.hotspot_user_find("nobody").await.unwrap().is_none());
    }
}

#[tokio::test]
async fn profiles_are_seeded() {
    let sim = sim();
    let mut c = client(&sim).await;
    let p = c.user_profiles().await.unwrap();
    let names: Vec<_> = p.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["default", "1h", "1d", "1w"]);
    assert!(p[0].default);
    let h = &p[1];
    assert_eq!(h.session_timeout.as_deref(), Some("1h"));
    assert_eq!(h.rate_limit.as_deref(), Some("2M/5M"));
    assert_eq!(h.shared_users.as_deref(), Some("1"));
    assert_eq!(p[3].session_timeout.as_deref(), Some("1w"));
}

#[tokio::test]
async fn ip_bindings() {
    let sim = sim();
    let mut c = client(&sim).await;
    let b = NewIpBinding {
        mac_address: Some("AA:BB:CC:00:00:01".into()),
        address: None,
        to_address: None,
        server: None,
        kind: BindingType::Bypassed,
        comment: Some("pago 9".into()),
    };
    let id = c.ip_binding_add(&b).await.unwrap();
    assert_eq!(sim.ip_bindings()[0].kind, "bypassed");
    let e = c.ip_binding_add(&b).await.unwrap_err();
    assert!(matches!(e, RouterError::AlreadyExists(_)), "{e:?}");
    let listed = c
        .ip_binding_print(&[("mac-address", "aa:bb:cc:00:00:01")])
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, id);
    let mut bad = b.clone();
    bad.mac_address = Some("x".into());
    assert_eq!(
        c.ip_binding_add(&bad).await.unwrap_err(),
        RouterError::InvalidValue(msg::MAC_REQUIRED.into())
    );
    let mut bad = b.clone();
    bad.mac_address = None;
    bad.address = Some("10.0.0".into());
    assert_eq!(
        c.ip_binding_add(&bad).await.unwrap_err(),
        RouterError::InvalidValue(msg::ADDRESS_RANGE.into())
    );
    c.ip_binding_remove(&id).await.unwrap();
    assert!(sim.ip_bindings().is_empty());
    assert!(matches!(
        c.ip_binding_remove(&id).await.unwrap_err(),
        RouterError::NotFound(_)
    ));
}

#[tokio::test]
async fn active_login_cookies_and_hosts() {
    let sim = sim();
    let host_id = sim.add_host("aa:bb:cc:00:00:09", "10.5.50.9");
    let mut c = client(&sim).await;
    let mut u = guest("PT-0009");
    u.mac_address = None;
    u.disabled = Some(false);
    c.hotspot_user_add(&u).await.unwrap();

    let hosts = c
        .host_print(&[("mac-address", "AA:BB:CC:00:00:09")])
        .await
        .unwrap();
    assert_eq!(hosts.len(), 1);
    assert_eq!(hosts[0].id, host_id);
    assert!(!hosts[0].authorized);

    let login = ActiveLogin {
        user: "PT-0009".into(),
        password: "wrong".into(),
        ip: "10.5.50.9".into(),
        mac_address: None,
    };
    let e = c.active_login(&login).await.unwrap_err();
    assert!(
        matches!(e, RouterError::Trap { ref message, .. } if message == msg::ACTIVE_BAD_CREDENTIALS),
        "{e:?}"
    );
    let e = c
        .active_login(&ActiveLogin {
            ip: "10.5.50.77".into(),
            ..login.clone()
        })
        .await
        .unwrap_err();
    assert!(e.is_trap());

    c.active_login(&ActiveLogin {
        password: "0457".into(),
        mac_address: Some("AA:BB:CC:00:00:09".into()),
        ..login.clone()
    })
    .await
    .unwrap();
    let act = c.active_print(&[("user", "PT-0009")]).await.unwrap();
    assert_eq!(act.len(), 1);
    assert_eq!(act[0].address.as_deref(), Some("10.5.50.9"));
    assert_eq!(act[0].mac_address.as_deref(), Some("AA:BB:CC:00:00:09"));
    assert_eq!(act[0].session_time_left.as_deref(), Some("1h"));
    assert_eq!(sim.active().len(), 1);
    assert!(c.host_print(&[]).await.unwrap()[0].authorized);

    let cookies = c.cookie_print(&[("user", "PT-0009")]).await.unwrap();
    assert_eq!(cookies.len(), 1);
    c.cookie_remove(&cookies[0].id).await.unwrap();
    assert!(sim.cookies().is_empty());
    assert!(matches!(
        c.cookie_remove(&cookies[0].id).await.unwrap_err(),
        RouterError::NotFound(_)
    ));

    c.active_remove(&act[0].id).await.unwrap();
    assert!(sim.active().is_empty());
    assert!(c.active_print(&[]).await.unwrap().is_empty());
    assert!(!c.is_broken());
}

#[tokio::test]
async fn unknown_command_two_traps() {
    let sim = sim();
    let mut c = client(&sim).await;
    let e = c
        .run(
            &Command::new("/ip/hotspot/nothing/print"),
            Duration::from_secs(2),
        )
        .await
        .unwrap_err();
    let RouterError::Trap { category, message } = &e else {
        panic!("{e:?}")
    };
    assert_eq!(*category, Some(0));
    assert!(
        message.contains(msg::NO_SUCH_COMMAND) && message.contains(msg::NO_SUCH_COMMAND_PREFIX)
    );
    assert!(!c.is_broken());
    // An invalid request is refused locally, without touching the session.
    let before = sim.commands_total();
    let e = c
        .run(
            &Command::new("/x").attr("bad=name", "v"),
            Duration::from_secs(1),
        )
        .await
        .unwrap_err();
    assert!(matches!(e, RouterError::InvalidValue(_)));
    assert_eq!(sim.commands_total(), before);
}

#[tokio::test]
async fn timed_out_command_is_cancelled_and_late_reply_discarded() {
    let sim = sim();
    sim.record_wire(true);
    let mut c = client(&sim).await;
    sim.set_latency_for("/ip/hotspot/user/add", Duration::from_millis(400));
    let start = std::time::Instant::now();
    let e = c
        .run(
            &commands::user_add(&guest("late")),
            Duration::from_millis(100),
        )
        .await
        .unwrap_err();
    assert_eq!(e, RouterError::Timeout);
    assert!(start.elapsed() < Duration::from_millis(400));
    assert!(!c.is_broken(), "one timeout keeps the session");
    // The next command first drains the cancelled one, then runs normally.
    assert_eq!(c.system_identity().await.unwrap(), "MikroTik");
    let log = sim.wire_log();
    assert!(
        log.iter()
            .any(|s| s.0[0].as_ref() == b"/cancel" && s.0.iter().any(|w| w.as_ref() == b"=tag=2")),
        "{log:?}"
    );
    // The add was applied (outcome unknown to the client): the idempotent check finds it.
    assert!(c.hotspot_user_find("late").await.unwrap().is_some());
    assert_eq!(sim.max_in_flight_per_connection(), 1);
}

#[tokio::test]
async fn strict_serialisation_observed_by_sim() {
    let sim = sim();
    sim.set_latency(Duration::from_millis(5));
    let mut c = client(&sim).await;
    for i in 0..20 {
        let mut u = guest(&format!("s{i}"));
        u.mac_address = None;
        c.hotspot_user_add(&u).await.unwrap();
    }
    assert_eq!(c.hotspot_user_print(&[], None).await.unwrap().len(), 20);
    assert_eq!(sim.max_in_flight_per_connection(), 1);
    assert_eq!(sim.in_flight(), 0);
}

#[tokio::test]
async fn sim_detects_pipelining() {
    use futures_util::SinkExt;
    use pagos_hotspot::routeros::ApiCodec;
    let sim = sim();
    sim.set_latency(Duration::from_millis(50));
    let tcp = tokio::net::TcpStream::connect(sim.addr()).await.unwrap();
    let mut f = tokio_util::codec::Framed::new(tcp, ApiCodec::new());
    for t in ["1", "2"] {
        let s = Command::new("/system/identity/print")
            .to_sentence(Some(t))
            .unwrap();
        f.send(s).await.unwrap();
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(2);
    while sim.max_in_flight_per_connection() < 2 && std::time::Instant::now() < deadline {
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    assert_eq!(sim.max_in_flight_per_connection(), 2);
}

#[tokio::test]
async fn max_sessions_enforced() {
    let mut cfg = SimConfig::new(USER, PASS);
    cfg.max_sessions = 2;
    let sim = sim_with(cfg);
    let a = client(&sim).await;
    let _b = client(&sim).await;
    let e = RouterClient::connect(&opts(&sim)).await.unwrap_err();
    assert!(e.is_session_fatal(), "{e:?}");
    assert_eq!(sim.connections_rejected(), 1);
    assert_eq!(sim.sessions_open(), 2);
    drop(a);
    let deadline = std::time::Instant::now() + Duration::from_secs(2);
    while sim.sessions_open() > 1 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    client(&sim).await;
    assert_eq!(sim.connections_opened(), 4);
}

fn tls_material() -> (Arc<rustls::ServerConfig>, Vec<u8>, [u8; 32]) {
    use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
    use sha2::Digest;
    let ck = rcgen::generate_simple_self_signed(vec!["router.local".to_string()]).unwrap();
    let der = ck.cert.der().clone();
    let fp: [u8; 32] = sha2::Sha256::digest(der.as_ref()).into();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(ck.signing_key.serialize_der()));
    let cfg = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![der], key)
    .unwrap();
    (Arc::new(cfg), ck.cert.pem().into_bytes(), fp)
}

#[tokio::test]
async fn tls_verify_and_pinning() {
    let (cfg, pem, fp) = tls_material();
    let mut sc = SimConfig::new(USER, PASS);
    sc.tls = Some(cfg);
    let sim = sim_with(sc);

    let mut o = opts(&sim);
    o.tls = TlsMode::Pinned {
        sha256_fingerprint: fp,
    };
    let mut c = RouterClient::connect(&o).await.unwrap();
    assert_eq!(c.system_identity().await.unwrap(), "MikroTik");

    o.tls = TlsMode::Pinned {
        sha256_fingerprint: [0u8; 32],
    };
    assert!(matches!(
        RouterClient::connect(&o).await.unwrap_err(),
        RouterError::Tls(_)
    ));

    o.tls = TlsMode::Verify {
        ca_pem: Some(pem.clone()),
        server_name: Some("router.local".into()),
    };
    let mut c = RouterClient::connect(&o).await.unwrap();
    assert!(!c.user_profiles().await.unwrap().is_empty());

    // Wrong name, and an unknown CA, fail verification.
    o.tls = TlsMode::Verify {
        ca_pem: Some(pem),
        server_name: Some("other.local".into()),
    };
    assert!(matches!(
        RouterClient::connect(&o).await.unwrap_err(),
        RouterError::Tls(_)
    ));
    o.tls = TlsMode::Verify {
        ca_pem: None,
        server_name: Some("router.local".into()),
    };
    assert!(matches!(
        RouterClient::connect(&o).await.unwrap_err(),
        RouterError::Tls(_)
    ));

    // Plain client against a TLS port: never logs in.
    o.tls = TlsMode::Plain;
    o.connect_timeout = Duration::from_millis(500);
    assert!(RouterClient::connect(&o).await.is_err());
}

/// The simulator runs inside an actix System too (the actor tests use it that way).
#[actix_web::test]
async fn works_inside_actix_system() {
    let sim = sim();
    let mut c = client(&sim).await;
    let id = c.hotspot_user_add(&guest("actix")).await.unwrap();
    c.hotspot_user_remove(&id).await.unwrap();
    assert_eq!(sim.logins_ok(), 1);
}

#[tokio::test]
async fn many_sims_are_cheap() {
    let sims: Vec<RouterSim> = (0..200).map(|_| sim()).collect();
    for s in sims.iter().step_by(40) {
        let mut c = client(s).await;
        assert_eq!(c.system_identity().await.unwrap(), "MikroTik");
    }
}

/// The session can move between tasks (the actor spawns work that owns it).
#[tokio::test]
async fn client_is_send_and_runs_in_spawned_task() {
    fn assert_send<T: Send + 'static>(_: &T) {}
    let sim = sim();
    let mut c = client(&sim).await;
    assert_send(&c);
    let handle = tokio::spawn(async move {
        let r = c
            .run(&commands::system_identity(), Duration::from_secs(2))
            .await;
        (c, r)
    });
    let (c, r) = handle.await.unwrap();
    assert_eq!(
        r.unwrap().rows[0].get_str("name").as_deref(),
        Some("MikroTik")
    );
    assert!(!c.is_broken());
}

#[tokio::test]
async fn sim_cancel_semantics_on_the_wire() {
    use futures_util::{SinkExt, StreamExt};
    use pagos_hotspot::routeros::{ApiCodec, Response};
    let sim = sim();
    let tcp = tokio::net::TcpStream::connect(sim.addr()).await.unwrap();
    let mut f = tokio_util::codec::Framed::new(tcp, ApiCodec::new());
    let next = async |f: &mut tokio_util::codec::Framed<tokio::net::TcpStream, ApiCodec>| {
        let s = tokio::time::timeout(Duration::from_secs(2), f.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        Response::parse(&s).unwrap()
    };
    let login = Command::new("/login")
        .attr("name", USER)
        .attr("password", PASS);
    f.send(login.to_sentence(Some("1")).unwrap()).await.unwrap();
    assert!(matches!(next(&mut f).await, Response::Done { tag: Some(t), .. } if t == "1"));

    sim.set_latency_for("/ip/hotspot/user/print", Duration::from_secs(5));
    let print = Command::new("/ip/hotspot/user/print");
    f.send(print.to_sentence(Some("2")).unwrap()).await.unwrap();
    let cancel = Command::new("/cancel").attr("tag", "2");
    f.send(cancel.to_sentence(Some("3")).unwrap())
        .await
        .unwrap();
    match next(&mut f).await {
        Response::Trap {
            tag,
            category,
            message,
            ..
        } => {
            assert_eq!(tag.as_deref(), Some("2"));
            assert_eq!(category, Some(2));
            assert_eq!(message, msg::INTERRUPTED);
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(next(&mut f).await, Response::Done { tag: Some(t), .. } if t == "2"));
    assert!(matches!(next(&mut f).await, Response::Done { tag: Some(t), .. } if t == "3"));
    assert_eq!(sim.in_flight(), 0);

    // /quit: !fatal with the real reason, then the router closes.
    f.send(Command::new("/quit").to_sentence(None).unwrap())
        .await
        .unwrap();
    assert_eq!(
        next(&mut f).await,
        Response::Fatal {
            reason: msg::SESSION_TERMINATED.into()
        }
    );
    let end = tokio::time::timeout(Duration::from_secs(2), f.next())
        .await
        .unwrap();
    assert!(end.is_none());
}

#[tokio::test]
async fn client_quit_closes_session() {
    let sim = sim();
    let mut c = client(&sim).await;
    assert_eq!(sim.sessions_open(), 1);
    c.quit().await;
    assert!(c.is_broken());
    let end = std::time::Instant::now() + Duration::from_secs(2);
    while sim.sessions_open() > 0 {
        assert!(std::time::Instant::now() < end, "session still open");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}
