//! A RouterOS API simulator: a stateful hotspot model behind the real wire protocol, with fault
//! injection for tests.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use pagos_hotspot::sandbox::routeros_sim::{RouterSim, SimConfig};
//! let sim = RouterSim::start(SimConfig::new("admin", "secret"))?;
//! println!("{}", sim.addr());
//! sim.set_latency(std::time::Duration::from_millis(50));
//! # Ok(()) }
//! ```
//!
//! Cheap: one accept task per simulator plus one task per open connection; the state is a
//! `Mutex` held only while a command executes.

mod conn;
mod control;
mod direct;
mod model;
mod query;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::time::Instant;

use crate::routeros::codec::Sentence;
use crate::routeros::dialect::{self, parse_version};

pub use model::{default_seed_profiles, SeedProfile};

/// Which login methods the simulated router accepts (derived from the version by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginMode {
    /// Pre-6.43: every `/login` gets a challenge; only the MD5 response logs in.
    LegacyOnly,
    /// 6.43 to 6.45.0: plain login, and the challenge for a bare `/login`.
    Both,
    /// 6.45.1 and later: plain login; a bare `/login` still returns `=ret=` but the response is
    /// refused (6.47.6 capture; `[UNVERIFIED]` on v7).
    PlainOnly,
}

impl LoginMode {
    /// The mode a router of this version has.
    pub fn for_version(version: &str) -> Self {
        match parse_version(version) {
            Some(v) if v < dialect::PLAIN_LOGIN_SINCE => LoginMode::LegacyOnly,
            Some(v) if v < dialect::LEGACY_LOGIN_REMOVED => LoginMode::Both,
            _ => LoginMode::PlainOnly,
        }
    }
}

/// How to start a simulator.
#[derive(Clone)]
pub struct SimConfig {
    pub listen: SocketAddr,
    pub user: String,
    pub password: String,
    /// RouterOS version, e.g. `7.18.2` (sends `!empty`) or `6.49.10` (does not).
    pub version: String,
    /// `None`: derived from `version`.
    pub login_mode: Option<LoginMode>,
    /// Latency added to every reply.
    pub latency: Duration,
    /// Latency of the TCP handshake: a new connection is served (its first sentence read) only
    /// this long after it was accepted, as the SYN / SYN-ACK round trip delays a client's first
    /// write on a real network. Zero by default; the benchmark sets it to the round trip.
    pub connect_latency: Duration,
    /// The `api` service's `max-sessions`.
    pub max_sessions: usize,
    pub identity: String,
    pub board_name: String,
    /// Profiles besides `default`.
    pub profiles: Vec<SeedProfile>,
    /// Serve API-SSL with this configuration instead of plain TCP.
    pub tls: Option<Arc<rustls::ServerConfig>>,
}

impl SimConfig {
    /// 127.0.0.1:0, version 7.18.2, no latency, max-sessions 20, the default seed profiles.
    pub fn new(user: impl Into<String>, password: impl Into<String>) -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            user: user.into(),
            password: password.into(),
            version: DEFAULT_VERSION.into(),
            login_mode: None,
            latency: Duration::ZERO,
            connect_latency: Duration::ZERO,
            max_sessions: dialect::DEFAULT_MAX_SESSIONS,
            identity: "MikroTik".into(),
            board_name: "hAP ax^2".into(),
            profiles: default_seed_profiles(),
            tls: None,
        }
    }

    /// Builder: version.
    pub fn version(mut self, v: impl Into<String>) -> Self {
        self.version = v.into();
        self
    }
}

impl std::fmt::Debug for SimConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimConfig")
            .field("listen", &self.listen)
            .field("user", &self.user)
            .field("version", &self.version)
            .field("max_sessions", &self.max_sessions)
            .field("tls", &self.tls.is_some())
            .finish_non_exhaustive()
    }
}

/// Default simulated version: the first with `!empty`.
pub const DEFAULT_VERSION: &str = "7.18.2";

#[derive(Default)]
pub(crate) struct Faults {
    pub latency: Duration,
    pub connect_latency: Duration,
    pub latency_by_path: HashMap<String, Duration>,
    pub cut_next_reply: bool,
    pub fatal_next: Option<String>,
    /// The next command on this path answers `!trap` with this message (and changes nothing).
    pub trap_next: Option<(String, String)>,
    pub silent: bool,
    pub refuse_logins: bool,
    pub user: String,
    pub password: String,
    pub max_sessions: usize,
    pub down_until: Option<Instant>,
    /// The router's own time per command: commands are worked on one at a time (across all
    /// connections), each taking this long, before the latency.
    pub service_time: Duration,
    /// When the router's "CPU" is free again (with `service_time`).
    pub cpu_free_at: Option<Instant>,
    /// A command arriving while this many are in flight on its connection gets a `!trap`.
    pub trap_over_in_flight: Option<usize>,
}

