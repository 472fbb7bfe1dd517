//! `RouterActor`: one actix actor per router, owning one logged-in RouterOS session.
//!
//! * With `pipeline_depth` > 1 (the default, 16) several tagged commands overlap on the one
//!   session, as many as the adaptive [`Window`] allows; at 1 commands run strictly one at a
//!   time, each inside `ctx.wait(..)`, so the actor takes no other message (and runs no timer)
//!   until the command finished.
//! * The queue is bounded by a reserved-slot counter ([`QueueSlot`](crate::messages::QueueSlot)), checked by the caller before
//!   sending, so a full router answers `Busy` at once.
//! * Every command has the session's deadline. On expiry the client sends `/cancel`; the actor
//!   then gives the router `cancel_grace` to answer a probe and drops the session if it does not.
//! * A lost session is re-established with exponential backoff and jitter ([`Backoff`]); refused
//!   credentials use a much longer schedule and put the router in `auth_failed`. Connection
//!   attempts go through a fleet-wide gate ([`ConnectGate`]) so a mass outage does not turn into
//!   a reconnect storm. A command arriving while backing off starts an attempt at once, at most
//!   one per router per [`ON_DEMAND_INTERVAL`]; a session found dead on use is replaced before
//!   the command is sent.
//! * A periodic probe (`/system/resource/print`) keeps the session warm and detects reboots
//!   (uptime going backwards). After `idle_timeout` without caller traffic the actor stops.
//!
//! Metrics are reported through one small trait, [`RouterObserver`].
//!
//! Here: the actor, its connection life cycle and its message handler. Beside it: [`Backoff`],
//! the [`ConnectGate`], the [`StatusCell`], the metric hooks, and the two ways of running
//! commands (`sequential`, one at a time; `pipelined`, several tagged ones in flight).

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use chrono::Utc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::client::{ConnectOptions, RouterClient};
use crate::commands::{self, SystemResource};
use crate::error::RouterError;
use crate::messages::{BrokerError, Call, Op, RouterState, NOT_RUN_RESTARTING};
use crate::pipeline::Pipeline;
use crate::settings::RouterSettings;

mod backoff;
mod gate;
mod observer;
mod pipelined;
mod sequential;
mod status;
mod window;

pub use backoff::Backoff;
pub use gate::ConnectGate;
pub use observer::{outcome_label, router_error_label, NoopObserver, RouterObserver};
pub use pipelined::OpKey;
pub use status::StatusCell;
pub use window::{Signal, Window, INITIAL_WINDOW};

use pipelined::{PipeQueue, Queued};
use status::ATTEMPTS_KEPT;

/// At most one connection attempt per router in this time on behalf of waiting commands
/// ("reconnect on demand"); background reconnects follow their backoff.
pub const ON_DEMAND_INTERVAL: Duration = Duration::from_secs(1);

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
    /// When the last connection attempt started (for the on-demand rate limit).
    last_attempt: Option<Instant>,
    /// The running attempt was started ahead of the backoff schedule, for a waiting command: its
    /// failure leaves the schedule as it was.
    on_demand: bool,
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
    /// Pipelined mode only: how many commands may be in flight now.
    window: Window,
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
        let window = Window::new(s.pipeline_depth);
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
                last_attempt: None,
                on_demand: false,
                auth_failed: false,
                had_session: false,
                last_uptime: None,
                last_activity: now,
                last_io: now,
                reconnect_timer: None,
                pipe: None,
                pq: PipeQueue::default(),
                window,
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

    /// Whether a command may have a connection attempt started for it now: `None` if so (or if
    /// no backoff is in effect, or an attempt is already running), else the refusal. While
    /// backing off (not after refused credentials), an attempt may start at once if none started
    /// in the last [`ON_DEMAND_INTERVAL`].
    fn on_demand_refusal(&self) -> Option<BrokerError> {
        if self.pq_connecting() {
            return None;
        }
        let reason = self.gate_reason()?;
        if self.auth_failed
            || self
                .last_attempt
                .is_some_and(|t| t.elapsed() < ON_DEMAND_INTERVAL)
        {
            return Some(reason);
        }
        None
    }

    fn begin_attempt(&mut self) {
        let now = Instant::now();
        self.last_attempt = Some(now);
        self.on_demand = self.next_attempt.is_some_and(|t| t > now);
        if self.on_demand {
            tracing::info!(router_id = %self.router_id, "connecting ahead of the backoff for a waiting command");
        }
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
        let on_demand = std::mem::take(&mut self.on_demand);
        match r {
            Ok(res) => {
                if let Some(h) = self.reconnect_timer.take() {
                    ctx.cancel_future(h);
                }
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
            Err(e) if on_demand && !matches!(e, RouterError::AuthFailed(_)) => {
                // The background schedule stands: a dead router is not hammered.
                self.note_error(&e);
                self.status.with(|s| s.state = RouterState::BackingOff);
                tracing::info!(router_id = %self.router_id, error = %e,
                    "on-demand connection attempt failed");
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
            self.on_demand_refusal()
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
                retried: false,
            });
            self.pump(ctx);
            return;
        }
        self.run_sequential(op, tx, slot, enqueued_at, ctx);
    }
}

/// Whether a router that reported `prev` seconds of uptime, `elapsed` seconds ago, and now
/// reports `now`, has rebooted in between (5 s of slack for rounding and clock skew).
pub fn rebooted_between(prev: u64, elapsed: u64, now: u64) -> bool {
    now < prev || now.saturating_add(5) < prev.saturating_add(elapsed)
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
