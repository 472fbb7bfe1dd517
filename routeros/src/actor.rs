//! `RouterActor`: one actix actor per router, owning one logged-in RouterOS session.
//!
//! * Commands run strictly one at a time: each is processed inside `ctx.wait(..)`, so the actor
//!   takes no other message (and runs no timer) until the command finished.
//! * The queue is bounded by a reserved-slot counter ([`QueueSlot`]), checked by the caller before
//!   sending, so a full router answers `Busy` at once.
//! * Every command has the session's deadline. On expiry the client sends `/cancel`; the actor
//!   then gives the router `cancel_grace` to answer a probe and drops the session if it does not.
//! * A lost session is re-established with exponential backoff and jitter ([`Backoff`]); refused
//!   credentials use a much longer schedule and put the router in `auth_failed`. Connection
//!   attempts go through a fleet-wide gate ([`ConnectGate`]) so a mass outage does not turn into
//!   a reconnect storm.
//! * A periodic probe (`/system/resource/print`) keeps the session warm and detects reboots
//!   (uptime going backwards). After `idle_timeout` without caller traffic the actor stops.
//!
//! Metrics are reported through one small trait, [`RouterObserver`].

use std::collections::{HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix::prelude::*;
use chrono::{DateTime, Utc};
use tokio::sync::Semaphore;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::client::{ConnectOptions, RouterClient};
use crate::commands::{self, SystemResource};
use crate::error::RouterError;
use crate::messages::{
    classify, execute, BrokerError, Call, Op, OpOutput, QueueSlot, ReplyTx, RouterState,
    RouterStatus, NOT_RUN_RESTARTING,
};
use crate::pipeline::{self, Pipeline};
use crate::registry::TimeFormat;
use crate::settings::RouterSettings;

// ---- backoff (the only place that knows the `backoff` crate) -------------------------------

/// Exponential backoff with ±50 % jitter, doubling from `initial` up to `max`.
///
/// Only `backoff::ExponentialBackoff`'s schedule is used (the crate is flagged unmaintained,
/// RUSTSEC-2025-0012); swapping it for `backon` means changing this type only.
pub struct Backoff(backoff::ExponentialBackoff);

impl Backoff {
    pub fn new(initial: Duration, max: Duration) -> Self {
        let initial = initial.max(Duration::from_millis(1));
        let max = max.max(initial);
        let mut b = backoff::ExponentialBackoff {
            current_interval: initial,
            initial_interval: initial,
            randomization_factor: 0.5,
            multiplier: 2.0,
            max_interval: max,
            max_elapsed_time: None,
            ..backoff::ExponentialBackoff::default()
        };
        backoff::backoff::Backoff::reset(&mut b);
        Self(b)
    }

    /// The next delay (jittered, never above `max`).
    pub fn next_delay(&mut self) -> Duration {
        let max = self.0.max_interval;
        backoff::backoff::Backoff::next_backoff(&mut self.0)
            .unwrap_or(max)
            .min(max)
    }

    /// Back to `initial` (after a successful connection).
    pub fn reset(&mut self) {
        backoff::backoff::Backoff::reset(&mut self.0);
    }
}

// ---- metrics hooks -------------------------------------------------------------------------

/// Where the broker reports metrics (the application implements it for its metrics). The names it
/// feeds: `router_up`, `router_command_duration_seconds{command,outcome}`,
/// `router_commands_total`, `router_queue_depth`, `router_reconnects_total`,
/// `router_session_age_seconds`. Every method defaults to a no-op.
///
/// `outcome` is one of `ok`, `trap`, `timeout`, `connection_lost`, `busy`, `error`.
pub trait RouterObserver: Send + Sync + 'static {
    /// An actor started for this router.
    fn started(&self, _router_id: &str) {}
    /// The router was deleted: drop its series.
    fn forgotten(&self, _router_id: &str) {}
    /// One command finished (or was refused).
    fn command(
        &self,
        _router_id: &str,
        _command: &'static str,
        _outcome: &'static str,
        _elapsed: Duration,
    ) {
    }
    /// The session went up or down.
    fn up(&self, _router_id: &str, _up: bool) {}
    /// Commands queued or running for this router.
    fn queue_depth(&self, _router_id: &str, _depth: usize) {}
    /// A session was re-established after a loss (not the first connection).
    fn reconnect(&self, _router_id: &str) {}
    /// Age of the current session (zero when down).
    fn session_age(&self, _router_id: &str, _age: Duration) {}
}

/// Reports nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoopObserver;
impl RouterObserver for NoopObserver {}

/// The metric outcome of a command's router error.
pub fn router_error_label(e: &RouterError) -> &'static str {
    if e.is_trap() {
        "trap"
    } else {
        match e {
            RouterError::Timeout => "timeout",
            RouterError::AuthFailed(_) => "error",
            _ => "connection_lost",
        }
    }
}

/// The metric outcome of a broker result (when the router error itself is not at hand).
pub fn outcome_label(r: &Result<OpOutput, BrokerError>) -> &'static str {
    match r {
        Ok(_) => "ok",
        Err(BrokerError::Router(_)) => "trap",
        Err(BrokerError::Busy { .. }) => "busy",
        Err(BrokerError::OutcomeUnknown) => "timeout",
        Err(BrokerError::Unavailable { .. }) => "connection_lost",
        Err(BrokerError::AuthFailed | BrokerError::Disabled | BrokerError::UnknownRouter) => {
            "error"
        }
    }
}

// ---- fleet-wide connection gate ------------------------------------------------------------

/// Bounds connection attempts (TCP + login) in flight across every router, and counts them.
#[derive(Debug)]
pub struct ConnectGate {
    sem: Semaphore,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    attempts: AtomicU64,
}