#[derive(Default)]
pub(crate) struct Counters {
    pub connections_opened: AtomicUsize,
    pub connections_rejected: AtomicUsize,
    pub sessions_open: AtomicUsize,
    pub logins_ok: AtomicUsize,
    pub logins_failed: AtomicUsize,
    pub commands_total: AtomicUsize,
    pub in_flight: AtomicUsize,
    pub max_in_flight_per_connection: AtomicUsize,
    /// The most commands on one hotspot user ever in flight at once on one connection.
    pub max_in_flight_per_user: AtomicUsize,
    /// Time with at least one command in flight (the router "busy"), for the benchmark.
    pub busy: Mutex<BusyClock>,
}

/// Accumulates the time during which the router had at least one command in flight.
#[derive(Default)]
pub(crate) struct BusyClock {
    depth: usize,
    since: Option<Instant>,
    total: Duration,
}

impl Counters {
    /// `n` commands became in flight.
    pub fn in_flight_add(&self, n: usize) {
        self.in_flight.fetch_add(n, Ordering::SeqCst);
        let mut b = self.busy.lock().unwrap_or_else(|e| e.into_inner());
        if b.depth == 0 && n > 0 {
            b.since = Some(Instant::now());
        }
        b.depth += n;
    }

    /// `n` commands were answered (or dropped with their connection).
    pub fn in_flight_sub(&self, n: usize) {
        self.in_flight.fetch_sub(n, Ordering::SeqCst);
        let mut b = self.busy.lock().unwrap_or_else(|e| e.into_inner());
        b.depth = b.depth.saturating_sub(n);
        if b.depth == 0 {
            if let Some(t) = b.since.take() {
                b.total += t.elapsed();
            }
        }
    }

    /// Busy time so far (including the current busy stretch).
    pub fn busy_time(&self) -> Duration {
        let b = self.busy.lock().unwrap_or_else(|e| e.into_inner());
        b.total + b.since.map_or(Duration::ZERO, |t| t.elapsed())
    }
}

pub(crate) struct Shared {
    pub state: Mutex<model::State>,
    pub faults: Mutex<Faults>,
    pub counters: Counters,
    pub boot: Mutex<Instant>,
    /// Bumped to cut every connection (reboot, shutdown).
    pub epoch: tokio::sync::watch::Sender<u64>,
    pub version: String,
    pub board_name: String,
    pub login_mode: LoginMode,
    pub wire_log: Mutex<Option<Vec<Sentence>>>,
}

impl Shared {
    pub fn faults_flag(&self, f: impl Fn(&Faults) -> bool) -> bool {
        f(&self.faults.lock().unwrap_or_else(|e| e.into_inner()))
    }

    pub fn faults_take<T>(&self, f: impl FnOnce(&mut Faults) -> T) -> T {
        f(&mut self.faults.lock().unwrap_or_else(|e| e.into_inner()))
    }

    pub fn uptime(&self) -> Duration {
        self.boot
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .elapsed()
    }
}

/// A hotspot user as stored by the simulator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimUser {
    pub id: String,
    pub name: String,
    pub password: String,
    pub profile: String,
    pub server: String,
    pub disabled: bool,
    pub comment: Option<String>,
    pub mac_address: Option<String>,
    pub limit_uptime: Option<String>,
    pub limit_bytes_total: Option<String>,
    /// Total logged-in time, as RouterOS prints it (`1h30m`).
    pub uptime: String,
}

/// An active session as stored by the simulator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimActive {
    pub id: String,
    pub user: String,
    pub address: String,
    pub mac_address: String,
    pub uptime: String,
}

/// An ip-binding as stored by the simulator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimBinding {
    pub id: String,
    pub mac_address: Option<String>,
    pub address: Option<String>,
    pub kind: String,
    pub comment: Option<String>,
}

/// A MAC cookie as stored by the simulator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimCookie {
    pub id: String,
    pub user: String,
    pub mac_address: String,
}

