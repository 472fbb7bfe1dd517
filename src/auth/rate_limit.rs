//! Keyed rate limits, answered with 429 and `Retry-After`.
//!
//! Two kinds: [`KeyedLimiter`] counts every request as it arrives (GCRA, `governor`), and
//! [`Budget`] counts outcomes known only afterwards (a declined card, an invalid request) and
//! refuses further attempts of a key once its budget is spent. Every limit is a [`Rate`], set from
//! the environment (`RATE_LIMIT_…`, see [`RateLimitSettings`]). Client addresses are counted per
//! address for IPv4 and per /64 for IPv6 ([`address_key`]).

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::str::FromStr;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

use crate::error::{ApiError, Problem};

type Keyed = RateLimiter<String, DefaultKeyedStateStore<String>, DefaultClock>;

/// `count` events per `period`: up to `count` at once, then one more every `period / count`.
/// Written `count/period` in the environment, the period in seconds, minutes or hours with an
/// optional multiplier: `600/1m`, `5/30s`, `20/h`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub count: u32,
    pub period: Duration,
}

impl Rate {
    pub const fn new(count: u32, period: Duration) -> Self {
        Self { count, period }
    }

    const fn per_minute(count: u32) -> Self {
        Self::new(count, Duration::from_secs(60))
    }

    const fn per_hour(count: u32) -> Self {
        Self::new(count, Duration::from_secs(3600))
    }

    /// The time one event takes to be forgotten.
    fn interval(&self) -> Duration {
        self.period / self.count.max(1)
    }

    /// How far ahead of now a key's theoretical arrival time may be while one more is allowed.
    fn tolerance(&self) -> Duration {
        self.interval() * self.count.max(1).saturating_sub(1)
    }
}

impl FromStr for Rate {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        const FORMAT: &str = "expected <count>/<period>, e.g. 600/1m, 5/30s or 20/1h";
        let (count, period) = s.trim().split_once('/').ok_or(FORMAT)?;
        let count: u32 = count.trim().parse().map_err(|_| FORMAT.to_string())?;
        let period = period.trim();
        let split = period.len().saturating_sub(1);
        let (number, unit) = period.split_at(split);
        let unit_secs = match unit {
            "s" => 1,
            "m" => 60,
            "h" => 3600,
            _ => return Err(FORMAT.into()),
        };
        let number: u64 = if number.is_empty() {
            1
        } else {
            number.parse().map_err(|_| FORMAT.to_string())?
        };
        if count == 0 || number == 0 {
            return Err("the count and the period must be positive".into());
        }
        let secs = number
            .checked_mul(unit_secs)
            .ok_or_else(|| "the period is too long".to_string())?;
        Ok(Rate::new(count, Duration::from_secs(secs)))
    }
}

/// Every limit of the service (`RATE_LIMIT_…`; README, "Configuration").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimitSettings {
    /// Admin login attempts per client address.
    pub login_per_ip: Rate,
    /// Admin login attempts per e-mail.
    pub login_per_email: Rate,
    /// Credential checks (`profile-info`, `auto-reconnect`) per client address.
    pub credential_check_per_ip: Rate,
    /// Payment attempts per client address, whatever their outcome: generous, since a venue's
    /// customers share its NAT address and a central portal server serves many routers.
    pub payment_per_ip: Rate,
    /// Payment attempts per router API key, whatever their outcome.
    pub payment_per_key: Rate,
    /// Declined charges (the gateway refused the card, 402) per client address.
    pub declined_per_ip: Rate,
    /// Declined charges per router API key.
    pub declined_per_key: Rate,
    /// Declined charges per customer e-mail.
    pub declined_per_email: Rate,
    /// Declined charges per card, where the gateway describes the card (Mercado Pago).
    pub declined_per_card: Rate,
    /// Payment requests answered 4xx before any charge (malformed, invalid, unknown product…)
    /// per client address.
    pub invalid_per_ip: Rate,
}

impl Default for RateLimitSettings {
    fn default() -> Self {
        Self {
            login_per_ip: Rate::new(10, Duration::from_secs(30)),
            login_per_email: Rate::per_minute(5),
            credential_check_per_ip: Rate::new(5, Duration::from_secs(30)),
            payment_per_ip: Rate::per_minute(600),
            payment_per_key: Rate::per_minute(600),
            declined_per_ip: Rate::per_hour(30),
            declined_per_key: Rate::per_hour(20),
            declined_per_email: Rate::per_hour(5),
            declined_per_card: Rate::per_hour(3),
            invalid_per_ip: Rate::per_minute(30),
        }
    }
}