impl ConnectGate {
    pub fn new(concurrency: usize) -> Self {
        Self {
            sem: Semaphore::new(concurrency.max(1)),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
            attempts: AtomicU64::new(0),
        }
    }

    /// The most attempts that were ever in flight at once.
    pub fn max_in_flight(&self) -> usize {
        self.max_in_flight.load(Ordering::Acquire)
    }

    /// Connection attempts so far.
    pub fn attempts(&self) -> u64 {
        self.attempts.load(Ordering::Acquire)
    }

    async fn connect(
        &self,
        opts: &ConnectOptions,
    ) -> Result<(RouterClient, SystemResource), RouterError> {
        let _permit = self
            .sem
            .acquire()
            .await
            .map_err(|_| RouterError::Io("connection gate closed".into()))?;
        self.attempts.fetch_add(1, Ordering::AcqRel);
        let n = self.in_flight.fetch_add(1, Ordering::AcqRel) + 1;
        self.max_in_flight.fetch_max(n, Ordering::AcqRel);
        let r = async {
            let mut c = RouterClient::connect(opts).await?;
            let res = c.system_resource().await?;
            Ok((c, res))
        }
        .await;
        self.in_flight.fetch_sub(1, Ordering::AcqRel);
        r
    }
}

// ---- shared status -------------------------------------------------------------------------

/// Attempt timestamps kept per router (for the status view and tests).
const ATTEMPTS_KEPT: usize = 32;

#[derive(Debug)]
struct StatusInner {
    state: RouterState,
    last_error: Option<String>,
    last_error_at: Option<DateTime<Utc>>,
    last_ms: Option<f64>,
    avg_ms: Option<f64>,
    uptime: Option<String>,
    version: Option<String>,
    connected_since: Option<DateTime<Utc>>,
    commands_total: u64,
    reconnects: u64,
    reboots: u64,
    next_attempt: Option<Instant>,
    attempts: VecDeque<Instant>,
}

/// A router's live status, written by its actor and read by anyone without a mailbox round trip.
#[derive(Debug)]
pub struct StatusCell {
    router_id: String,
    depth: Arc<AtomicUsize>,
    /// The router was deleted: its metric series go away when the actor stops.
    forgotten: std::sync::atomic::AtomicBool,
    capacity: usize,
    /// Writes the timestamps of [`StatusCell::snapshot`] (the application's wire format).
    format_time: TimeFormat,
    inner: Mutex<StatusInner>,
}

