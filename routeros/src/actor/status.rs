//! A router's live status, shared by its actor (writer) and everyone else (readers).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::time::Instant;

use crate::messages::{QueueSlot, RouterState, RouterStatus};
use crate::registry::TimeFormat;

/// Attempt timestamps kept per router (for the status view and tests).
pub(super) const ATTEMPTS_KEPT: usize = 32;

#[derive(Debug)]
pub(super) struct StatusInner {
    pub(super) state: RouterState,
    pub(super) last_error: Option<String>,
    pub(super) last_error_at: Option<DateTime<Utc>>,
    pub(super) last_ms: Option<f64>,
    pub(super) avg_ms: Option<f64>,
    pub(super) uptime: Option<String>,
    pub(super) version: Option<String>,
    pub(super) connected_since: Option<DateTime<Utc>>,
    pub(super) commands_total: u64,
    pub(super) reconnects: u64,
    pub(super) reboots: u64,
    pub(super) next_attempt: Option<Instant>,
    pub(super) attempts: VecDeque<Instant>,
    pub(super) window: Option<usize>,
}

/// A router's live status, written by its actor and read by anyone without a mailbox round trip.
#[derive(Debug)]
pub struct StatusCell {
    router_id: String,
    depth: Arc<AtomicUsize>,
    /// The router was deleted: its metric series go away when the actor stops.
    pub(super) forgotten: AtomicBool,
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
            forgotten: AtomicBool::new(false),
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
                window: None,
            }),
        }
    }

    pub(super) fn with<T>(&self, f: impl FnOnce(&mut StatusInner) -> T) -> T {
        f(&mut self.inner.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Counts a command that ran on the wire and folds its duration into the latency figures.
    pub(super) fn record_command(&self, elapsed: Duration) {
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
            pipeline_window: s.window,
        })
    }
}
