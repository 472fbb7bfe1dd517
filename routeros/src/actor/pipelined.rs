//! Pipelined mode (`pipeline_depth` > 1): several tagged commands in flight on the one session,
//! never two on the same hotspot user at once.

use std::collections::{HashSet, VecDeque};
use std::time::Duration;

use actix::prelude::*;
use tokio::time::Instant;

use super::observer::{outcome_label, router_error_label};
use super::window::Signal;
use super::RouterActor;
use crate::commands;
use crate::error::RouterError;
use crate::messages::{classify, BrokerError, Op, OpOutput, QueueSlot, ReplyTx};
use crate::pipeline::{self, Pipeline};

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
            Op::FindUser(name)
            | Op::EnableOwnUser { name, .. }
            | Op::RemoveActiveSessions(name)
            | Op::RemoveCookies(name)
            | Op::RevokeAccess { user: name, .. } => OpKey::User(name.clone()),
            Op::EnableUser(id) | Op::DisableUser(id) | Op::RemoveUser(id) | Op::KickSession(id) => {
                OpKey::User(id.clone())
            }
            Op::FindBindings(_)
            | Op::FindHost(_)
            | Op::ListProfiles
            | Op::ListUsers
            | Op::ListActive
            | Op::Identity
            | Op::Resource
            | Op::Print(_) => OpKey::Free,
            // Bindings and active logins touch hosts, MACs and users together: run them alone.
            Op::BindMac(_) | Op::ActiveLogin(_) => OpKey::Exclusive,
        }
    }
}

/// A caller's command waiting for its turn on a pipelined session.
pub(super) struct Queued {
    pub(super) op: Op,
    pub(super) tx: ReplyTx,
    pub(super) slot: Option<QueueSlot>,
    pub(super) enqueued_at: Instant,
    pub(super) queue_deadline: Instant,
    /// Already sent once on a session that turned out dead (a read runs again once only).
    pub(super) retried: bool,
}

/// The pipelined mode's bookkeeping.
#[derive(Default)]
pub(super) struct PipeQueue {
    /// Accepted and not sent yet, in arrival order.
    pub(super) waiting: VecDeque<Queued>,
    /// Caller commands sent and not answered yet.
    in_flight: usize,
    /// `OpKey::User` keys of the commands in flight.
    keys: HashSet<String>,
    /// A connection attempt is running.
    connecting: bool,
    /// A probe, a revalidation or an `OpKey::Exclusive` command is running: nothing else starts.
    exclusive: bool,
}

/// What a pipelined command's future hands back to the actor: its outcome, metric label, round
/// trip and what it tells the adaptive window.
type PipeDone = Option<(
    Result<OpOutput, BrokerError>,
    &'static str,
    Duration,
    Option<Signal>,
)>;

/// Runs one caller command on a pipelined session (`None` if the actor is stopped meanwhile).
async fn run_pipelined(
    p: Pipeline,
    op: Op,
    grace: Duration,
    token: tokio_util::sync::CancellationToken,
) -> PipeDone {
    let run = async {
        let started = Instant::now();
        let r = pipeline::execute(&p, &op).await;
        let signal = signal_of(&r);
        let (outcome, label) = match r {
            Ok(out) => (Ok(out), "ok"),
            Err(e) => {
                let timed_out = matches!(e, RouterError::Timeout);
                let label = router_error_label(&e);
                let be = classify(&op, e);
                if timed_out && !p.is_broken() {
                    // `/cancel` was sent; if the router still does not answer, the session goes
                    // (the others in flight then get "outcome unknown").
                    if let Err(e) = p.run(&commands::system_identity(), grace).await {
                        p.close(e);
                    }
                }
                (Err(be), label)
            }
        };
        (outcome, label, started.elapsed(), signal)
    };
    tokio::select! {
        r = run => Some(r),
        _ = token.cancelled() => None,
    }
}

/// What a finished command tells the adaptive window: `None` when the session failed (that is
/// not about load).
fn signal_of(r: &Result<OpOutput, RouterError>) -> Option<Signal> {
    match r {
        Ok(_) => Some(Signal::Answered),
        Err(RouterError::Timeout | RouterError::Trap { .. }) => Some(Signal::Overloaded),
        Err(e) if e.is_trap() => Some(Signal::Answered),
        Err(_) => None,
    }
}

impl RouterActor {
    pub(super) fn pipelined(&self) -> bool {
        self.deps.settings.pipeline_depth > 1
    }

    /// A connection attempt is running in pipelined mode (commands may wait for it).
    pub(super) fn pq_connecting(&self) -> bool {
        self.pq.connecting
    }

    /// Shows the adaptive window in the status.
    pub(super) fn publish_window(&self) {
        let w = self.window.limit();
        self.status.with(|s| s.window = Some(w));
    }