impl StatusCell {
    pub fn new(router_id: &str, capacity: usize, format_time: TimeFormat) -> Self {
        Self {
            router_id: router_id.to_string(),
            depth: Arc::new(AtomicUsize::new(0)),
            forgotten: std::sync::atomic::AtomicBool::new(false),
            capacity,
            format_time,
            inner: Mutex::new(StatusInner {
                state: RouterState::Idle,
                last_error: None,
                last_error_at: None,
                last_ms: None,
                avg_ms: None,
                uptime: None,
                version: None,
                connected_since: None,
                commands_total: 0,
                reconnects: 0,
                reboots: 0,
                next_attempt: None,
                attempts: VecDeque::new(),
            }),
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut StatusInner) -> T) -> T {
        f(&mut self.inner.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Counts a command that ran on the wire and folds its duration into the latency figures.
    fn record_command(&self, elapsed: Duration) {
        self.with(|s| {
            s.commands_total += 1;
            let ms = elapsed.as_secs_f64() * 1000.0;
            s.last_ms = Some(ms);
            s.avg_ms = Some(match s.avg_ms {
                None => ms,
                Some(avg) => avg * 0.8 + ms * 0.2,
            });
        });
    }

    /// Reserves a queue place, or `None` when the router's queue is full.
    pub fn try_reserve(&self) -> Option<QueueSlot> {
        QueueSlot::try_reserve(&self.depth, self.capacity)
    }

    /// Reserves a queue place whatever the depth (priority commands).
    pub fn force_reserve(&self) -> QueueSlot {
        QueueSlot::force(&self.depth)
    }

    /// Marks the router deleted (its actor drops the metric series when it stops).
    pub fn forget(&self) {
        self.forgotten.store(true, Ordering::Release);
    }

    pub fn queue_depth(&self) -> usize {
        self.depth.load(Ordering::Acquire)
    }

    pub fn state(&self) -> RouterState {
        self.with(|s| s.state)
    }

    /// Average command latency (for `Retry-After` estimates).
    pub fn avg_latency(&self) -> Option<Duration> {
        self.with(|s| s.avg_ms)
            .map(|ms| Duration::from_secs_f64((ms / 1000.0).max(0.0)))
    }

    /// When the last connection attempts started (oldest first; at most 32).
    pub fn attempt_times(&self) -> Vec<Instant> {
        self.with(|s| s.attempts.iter().copied().collect())
    }

    /// The snapshot shown by the status endpoints.
    pub fn snapshot(&self) -> RouterStatus {
        let now = Instant::now();
        self.with(|s| RouterStatus {
            router_id: self.router_id.clone(),
            state: s.state,
            last_error: s.last_error.clone(),
            last_error_at: s.last_error_at.map(self.format_time),
            last_command_ms: s.last_ms,
            avg_command_ms: s.avg_ms,
            queue_depth: self.depth.load(Ordering::Acquire),
            queue_capacity: self.capacity,
            router_uptime: s.uptime.clone(),
            router_version: s.version.clone(),
            connected_since: s.connected_since.map(self.format_time),
            commands_total: s.commands_total,
            reconnects: s.reconnects,
            reboots_detected: s.reboots,
            next_attempt_in_ms: match s.state {
                RouterState::BackingOff | RouterState::AuthFailed => s.next_attempt.map(|t| {
                    u64::try_from(t.saturating_duration_since(now).as_millis()).unwrap_or(u64::MAX)
                }),
                _ => None,
            },
        })
    }
}

// ---- the actor -----------------------------------------------------------------------------

/// What an actor needs besides its router's connection options.
#[derive(Clone)]
pub struct ActorDeps {
    pub settings: RouterSettings,
    pub gate: Arc<ConnectGate>,
    pub observer: Arc<dyn RouterObserver>,
}

/// One router's session owner. Start it with [`RouterActor::start_on`].
pub struct RouterActor {
    router_id: String,
    opts: Arc<ConnectOptions>,
    deps: ActorDeps,
    status: Arc<StatusCell>,
    token: CancellationToken,
    on_stopped: Option<Box<dyn FnOnce() + Send>>,
    client: Option<RouterClient>,
    /// When the current session was established.
    connected_at: Option<Instant>,
    /// A command, probe or connection attempt is running (the session is taken out of `client`).
    busy: bool,
    backoff: Backoff,
    auth_backoff: Backoff,
    next_attempt: Option<Instant>,
    auth_failed: bool,
    /// A session existed before: the next successful connect is a reconnect.
    had_session: bool,
    /// The router's last reported uptime (seconds) and when it was read.
    last_uptime: Option<(u64, Instant)>,
    /// Last caller command (for the idle stop).
    last_activity: Instant,
    /// Last exchange with the router (for the probe).
    last_io: Instant,
    reconnect_timer: Option<SpawnHandle>,
    /// Pipelined mode (`pipeline_depth` > 1) only: the session (`client` stays `None`).
    pipe: Option<Pipeline>,
    /// Pipelined mode only: commands waiting and in flight.
    pq: PipeQueue,
}

/// How a command may overlap with others on a pipelined session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpKey {
    /// Read-only and about no hotspot user: overlaps freely.
    Free,
    /// Concerns this hotspot user (by name or `.id`): never in flight together with another
    /// command with the same key, and started in arrival order.
    User(String),
    /// Runs alone: waits until nothing is in flight, and nothing starts until it finished.
    Exclusive,
}

impl OpKey {
    /// The key of an operation. User names and `.id`s share one key space: at worst a name that
    /// looks like an id serialises two unrelated commands.
    pub fn of(op: &Op) -> Self {
        match op {
            Op::CreateUser(u) => OpKey::User(u.name.clone()),
            Op::FindUser(name) => OpKey::User(name.clone()),
            Op::EnableUser(id) | Op::DisableUser(id) | Op::RemoveUser(id) => {
                OpKey::User(id.clone())
            }
            Op::FindBindings(_)
            | Op::FindHost(_)
            | Op::ListProfiles
            | Op::Identity
            | Op::Resource => OpKey::Free,
            // Bindings and active logins touch hosts, MACs and users together: run them alone.
            Op::BindMac(_) | Op::ActiveLogin(_) => OpKey::Exclusive,
        }
    }
}

/// A caller's command waiting for its turn on a pipelined session.
struct Queued {
    op: Op,
    tx: ReplyTx,
    slot: Option<QueueSlot>,
    enqueued_at: Instant,
    queue_deadline: Instant,
}

/// The pipelined mode's bookkeeping.
#[derive(Default)]
struct PipeQueue {
    /// Accepted and not sent yet, in arrival order.
    waiting: VecDeque<Queued>,
    /// Caller commands sent and not answered yet.
    in_flight: usize,
    /// `OpKey::User` keys of the commands in flight.
    keys: HashSet<String>,
    /// A connection attempt is running.
    connecting: bool,
    /// A probe, a revalidation or an `OpKey::Exclusive` command is running: nothing else starts.
    exclusive: bool,
}

/// What a pipelined command's future hands back to the actor.
type PipeDone = Option<(Result<OpOutput, BrokerError>, &'static str, Duration)>;

/// Result of one command run inside `ctx.wait`.
struct Work {
    client: Option<RouterClient>,
    connected: Option<Result<SystemResource, RouterError>>,
    outcome: Result<OpOutput, BrokerError>,
    /// Metric outcome (`ok`, `trap`, `timeout`, `connection_lost`, `error`).
    label: &'static str,
    /// Whether the command was sent (false when the connection attempt failed).
    ran: bool,
    elapsed: Duration,
}

impl RouterActor {
    /// Starts the actor on `arbiter`. `token` stops it (even mid-command: the caller then gets
    /// `OutcomeUnknown`); `on_stopped` runs once when it has stopped.
    pub fn start_on(
        arbiter: &ArbiterHandle,
        router_id: String,
        opts: ConnectOptions,
        deps: ActorDeps,
        status: Arc<StatusCell>,
        token: CancellationToken,
        on_stopped: Box<dyn FnOnce() + Send>,
    ) -> Addr<RouterActor> {
        let s = &deps.settings;
        let backoff = Backoff::new(s.reconnect_initial, s.reconnect_max);
        let auth_backoff = Backoff::new(s.auth_backoff_initial, s.auth_backoff_max);
        let capacity = s.mailbox_capacity;
        RouterActor::start_in_arbiter(arbiter, move |ctx: &mut Context<RouterActor>| {
            ctx.set_mailbox_capacity(capacity.max(1));
            let now = Instant::now();
            RouterActor {
                router_id,
                opts: Arc::new(opts),
                deps,
                status,
                token,
                on_stopped: Some(on_stopped),
                client: None,
                connected_at: None,
                busy: false,
                backoff,
                auth_backoff,
                next_attempt: None,
                auth_failed: false,
                had_session: false,
                last_uptime: None,
                last_activity: now,
                last_io: now,
                reconnect_timer: None,
                pipe: None,
                pq: PipeQueue::default(),
            }
        })
    }

    /// A connection attempt through the fleet-wide gate; `None` if the actor is stopped first.
    fn connect_unless_stopped(
        &self,
    ) -> impl std::future::Future<Output = Option<Result<(RouterClient, SystemResource), RouterError>>>
           + 'static {
        let gate = self.deps.gate.clone();
        let opts = self.opts.clone();
        let token = self.token.clone();
        async move {
            tokio::select! {
                r = gate.connect(&opts) => Some(r),
                _ = token.cancelled() => None,
            }
        }
    }

    fn tick_interval(&self) -> Duration {
        let s = &self.deps.settings;
        (s.probe_interval.min(s.idle_timeout) / 2).max(Duration::from_millis(10))
    }

    fn set_state(&self, state: RouterState) {
        self.status.with(|s| s.state = state);
    }

    fn note_error(&self, e: &dyn std::fmt::Display) {
        let text = e.to_string();
        self.status.with(|s| {
            s.last_error = Some(text);
            s.last_error_at = Some(Utc::now());
        });
    }

    /// Whether an attempt may start now (not auth-failed, not before the scheduled time).
    fn gate_reason(&self) -> Option<BrokerError> {
        if self.client.is_some() || self.pipe.is_some() {
            return None;
        }
        if self.auth_failed {
            return Some(BrokerError::AuthFailed);
        }
        match self.next_attempt {
            Some(at) if at > Instant::now() => Some(BrokerError::Unavailable {
                reason: format!(
                    "backing off; next connection attempt in {} ms",
                    at.saturating_duration_since(Instant::now()).as_millis()
                ),
            }),
            _ => None,
        }
    }

    fn begin_attempt(&mut self) {
        self.status.with(|s| {
            s.state = RouterState::Connecting;
            s.attempts.push_back(Instant::now());
            while s.attempts.len() > ATTEMPTS_KEPT {
                s.attempts.pop_front();
            }
        });
    }

    /// Records the result of a connection attempt and schedules the next one on failure.
    fn on_connect(&mut self, r: Result<SystemResource, RouterError>, ctx: &mut Context<Self>) {
        let reconnect = self.had_session;
        match r {
            Ok(res) => {
                self.had_session = true;
                if reconnect {
                    self.deps.observer.reconnect(&self.router_id);
                }
                self.connected_at = Some(Instant::now());
                self.backoff.reset();
                self.auth_backoff.reset();
                self.auth_failed = false;
                self.next_attempt = None;
                self.last_io = Instant::now();
                self.status.with(|s| {
                    s.state = RouterState::Connected;
                    s.connected_since = Some(Utc::now());
                    s.next_attempt = None;
                    if reconnect {
                        s.reconnects += 1;
                    }
                });
                self.observe_resource(&res);
                self.deps.observer.up(&self.router_id, true);
                tracing::info!(router_id = %self.router_id, "router session established");
            }
            Err(e) => {
                let auth = matches!(e, RouterError::AuthFailed(_));
                let delay = if auth {
                    self.auth_failed = true;
                    self.auth_backoff.next_delay()
                } else {
                    self.backoff.next_delay()
                };
                let at = Instant::now() + delay;
                self.next_attempt = Some(at);
                self.note_error(&e);
                self.status.with(|s| {
                    s.state = if auth {
                        RouterState::AuthFailed
                    } else {
                        RouterState::BackingOff
                    };
                    s.next_attempt = Some(at);
                    s.connected_since = None;
                });
                self.deps.observer.up(&self.router_id, false);
                self.deps
                    .observer
                    .session_age(&self.router_id, Duration::ZERO);
                if auth {
                    tracing::warn!(router_id = %self.router_id, retry_in_ms = delay.as_millis() as u64,
                        "router refused the credentials");
                } else {
                    tracing::warn!(router_id = %self.router_id, error = %e, retry_in_ms = delay.as_millis() as u64,
                        "router connection failed");
                }
                self.schedule_reconnect(delay, ctx);
            }
        }
    }

    /// The session was lost after being up: schedule a (jittered) reconnect.
    fn on_session_lost(&mut self, why: &dyn std::fmt::Display, ctx: &mut Context<Self>) {
        let delay = self.backoff.next_delay();
        let at = Instant::now() + delay;
        self.next_attempt = Some(at);
        self.note_error(why);
        self.status.with(|s| {
            s.state = RouterState::BackingOff;
            s.next_attempt = Some(at);
            s.connected_since = None;
        });
        self.connected_at = None;
        self.deps.observer.up(&self.router_id, false);
        self.deps
            .observer
            .session_age(&self.router_id, Duration::ZERO);
        tracing::warn!(router_id = %self.router_id, error = %why, retry_in_ms = delay.as_millis() as u64,
            "router session lost");
        self.schedule_reconnect(delay, ctx);
    }

    fn schedule_reconnect(&mut self, delay: Duration, ctx: &mut Context<Self>) {
        if let Some(h) = self.reconnect_timer.take() {
            ctx.cancel_future(h);
        }
        self.reconnect_timer = Some(ctx.run_later(delay, |act, ctx| {
            act.reconnect_timer = None;
            act.reconnect_now(ctx);
        }));
    }

    /// A proactive reconnect (timer or probe), unless the actor has been idle too long.
    fn reconnect_now(&mut self, ctx: &mut Context<Self>) {
        if self.pipelined() {
            self.reconnect_now_pipelined(ctx);
            return;
        }
        if self.busy || self.client.is_some() || self.token.is_cancelled() {
            return;
        }
        if self.is_idle() {
            ctx.stop();
            return;
        }
        self.begin_attempt();
        self.busy = true;
        let fut = self.connect_unless_stopped();
        ctx.wait(fut.into_actor(self).map(|r, act, ctx| {
            act.busy = false;
            match r {
                None => {}
                Some(Ok((client, res))) => {
                    act.client = Some(client);
                    act.on_connect(Ok(res), ctx);
                }
                Some(Err(e)) => act.on_connect(Err(e), ctx),
            }
        }));
    }

    fn is_idle(&self) -> bool {
        self.last_activity.elapsed() >= self.deps.settings.idle_timeout
            && self.status.queue_depth() == 0
    }

    /// Uptime and version from `/system/resource/print`. An uptime lower than the last reading,
    /// or clearly lower than the last reading plus the time since (5 s of slack for rounding),
    /// means the router rebooted.
    fn observe_resource(&mut self, res: &SystemResource) {
        let up = res.uptime.as_deref().and_then(commands::parse_duration);
        let rebooted = match (self.last_uptime, up) {
            (Some((prev, at)), Some(now)) => rebooted_between(prev, at.elapsed().as_secs(), now),
            _ => false,
        };
        if let Some(now) = up {
            self.last_uptime = Some((now, Instant::now()));
        }
        if rebooted {
            tracing::warn!(router_id = %self.router_id, "router rebooted (uptime went backwards)");
        }
        self.status.with(|s| {
            s.uptime = res.uptime.clone();
            s.version = res.version.clone().or(s.version.take());
            if rebooted {
                s.reboots += 1;
            }
        });
    }

    /// Periodic: stop when idle; probe an idle session; reconnect when due.
    fn tick(&mut self, ctx: &mut Context<Self>) {
        if self.token.is_cancelled() {
            ctx.stop();
            return;
        }
        if self.pipelined() {
            self.tick_pipelined(ctx);
            return;
        }
        if self.busy {
            return;
        }
        if self.is_idle() {
            tracing::debug!(router_id = %self.router_id, "router actor idle, stopping");
            ctx.stop();
            return;
        }
        if self.client.is_none() {
            if self.reconnect_timer.is_none() && self.gate_reason().is_none() {
                self.reconnect_now(ctx);
            }
            return;
        }
        if let Some(at) = self.connected_at {
            self.deps
                .observer
                .session_age(&self.router_id, at.elapsed());
        }
        if self.last_io.elapsed() < self.deps.settings.probe_interval {
            return;
        }
        let Some(mut client) = self.client.take() else {
            return;
        };
        self.busy = true;
        let token = self.token.clone();
        let fut = async move {
            let r = tokio::select! {
                r = client.system_resource() => r,
                _ = token.cancelled() => Err(RouterError::Closed),
            };
            (client, r)
        };
        ctx.wait(fut.into_actor(self).map(|(client, r), act, ctx| {
            act.busy = false;
            act.last_io = Instant::now();
            match r {
                Ok(res) => {
                    act.observe_resource(&res);
                    act.client = Some(client);
                }
                Err(e) if e.is_trap() && !client.is_broken() => {
                    act.client = Some(client);
                }
                Err(e) => {
                    drop(client);
                    act.on_session_lost(&e, ctx);
                }
            }
        }));
    }
}

// ---- pipelined mode (`pipeline_depth` > 1) -------------------------------------------------

impl RouterActor {
    fn pipelined(&self) -> bool {
        self.deps.settings.pipeline_depth > 1
    }

