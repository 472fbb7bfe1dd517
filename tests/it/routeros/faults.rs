//! The client against the simulator in every fault mode: each ends in a classified error within
//! its deadline, never a hang or a panic.

use std::future::Future;
use std::time::{Duration, Instant};

use pagos_hotspot::routeros::commands;
use pagos_hotspot::routeros::dialect::msg;
use pagos_hotspot::routeros::{Command, ConnectOptions, NewHotspotUser, RouterClient, RouterError};
use pagos_hotspot::sandbox::routeros_sim::{RouterSim, SimConfig};

const USER: &str = "api";
const PASS: &str = "s3cret";
/// Scheduling slack allowed past a deadline.
const SLACK: Duration = Duration::from_millis(400);

fn sim() -> RouterSim {
    RouterSim::start(SimConfig::new(USER, PASS)).unwrap()
}

fn opts(sim: &RouterSim) -> ConnectOptions {
    let mut o = ConnectOptions::new("127.0.0.1", sim.addr().port(), USER, PASS);
    o.connect_timeout = Duration::from_millis(800);
    o.command_timeout = Duration::from_millis(300);
    o
}

async fn client(sim: &RouterSim) -> RouterClient {
    RouterClient::connect(&opts(sim)).await.unwrap()
}

/// Runs `f`, asserting it finishes within `deadline + SLACK`; a hang fails the test.
async fn within<T>(deadline: Duration, f: impl Future<Output = T>) -> T {
    let start = Instant::now();
    let out = tokio::time::timeout(deadline + SLACK + SLACK, f)
        .await
        .expect("hung past its deadline");
    assert!(
        start.elapsed() <= deadline + SLACK,
        "took {:?} for a {deadline:?} deadline",
        start.elapsed()
    );
    out
}

