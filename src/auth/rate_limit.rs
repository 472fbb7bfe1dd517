//! Keyed rate limits (GCRA, `governor`), answered with 429 and `Retry-After`.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

use crate::error::{ApiError, Problem};

type Keyed = RateLimiter<String, DefaultKeyedStateStore<String>, DefaultClock>;

/// A limiter keyed by strings (client IP, e-mail, API key id…).
pub struct KeyedLimiter {
    inner: Keyed,
    clock: DefaultClock,
}

impl std::fmt::Debug for KeyedLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyedLimiter")
    }
}

impl KeyedLimiter {
    /// `burst` requests at once, refilled at `per_minute` a minute.
    pub fn per_minute(per_minute: u32, burst: u32) -> Self {
        let per = NonZeroU32::new(per_minute.max(1)).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(burst.max(1)).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::per_minute(per).allow_burst(burst);
        Self {
            inner: RateLimiter::keyed(quota),
            clock: DefaultClock::default(),
        }
    }

    /// Counts one request for `key`; `Err(429)` when over the limit.
    pub fn check(&self, key: &str) -> Result<(), ApiError> {
        match self.inner.check_key(&key.to_string()) {
            Ok(()) => Ok(()),
            Err(not_until) => {
                let wait: Duration = not_until.wait_time_from(self.clock.now());
                Err(ApiError::from(Problem::TooManyRequests {
                    retry_after_secs: wait.as_secs() + 1,
                }))
            }
        }
    }

    /// Drops idle keys (call periodically to bound memory).
    pub fn retain_recent(&self) {
        self.inner.retain_recent();
    }
}

/// The service's limiters.
#[derive(Debug)]
pub struct RateLimits {
    /// Admin login attempts per client IP.
    pub login_ip: KeyedLimiter,
    /// Admin login attempts per e-mail.
    pub login_email: KeyedLimiter,
    /// Payment attempts per API key (card testing).
    pub payment_key: KeyedLimiter,
    /// Payment attempts per client IP.
    pub payment_ip: KeyedLimiter,
    /// Credential checks (`profile-info`, `auto-reconnect`) per client IP.
    pub credential_check_ip: KeyedLimiter,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            login_ip: KeyedLimiter::per_minute(20, 10),
            login_email: KeyedLimiter::per_minute(5, 5),
            payment_key: KeyedLimiter::per_minute(600, 120),
            payment_ip: KeyedLimiter::per_minute(10, 5),
            credential_check_ip: KeyedLimiter::per_minute(10, 5),
        }
    }
}

impl RateLimits {
    /// Generous limits for benchmarks and load tests.
    pub fn unlimited() -> Self {
        let big = || KeyedLimiter::per_minute(u32::MAX / 2, u32::MAX / 2);
        Self {
            login_ip: big(),
            login_email: big(),
            payment_key: big(),
            payment_ip: big(),
            credential_check_ip: big(),
        }
    }

    pub fn retain_recent(&self) {
        self.login_ip.retain_recent();
        self.login_email.retain_recent();
        self.payment_key.retain_recent();
        self.payment_ip.retain_recent();
        self.credential_check_ip.retain_recent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_429_with_retry_after() {
        let l = KeyedLimiter::per_minute(1, 2);
        assert!(l.check("a").is_ok());
        assert!(l.check("a").is_ok());
        match l.check("a") {
            Err(ApiError::Problem(p)) => {
                assert_eq!(p.status().as_u16(), 429);
                assert!(p.retry_after().unwrap() >= 1);
            }
            other => panic!("expected 429, got {other:?}"),
        }
        assert!(l.check("b").is_ok(), "keys are independent");
    }
}
