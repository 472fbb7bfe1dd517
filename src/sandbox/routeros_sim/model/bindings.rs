//! `/ip/hotspot/ip-binding`: add, and the `bypassed` flag it gives the hotspot's hosts.

use super::{done_ret, f, render_id, trap, Kind, Out, State};
use crate::routeros::dialect::msg;

const BINDING_ATTRS: &[(&str, Kind)] = &[
    ("mac-address", Kind::Mac),
    ("address", Kind::IpRange),
    ("to-address", Kind::Ip),
    ("server", Kind::Server),
    ("type", Kind::BindingType),
    ("comment", Kind::Str),
    ("disabled", Kind::Bool),
];

impl State {
    pub(super) fn binding_add(&mut self, attrs: &[(String, Vec<u8>)]) -> Out {
        let given = match self.validate(BINDING_ATTRS, attrs, &[]) {
            Ok(g) => g,
            Err(m) => return trap(m),
        };
        let get = |k: &str| given.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        let mac = get("mac-address").filter(|m| m.as_slice() != b"00:00:00:00:00:00");
        let address = get("address");
        if mac.is_none() && address.is_none() {
            return trap(msg::MAC_REQUIRED);
        }
        let dup = self.bindings.items.iter().any(|b| {
            (mac.is_some() && b.get("mac-address") == mac.as_deref())
                || (address.is_some() && b.get("address") == address.as_deref())
        });
        if dup {
            return trap(msg::BINDING_EXISTS);
        }
        let mut fields = Vec::new();
        if let Some(m) = mac {
            fields.push(f("mac-address", m));
        }
        if let Some(a) = address {
            fields.push(f("address", a));
        }
        if let Some(t) = get("to-address") {
            fields.push(f("to-address", t));
        }
        fields.push(f(
            "server",
            get("server").unwrap_or_else(|| b"all".to_vec()),
        ));
        fields.push(f(
            "type",
            get("type").unwrap_or_else(|| b"regular".to_vec()),
        ));
        if let Some(c) = get("comment") {
            fields.push(f("comment", c));
        }
        fields.push(f(
            "disabled",
            get("disabled").unwrap_or_else(|| b"false".to_vec()),
        ));
        let id = self.bindings.insert(fields);
        vec![done_ret(render_id(id))]
    }

    pub(super) fn binding_type_for(&self, mac: &str) -> Option<&'static str> {
        self.bindings
            .items
            .iter()
            .find(|b| b.get("mac-address") == Some(mac.as_bytes()))
            .map(|b| match b.get("type") {
                Some(b"bypassed") => "bypassed",
                Some(b"blocked") => "blocked",
                _ => "regular",
            })
    }

    pub(super) fn refresh_bypass(&mut self) {
        let types: Vec<(String, bool)> = self
            .hosts
            .items
            .iter()
            .map(|h| {
                let mac = h.get_str("mac-address");
                let b = self.binding_type_for(&mac) == Some("bypassed");
                (mac, b)
            })
            .collect();
        for (h, (_, b)) in self.hosts.items.iter_mut().zip(types) {
            h.set("bypassed", if b { "true" } else { "false" });
        }
    }
}
