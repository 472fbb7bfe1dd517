//! The broker's tuning, as plain values (the application fills them from its configuration).

use std::time::Duration;

/// The default (and largest adaptive) pipeline window: `ROUTER_PIPELINE_DEPTH`'s default.
pub const DEFAULT_PIPELINE_DEPTH: usize = 16;

/// Tuning of the per-router actors.
#[derive(Debug, Clone)]
pub struct RouterSettings {
    /// Commands queued per router beyond which callers get `RouterBusy`.
    pub mailbox_capacity: usize,
    pub connect_timeout: Duration,
    pub command_timeout: Duration,
    /// An actor with no traffic for this long stops and closes its session.
    pub idle_timeout: Duration,
    pub probe_interval: Duration,
    /// First reconnect delay; doubles (with ±50 % jitter) up to `reconnect_max`.
    pub reconnect_initial: Duration,
    pub reconnect_max: Duration,
    /// Backoff after the router refused the credentials (much longer).
    pub auth_backoff_initial: Duration,
    pub auth_backoff_max: Duration,
    /// After a command timed out and was cancelled, how long the router gets to answer a
    /// follow-up probe before the session is dropped and re-established.
    pub cancel_grace: Duration,
    /// How long a command may wait in a router's queue before it is refused unrun.
    pub queue_timeout: Duration,
    /// A changing command on a session silent for this long is preceded by a cheap probe, so a
    /// session that died while idle is replaced before the command is sent (not after, when its
    /// outcome would be unknown).
    pub revalidate_after: Duration,
    /// Connection attempts (TCP + login) in flight at once across all routers.
    pub connect_concurrency: usize,
    /// Persistent sessions (default) or one login per command, as the original did.
    pub mode: BrokerMode,
    /// The most commands in flight at once on a router's one session (`ROUTER_PIPELINE_DEPTH`,
    /// 1..=32, default 16). Above 1 tagged commands are pipelined, never two on the same hotspot
    /// user at once, with an adaptive window (see [`crate::actor::Window`]) bounded by this; 1 runs
    /// them strictly one at a time.
    pub pipeline_depth: usize,
    /// Whether router hosts may be loopback addresses (`ROUTER_ALLOW_LOOPBACK`; the demo, the
    /// bench and the tests reach their simulators on 127.0.0.1). Link-local, unspecified and
    /// multicast addresses are refused regardless.
    pub allow_loopback: bool,
    /// The most one command's reply may hold (`ROUTER_MAX_REPLY_ROWS`, `ROUTER_MAX_REPLY_BYTES`).
    pub reply_limits: crate::client::ReplyLimits,
}

/// How the router broker talks to routers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BrokerMode {
    /// One long-lived actor and session per router.
    #[default]
    Persistent,
    /// Connect and log in for every command (the original system's behaviour; for benchmarks).
    ConnectPerRequest,
}

impl Default for RouterSettings {
    fn default() -> Self {
        Self {
            mailbox_capacity: 64,
            connect_timeout: Duration::from_secs(5),
            command_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(600),
            probe_interval: Duration::from_secs(30),
            reconnect_initial: Duration::from_secs(1),
            reconnect_max: Duration::from_secs(60),
            auth_backoff_initial: Duration::from_secs(120),
            auth_backoff_max: Duration::from_secs(900),
            cancel_grace: Duration::from_secs(2),
            queue_timeout: Duration::from_secs(15),
            revalidate_after: Duration::from_secs(5),
            connect_concurrency: 8,
            mode: BrokerMode::Persistent,
            pipeline_depth: DEFAULT_PIPELINE_DEPTH,
            allow_loopback: false,
            reply_limits: crate::client::ReplyLimits::default(),
        }
    }
}
