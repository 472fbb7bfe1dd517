//! The adaptive pipeline depth: how many tagged commands a pipelined session keeps in flight.
//!
//! An AIMD controller in the manner of TCP Vegas/Reno, fed with each command's round trip (from
//! writing it to its `!done`):
//!
//! * the *baseline* is the shortest round trip seen lately (the network's round trip plus the
//!   router's own time for one command, with nothing queued in front of it);
//! * a command answered within `TOLERANCE` × baseline (+ `SLACK`) means round trips dominate:
//!   if the window was full when it was sent, the window grows (by one per answer up to the
//!   slow-start threshold, then by one per window of answers);
//! * a command answered later than that means commands now queue inside the router (its own time
//!   per command rose): the window halves; so does a timeout or a non-business `!trap` (anything
//!   but "not found", "already exists", "invalid value", "permission") while other commands were
//!   in flight — the router trapping under load. One decrease per round: answers to commands sent
//!   before the last decrease do not decrease again.
//!
//! The window stays within `2..=max` (`ROUTER_PIPELINE_DEPTH`; a maximum of 1 is strict mode,
//! which does not use this). A new session keeps the window
//! (the router is the same) but forgets the baseline.

use std::time::Duration;

use tokio::time::Instant;

/// The window a pipelined session starts with (clamped to the maximum).
pub const INITIAL_WINDOW: usize = 4;
/// Answers within this multiple of the baseline (plus [`SLACK`]) count as uncongested.
const TOLERANCE: f64 = 2.0;
/// Absolute slack on the baseline, so sub-millisecond local round trips do not look congested.
const SLACK: Duration = Duration::from_millis(5);
/// The baseline is the minimum over the current and the previous epoch of this many answers, so
/// it follows a path that became slower for good within a few dozen answers.
const EPOCH: u32 = 32;
/// The smallest window of a pipelined session: one slow command never holds up all the others
/// (strict one-at-a-time is `ROUTER_PIPELINE_DEPTH=1`).
const MIN_WINDOW: f64 = 2.0;

/// What one answered command tells the controller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// Answered (a business `!trap` included): its round trip counts.
    Answered,
    /// Timed out, or a `!trap` that is not about the command's data: the router is struggling.
    Overloaded,
}

/// The adaptive window of one router's pipelined session.
#[derive(Debug, Clone)]
pub struct Window {
    max: usize,
    limit: f64,
    /// Slow-start threshold: below it the window grows by one per answer.
    ssthresh: f64,
    base: Option<Duration>,
    epoch_min: Option<Duration>,
    epoch_samples: u32,
    last_decrease: Option<Instant>,
}

impl Window {
    pub fn new(max: usize) -> Self {
        let max = max.max(1);
        Self {
            max,
            limit: INITIAL_WINDOW.min(max) as f64,
            ssthresh: max as f64,
            base: None,
            epoch_min: None,
            epoch_samples: 0,
            last_decrease: None,
        }
    }

    /// Commands that may be in flight now.
    pub fn limit(&self) -> usize {
        (self.limit.floor() as usize).clamp(1, self.max)
    }

    fn floor(&self) -> f64 {
        MIN_WINDOW.min(self.max as f64)
    }

    /// The shortest recent round trip, if any was measured on this session.
    pub fn baseline(&self) -> Option<Duration> {
        self.base
    }

    /// A new session: the round trips measured on the old one no longer count.
    pub fn new_session(&mut self) {
        self.base = None;
        self.epoch_min = None;
        self.epoch_samples = 0;
    }

    /// Feeds one finished command: sent at `sent_at` with `in_flight_at_send` commands in flight
    /// (itself included), answered after `rtt`.
    pub fn on_answer(
        &mut self,
        signal: Signal,
        rtt: Duration,
        sent_at: Instant,
        in_flight_at_send: usize,
    ) {
        let fresh = self.last_decrease.is_none_or(|t| sent_at >= t);
        if signal == Signal::Overloaded {
            if fresh && in_flight_at_send > 1 {
                self.decrease(Instant::now());
            }
            return;
        }
        self.sample(rtt);
        let Some(base) = self.base else {
            return;
        };
        let congested = rtt.as_secs_f64() > base.as_secs_f64() * TOLERANCE + SLACK.as_secs_f64();
        if congested {
            if fresh && in_flight_at_send > 1 {
                self.decrease(Instant::now());
            }
            return;
        }
        // Only a full window says anything about whether a larger one would help.
        if in_flight_at_send >= self.limit() {
            self.increase();
        }
    }

