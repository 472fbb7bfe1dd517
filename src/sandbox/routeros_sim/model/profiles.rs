//! `/ip/hotspot/user/profile`: add, set, and the fields of a new profile.

use super::{done, done_ret, f, render_id, trap, Item, Kind, Out, State};
use crate::routeros::commands::{format_duration, parse_duration};
use crate::routeros::dialect::msg;

const PROFILE_ATTRS: &[(&str, Kind)] = &[
    ("name", Kind::Str),
    ("address-pool", Kind::Str),
    ("idle-timeout", Kind::TimeOrNone),
    ("keepalive-timeout", Kind::TimeOrNone),
    ("status-autorefresh", Kind::Time),
    ("shared-users", Kind::IntOrUnlimited),
    ("rate-limit", Kind::Str),
    ("session-timeout", Kind::Time),
    ("add-mac-cookie", Kind::Bool),
    ("mac-cookie-timeout", Kind::Time),
    ("address-list", Kind::Str),
    ("transparent-proxy", Kind::Bool),
    ("on-login", Kind::Str),
    ("on-logout", Kind::Str),
];

impl State {
    pub(super) fn profile_add(&mut self, attrs: &[(String, Vec<u8>)]) -> Out {
        let given = match self.validate(PROFILE_ATTRS, attrs, &[]) {
            Ok(g) => g,
            Err(m) => return trap(m),
        };
        let Some((_, name)) = given.iter().find(|(k, _)| k == "name") else {
            return trap(msg::missing_value("name"));
        };
        if self
            .profiles
            .items
            .iter()
            .any(|p| p.get("name") == Some(name))
        {
            return trap(msg::PROFILE_EXISTS);
        }
        let mut fields = profile_fields(&String::from_utf8_lossy(name), None, None, "1", false);
        for (k, v) in &given {
            let mut it = Item { id: 0, fields };
            it.set(k, v.clone());
            fields = it.fields;
        }
        let id = self.profiles.insert(fields);
        vec![done_ret(render_id(id))]
    }

    pub(super) fn profile_set(&mut self, attrs: &[(String, Vec<u8>)]) -> Out {
        let idx = match Self::targets(&self.profiles, attrs, Some("name")) {
            Ok(i) => i,
            Err(o) => return o,
        };
        let given = match self.validate(PROFILE_ATTRS, attrs, &[".id", "numbers"]) {
            Ok(g) => g,
            Err(m) => return trap(m),
        };
        for &i in &idx {
            if let Some(p) = self.profiles.items.get_mut(i) {
                for (k, v) in &given {
                    p.set(k, v.clone());
                }
            }
        }
        vec![done()]
    }
}

pub(super) fn profile_fields(
    name: &str,
    session_timeout: Option<&str>,
    rate_limit: Option<&str>,
    shared_users: &str,
    default: bool,
) -> Vec<(String, Vec<u8>)> {
    let mut v = vec![
        f("name", name),
        f("idle-timeout", "none"),
        f("keepalive-timeout", "2m"),
        f("status-autorefresh", "1m"),
        f("shared-users", shared_users),
    ];
    if let Some(r) = rate_limit {
        v.push(f("rate-limit", r));
    }
    if let Some(s) = session_timeout {
        let norm = parse_duration(s).map_or_else(|| s.to_string(), format_duration);
        v.push(f("session-timeout", norm));
    }
    v.extend([
        f("add-mac-cookie", "true"),
        f("mac-cookie-timeout", "3d"),
        f("transparent-proxy", "false"),
        f("default", if default { "true" } else { "false" }),
    ]);
    v
}