    /// Answers every waiting (never sent) command with `e`.
    fn fail_waiting(&mut self, e: &BrokerError, label: &'static str) {
        if self.pq.waiting.is_empty() {
            return;
        }
        for q in std::mem::take(&mut self.pq.waiting) {
            self.deps.observer.command(
                &self.router_id,
                q.op.name(),
                label,
                q.enqueued_at.elapsed(),
            );
            drop(q.slot);
            let _ = q.tx.send(Err(e.clone()));
        }
        self.deps
            .observer
            .queue_depth(&self.router_id, self.status.queue_depth());
    }

    /// The current session ended: report it (once) and answer the waiting commands as a router
    /// that is backing off answers new ones.
    fn pipe_lost(&mut self, why: &dyn std::fmt::Display, ctx: &mut Context<Self>) {
        self.pipe = None;
        if self.next_attempt.is_none_or(|t| t <= Instant::now()) && !self.auth_failed {
            self.on_session_lost(why, ctx);
        }
        let e = self
            .gate_reason()
            .unwrap_or_else(|| BrokerError::Unavailable {
                reason: why.to_string(),
            });
        let label = outcome_label(&Err(e.clone()));
        self.fail_waiting(&e, label);
    }

    fn reconnect_now_pipelined(&mut self, ctx: &mut Context<Self>) {
        if self.pq.connecting || self.pipe.is_some() || self.token.is_cancelled() {
            return;
        }
        if self.is_idle() {
            ctx.stop();
            return;
        }
        self.begin_attempt();
        self.start_connect(ctx);
    }