/// Cloneable handle: fault knobs, counters and state inspection.
#[derive(Clone)]
pub struct SimControl {
    shared: Arc<Shared>,
    addr: SocketAddr,
}

impl SimControl {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    fn faults(&self) -> std::sync::MutexGuard<'_, Faults> {
        self.shared.faults.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn state(&self) -> std::sync::MutexGuard<'_, model::State> {
        self.shared.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    // ---- faults --------------------------------------------------------------------------

    /// Delay before every reply (login included).
    pub fn set_latency(&self, d: Duration) {
        self.faults().latency = d;
    }

    /// Delay for one command word (e.g. `/ip/hotspot/user/add`), overriding [`Self::set_latency`].
    pub fn set_latency_for(&self, path: &str, d: Duration) {
        self.faults().latency_by_path.insert(path.to_string(), d);
    }

    /// Removes every per-command latency.
    pub fn clear_latency_overrides(&self) {
        self.faults().latency_by_path.clear();
    }

    /// The next reply stops half-way through its first sentence and the connection is closed.
    pub fn cut_next_reply_mid_sentence(&self) {
        self.faults().cut_next_reply = true;
    }

    /// The next command is answered with `!fatal` and the connection is closed.
    pub fn fatal_next(&self) {
        self.fatal_next_with("session terminated by simulator");
    }

    /// The next command on `path` (e.g. `/ip/hotspot/user/add`) answers `!trap` with
    /// `message` and changes nothing, as a router refusing a value does.
    pub fn trap_next(&self, path: &str, message: &str) {
        self.faults().trap_next = Some((path.to_string(), message.to_string()));
    }

    /// Like [`Self::fatal_next`] with a given reason word.
    pub fn fatal_next_with(&self, reason: &str) {
        self.faults().fatal_next = Some(reason.to_string());
    }

    /// The router loses its hotspot users, as after a reset or a restored backup: users,
    /// sessions and cookies are gone and the next user created gets `.id` `*1` again. Both
    /// reboot a real router, so every connection is cut too (as [`Self::reboot`]): no session
    /// outlives the loss.
    pub fn forget_users(&self) {
        self.state().forget_users();
        self.reboot();
    }

    /// Reboot: every connection is cut without a reply, uptime restarts, active sessions and
    /// cookies are lost; users, profiles and bindings are kept.
    pub fn reboot(&self) {
        self.reboot_with_downtime(Duration::ZERO);
    }

    /// Reboot, and during `down` accept connections only to close them.
    pub fn reboot_with_downtime(&self, down: Duration) {
        self.state().reboot();
        let up_at = Instant::now() + down;
        *self.shared.boot.lock().unwrap_or_else(|e| e.into_inner()) = up_at;
        self.faults().down_until = (!down.is_zero()).then_some(up_at);
        self.shared.epoch.send_modify(|e| *e += 1);
    }

    /// The router's own time per command: commands are worked on one at a time, each taking
    /// `d`, before [`Self::set_latency`]'s delay. With several in flight, later ones wait.
    pub fn set_service_time(&self, d: Duration) {
        let mut f = self.faults();
        f.service_time = d;
        f.cpu_free_at = None;
    }

    /// Under load: a command arriving while `n` or more are already in flight on its connection
    /// is refused with a `!trap` (`None`: never).
    pub fn set_trap_over_in_flight(&self, n: Option<usize>) {
        self.faults().trap_over_in_flight = n;
    }

    /// Every open connection is closed at once, without a word (as a NAT or firewall dropping
    /// them, or the API service restarting); users, uptime and everything else are kept.
    pub fn drop_connections(&self) {
        self.shared.epoch.send_modify(|e| *e += 1);
    }

    /// Forgets the most commands seen in flight at once (see
    /// [`Self::max_in_flight_per_connection`]), to measure from now on.
    pub fn reset_max_in_flight(&self) {
        self.shared
            .counters
            .max_in_flight_per_connection
            .store(0, Ordering::SeqCst);
    }

    /// Silence: sentences are read and never answered (new and existing connections).
    pub fn set_silent(&self, silent: bool) {
        self.faults().silent = silent;
    }

    /// Refuse every login as if the credentials were wrong.
    pub fn set_refuse_logins(&self, refuse: bool) {
        self.faults().refuse_logins = refuse;
    }

    /// Changes the API password.
    pub fn set_password(&self, password: &str) {
        self.faults().password = password.to_string();
    }

    /// Changes the `api` service's `max-sessions`.
    pub fn set_max_sessions(&self, n: usize) {
        self.faults().max_sessions = n;
    }

