//! What a plan's validity and budgets mean for one purchase (docs/access-lifecycle.md): the
//! router-side limits of its hotspot user, when its access ends, and whether the router's
//! counters say its budget is used up.

use chrono::{DateTime, Duration, Utc};

use entity::{producto, purchase};

use crate::routeros::commands::{format_duration, parse_duration, ActiveSession, HotspotUser};

/// `vigencia_desde`: the validity counts from the purchase.
pub const FROM_PURCHASE: &str = "compra";
/// `vigencia_desde`: the validity counts from the first login.
pub const FROM_FIRST_LOGIN: &str = "primer_login";

/// Bytes in a megabyte (`limite_mb` is in 10^6 bytes).
const MB: i64 = 1_000_000;

/// When the product's validity starts (`compra` unless it says `primer_login`).
pub fn validity_from(p: &producto::Model) -> &'static str {
    match p.vigencia_desde.as_deref() {
        Some(FROM_FIRST_LOGIN) => FROM_FIRST_LOGIN,
        _ => FROM_PURCHASE,
    }
}

fn minutes(m: i32) -> Duration {
    Duration::minutes(i64::from(m))
}

/// The end of a validity that counts from the purchase, made at `now`.
pub fn expiry_at_purchase(p: &producto::Model, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let m = p.vigencia_minutos?;
    (validity_from(p) == FROM_PURCHASE).then(|| now + minutes(m))
}

/// The hotspot user's `limit-uptime` and `limit-bytes-total` for the purchase's plan.
pub fn router_limits(p: &purchase::Model) -> (Option<String>, Option<String>) {
    let uptime = p
        .usage_minutes
        .map(|m| format_duration(u64::try_from(m).unwrap_or(0).saturating_mul(60)));
    let bytes = p.data_limit_mb.map(|mb| mb.saturating_mul(MB).to_string());
    (uptime, bytes)
}

/// What the router shows the user consumed: logged-in seconds and bytes (in + out).
pub fn consumed(u: &HotspotUser) -> (i64, i64) {
    let secs = u.uptime.as_deref().and_then(parse_duration).unwrap_or(0);
    let bytes = number(u.bytes_in.as_deref())
        .unwrap_or(0)
        .saturating_add(number(u.bytes_out.as_deref()).unwrap_or(0));
    (
        i64::try_from(secs).unwrap_or(i64::MAX),
        i64::try_from(bytes).unwrap_or(i64::MAX),
    )
}

/// The limits of a user re-created for the purchase: what is left of its budgets after what
/// the router last showed it consumed. `None` when a budget is used up.
pub fn remaining_limits(p: &purchase::Model) -> Option<(Option<String>, Option<String>)> {
    let uptime = match p.usage_minutes {
        None => None,
        Some(m) => {
            let left = i64::from(m) * 60 - p.uptime_used_secs.unwrap_or(0);
            if left <= 0 {
                return None;
            }
            Some(format_duration(u64::try_from(left).unwrap_or(0)))
        }
    };
    let bytes = match p.data_limit_mb {
        None => None,
        Some(mb) => {
            let left = mb.saturating_mul(MB) - p.bytes_used.unwrap_or(0);
            if left <= 0 {
                return None;
            }
            Some(left.to_string())
        }
    };
    Some((uptime, bytes))
}

/// Whether the purchase's access has an end the service enforces.
pub fn is_watched(p: &purchase::Model) -> bool {
    p.usage_minutes.is_some() || p.validity_minutes.is_some() || p.data_limit_mb.is_some()
}

/// A `primer_login` validity whose first login has not been seen yet.
pub fn awaits_first_login(p: &purchase::Model) -> bool {
    p.validity_minutes.is_some()
        && p.expires_at.is_none()
        && p.validity_from.as_deref() == Some(FROM_FIRST_LOGIN)
}

/// When the first login happened, as the router shows it: the start of the oldest active
/// session of the user, or `now` when the user has logged-in time but no session now.
pub fn first_login_seen(
    user: Option<&HotspotUser>,
    sessions: &[&ActiveSession],
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let longest = sessions
        .iter()
        .filter_map(|s| s.uptime.as_deref().and_then(parse_duration))
        .max();
    if let Some(secs) = longest {
        return Some(now - Duration::seconds(i64::try_from(secs).unwrap_or(0)));
    }
    let used = user
        .and_then(|u| u.uptime.as_deref())
        .and_then(parse_duration)
        .unwrap_or(0);
    (used > 0).then_some(now)
}

/// The end of a `primer_login` validity whose first login was at `at`.
pub fn expiry_from_first_login(p: &purchase::Model, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
    p.validity_minutes.map(|m| at + minutes(m))
}

/// Why an access ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    /// The wall-clock validity passed.
    Validity,
    /// The logged-in budget (`limit-uptime`) is used up.
    Uptime,
    /// The data budget (`limit-bytes-total`) is used up.
    Data,
}

impl EndReason {
    /// The metric label and audit text.
    pub fn as_str(self) -> &'static str {
        match self {
            EndReason::Validity => "validity",
            EndReason::Uptime => "uptime",
            EndReason::Data => "data",
        }
    }
}

fn number(v: Option<&str>) -> Option<u64> {
    v.and_then(|s| s.trim().parse::<u64>().ok())
}

/// Whether (and why) the purchase's access is over at `now`, from its validity and the router's
/// counters of its user (when read).
pub fn end_reason(
    p: &purchase::Model,
    user: Option<&HotspotUser>,
    now: DateTime<Utc>,
) -> Option<EndReason> {
    if p.expires_at.is_some_and(|e| e <= now) {
        return Some(EndReason::Validity);
    }
    let u = user?;
    if p.usage_minutes.is_some() {
        let limit = u.limit_uptime.as_deref().and_then(parse_duration);
        let used = u.uptime.as_deref().and_then(parse_duration).unwrap_or(0);
        if limit.is_some_and(|l| l > 0 && used >= l) {
            return Some(EndReason::Uptime);
        }
    }
    if p.data_limit_mb.is_some() {
        let limit = number(u.limit_bytes_total.as_deref());
        let used = number(u.bytes_in.as_deref())
            .unwrap_or(0)
            .saturating_add(number(u.bytes_out.as_deref()).unwrap_or(0));
        if limit.is_some_and(|l| l > 0 && used >= l) {
            return Some(EndReason::Data);
        }
    }
    None
}