impl RateLimitSettings {
    /// The environment variable of each setting, and the setting.
    fn fields(&mut self) -> [(&'static str, &mut Rate); 10] {
        [
            ("RATE_LIMIT_LOGIN_PER_IP", &mut self.login_per_ip),
            ("RATE_LIMIT_LOGIN_PER_EMAIL", &mut self.login_per_email),
            (
                "RATE_LIMIT_CREDENTIAL_CHECK_PER_IP",
                &mut self.credential_check_per_ip,
            ),
            ("RATE_LIMIT_PAYMENT_PER_IP", &mut self.payment_per_ip),
            ("RATE_LIMIT_PAYMENT_PER_KEY", &mut self.payment_per_key),
            ("RATE_LIMIT_DECLINED_PER_IP", &mut self.declined_per_ip),
            ("RATE_LIMIT_DECLINED_PER_KEY", &mut self.declined_per_key),
            (
                "RATE_LIMIT_DECLINED_PER_EMAIL",
                &mut self.declined_per_email,
            ),
            ("RATE_LIMIT_DECLINED_PER_CARD", &mut self.declined_per_card),
            ("RATE_LIMIT_INVALID_PER_IP", &mut self.invalid_per_ip),
        ]
    }

    /// The defaults, overridden by the variables `lookup` finds. `Err((variable, reason))` for a
    /// malformed one.
    pub fn from_lookup(
        lookup: impl Fn(&'static str) -> Option<String>,
    ) -> Result<Self, (&'static str, String)> {
        let mut settings = Self::default();
        for (name, rate) in settings.fields() {
            if let Some(v) = lookup(name) {
                *rate = v
                    .parse()
                    .map_err(|e| (name, format!("cannot parse {v:?}: {e}")))?;
            }
        }
        Ok(settings)
    }
}

/// The key a client address is counted under: the address for IPv4 (an IPv4-mapped IPv6 address
/// is its IPv4 address), its /64 network for IPv6 (one subscriber's allocation: counting single
/// IPv6 addresses would let one host use 2^64 of them).
pub fn address_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let net = u128::from(v6) & !((1u128 << 64) - 1);
                format!("{}/64", std::net::Ipv6Addr::from(net))
            }
        },
    }
}

fn too_many(wait: Duration) -> ApiError {
    ApiError::from(Problem::TooManyRequests {
        retry_after_secs: wait.as_secs() + 1,
    })
}

/// A limiter keyed by strings (client address, e-mail, API key id…) counting every request.
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
        Self::with_quota(Quota::per_minute(per).allow_burst(burst))
    }

    /// `rate.count` requests at once, one more every `rate.period / rate.count`.
    pub fn new(rate: Rate) -> Self {
        let burst = NonZeroU32::new(rate.count.max(1)).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::with_period(rate.interval())
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MAX))
            .allow_burst(burst);
        Self::with_quota(quota)
    }

    fn with_quota(quota: Quota) -> Self {
        Self {
            inner: RateLimiter::keyed(quota),
            clock: DefaultClock::default(),
        }
    }

    /// Counts one request for `key`; `Err(429)` when over the limit.
    pub fn check(&self, key: &str) -> Result<(), ApiError> {
        match self.inner.check_key(&key.to_string()) {
            Ok(()) => Ok(()),
            Err(not_until) => Err(too_many(not_until.wait_time_from(self.clock.now()))),
        }
    }

    /// Drops idle keys (call periodically to bound memory).
    pub fn retain_recent(&self) {
        self.inner.retain_recent();
    }
}

/// A budget of outcomes per key, counted after the fact ([`Budget::spend`]) and checked before
/// the next attempt ([`Budget::check`], which counts nothing). GCRA, as [`KeyedLimiter`]: `count`
/// at once, one more every `period / count`.
#[derive(Debug)]
pub struct Budget {
    rate: Rate,
    state: Mutex<BudgetState>,
}

#[derive(Debug, Default)]
struct BudgetState {
    /// Each key's theoretical arrival time.
    tat: HashMap<String, Instant>,
    /// Until when some key has no budget left (see [`Budget::any_spent`]).
    spent_until: Option<Instant>,
}