    /// Records every received sentence from now on (see [`Self::wire_log`]).
    pub fn record_wire(&self, on: bool) {
        *self
            .shared
            .wire_log
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = on.then(Vec::new);
    }

    /// Sentences received since [`Self::record_wire`] was turned on.
    pub fn wire_log(&self) -> Vec<Sentence> {
        self.shared
            .wire_log
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .unwrap_or_default()
    }

    // ---- counters ------------------------------------------------------------------------

    /// TCP connections accepted (including those closed for max-sessions or downtime).
    pub fn connections_opened(&self) -> usize {
        self.shared
            .counters
            .connections_opened
            .load(Ordering::SeqCst)
    }

    /// Connections closed at once (max-sessions or reboot downtime).
    pub fn connections_rejected(&self) -> usize {
        self.shared
            .counters
            .connections_rejected
            .load(Ordering::SeqCst)
    }

    /// Connections currently open (these count against max-sessions).
    pub fn sessions_open(&self) -> usize {
        self.shared.counters.sessions_open.load(Ordering::SeqCst)
    }

    /// Successful logins.
    pub fn logins_ok(&self) -> usize {
        self.shared.counters.logins_ok.load(Ordering::SeqCst)
    }

    /// Refused logins.
    pub fn logins_failed(&self) -> usize {
        self.shared.counters.logins_failed.load(Ordering::SeqCst)
    }

    /// Sentences received.
    pub fn commands_total(&self) -> usize {
        self.shared.counters.commands_total.load(Ordering::SeqCst)
    }

    /// Commands received and not answered yet (all connections; `/cancel` excluded).
    pub fn in_flight(&self) -> usize {
        self.shared.counters.in_flight.load(Ordering::SeqCst)
    }

    /// Total time during which at least one command was in flight (waiting for its reply),
    /// over all connections: the router's busy time.
    pub fn busy_time(&self) -> Duration {
        self.shared.counters.busy_time()
    }

    /// The most commands ever in flight at once on one connection. More than 1 means a client
    /// pipelined. Exact when latency > 0; at zero latency only commands that arrive in the
    /// same read are seen together.
    pub fn max_in_flight_per_connection(&self) -> usize {
        self.shared
            .counters
            .max_in_flight_per_connection
            .load(Ordering::SeqCst)
    }

    /// The most commands concerning one hotspot user (`/ip/hotspot/user/…` with that `name`,
    /// `?name=` or the `.id`/`numbers` of that user) ever in flight at once on one connection.
    /// More than 1 means a client overlapped two commands on the same user.
    pub fn max_in_flight_per_user(&self) -> usize {
        self.shared
            .counters
            .max_in_flight_per_user
            .load(Ordering::SeqCst)
    }

    /// Uptime since start or the last reboot.
    pub fn uptime(&self) -> Duration {
        self.shared.uptime()
    }

    /// The simulated version.
    pub fn version(&self) -> &str {
        &self.shared.version
    }

    // ---- state ---------------------------------------------------------------------------

    /// Snapshot of the hotspot users.
    pub fn users(&self) -> Vec<SimUser> {
        self.state()
            .users
            .items
            .iter()
            .map(|u| SimUser {
                id: model::render_id(u.id),
                name: u.get_str("name"),
                password: u.get_str("password"),
                profile: u.get_str("profile"),
                server: u.get_str("server"),
                disabled: u.get("disabled") == Some(b"true"),
                comment: u.get("comment").map(|_| u.get_str("comment")),
                mac_address: u.get("mac-address").map(|_| u.get_str("mac-address")),
                limit_uptime: u.get("limit-uptime").map(|_| u.get_str("limit-uptime")),
                limit_bytes_total: u
                    .get("limit-bytes-total")
                    .map(|_| u.get_str("limit-bytes-total")),
                uptime: u.get_str("uptime"),
            })
            .collect()
    }

    /// Snapshot of the active sessions.
    pub fn active(&self) -> Vec<SimActive> {
        self.state()
            .active
            .items
            .iter()
            .map(|a| SimActive {
                id: model::render_id(a.id),
                user: a.get_str("user"),
                address: a.get_str("address"),
                mac_address: a.get_str("mac-address"),
                uptime: a.get_str("uptime"),
            })
            .collect()
    }

