//! `/ip/hotspot/active`: login (with the router's checks, the session and its MAC cookie) and
//! remove.

use std::collections::HashSet;

use super::{done, f, parse_ip, parse_mac, trap, Item, Out, State};
use crate::routeros::commands::{format_duration, parse_duration};
use crate::routeros::dialect::{self, msg};

impl State {
    pub(super) fn active_login(&mut self, attrs: &[(String, Vec<u8>)]) -> Out {
        let get = |k: &str| {
            attrs
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.as_slice())
        };
        for (k, _) in attrs {
            if !["user", "password", "ip", "mac-address", "domain"].contains(&k.as_str()) {
                return trap(msg::unknown_parameter(k));
            }
        }
        let Some(ip) = get("ip").and_then(parse_ip) else {
            return trap(msg::ACTIVE_BAD_IP);
        };
        let Some(host_idx) = self
            .hosts
            .items
            .iter()
            .position(|h| h.get("address") == Some(ip.as_bytes()))
        else {
            return trap(format!("{} {ip}", msg::ACTIVE_UNKNOWN_HOST));
        };
        let host_mac = self
            .hosts
            .items
            .get(host_idx)
            .map(|h| h.get_str("mac-address"))
            .unwrap_or_default();
        if let Some(m) = get("mac-address") {
            match parse_mac(m) {
                Some(m) if m == host_mac => {}
                Some(_) => return trap(msg::ACTIVE_WRONG_MAC),
                None => return trap(msg::MAC_REQUIRED),
            }
        }
        let user = get("user").unwrap_or_default();
        let password = get("password").unwrap_or_default();
        let u = match self.login_user(user, password, &host_mac) {
            Ok(u) => u,
            Err(o) => return o,
        };
        if self
            .active
            .items
            .iter()
            .any(|a| a.get("address") == Some(ip.as_bytes()))
        {
            return trap(msg::ACTIVE_ALREADY);
        }
        let profile_name = u.get_str("profile");
        let profile = self
            .profiles
            .items
            .iter()
            .find(|p| p.get_str("name") == profile_name)
            .cloned();
        let mut fields = vec![
            f("server", "hotspot1"),
            f("user", user),
            f("domain", get("domain").unwrap_or_default()),
            f("address", ip.as_str()),
            f("mac-address", host_mac.as_str()),
            f("login-by", dialect::ACTIVE_LOGIN_BY_API),
            f("uptime", "0s"),
        ];
        if let Some(left) = session_time_left(profile.as_ref(), &u) {
            fields.push(f("session-time-left", format_duration(left)));
        }
        fields.extend([
            f("idle-time", "0s"),
            f("bytes-in", "0"),
            f("bytes-out", "0"),
            f("packets-in", "0"),
            f("packets-out", "0"),
            f("radius", "false"),
            f("blocked", "false"),
        ]);
        self.active.insert(fields);
        if let Some(h) = self.hosts.items.get_mut(host_idx) {
            h.set("authorized", "true");
        }
        self.add_mac_cookie(
            profile.as_ref(),
            user,
            get("domain").unwrap_or_default(),
            &host_mac,
        );
        vec![done()]
    }

    /// The hotspot user a login names, after the router's checks (credentials, disabled, MAC).
    fn login_user(&self, user: &[u8], password: &[u8], host_mac: &str) -> Result<Item, Out> {
        let Some(u) = self
            .users
            .items
            .iter()
            .find(|u| u.get("name") == Some(user))
            .cloned()
        else {
            return Err(trap(msg::ACTIVE_BAD_CREDENTIALS));
        };
        if u.get("password").unwrap_or_default() != password {
            return Err(trap(msg::ACTIVE_BAD_CREDENTIALS));
        }
        if u.get("disabled") == Some(b"true") {
            return Err(trap(msg::ACTIVE_USER_DISABLED));
        }
        if let Some(reason) = super::usage::limit_reached(&u) {
            return Err(trap(reason));
        }
        if let Some(m) = u.get("mac-address") {
            if !m.eq_ignore_ascii_case(host_mac.as_bytes()) && m != b"00:00:00:00:00:00" {
                return Err(trap(msg::ACTIVE_WRONG_MAC));
            }
        }
        Ok(u)
    }

    /// The MAC cookie a login leaves, unless the user's profile says `add-mac-cookie=no`.
    fn add_mac_cookie(&mut self, profile: Option<&Item>, user: &[u8], domain: &[u8], mac: &str) {
        if profile.is_some_and(|p| p.get("add-mac-cookie") == Some(b"false")) {
            return;
        }
        let expires = profile
            .map(|p| p.get_str("mac-cookie-timeout"))
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "3d".into());
        self.cookies.insert(vec![
            f("user", user),
            f("domain", domain),
            f("mac-address", mac),
            f("expires-in", expires),
            f("mac-cookie", "true"),
        ]);
    }

    /// A session that ends by itself (timeout, device gone) keeps its MAC cookie `[DOC]`;
    /// only an admin's removal deletes it. Returns how many sessions ended.
    pub(crate) fn end_sessions_at(&mut self, address: &str) -> usize {
        let before = self.active.items.len();
        let mut macs = Vec::new();
        self.active.items.retain(|a| {
            let here = a.get("address") == Some(address.as_bytes());
            if here {
                macs.push(a.get("mac-address").unwrap_or_default().to_vec());
            }
            !here
        });
        for h in &mut self.hosts.items {
            if macs
                .iter()
                .any(|m| h.get("mac-address") == Some(m.as_slice()))
            {
                h.set("authorized", "false");
            }
        }
        before - self.active.items.len()
    }

    pub(super) fn active_remove(&mut self, attrs: &[(String, Vec<u8>)]) -> Out {
        let idx = match Self::targets(&self.active, attrs, None) {
            Ok(i) => i,
            Err(o) => return o,
        };
        let removed: HashSet<u32> = idx
            .iter()
            .filter_map(|&i| self.active.items.get(i).map(|a| a.id))
            .collect();
        let gone: Vec<Item> = self
            .active
            .items
            .iter()
            .filter(|a| removed.contains(&a.id))
            .cloned()
            .collect();
        self.active.items.retain(|a| !removed.contains(&a.id));
        for a in gone {
            let mac = a.get("mac-address").unwrap_or_default().to_vec();
            let user = a.get("user").unwrap_or_default().to_vec();
            // [DOC] removal by an admin also deletes the user's MAC cookie.
            self.cookies.items.retain(|c| {
                !(c.get("mac-address") == Some(mac.as_slice())
                    && c.get("user") == Some(user.as_slice()))
            });
            for h in &mut self.hosts.items {
                if h.get("mac-address") == Some(mac.as_slice()) {
                    h.set("authorized", "false");
                }
            }
        }
        vec![done()]
    }
}

/// Seconds a new session has left: the shorter of the profile's `session-timeout` and the
/// user's `limit-uptime` (zero meaning none), if either is set.
fn session_time_left(profile: Option<&Item>, user: &Item) -> Option<u64> {
    let session = profile
        .and_then(|p| {
            p.get("session-timeout")
                .map(|v| String::from_utf8_lossy(v).into_owned())
        })
        .and_then(|s| parse_duration(&s))
        .filter(|s| *s > 0);
    let limit = user
        .get("limit-uptime")
        .and_then(|v| parse_duration(&String::from_utf8_lossy(v)))
        .filter(|s| *s > 0);
    match (session, limit) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}