    /// Connects (through the fleet-wide gate) without blocking the actor: commands arriving
    /// meanwhile wait in `pq.waiting` and run on the new session, or get its failure.
    fn start_connect(&mut self, ctx: &mut Context<Self>) {
        self.pq.connecting = true;
        let fut = self.connect_unless_stopped();
        ctx.spawn(fut.into_actor(self).map(|r, act, ctx| {
            act.pq.connecting = false;
            match r {
                None => {}
                Some(Ok((client, res))) => {
                    act.pipe = Some(Pipeline::from_client(client));
                    act.on_connect(Ok(res), ctx);
                    act.pump(ctx);
                }
                Some(Err(e)) => {
                    let be = match &e {
                        RouterError::AuthFailed(_) => BrokerError::AuthFailed,
                        other => BrokerError::Unavailable {
                            reason: other.to_string(),
                        },
                    };
                    let label = router_error_label(&e);
                    act.on_connect(Err(e), ctx);
                    act.fail_waiting(&be, label);
                }
            }
        }));
    }

    /// Starts every waiting command that may start now: at most `pipeline_depth` in flight, never
    /// two with the same user key, `Exclusive` ones alone, each user's commands in arrival order.
    fn pump(&mut self, ctx: &mut Context<Self>) {
        if self.token.is_cancelled() || self.pq.connecting || self.pq.exclusive {
            return;
        }
        let pipe = match &self.pipe {
            Some(p) if p.is_broken() => {
                if self.pq.in_flight > 0 {
                    // The commands in flight report the loss when they finish.
                    return;
                }
                // Died while idle: nothing waiting was sent, so connect again before sending
                // (as test-on-borrow does), or report the loss.
                let why = p
                    .broken_reason()
                    .map_or_else(|| "session closed".to_string(), |e| e.to_string());
                self.pipe = None;
                if self.pq.waiting.is_empty() {
                    self.on_session_lost(&why, ctx);
                } else {
                    tracing::info!(router_id = %self.router_id,
                        "router session found dead; reconnecting before the command");
                    self.note_error(&why);
                    self.connected_at = None;
                    self.begin_attempt();
                    self.start_connect(ctx);
                }
                return;
            }
            Some(p) => p.clone(),
            None => {
                if !self.pq.waiting.is_empty() {
                    if let Some(e) = self.gate_reason() {
                        let label = outcome_label(&Err(e.clone()));
                        self.fail_waiting(&e, label);
                    } else {
                        self.begin_attempt();
                        self.start_connect(ctx);
                    }
                }
                return;
            }
        };
        // Test-on-borrow: a changing command on a session silent for a while.
        if self.pq.in_flight == 0
            && self.last_io.elapsed() >= self.deps.settings.revalidate_after
            && self.pq.waiting.front().is_some_and(|q| q.op.is_mutating())
        {
            self.start_check(pipe, true, ctx);
            return;
        }
        let depth = self.deps.settings.pipeline_depth;
        let mut blocked: HashSet<String> = HashSet::new();
        let mut i = 0;
        while self.pq.in_flight < depth {
            let Some(q) = self.pq.waiting.get(i) else {
                break;
            };
            if q.tx.is_closed() {
                self.pq.waiting.remove(i);
                continue;
            }
            if Instant::now() >= q.queue_deadline {
                if let Some(q) = self.pq.waiting.remove(i) {
                    let e = BrokerError::Busy {
                        retry_after_secs: 1,
                    };
                    self.deps.observer.command(
                        &self.router_id,
                        q.op.name(),
                        "busy",
                        q.enqueued_at.elapsed(),
                    );
                    drop(q.slot);
                    let _ = q.tx.send(Err(e));
                }
                continue;
            }
            let key = OpKey::of(&q.op);
            match &key {
                OpKey::Exclusive => {
                    if i > 0 || self.pq.in_flight > 0 {
                        // Nothing overtakes it.
                        break;
                    }
                }
                OpKey::User(k) => {
                    if self.pq.keys.contains(k) || blocked.contains(k) {
                        blocked.insert(k.clone());
                        i += 1;
                        continue;
                    }
                }
                OpKey::Free => {}
            }
            let Some(q) = self.pq.waiting.remove(i) else {
                break;
            };
            let exclusive = key == OpKey::Exclusive;
            self.start_pipelined(pipe.clone(), q, key, ctx);
            if exclusive {
                break;
            }
        }
    }

