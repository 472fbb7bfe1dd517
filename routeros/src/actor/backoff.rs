//! Reconnect delays (the only place that knows the `backoff` crate).

use std::time::Duration;

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