    /// Snapshot of the ip-bindings.
    pub fn ip_bindings(&self) -> Vec<SimBinding> {
        self.state()
            .bindings
            .items
            .iter()
            .map(|b| SimBinding {
                id: model::render_id(b.id),
                mac_address: b.get("mac-address").map(|_| b.get_str("mac-address")),
                address: b.get("address").map(|_| b.get_str("address")),
                kind: b.get_str("type"),
                comment: b.get("comment").map(|_| b.get_str("comment")),
            })
            .collect()
    }

    /// Snapshot of the cookies.
    pub fn cookies(&self) -> Vec<SimCookie> {
        self.state()
            .cookies
            .items
            .iter()
            .map(|c| SimCookie {
                id: model::render_id(c.id),
                user: c.get_str("user"),
                mac_address: c.get_str("mac-address"),
            })
            .collect()
    }

    /// Profile names.
    pub fn profile_names(&self) -> Vec<String> {
        self.state()
            .profiles
            .items
            .iter()
            .map(|p| p.get_str("name"))
            .collect()
    }

    /// The sessions at this address end on their own (idle or session timeout, the device
    /// left): the host is no longer authorised but the MAC cookie stays, so the device is logged
    /// in again on its next visit. Returns how many sessions ended.
    pub fn end_session_keeping_cookie(&self, address: &str) -> usize {
        self.state().end_sessions_at(address)
    }

    /// Fast-forwards the router's clock by `d` for its hotspot accounting: every active
    /// session's and its user's `uptime` grow; a session that reaches its `session-time-left`
    /// or its user's `limit-uptime` ends (its MAC cookie stays).
    pub fn advance(&self, d: Duration) {
        self.state().advance(d.as_secs());
    }

    /// The session at `address` moves bytes (counted on the session and its user); it ends
    /// when its user's `limit-bytes-total` is reached. Whether there was such a session.
    pub fn add_traffic(&self, address: &str, bytes_in: u64, bytes_out: u64) -> bool {
        self.state().add_traffic(address, bytes_in, bytes_out)
    }

    /// Seeds a host-table entry (a device the hotspot has seen); returns its `.id`.
    pub fn add_host(&self, mac: &str, ip: &str) -> String {
        self.state().add_host(mac, ip)
    }

    /// Seeds a hotspot user directly (no protocol round trip); returns its `.id`.
    pub fn seed_user(&self, name: &str, password: &str, profile: &str) -> String {
        self.seed_user_with_comment(name, password, profile, None)
    }

    /// [`Self::seed_user`] with a `comment` (a `purchase:<id>` user, for scale tests).
    pub fn seed_user_with_comment(
        &self,
        name: &str,
        password: &str,
        profile: &str,
        comment: Option<&str>,
    ) -> String {
        let mut attrs = vec![
            ("name".to_string(), name.as_bytes().to_vec()),
            ("password".to_string(), password.as_bytes().to_vec()),
            ("profile".to_string(), profile.as_bytes().to_vec()),
        ];
        if let Some(c) = comment {
            attrs.push(("comment".to_string(), c.as_bytes().to_vec()));
        }
        let ctx = model::Ctx {
            sends_empty: false,
            version: "",
            board_name: "",
            uptime_secs: 0,
        };
        let out = self
            .state()
            .execute("/ip/hotspot/user/add", &attrs, &[], &ctx);
        out.iter()
            .find_map(|r| match r {
                crate::routeros::Response::Done { attrs, .. } => attrs.get_str("ret"),
                _ => None,
            })
            .unwrap_or_default()
    }
}

/// A running simulator. Dropping it stops the listener and cuts its connections.
pub struct RouterSim {
    control: SimControl,
    accept: tokio::task::JoinHandle<()>,
}

impl std::ops::Deref for RouterSim {
    type Target = SimControl;

    fn deref(&self) -> &SimControl {
        &self.control
    }
}

impl Drop for RouterSim {
    fn drop(&mut self) {
        self.accept.abort();
        self.control.shared.epoch.send_modify(|e| *e += 1);
    }
}