async fn wait_for(what: &str, cond: impl Fn() -> bool) {
    let end = Instant::now() + Duration::from_secs(3);
    while !cond() {
        assert!(Instant::now() < end, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

fn identity() -> Command {
    commands::system_identity()
}

#[tokio::test]
async fn latency_past_deadline_is_timeout() {
    let sim = sim();
    let mut c = client(&sim).await;
    sim.set_latency(Duration::from_millis(600));
    let d = Duration::from_millis(150);
    let e = within(d, c.run(&identity(), d)).await.unwrap_err();
    assert_eq!(e, RouterError::Timeout);
    assert!(!c.is_broken());
    // Second timeout in a row (still waiting for the first): the session is given up.
    let e = within(d, c.run(&identity(), d)).await.unwrap_err();
    assert_eq!(e, RouterError::Timeout);
    assert!(c.is_broken());
    assert_eq!(
        c.run(&identity(), d).await.unwrap_err(),
        RouterError::Closed
    );
    // Latency under the deadline is fine on a new session.
    sim.set_latency(Duration::from_millis(20));
    let mut c = client(&sim).await;
    within(d, c.run(&identity(), d)).await.unwrap();
}

#[tokio::test]
async fn latency_on_login_is_connect_timeout() {
    let sim = sim();
    sim.set_latency_for("/login", Duration::from_secs(3));
    let o = opts(&sim);
    let e = within(o.connect_timeout, RouterClient::connect(&o))
        .await
        .unwrap_err();
    assert_eq!(e, RouterError::Timeout);
}

#[tokio::test]
async fn cut_mid_sentence_is_io_error() {
    let sim = sim();
    let mut c = client(&sim).await;
    sim.cut_next_reply_mid_sentence();
    let d = Duration::from_millis(500);
    let e = within(d, c.run(&identity(), d)).await.unwrap_err();
    assert!(matches!(e, RouterError::Io(_)), "{e:?}");
    assert!(e.is_session_fatal());
    assert!(c.is_broken());
    // The router itself is fine: reconnect works.
    let mut c = client(&sim).await;
    assert_eq!(c.system_identity().await.unwrap(), "MikroTik");
}

#[tokio::test]
async fn cut_mid_login_reply() {
    let sim = sim();
    sim.cut_next_reply_mid_sentence();
    let o = opts(&sim);
    let e = within(o.connect_timeout, RouterClient::connect(&o))
        .await
        .unwrap_err();
    assert!(matches!(e, RouterError::Io(_)), "{e:?}");
}

#[tokio::test]
async fn fatal_is_classified_and_breaks_session() {
    let sim = sim();
    let mut c = client(&sim).await;
    sim.fatal_next_with("out of memory");
    let d = Duration::from_millis(500);
    let e = within(d, c.run(&identity(), d)).await.unwrap_err();
    assert_eq!(e, RouterError::Fatal("out of memory".into()));
    assert!(c.is_broken());
    wait_for("session closed", || sim.sessions_open() == 0).await;
    assert_eq!(sim.in_flight(), 0);
}

#[tokio::test]
async fn fatal_on_login() {
    let sim = sim();
    sim.fatal_next();
    let o = opts(&sim);
    let e = within(o.connect_timeout, RouterClient::connect(&o))
        .await
        .unwrap_err();
    assert!(matches!(e, RouterError::Fatal(_)), "{e:?}");
}

#[tokio::test]
async fn command_before_login_is_fatal() {
    let sim = sim();
    let tcp = tokio::net::TcpStream::connect(sim.addr()).await.unwrap();
    let mut c = RouterClient::from_stream(tcp, &opts(&sim));
    let d = Duration::from_millis(500);
    let e = within(d, c.run(&identity(), d)).await.unwrap_err();
    assert_eq!(e, RouterError::Fatal(msg::NOT_LOGGED_IN.into()));
}

#[tokio::test]
async fn reboot_cuts_connections_keeps_config_resets_uptime() {
    let sim = sim();
    let host = sim.add_host("AA:00:00:00:00:01", "10.5.50.2");
    assert!(host.starts_with('*'));
    let mut c = client(&sim).await;
    c.hotspot_user_add(&NewHotspotUser {
        name: "keep".into(),
        password: Some("1".into()),
        ..Default::default()
    })
    .await
    .unwrap();
    c.active_login(&pagos_hotspot::routeros::ActiveLogin {
        user: "keep".into(),
        password: "1".into(),
        ip: "10.5.50.2".into(),
        mac_address: None,
    })
    .await
    .unwrap();
    assert_eq!(sim.active().len(), 1);
    wait_for("uptime", || sim.uptime() >= Duration::from_millis(20)).await;

    // Reboot while a command is in flight.
    sim.set_latency(Duration::from_millis(400));
    let ctl = sim.control();
    let rebooter = tokio::spawn(async move {
        let end = Instant::now() + Duration::from_secs(2);
        while ctl.in_flight() == 0 && Instant::now() < end {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        ctl.reboot();
    });
    let d = Duration::from_millis(1000);
    let e = within(d, c.run(&identity(), d)).await.unwrap_err();
    rebooter.await.unwrap();
    assert!(matches!(e, RouterError::Io(_)), "{e:?}");
    assert!(c.is_broken());
    sim.set_latency(Duration::ZERO);

    assert!(sim.uptime() < Duration::from_millis(20));
    assert_eq!(sim.users().len(), 1, "users survive a reboot");
    assert!(sim.active().is_empty(), "active sessions do not");
    assert!(sim.cookies().is_empty());
    let mut c = client(&sim).await;
    assert!(c.hotspot_user_find("keep").await.unwrap().is_some());
    assert_eq!(sim.logins_ok(), 2);
}

#[tokio::test]
async fn reboot_downtime_refuses_then_recovers() {
    let sim = sim();
    sim.reboot_with_downtime(Duration::from_millis(300));
    let o = opts(&sim);
    let e = within(o.connect_timeout, RouterClient::connect(&o))
        .await
        .unwrap_err();
    assert!(matches!(e, RouterError::Io(_)), "{e:?}");
    // Uptime counts from the end of the downtime, when connections are accepted again.
    wait_for("downtime over", || sim.uptime() > Duration::ZERO).await;
    let mut c = client(&sim).await;
    assert_eq!(c.system_identity().await.unwrap(), "MikroTik");
}

#[tokio::test]
async fn silence_on_connect_is_timeout() {
    let sim = sim();
    sim.set_silent(true);
    let o = opts(&sim);
    let e = within(o.connect_timeout, RouterClient::connect(&o))
        .await
        .unwrap_err();
    assert_eq!(e, RouterError::Timeout);
    assert_eq!(sim.connections_opened(), 1);
}

#[tokio::test]
async fn silence_on_session_times_out_then_breaks() {
    let sim = sim();
    let mut c = client(&sim).await;
    sim.set_silent(true);
    let d = Duration::from_millis(200);
    let e = within(d, c.run(&identity(), d)).await.unwrap_err();
    assert_eq!(e, RouterError::Timeout);
    let e = within(d, c.run(&identity(), d)).await.unwrap_err();
    assert_eq!(e, RouterError::Timeout);
    assert!(c.is_broken());
}

#[tokio::test]
async fn refused_credentials() {
    let sim = sim();
    sim.set_refuse_logins(true);
    let o = opts(&sim);
    let e = within(o.connect_timeout, RouterClient::connect(&o))
        .await
        .unwrap_err();
    assert_eq!(e, RouterError::AuthFailed(msg::LOGIN_FAILED.into()));
    sim.set_refuse_logins(false);
    client(&sim).await;
    // A password change on the router refuses the old one.
    sim.set_password("rotated");
    let e = RouterClient::connect(&o).await.unwrap_err();
    assert!(matches!(e, RouterError::AuthFailed(_)));
    let mut o2 = o.clone();
    o2.password = "rotated".into();
    RouterClient::connect(&o2).await.unwrap();
}

#[tokio::test]
async fn refused_tcp_is_io_error() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let o = ConnectOptions::new("127.0.0.1", port, USER, PASS);
    let e = within(o.connect_timeout, RouterClient::connect(&o))
        .await
        .unwrap_err();
    assert!(matches!(e, RouterError::Io(_)), "{e:?}");
}

#[tokio::test]
async fn garbage_from_router_is_protocol_error() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        let mut buf = [0u8; 256];
        let _ = s.read(&mut buf).await;
        // A reserved control byte where a length is expected.
        s.write_all(&[0xF8, 1, 2, 3]).await.unwrap();
        let _ = s.read(&mut buf).await;
    });
    let o = ConnectOptions::new("127.0.0.1", port, USER, PASS);
    let e = within(o.connect_timeout, RouterClient::connect(&o))
        .await
        .unwrap_err();
    assert!(matches!(e, RouterError::Protocol(_)), "{e:?}");
}