    /// A probe (`/system/resource/print`) or a revalidation (`/system/identity/print` before a
    /// changing command), run alone.
    fn start_check(&mut self, pipe: Pipeline, revalidate: bool, ctx: &mut Context<Self>) {
        self.pq.exclusive = true;
        let token = self.token.clone();
        let grace = self.deps.settings.cancel_grace;
        let p = pipe.clone();
        let fut = async move {
            if revalidate {
                let identity = commands::system_identity();
                tokio::select! {
                    r = p.run(&identity, grace) => r.map(|_| None),
                    _ = token.cancelled() => Err(RouterError::Closed),
                }
            } else {
                tokio::select! {
                    r = p.system_resource() => r.map(Some),
                    _ = token.cancelled() => Err(RouterError::Closed),
                }
            }
        };
        ctx.spawn(fut.into_actor(self).map(move |r, act, ctx| {
            act.pq.exclusive = false;
            act.last_io = Instant::now();
            if act.token.is_cancelled() {
                return;
            }
            let current = act.pipe.as_ref().is_some_and(|c| c.same(&pipe));
            match r {
                Ok(res) if !pipe.is_broken() => {
                    if let Some(res) = res {
                        act.observe_resource(&res);
                    }
                }
                Err(e) if e.is_trap() && !pipe.is_broken() => {}
                Err(e) if revalidate && current => {
                    // Never send a changing command into a session that died idle.
                    tracing::info!(router_id = %act.router_id,
                        "idle router session found dead; reconnecting before the command");
                    pipe.close(e.clone());
                    act.pipe = None;
                    act.note_error(&e);
                    act.connected_at = None;
                    act.begin_attempt();
                    act.start_connect(ctx);
                    return;
                }
                r => {
                    if current {
                        let why = match r {
                            Err(e) => e,
                            Ok(_) => pipe.broken_reason().unwrap_or(RouterError::Closed),
                        };
                        pipe.close(why.clone());
                        act.pipe_lost(&why, ctx);
                    }
                }
            }
            act.pump(ctx);
        }));
    }