impl RouterSim {
    /// Binds `config.listen` and serves on the current tokio runtime.
    pub fn start(config: SimConfig) -> std::io::Result<RouterSim> {
        let std_listener = std::net::TcpListener::bind(config.listen)?;
        std_listener.set_nonblocking(true)?;
        let listener = TcpListener::from_std(std_listener)?;
        let addr = listener.local_addr()?;
        let login_mode = config
            .login_mode
            .unwrap_or_else(|| LoginMode::for_version(&config.version));
        let (epoch, _) = tokio::sync::watch::channel(0u64);
        let shared = Arc::new(Shared {
            state: Mutex::new(model::State::new(&config.identity, &config.profiles)),
            faults: Mutex::new(Faults {
                latency: config.latency,
                connect_latency: config.connect_latency,
                user: config.user.clone(),
                password: config.password.clone(),
                max_sessions: config.max_sessions,
                ..Faults::default()
            }),
            counters: Counters::default(),
            boot: Mutex::new(Instant::now()),
            epoch,
            version: config.version.clone(),
            board_name: config.board_name.clone(),
            login_mode,
            wire_log: Mutex::new(None),
        });
        let tls = config.tls.map(tokio_rustls::TlsAcceptor::from);
        let accept = tokio::spawn(accept_loop(listener, shared.clone(), tls));
        Ok(RouterSim {
            control: SimControl { shared, addr },
            accept,
        })
    }

    /// A cloneable control handle.
    pub fn control(&self) -> SimControl {
        self.control.clone()
    }
}

async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    tls: Option<tokio_rustls::TlsAcceptor>,
) {
    loop {
        let Ok((tcp, _peer)) = listener.accept().await else {
            // Transient accept errors (e.g. EMFILE): back off briefly.
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let c = &shared.counters;
        c.connections_opened.fetch_add(1, Ordering::SeqCst);
        let (max, down, handshake) = {
            let f = shared.faults.lock().unwrap_or_else(|e| e.into_inner());
            (
                f.max_sessions,
                f.down_until.is_some_and(|t| t > Instant::now()),
                f.connect_latency,
            )
        };
        // [UNVERIFIED] over max-sessions: accept, then close at once.
        if down || c.sessions_open.load(Ordering::SeqCst) >= max {
            c.connections_rejected.fetch_add(1, Ordering::SeqCst);
            drop(tcp);
            continue;
        }
        c.sessions_open.fetch_add(1, Ordering::SeqCst);
        let _ = tcp.set_nodelay(true);
        let guard = conn::SessionGuard(shared.clone());
        let shared = shared.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            let _guard = guard;
            if !handshake.is_zero() {
                tokio::time::sleep(handshake).await;
            }
            match tls {
                None => conn::serve(tcp, shared).await,
                Some(acc) => {
                    match tokio::time::timeout(Duration::from_secs(10), acc.accept(tcp)).await {
                        Ok(Ok(s)) => conn::serve(s, shared).await,
                        _ => tracing::debug!("routeros-sim: TLS handshake failed"),
                    }
                }
            }
        });
    }
}

/// `pagos-hotspot routeros-sim` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct SimArgs {
    /// Address to listen on (port 0 picks a free port; the bound address is printed).
    #[arg(long, default_value = "127.0.0.1:8728")]
    pub listen: SocketAddr,
    /// API user name.
    #[arg(long, default_value = "admin")]
    pub user: String,
    /// API password.
    #[arg(long, default_value = "")]
    pub password: String,
    /// RouterOS version to imitate (7.18 and later send `!empty`; before 6.43 only the challenge
    /// login works).
    #[arg(long, default_value = DEFAULT_VERSION)]
    pub version: String,
    /// Latency added to every reply, in milliseconds.
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// The `api` service's max-sessions.
    #[arg(long, default_value_t = dialect::DEFAULT_MAX_SESSIONS)]
    pub max_sessions: usize,
    /// Serve the fault and state controls over HTTP on this address (port 0 picks one; the
    /// bound address is printed as `control on <addr>`). See `docs/sandbox-gateways.md`.
    #[arg(long)]
    pub control: Option<SocketAddr>,
}

/// Runs the simulator until Ctrl-C. Prints `listening on <addr>` on stdout first.
pub async fn run(args: SimArgs) -> std::io::Result<()> {
    use std::io::Write;
    let mut cfg = SimConfig::new(args.user, args.password).version(args.version);
    cfg.listen = args.listen;
    cfg.latency = Duration::from_millis(args.latency_ms);
    cfg.max_sessions = args.max_sessions;
    let sim = RouterSim::start(cfg)?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on {}", sim.addr())?;
        if let Some(addr) = args.control {
            let bound = control::serve(sim.control(), addr)?;
            writeln!(out, "control on {bound}")?;
        }
        out.flush()?;
    }
    tracing::info!(addr = %sim.addr(), version = sim.version(), "routeros-sim started");
    tokio::signal::ctrl_c().await?;
    Ok(())
}