impl Budget {
    pub fn new(rate: Rate) -> Self {
        Self {
            rate,
            state: Mutex::default(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, BudgetState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// How long until `key` may spend again (zero: it may).
    fn wait(&self, tat: Instant, now: Instant) -> Duration {
        tat.saturating_duration_since(now)
            .saturating_sub(self.rate.tolerance())
    }

    /// `Err(429)` when `key` has no budget left. Counts nothing.
    pub fn check(&self, key: &str) -> Result<(), ApiError> {
        let now = Instant::now();
        match self.lock().tat.get(key) {
            Some(tat) if !self.wait(*tat, now).is_zero() => Err(too_many(self.wait(*tat, now))),
            _ => Ok(()),
        }
    }

    /// Spends one unit of `key`'s budget.
    pub fn spend(&self, key: &str) {
        let now = Instant::now();
        let mut g = self.lock();
        let start = g.tat.get(key).copied().filter(|t| *t > now).unwrap_or(now);
        let tat = start + self.rate.interval();
        g.tat.insert(key.to_string(), tat);
        let wait = self.wait(tat, now);
        if !wait.is_zero() {
            let until = now + wait;
            g.spent_until = Some(g.spent_until.map_or(until, |u| u.max(until)));
        }
    }

    /// Whether some key has no budget left (cheap: no key is looked at).
    pub fn any_spent(&self) -> bool {
        self.lock().spent_until.is_some_and(|u| u > Instant::now())
    }

    /// Drops the keys whose budget is whole again.
    pub fn retain_recent(&self) {
        let now = Instant::now();
        self.lock().tat.retain(|_, tat| *tat > now);
    }
}

/// What one payment attempt is counted under.
#[derive(Debug, Clone)]
pub struct AttemptKeys {
    /// [`address_key`] of the client.
    pub address: String,
    /// The router API key's id.
    pub api_key: String,
    /// The customer's e-mail, trimmed and case-folded.
    pub email: String,
}

/// The service's limiters.
#[derive(Debug)]
pub struct RateLimits {
    /// Admin login attempts per client address.
    pub login_ip: KeyedLimiter,
    /// Admin login attempts per e-mail.
    pub login_email: KeyedLimiter,
    /// Credential checks (`profile-info`, `auto-reconnect`) per client address.
    pub credential_check_ip: KeyedLimiter,
    /// Payment attempts per API key.
    pub payment_key: KeyedLimiter,
    /// Payment attempts per client address.
    pub payment_ip: KeyedLimiter,
    /// Declined charges per client address, API key, e-mail and card.
    pub declined_ip: Budget,
    pub declined_key: Budget,
    pub declined_email: Budget,
    pub declined_card: Budget,
    /// Payment requests answered 4xx before any charge, per client address.
    pub invalid_ip: Budget,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self::new(&RateLimitSettings::default())
    }
}

impl RateLimits {
    pub fn new(s: &RateLimitSettings) -> Self {
        Self {
            login_ip: KeyedLimiter::new(s.login_per_ip),
            login_email: KeyedLimiter::new(s.login_per_email),
            credential_check_ip: KeyedLimiter::new(s.credential_check_per_ip),
            payment_key: KeyedLimiter::new(s.payment_per_key),
            payment_ip: KeyedLimiter::new(s.payment_per_ip),
            declined_ip: Budget::new(s.declined_per_ip),
            declined_key: Budget::new(s.declined_per_key),
            declined_email: Budget::new(s.declined_per_email),
            declined_card: Budget::new(s.declined_per_card),
            invalid_ip: Budget::new(s.invalid_per_ip),
        }
    }

    /// Generous limits for benchmarks and load tests.
    pub fn unlimited() -> Self {
        let big = Rate::new(u32::MAX / 2, Duration::from_secs(1));
        Self::new(&RateLimitSettings {
            login_per_ip: big,
            login_per_email: big,
            credential_check_per_ip: big,
            payment_per_ip: big,
            payment_per_key: big,
            declined_per_ip: big,
            declined_per_key: big,
            declined_per_email: big,
            declined_per_card: big,
            invalid_per_ip: big,
        })
    }

    /// Admits a payment attempt, before anything is read or charged: the address must have
    /// invalid-request budget left, the address, key and e-mail decline budget; then the attempt
    /// is counted against the address's and the key's limits.
    pub fn admit_payment(&self, a: &AttemptKeys) -> Result<(), ApiError> {
        self.invalid_ip.check(&a.address)?;
        self.declined_ip.check(&a.address)?;
        self.declined_key.check(&a.api_key)?;
        self.declined_email.check(&a.email)?;
        self.payment_ip.check(&a.address)?;
        self.payment_key.check(&a.api_key)
    }

    /// A charge the gateway declined: spends the decline budgets of its address, key, e-mail and
    /// card (when the gateway described it).
    pub fn record_decline(&self, a: &AttemptKeys, card: Option<&str>) {
        self.declined_ip.spend(&a.address);
        self.declined_key.spend(&a.api_key);
        self.declined_email.spend(&a.email);
        if let Some(card) = card {
            self.declined_card.spend(card);
        }
    }

    pub fn retain_recent(&self) {
        self.login_ip.retain_recent();
        self.login_email.retain_recent();
        self.credential_check_ip.retain_recent();
        self.payment_key.retain_recent();
        self.payment_ip.retain_recent();
        for b in [
            &self.declined_ip,
            &self.declined_key,
            &self.declined_email,
            &self.declined_card,
            &self.invalid_ip,
        ] {
            b.retain_recent();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn retry_after(r: Result<(), ApiError>) -> u64 {
        match r {
            Err(ApiError::Problem(p)) => {
                assert_eq!(p.status().as_u16(), 429);
                p.retry_after().unwrap()
            }
            other => panic!("expected 429, got {other:?}"),
        }
    }

    #[test]
    fn burst_then_429_with_retry_after() {
        let l = KeyedLimiter::per_minute(1, 2);
        assert!(l.check("a").is_ok());
        assert!(l.check("a").is_ok());
        assert!(retry_after(l.check("a")) >= 1);
        assert!(l.check("b").is_ok(), "keys are independent");
    }

    #[test]
    fn a_rate_allows_its_count_at_once() {
        let l = KeyedLimiter::new("3/1h".parse().unwrap());
        for _ in 0..3 {
            l.check("a").unwrap();
        }
        // One more every 20 minutes.
        let wait = retry_after(l.check("a"));
        assert!((1_100..=1_201).contains(&wait), "{wait}");
    }

    #[test]
    fn a_budget_is_checked_without_spending_and_spent_afterwards() {
        let b = Budget::new("2/1h".parse().unwrap());
        for _ in 0..10 {
            b.check("card").unwrap();
        }
        assert!(!b.any_spent());
        b.spend("card");
        b.check("card").unwrap();
        b.spend("card");
        let wait = retry_after(b.check("card"));
        assert!(
            (1_700..=1_801).contains(&wait),
            "one more after 30 minutes: {wait}"
        );
        assert!(b.any_spent());
        b.check("other").unwrap();
        b.retain_recent();
        assert!(b.check("card").is_err(), "a spent key is kept");
    }

    #[test]
    fn rates_parse() {
        let r = |s: &str| s.parse::<Rate>();
        assert_eq!(r("600/1m"), Ok(Rate::new(600, Duration::from_secs(60))));
        assert_eq!(r(" 5 / 30s "), Ok(Rate::new(5, Duration::from_secs(30))));
        assert_eq!(r("20/h"), Ok(Rate::new(20, Duration::from_secs(3600))));
        for bad in [
            "", "5", "5/", "0/1m", "5/0m", "5/1d", "x/1m", "5/xm", "-1/1m",
        ] {
            assert!(r(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn settings_come_from_the_environment() {
        let env = |name: &'static str| match name {
            "RATE_LIMIT_PAYMENT_PER_IP" => Some("1200/1m".to_string()),
            "RATE_LIMIT_DECLINED_PER_CARD" => Some("1/10m".to_string()),
            _ => None,
        };
        let s = RateLimitSettings::from_lookup(env).unwrap();
        assert_eq!(s.payment_per_ip, Rate::new(1200, Duration::from_secs(60)));
        assert_eq!(s.declined_per_card, Rate::new(1, Duration::from_secs(600)));
        assert_eq!(
            s.invalid_per_ip,
            RateLimitSettings::default().invalid_per_ip
        );
        let bad = |name: &'static str| (name == "RATE_LIMIT_INVALID_PER_IP").then(|| "lots".into());
        let (name, reason) = RateLimitSettings::from_lookup(bad).unwrap_err();
        assert_eq!(name, "RATE_LIMIT_INVALID_PER_IP");
        assert!(reason.contains("lots"), "{reason}");
    }

    #[test]
    fn ipv6_is_counted_per_64() {
        let k = |s: &str| address_key(s.parse().unwrap());
        assert_eq!(k("2001:db8:1:2:aaaa::1"), k("2001:db8:1:2:ffff::2"));
        assert_eq!(k("2001:db8:1:2::1"), "2001:db8:1:2::/64");
        assert_ne!(k("2001:db8:1:2::1"), k("2001:db8:1:3::1"));
        assert_eq!(k("10.0.0.7"), "10.0.0.7");
        assert_eq!(k("::ffff:10.0.0.7"), "10.0.0.7");
    }
}