    /// Sends one caller command on the pipelined session; the actor keeps taking messages.
    fn start_pipelined(&mut self, pipe: Pipeline, q: Queued, key: OpKey, ctx: &mut Context<Self>) {
        self.pq.in_flight += 1;
        match &key {
            OpKey::User(k) => {
                self.pq.keys.insert(k.clone());
            }
            OpKey::Exclusive => self.pq.exclusive = true,
            OpKey::Free => {}
        }
        let Queued {
            op,
            tx,
            slot,
            enqueued_at,
            queue_deadline: _,
        } = q;
        let name = op.name();
        let token = self.token.clone();
        let grace = self.deps.settings.cancel_grace;
        let p = pipe.clone();
        let fut = async move {
            let run = async {
                let started = Instant::now();
                let (outcome, label) = match pipeline::execute(&p, &op).await {
                    Ok(out) => (Ok(out), "ok"),
                    Err(e) => {
                        let timed_out = matches!(e, RouterError::Timeout);
                        let label = router_error_label(&e);
                        let be = classify(&op, e);
                        if timed_out && !p.is_broken() {
                            // `/cancel` was sent; if the router still does not answer, the
                            // session goes (the others in flight then get "outcome unknown").
                            if let Err(e) = p.run(&commands::system_identity(), grace).await {
                                p.close(e);
                            }
                        }
                        (Err(be), label)
                    }
                };
                (outcome, label, started.elapsed())
            };
            tokio::select! {
                r = run => Some(r),
                _ = token.cancelled() => None,
            }
        };
        ctx.spawn(fut.into_actor(self).map(move |r: PipeDone, act, ctx| {
            act.pq.in_flight = act.pq.in_flight.saturating_sub(1);
            match &key {
                OpKey::User(k) => {
                    act.pq.keys.remove(k);
                }
                OpKey::Exclusive => act.pq.exclusive = false,
                OpKey::Free => {}
            }
            let Some((outcome, label, elapsed)) = r else {
                // Restarted mid-command: the caller sees a dropped reply (outcome unknown).
                drop(tx);
                drop(slot);
                return;
            };
            act.last_io = Instant::now();
            act.status.record_command(elapsed);
            act.deps
                .observer
                .command(&act.router_id, name, label, enqueued_at.elapsed());
            if pipe.is_broken() && act.pipe.as_ref().is_some_and(|c| c.same(&pipe)) {
                let why = match (&outcome, pipe.broken_reason()) {
                    (_, Some(e)) => e.to_string(),
                    (Err(e), None) => e.to_string(),
                    (Ok(_), None) => "session closed".to_string(),
                };
                act.pipe_lost(&why, ctx);
            }
            drop(slot);
            act.deps
                .observer
                .queue_depth(&act.router_id, act.status.queue_depth());
            let _ = tx.send(outcome);
            act.pump(ctx);
        }));
    }

    /// Periodic work in pipelined mode: stop when idle; notice a session that died idle; probe
    /// an idle session; reconnect when due.
    fn tick_pipelined(&mut self, ctx: &mut Context<Self>) {
        let pq = &self.pq;
        if pq.connecting || pq.exclusive || pq.in_flight > 0 || !pq.waiting.is_empty() {
            return;
        }
        if self.is_idle() {
            tracing::debug!(router_id = %self.router_id, "router actor idle, stopping");
            ctx.stop();
            return;
        }
        let Some(pipe) = self.pipe.clone() else {
            if self.reconnect_timer.is_none() && self.gate_reason().is_none() {
                self.reconnect_now(ctx);
            }
            return;
        };
        if pipe.is_broken() {
            let why = pipe.broken_reason().unwrap_or(RouterError::Closed);
            self.pipe_lost(&why, ctx);
            return;
        }
        if let Some(at) = self.connected_at {
            self.deps
                .observer
                .session_age(&self.router_id, at.elapsed());
        }
        if self.last_io.elapsed() >= self.deps.settings.probe_interval {
            self.start_check(pipe, false, ctx);
        }
    }
}

impl Actor for RouterActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        self.deps.observer.started(&self.router_id);
        let every = self.tick_interval();
        ctx.run_interval(every, |act, ctx| act.tick(ctx));
        let token = self.token.clone();
        ctx.spawn(
            async move { token.cancelled().await }
                .into_actor(self)
                .map(|_, _, ctx| ctx.stop()),
        );
    }

    fn stopped(&mut self, _ctx: &mut Self::Context) {
        self.client = None;
        self.pipe = None;
        // Never sent: the registry retries them on a fresh actor.
        self.fail_waiting(
            &BrokerError::Unavailable {
                reason: NOT_RUN_RESTARTING.into(),
            },
            "connection_lost",
        );
        self.set_state(RouterState::Idle);
        if self.status.forgotten.load(Ordering::Acquire) {
            self.deps.observer.forgotten(&self.router_id);
        } else {
            self.deps.observer.up(&self.router_id, false);
            self.deps
                .observer
                .session_age(&self.router_id, Duration::ZERO);
            self.deps.observer.queue_depth(&self.router_id, 0);
        }
        if let Some(f) = self.on_stopped.take() {
            f();
        }
        tracing::debug!(router_id = %self.router_id, "router actor stopped");
    }
}

impl Handler<Call> for RouterActor {
    type Result = ();