    fn sample(&mut self, rtt: Duration) {
        self.epoch_min = Some(self.epoch_min.map_or(rtt, |m| m.min(rtt)));
        self.base = Some(self.base.map_or(rtt, |b| b.min(rtt)));
        self.epoch_samples += 1;
        if self.epoch_samples >= EPOCH {
            // Let the baseline follow a path that became slower for good.
            self.base = self.epoch_min;
            self.epoch_min = None;
            self.epoch_samples = 0;
        }
    }

    fn increase(&mut self) {
        let step = if self.limit < self.ssthresh {
            1.0
        } else {
            1.0 / self.limit
        };
        self.limit = (self.limit + step).min(self.max as f64);
    }

    fn decrease(&mut self, now: Instant) {
        self.limit = (self.limit / 2.0).max(self.floor());
        self.ssthresh = self.limit;
        self.last_decrease = Some(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    fn feed(w: &mut Window, n: usize, rtt: Duration) {
        for _ in 0..n {
            let sent = Instant::now();
            let full = w.limit();
            w.on_answer(Signal::Answered, rtt, sent, full);
        }
    }

    #[test]
    fn grows_to_the_maximum_while_round_trips_dominate() {
        let mut w = Window::new(16);
        assert_eq!(w.limit(), INITIAL_WINDOW);
        feed(&mut w, 50, 20 * MS);
        assert_eq!(w.limit(), 16);
    }

    #[test]
    fn does_not_grow_when_the_window_is_not_full() {
        let mut w = Window::new(16);
        for _ in 0..50 {
            w.on_answer(Signal::Answered, 20 * MS, Instant::now(), 1);
        }
        assert_eq!(w.limit(), INITIAL_WINDOW);
    }

    #[test]
    fn halves_once_per_round_when_the_router_queues() {
        let mut w = Window::new(16);
        feed(&mut w, 50, 20 * MS);
        let before = Instant::now();
        std::thread::sleep(2 * MS);
        feed(&mut w, 1, 200 * MS);
        assert_eq!(w.limit(), 8);
        // Answers to commands sent before that decrease do not decrease again.
        for _ in 0..10 {
            w.on_answer(Signal::Answered, 200 * MS, before, 16);
        }
        assert_eq!(w.limit(), 8);
        // Sent afterwards, still slow: halves again.
        feed(&mut w, 1, 200 * MS);
        assert_eq!(w.limit(), 4);
    }

    #[test]
    fn overload_traps_halve_but_never_below_two() {
        let mut w = Window::new(16);
        w.on_answer(Signal::Overloaded, 20 * MS, Instant::now(), 2);
        assert_eq!(w.limit(), 2);
        for _ in 0..10 {
            w.on_answer(Signal::Overloaded, 20 * MS, Instant::now(), 2);
        }
        assert_eq!(w.limit(), 2);
        // Alone on the wire, a failure says nothing about load.
        let mut w = Window::new(16);
        w.on_answer(Signal::Overloaded, 20 * MS, Instant::now(), 1);
        assert_eq!(w.limit(), INITIAL_WINDOW);
    }

    #[test]
    fn after_a_decrease_growth_is_additive() {
        let mut w = Window::new(16);
        feed(&mut w, 50, 20 * MS);
        feed(&mut w, 1, 200 * MS);
        assert_eq!(w.limit(), 8);
        // About one window of answers: +1 (not +8 as in slow start).
        feed(&mut w, 9, 20 * MS);
        assert_eq!(w.limit(), 9);
    }

    #[test]
    fn the_baseline_follows_a_slower_path() {
        let mut w = Window::new(16);
        feed(&mut w, 10, MS);
        feed(&mut w, 2 * EPOCH as usize, 40 * MS);
        assert_eq!(w.baseline(), Some(40 * MS));
    }

    #[test]
    fn depth_one_stays_one() {
        let mut w = Window::new(1);
        feed(&mut w, 50, 20 * MS);
        assert_eq!(w.limit(), 1);
    }
}