    /// Answers every waiting (never sent) command with `e`.
    pub(super) fn fail_waiting(&mut self, e: &BrokerError, label: &'static str) {
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
        if self.pq.waiting.is_empty() || self.pq.connecting {
            return;
        }
        if self.auth_failed {
            let e = BrokerError::AuthFailed;
            let label = outcome_label(&Err(e.clone()));
            self.fail_waiting(&e, label);
            return;
        }
        // Commands are waiting (never sent, or reads to run again): the session that was up is
        // replaced at once rather than refusing them. If that attempt fails, later ones are
        // rate-limited (`on_demand_refusal`).
        self.begin_attempt();
        self.start_connect(ctx);
    }

    pub(super) fn reconnect_now_pipelined(&mut self, ctx: &mut Context<Self>) {
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
                    act.window.new_session();
                    act.publish_window();
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
    pub(super) fn pump(&mut self, ctx: &mut Context<Self>) {
        if self.token.is_cancelled() || self.pq.connecting || self.pq.exclusive {
            return;
        }
        let Some(pipe) = self.pump_session(ctx) else {
            return;
        };
        // Test-on-borrow: a changing command on a session silent for a while.
        if self.pq.in_flight == 0
            && self.last_io.elapsed() >= self.deps.settings.revalidate_after
            && self.pq.waiting.front().is_some_and(|q| q.op.is_mutating())
        {
            self.start_check(pipe, true, ctx);
            return;
        }
        let depth = self.window.limit();
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

    /// The session `pump` sends on, or `None` when nothing can be sent now: a session that died
    /// idle is replaced (or its loss reported), and without one a connection attempt starts or
    /// the waiting commands are refused.
    fn pump_session(&mut self, ctx: &mut Context<Self>) -> Option<Pipeline> {
        match &self.pipe {
            Some(p) if p.is_broken() => {
                if self.pq.in_flight > 0 {
                    // The commands in flight report the loss when they finish.
                    return None;
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
                None
            }
            Some(p) => Some(p.clone()),
            None => {
                if !self.pq.waiting.is_empty() {
                    if let Some(e) = self.on_demand_refusal() {
                        let label = outcome_label(&Err(e.clone()));
                        self.fail_waiting(&e, label);
                    } else {
                        self.begin_attempt();
                        self.start_connect(ctx);
                    }
                }
                None
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
        let in_flight_at_send = self.pq.in_flight;
        let sent_at = Instant::now();
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
            queue_deadline,
            retried,
        } = q;
        let name = op.name();
        // A read whose session turns out dead runs once more, on a new session.
        let again = (!op.is_mutating() && !retried).then(|| op.clone());
        let token = self.token.clone();
        let grace = self.deps.settings.cancel_grace;
        let fut = run_pipelined(pipe.clone(), op, grace, token);
        ctx.spawn(fut.into_actor(self).map(move |r: PipeDone, act, ctx| {
            act.pq.in_flight = act.pq.in_flight.saturating_sub(1);
            match &key {
                OpKey::User(k) => {
                    act.pq.keys.remove(k);
                }
                OpKey::Exclusive => act.pq.exclusive = false,
                OpKey::Free => {}
            }
            let Some((outcome, label, elapsed, signal)) = r else {
                // Restarted mid-command: the caller sees a dropped reply (outcome unknown).
                drop(tx);
                drop(slot);
                return;
            };
            act.last_io = Instant::now();
            act.status.record_command(elapsed);
            if let Some(signal) = signal {
                act.window
                    .on_answer(signal, elapsed, sent_at, in_flight_at_send);
                act.publish_window();
            }
            let rerun = again.filter(|_| {
                pipe.is_broken() && matches!(outcome, Err(BrokerError::Unavailable { .. }))
            });
            let (tx, slot) = match rerun {
                Some(op) => {
                    tracing::info!(router_id = %act.router_id,
                        "router session found dead on a read; running it again on a new session");
                    act.pq.waiting.push_front(Queued {
                        op,
                        tx,
                        slot,
                        enqueued_at,
                        queue_deadline,
                        retried: true,
                    });
                    (None, None)
                }
                None => {
                    act.deps
                        .observer
                        .command(&act.router_id, name, label, enqueued_at.elapsed());
                    (Some(tx), slot)
                }
            };
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
            if let Some(tx) = tx {
                let _ = tx.send(outcome);
            }
            act.pump(ctx);
        }));
    }

    /// Periodic work in pipelined mode: stop when idle; notice a session that died idle; probe
    /// an idle session; reconnect when due.
    pub(super) fn tick_pipelined(&mut self, ctx: &mut Context<Self>) {
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
