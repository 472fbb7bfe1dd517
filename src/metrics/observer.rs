//! The router broker reports into [`Metrics`] through `routeros::RouterObserver`.

use std::time::Duration;

use super::labels::RouterOutcome;
use super::registry::Metrics;

/// The router broker reports into these metrics.
impl routeros::RouterObserver for Metrics {
    fn started(&self, router_id: &str) {
        self.register_router(router_id);
    }
    fn forgotten(&self, router_id: &str) {
        self.forget_router(router_id);
    }
    fn command(
        &self,
        _router_id: &str,
        command: &'static str,
        outcome: &'static str,
        elapsed: Duration,
    ) {
        let outcome = match outcome {
            "ok" => RouterOutcome::Ok,
            "trap" => RouterOutcome::Trap,
            "timeout" => RouterOutcome::Timeout,
            "connection_lost" => RouterOutcome::ConnectionLost,
            "busy" => RouterOutcome::Busy,
            "reply_too_large" => RouterOutcome::ReplyTooLarge,
            _ => RouterOutcome::Error,
        };
        self.observe_router_command(command, outcome, elapsed);
    }
    fn up(&self, router_id: &str, up: bool) {
        self.set_router_up(router_id, up);
    }
    fn queue_depth(&self, router_id: &str, depth: usize) {
        self.set_router_queue_depth(router_id, depth);
    }
    fn reconnect(&self, router_id: &str) {
        self.inc_router_reconnects(router_id);
    }
    fn session_age(&self, router_id: &str, age: Duration) {
        self.set_router_session_age(router_id, age);
    }
}