#[tokio::test]
async fn wrong_tag_from_router_is_protocol_error() {
    use futures_util::{SinkExt, StreamExt};
    use pagos_hotspot::routeros::{ApiCodec, Sentence};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let (s, _) = listener.accept().await.unwrap();
        let mut f = tokio_util::codec::Framed::new(s, ApiCodec::new());
        let _ = f.next().await;
        let s = Sentence::new().word(&b"!done"[..]).word(&b".tag=999"[..]);
        f.send(s).await.unwrap();
        let _ = f.next().await;
    });
    let o = ConnectOptions::new("127.0.0.1", port, USER, PASS);
    let e = RouterClient::connect(&o).await.unwrap_err();
    assert!(matches!(e, RouterError::Protocol(_)), "{e:?}");
}

#[tokio::test]
async fn handshake_latency_delays_each_new_session_but_not_its_commands() {
    // What `bench --connect-per-request` pays per command on a distant router: the handshake
    // round trip before the login, besides the login's and the command's own.
    let mut cfg = SimConfig::new(USER, PASS);
    cfg.connect_latency = Duration::from_millis(250);
    let sim = RouterSim::start(cfg).unwrap();
    let started = Instant::now();
    let mut c = client(&sim).await;
    let connect = started.elapsed();
    assert!(
        connect >= Duration::from_millis(250),
        "connect + login took {connect:?}"
    );
    // On the open session, no handshake: a command answers at once (no reply latency set).
    let d = Duration::from_millis(200);
    within(d, c.run(&identity(), d)).await.unwrap();
    assert_eq!(sim.connections_opened(), 1);
}
