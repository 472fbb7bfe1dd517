//! Where the broker reports metrics, and the metric outcome labels.

use std::time::Duration;

use crate::error::RouterError;
use crate::messages::{BrokerError, OpOutput};

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
            RouterError::ReplyTooLarge => "reply_too_large",
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
