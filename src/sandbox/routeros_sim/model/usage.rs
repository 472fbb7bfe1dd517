//! Time and traffic accounting of the hotspot users and their sessions, with a fast-forward
//! for tests: [`State::advance`] moves every active session's `uptime` (and its user's) on, and
//! [`State::add_traffic`] counts bytes. A user whose `limit-uptime` or `limit-bytes-total` is
//! reached is logged out (its MAC cookie stays, as when a session ends by itself), and a login
//! of such a user is refused `[UNVERIFIED]` with the limit's message.

use super::{Item, State};
use crate::routeros::commands::{format_duration, parse_duration};

/// `[UNVERIFIED]` `/ip/hotspot/active/login` of a user whose `limit-uptime` is used up.
pub(crate) const UPTIME_LIMIT_REACHED: &str = "uptime limit reached";
/// `[UNVERIFIED]` `/ip/hotspot/active/login` of a user whose `limit-bytes-total` is used up.
pub(crate) const TRAFFIC_LIMIT_REACHED: &str = "traffic limit reached";

fn secs(item: &Item, key: &str) -> Option<u64> {
    item.get(key)
        .and_then(|v| parse_duration(&String::from_utf8_lossy(v)))
}

fn num(item: &Item, key: &str) -> u64 {
    item.get(key)
        .and_then(|v| String::from_utf8_lossy(v).trim().parse().ok())
        .unwrap_or(0)
}

/// Why the user may not be online any more, if a limit is used up.
pub(crate) fn limit_reached(user: &Item) -> Option<&'static str> {
    let uptime_limit = secs(user, "limit-uptime").filter(|l| *l > 0);
    if uptime_limit.is_some_and(|l| secs(user, "uptime").unwrap_or(0) >= l) {
        return Some(UPTIME_LIMIT_REACHED);
    }
    let bytes_limit = Some(num(user, "limit-bytes-total")).filter(|l| *l > 0);
    let used = num(user, "bytes-in").saturating_add(num(user, "bytes-out"));
    if bytes_limit.is_some_and(|l| used >= l) {
        return Some(TRAFFIC_LIMIT_REACHED);
    }
    None
}

impl State {
    fn user_mut(&mut self, name: &[u8]) -> Option<&mut Item> {
        self.users
            .items
            .iter_mut()
            .find(|u| u.get("name") == Some(name))
    }

    /// `secs` seconds pass: every session's and its user's `uptime` grow (a session stops at its
    /// `session-time-left` or its user's `limit-uptime`). Sessions that reached a limit end.
    pub(crate) fn advance(&mut self, secs_passed: u64) {
        let sessions: Vec<(u32, Vec<u8>)> = self
            .active
            .items
            .iter()
            .map(|a| (a.id, a.get("user").unwrap_or_default().to_vec()))
            .collect();
        let mut ended = Vec::new();
        for (id, user) in sessions {
            let Some(a) = self.active.items.iter_mut().find(|a| a.id == id) else {
                continue;
            };
            let left = secs(a, "session-time-left");
            let mut run = left.map_or(secs_passed, |l| l.min(secs_passed));
            if let Some(u) = self
                .users
                .items
                .iter()
                .find(|u| u.get("name") == Some(&user))
            {
                if let Some(limit) = secs(u, "limit-uptime").filter(|l| *l > 0) {
                    run = run.min(limit.saturating_sub(secs(u, "uptime").unwrap_or(0)));
                }
            }
            a.set(
                "uptime",
                format_duration(secs(a, "uptime").unwrap_or(0) + run),
            );
            if let Some(l) = left {
                a.set("session-time-left", format_duration(l - run));
                if l == run {
                    ended.push(id);
                }
            }
            if let Some(u) = self.user_mut(&user) {
                u.set(
                    "uptime",
                    format_duration(secs(u, "uptime").unwrap_or(0) + run),
                );
                if limit_reached(u).is_some() {
                    ended.push(id);
                }
            }
        }
        self.end_sessions(&ended);
    }

    /// The session at `address` moves `bytes_in`/`bytes_out` (its user's counters too); it
    /// ends when its user's `limit-bytes-total` is reached. Whether there was such a session.
    pub(crate) fn add_traffic(&mut self, address: &str, bytes_in: u64, bytes_out: u64) -> bool {
        let Some(a) = self
            .active
            .items
            .iter_mut()
            .find(|a| a.get("address") == Some(address.as_bytes()))
        else {
            return false;
        };
        let id = a.id;
        let user = a.get("user").unwrap_or_default().to_vec();
        a.set("bytes-in", (num(a, "bytes-in") + bytes_in).to_string());
        a.set("bytes-out", (num(a, "bytes-out") + bytes_out).to_string());
        let mut over = false;
        if let Some(u) = self.user_mut(&user) {
            u.set("bytes-in", (num(u, "bytes-in") + bytes_in).to_string());
            u.set("bytes-out", (num(u, "bytes-out") + bytes_out).to_string());
            over = limit_reached(u).is_some();
        }
        if over {
            self.end_sessions(&[id]);
        }
        true
    }

    /// Sessions end by themselves (a limit, a timeout): their MAC cookies stay.
    fn end_sessions(&mut self, ids: &[u32]) {
        let addresses: Vec<String> = self
            .active
            .items
            .iter()
            .filter(|a| ids.contains(&a.id))
            .map(|a| a.get_str("address"))
            .collect();
        for address in addresses {
            self.end_sessions_at(&address);
        }
    }
}
