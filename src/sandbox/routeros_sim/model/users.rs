//! `/ip/hotspot/user`: add and set (print, remove, enable and disable are generic).

use super::{done, done_ret, f, render_id, trap, Kind, Out, State};
use crate::routeros::dialect::msg;

const USER_ATTRS: &[(&str, Kind)] = &[
    ("name", Kind::Str),
    ("password", Kind::Str),
    ("profile", Kind::Profile),
    ("server", Kind::Server),
    ("limit-uptime", Kind::Time),
    ("limit-bytes-in", Kind::Int),
    ("limit-bytes-out", Kind::Int),
    ("limit-bytes-total", Kind::Int),
    ("mac-address", Kind::Mac),
    ("address", Kind::Ip),
    ("email", Kind::Str),
    ("routes", Kind::Str),
    ("otp-secret", Kind::Str),
    ("comment", Kind::Str),
    ("disabled", Kind::Bool),
];

impl State {
    fn user_conflict(&self, name: &[u8], server: &[u8], except: Option<u32>) -> bool {
        self.users.items.iter().any(|u| {
            Some(u.id) != except
                && u.get("name") == Some(name)
                && (u.get("server") == Some(server)
                    || u.get("server") == Some(b"all")
                    || server == b"all")
        })
    }

    pub(super) fn user_add(&mut self, attrs: &[(String, Vec<u8>)]) -> Out {
        let given = match self.validate(USER_ATTRS, attrs, &[]) {
            Ok(g) => g,
            Err(m) => return trap(m),
        };
        let get = |k: &str| given.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        let Some(name) = get("name").filter(|n| !n.is_empty()) else {
            return trap(msg::missing_value("name"));
        };
        let server = get("server").unwrap_or_else(|| b"all".to_vec());
        if self.user_conflict(&name, &server, None) {
            return trap(msg::USER_EXISTS);
        }
        let mut fields = vec![
            f("server", server),
            f("name", name),
            f("password", get("password").unwrap_or_default()),
            f(
                "profile",
                get("profile").unwrap_or_else(|| b"default".to_vec()),
            ),
        ];
        for k in [
            "mac-address",
            "address",
            "email",
            "limit-uptime",
            "limit-bytes-in",
            "limit-bytes-out",
            "limit-bytes-total",
            "routes",
        ] {
            if let Some(v) = get(k) {
                fields.push(f(k, v));
            }
        }
        fields.extend([
            f("uptime", "0s"),
            f("bytes-in", "0"),
            f("bytes-out", "0"),
            f("packets-in", "0"),
            f("packets-out", "0"),
            f("dynamic", "false"),
            f(
                "disabled",
                get("disabled").unwrap_or_else(|| b"false".to_vec()),
            ),
        ]);
        if let Some(c) = get("comment") {
            fields.push(f("comment", c));
        }
        let id = self.users.insert(fields);
        vec![done_ret(render_id(id))]
    }

    pub(super) fn user_set(&mut self, attrs: &[(String, Vec<u8>)]) -> Out {
        let idx = match Self::targets(&self.users, attrs, Some("name")) {
            Ok(i) => i,
            Err(o) => return o,
        };
        let given = match self.validate(USER_ATTRS, attrs, &[".id", "numbers"]) {
            Ok(g) => g,
            Err(m) => return trap(m),
        };
        for &i in &idx {
            let Some(u) = self.users.items.get(i) else {
                continue;
            };
            let get = |k: &str| given.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
            let name = get("name").unwrap_or_else(|| u.get("name").unwrap_or_default().to_vec());
            let server =
                get("server").unwrap_or_else(|| u.get("server").unwrap_or_default().to_vec());
            if self.user_conflict(&name, &server, Some(u.id)) {
                return trap(msg::USER_EXISTS);
            }
        }
        for &i in &idx {
            if let Some(u) = self.users.items.get_mut(i) {
                for (k, v) in &given {
                    if k == "mac-address" && v.as_slice() == b"00:00:00:00:00:00" {
                        u.unset(k);
                    } else {
                        u.set(k, v.clone());
                    }
                }
            }
        }
        vec![done()]
    }
}