    fn handle(&mut self, mut msg: Call, ctx: &mut Self::Context) {
        let Some(tx) = msg.reply.take() else {
            return;
        };
        let slot = msg.slot.take();
        let op = std::mem::replace(&mut msg.op, Op::Identity);
        let queue_deadline = msg.queue_deadline;
        let enqueued_at = msg.enqueued_at;
        drop(msg);
        if tx.is_closed() {
            return;
        }
        self.last_activity = Instant::now();
        let refuse = if self.token.is_cancelled() {
            Some(BrokerError::Unavailable {
                reason: NOT_RUN_RESTARTING.into(),
            })
        } else if Instant::now() >= queue_deadline {
            Some(BrokerError::Busy {
                retry_after_secs: 1,
            })
        } else {
            self.gate_reason()
        };
        if let Some(e) = refuse {
            let label = outcome_label(&Err(e.clone()));
            self.deps
                .observer
                .command(&self.router_id, op.name(), label, enqueued_at.elapsed());
            let _ = tx.send(Err(e));
            return;
        }
        if self.pipelined() {
            self.pq.waiting.push_back(Queued {
                op,
                tx,
                slot,
                enqueued_at,
                queue_deadline,
            });
            self.pump(ctx);
            return;
        }
        let client = self.client.take();
        if client.is_none() {
            self.begin_attempt();
        }
        let revalidate = client.is_some()
            && op.is_mutating()
            && self.last_io.elapsed() >= self.deps.settings.revalidate_after;
        self.busy = true;
        let gate = self.deps.gate.clone();
        let opts = self.opts.clone();
        let token = self.token.clone();
        let grace = self.deps.settings.cancel_grace;
        let name = op.name();
        let work = async move {
            let mut connected = None;
            let mut client = client;
            if revalidate {
                // Test-on-borrow: never send a changing command into a session that died idle.
                if let Some(mut c) = client.take() {
                    let alive = c.run(&commands::system_identity(), grace).await.is_ok();
                    if alive && !c.is_broken() {
                        client = Some(c);
                    } else {
                        tracing::info!(
                            "idle router session found dead; reconnecting before the command"
                        );
                    }
                }
            }
            let client = match client {
                Some(c) => c,
                None => match gate.connect(&opts).await {
                    Ok((c, res)) => {
                        connected = Some(Ok(res));
                        c
                    }
                    Err(e) => {
                        let outcome = Err(match &e {
                            RouterError::AuthFailed(_) => BrokerError::AuthFailed,
                            other => BrokerError::Unavailable {
                                reason: other.to_string(),
                            },
                        });
                        return Work {
                            client: None,
                            label: router_error_label(&e),
                            connected: Some(Err(e)),
                            outcome,
                            ran: false,
                            elapsed: Duration::ZERO,
                        };
                    }
                },
            };
            let started = Instant::now();
            let (client, outcome, label) = run_op(client, &op, grace).await;
            Work {
                client,
                connected,
                outcome,
                label,
                ran: true,
                elapsed: started.elapsed(),
            }
        };
        let fut = async move {
            tokio::select! {
                w = work => Some(w),
                _ = token.cancelled() => None,
            }
        };
        ctx.wait(fut.into_actor(self).map(move |w, act, ctx| {
            act.busy = false;
            let Some(w) = w else {
                // Restarted mid-command: the caller sees a dropped reply (outcome unknown).
                drop(tx);
                drop(slot);
                return;
            };
            act.last_io = Instant::now();
            if let Some(c) = w.connected {
                act.on_connect(c, ctx);
            }
            let lost = w.client.is_none();
            act.client = w.client;
            let label = w.label;
            if w.ran {
                act.status.record_command(w.elapsed);
            }
            act.deps
                .observer
                .command(&act.router_id, name, label, enqueued_at.elapsed());
            if lost && act.next_attempt.is_none_or(|t| t <= Instant::now()) && !act.auth_failed {
                let why = match &w.outcome {
                    Err(e) => e.to_string(),
                    Ok(_) => "session closed".to_string(),
                };
                act.on_session_lost(&why, ctx);
            }
            drop(slot);
            act.deps
                .observer
                .queue_depth(&act.router_id, act.status.queue_depth());
            let _ = tx.send(w.outcome);
        }));
    }
}

/// Whether a router that reported `prev` seconds of uptime, `elapsed` seconds ago, and now
/// reports `now`, has rebooted in between (5 s of slack for rounding and clock skew).
pub fn rebooted_between(prev: u64, elapsed: u64, now: u64) -> bool {
    now < prev || now.saturating_add(5) < prev.saturating_add(elapsed)
}

/// Runs one operation; returns the session if it is still usable.
async fn run_op(
    mut client: RouterClient,
    op: &Op,
    cancel_grace: Duration,
) -> (
    Option<RouterClient>,
    Result<OpOutput, BrokerError>,
    &'static str,
) {
    match execute(&mut client, op).await {
        Ok(out) => {
            let keep = (!client.is_broken()).then_some(client);
            (keep, Ok(out), "ok")
        }
        Err(e) => {
            let timed_out = matches!(e, RouterError::Timeout);
            let label = router_error_label(&e);
            let be = classify(op, e);
            if client.is_broken() {
                return (None, Err(be), label);
            }
            if timed_out {
                // The client sent `/cancel`; if the router still does not answer, reconnect.
                let alive = client
                    .run(&commands::system_identity(), cancel_grace)
                    .await
                    .is_ok();
                if !alive || client.is_broken() {
                    return (None, Err(be), label);
                }
            }
            (Some(client), Err(be), label)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reboot_detection() {
        assert!(rebooted_between(10, 0, 3));
        assert!(!rebooted_between(10, 0, 10));
        assert!(!rebooted_between(10, 60, 70));
        assert!(!rebooted_between(10, 60, 66));
        // Read at 5 s, an hour later the router says 20 s: it rebooted meanwhile.
        assert!(rebooted_between(5, 3600, 20));
        assert!(!rebooted_between(0, 0, 0));
    }
}
