//! Sequential mode (`pipeline_depth` = 1): one command at a time, each inside `ctx.wait(..)`,
//! so the actor takes no other message (and runs no timer) until the command finished.

use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use tokio::time::Instant;

use super::observer::router_error_label;
use super::{ConnectGate, RouterActor};
use crate::client::{ConnectOptions, RouterClient};
use crate::commands::{self, SystemResource};
use crate::error::RouterError;
use crate::messages::{classify, execute, BrokerError, Op, OpOutput, QueueSlot, ReplyTx};

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
    /// A read found the reused session dead and ran again on a new one.
    retried: bool,
}

/// What a sequential command needs, moved into its future.
struct Job {
    client: Option<RouterClient>,
    /// Probe an idle session before a changing command (test-on-borrow).
    revalidate: bool,
    /// A read-only command whose reused session turns out dead runs once more on a new one.
    retry_read: bool,
    gate: Arc<ConnectGate>,
    opts: Arc<ConnectOptions>,
    cancel_grace: Duration,
    op: Op,
}

impl RouterActor {
    /// Runs a caller command on the session (connecting first if there is none), blocking the
    /// actor until it finished.
    pub(super) fn run_sequential(
        &mut self,
        op: Op,
        tx: ReplyTx,
        slot: Option<QueueSlot>,
        enqueued_at: Instant,
        ctx: &mut Context<Self>,
    ) {
        let mut client = self.client.take();
        if client.as_mut().is_some_and(RouterClient::closed_by_peer) {
            // Found dead on use: replace it before sending anything.
            tracing::info!(router_id = %self.router_id,
                "router session found dead; reconnecting before the command");
            self.note_error(&"connection closed by the router");
            self.connected_at = None;
            client = None;
        }
        if client.is_none() {
            self.begin_attempt();
        }
        let retry_read = client.is_some() && !op.is_mutating();
        let revalidate = client.is_some()
            && op.is_mutating()
            && self.last_io.elapsed() >= self.deps.settings.revalidate_after;
        self.busy = true;
        let token = self.token.clone();
        let name = op.name();
        let job = Job {
            client,
            revalidate,
            retry_read,
            gate: self.deps.gate.clone(),
            opts: self.opts.clone(),
            cancel_grace: self.deps.settings.cancel_grace,
            op,
        };
        let fut = async move {
            tokio::select! {
                w = job.run() => Some(w),
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
            if w.retried {
                act.begin_attempt();
            }
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

impl Job {
    /// Revalidates or connects as needed, then runs the command.
    async fn run(self) -> Work {
        let Job {
            mut client,
            revalidate,
            retry_read,
            gate,
            opts,
            cancel_grace,
            op,
        } = self;
        let mut connected = None;
        if revalidate {
            // Test-on-borrow: never send a changing command into a session that died idle.
            if let Some(mut c) = client.take() {
                let alive = c
                    .run(&commands::system_identity(), cancel_grace)
                    .await
                    .is_ok();
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
            None => match connect(&gate, &opts).await {
                Ok((c, res)) => {
                    connected = Some(Ok(res));
                    c
                }
                Err(w) => return w,
            },
        };
        let started = Instant::now();
        let (client, outcome, label) = run_op(client, &op, cancel_grace).await;
        if retry_read && client.is_none() && matches!(outcome, Err(BrokerError::Unavailable { .. }))
        {
            // A read on a session found dead on use: safe to run again on a new session.
            tracing::info!(
                "router session found dead on a read; reconnecting and running it again"
            );
            return match connect(&gate, &opts).await {
                Ok((c, res)) => {
                    let started = Instant::now();
                    let (client, outcome, label) = run_op(c, &op, cancel_grace).await;
                    Work {
                        client,
                        connected: Some(Ok(res)),
                        outcome,
                        label,
                        ran: true,
                        elapsed: started.elapsed(),
                        retried: true,
                    }
                }
                Err(w) => Work { retried: true, ..w },
            };
        }
        Work {
            client,
            connected,
            outcome,
            label,
            ran: true,
            elapsed: started.elapsed(),
            retried: false,
        }
    }
}

/// A connection attempt through the gate; on failure, the [`Work`] that reports it.
async fn connect(
    gate: &ConnectGate,
    opts: &ConnectOptions,
) -> Result<(RouterClient, SystemResource), Work> {
    gate.connect(opts).await.map_err(|e| {
        let outcome = Err(match &e {
            RouterError::AuthFailed(_) => BrokerError::AuthFailed,
            other => BrokerError::Unavailable {
                reason: other.to_string(),
            },
        });
        Work {
            client: None,
            label: router_error_label(&e),
            connected: Some(Err(e)),
            outcome,
            ran: false,
            elapsed: Duration::ZERO,
            retried: false,
        }
    })
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
