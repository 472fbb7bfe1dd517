//! The simulated router's state and the execution of menu commands (everything except `/login`,
//! `/cancel` and `/quit`, which belong to the connection).

use std::collections::HashSet;

use crate::routeros::commands::{format_duration, parse_duration};
use crate::routeros::dialect::{self, msg};
use crate::routeros::proto::{Attrs, Response};

use super::query;

/// One item of a table; fields kept in schema order.
#[derive(Debug, Clone)]
pub(crate) struct Item {
    pub id: u32,
    pub fields: Vec<(String, Vec<u8>)>,
}

impl Item {
    pub fn get(&self, k: &str) -> Option<&[u8]> {
        self.fields
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_slice())
    }

    pub fn get_str(&self, k: &str) -> String {
        String::from_utf8_lossy(self.get(k).unwrap_or_default()).into_owned()
    }

    pub fn set(&mut self, k: &str, v: impl Into<Vec<u8>>) {
        let v = v.into();
        match self.fields.iter_mut().find(|(n, _)| n == k) {
            Some(slot) => slot.1 = v,
            None => self.fields.push((k.to_string(), v)),
        }
    }

    pub fn unset(&mut self, k: &str) {
        self.fields.retain(|(n, _)| n != k);
    }

    fn rendered(&self) -> Vec<(String, Vec<u8>)> {
        let mut out = Vec::with_capacity(self.fields.len() + 1);
        out.push((".id".to_string(), render_id(self.id).into_bytes()));
        out.extend(self.fields.iter().cloned());
        out
    }
}

impl State {
    /// The name of the hotspot user with this `.id` (`*1A`), if any.
    pub fn user_name_by_id(&self, id: &str) -> Option<String> {
        let n = u32::from_str_radix(id.trim().strip_prefix('*')?, 16).ok()?;
        self.users
            .items
            .iter()
            .find(|u| u.id == n)
            .map(|u| u.get_str("name"))
    }
}

pub(crate) fn render_id(id: u32) -> String {
    format!("*{id:X}")
}

/// A menu's items.
#[derive(Debug, Clone, Default)]
pub(crate) struct Table {
    next_id: u32,
    pub items: Vec<Item>,
}

impl Table {
    fn new() -> Self {
        Self {
            next_id: 1,
            items: Vec::new(),
        }
    }

    pub fn insert(&mut self, fields: Vec<(String, Vec<u8>)>) -> u32 {
        let id = self.next_id;
        self.next_id += 1;
        self.items.push(Item { id, fields });
        id
    }

    /// Resolves `*1A,*1B` (or names, for named menus) to item indices; `None` if any is missing.
    fn resolve(&self, refs: &[u8], name_key: Option<&str>) -> Option<Vec<usize>> {
        let refs = String::from_utf8_lossy(refs);
        let mut out = Vec::new();
        for r in refs.split(',').map(str::trim) {
            let idx = match r.strip_prefix('*') {
                Some(hex) => {
                    let id = u32::from_str_radix(hex, 16).ok()?;
                    self.items.iter().position(|i| i.id == id)?
                }
                None => {
                    let key = name_key?;
                    self.items
                        .iter()
                        .position(|i| i.get(key) == Some(r.as_bytes()))?
                }
            };
            if !out.contains(&idx) {
                out.push(idx);
            }
        }
        (!out.is_empty()).then_some(out)
    }
}

/// Value kinds accepted by `add`/`set`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Str,
    Time,
    TimeOrNone,
    Mac,
    Ip,
    IpRange,
    Bool,
    Int,
    IntOrUnlimited,
    Profile,
    Server,
    BindingType,
}

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

const BINDING_ATTRS: &[(&str, Kind)] = &[
    ("mac-address", Kind::Mac),
    ("address", Kind::IpRange),
    ("to-address", Kind::Ip),
    ("server", Kind::Server),
    ("type", Kind::BindingType),
    ("comment", Kind::Str),
    ("disabled", Kind::Bool),
];

/// Attributes every `print` accepts and ignores (besides `.proplist` and `count-only`).
const PRINT_IGNORED: &[&str] = &[
    "detail",
    "without-paging",
    "stats",
    "terse",
    "brief",
    "follow",
    "follow-only",
    "interval",
];

/// A seed profile.
#[derive(Debug, Clone)]
pub struct SeedProfile {
    pub name: String,
    pub session_timeout: Option<String>,
    pub rate_limit: Option<String>,
    pub shared_users: String,
}

/// Profiles a fresh simulator starts with besides `default`.
pub fn default_seed_profiles() -> Vec<SeedProfile> {
    [
        ("1h", "1h", "2M/5M"),
        ("1d", "1d", "3M/10M"),
        ("1w", "1w", "5M/15M"),
    ]
    .iter()
    .map(|(n, t, r)| SeedProfile {
        name: (*n).into(),
        session_timeout: Some((*t).into()),
        rate_limit: Some((*r).into()),
        shared_users: "1".into(),
    })
    .collect()
}

/// The hotspot and system state of one simulated router.
#[derive(Debug)]
pub(crate) struct State {
    pub users: Table,
    pub profiles: Table,
    pub bindings: Table,
    pub active: Table,
    pub hosts: Table,
    pub cookies: Table,
    pub servers: Table,
    pub identity: String,
}

/// Per-command context from the connection.
pub(crate) struct Ctx<'a> {
    pub sends_empty: bool,
    pub version: &'a str,
    pub board_name: &'a str,
    pub uptime_secs: u64,
}

type Out = Vec<Response>;

fn done() -> Response {
    Response::Done {
        tag: None,
        attrs: Attrs::new(),
    }
}

fn done_ret(ret: String) -> Response {
    let mut attrs = Attrs::new();
    attrs.push(&b"ret"[..], ret.into_bytes());
    Response::Done { tag: None, attrs }
}

fn trap(message: impl Into<String>) -> Out {
    vec![
        Response::Trap {
            tag: None,
            category: None,
            message: message.into(),
            attrs: Attrs::new(),
        },
        done(),
    ]
}

fn f(k: &str, v: impl Into<Vec<u8>>) -> (String, Vec<u8>) {
    (k.to_string(), v.into())
}

fn parse_mac(v: &[u8]) -> Option<String> {
    let s = std::str::from_utf8(v).ok()?;
    let parts: Vec<&str> = s.split([':', '-']).collect();
    if parts.len() != 6
        || !parts
            .iter()
            .all(|p| p.len() == 2 && p.chars().all(|c| c.is_ascii_hexdigit()))
    {
        return None;
    }
    Some(parts.join(":").to_ascii_uppercase())
}

fn parse_ip(v: &[u8]) -> Option<String> {
    let s = std::str::from_utf8(v).ok()?;
    s.parse::<std::net::Ipv4Addr>()
        .ok()
        .map(|ip| ip.to_string())
}

fn parse_bool(v: &[u8]) -> Option<&'static str> {
    match v {
        b"yes" | b"true" => Some("true"),
        b"no" | b"false" => Some("false"),
        _ => None,
    }
}

impl State {
    pub fn new(identity: &str, seeds: &[SeedProfile]) -> Self {
        let mut s = Self {
            users: Table::new(),
            profiles: Table::new(),
            bindings: Table::new(),
            active: Table::new(),
            hosts: Table::new(),
            cookies: Table::new(),
            servers: Table::new(),
            identity: identity.to_string(),
        };
        s.servers.insert(vec![
            f("name", "hotspot1"),
            f("interface", "bridge-hotspot"),
            f("address-pool", "hs-pool"),
            f("profile", "hsprof1"),
            f("idle-timeout", "5m"),
            f("keepalive-timeout", "none"),
            f("addresses-per-mac", "2"),
            f("invalid", "false"),
            f("HTTPS", "false"),
            f("disabled", "false"),
        ]);
        s.profiles
            .insert(profile_fields("default", None, None, "1", true));
        for p in seeds {
            s.profiles.insert(profile_fields(
                &p.name,
                p.session_timeout.as_deref(),
                p.rate_limit.as_deref(),
                &p.shared_users,
                false,
            ));
        }
        s
    }

    /// What a reboot keeps and loses: active sessions and cookies go, hosts lose authorisation.
    pub fn reboot(&mut self) {
        self.active.items.clear();
        self.cookies.items.clear();
        if dialect::REBOOT_CLEARS_HOSTS {
            self.hosts.items.clear();
        }
        for h in &mut self.hosts.items {
            h.set("authorized", "false");
        }
    }

    pub fn add_host(&mut self, mac: &str, ip: &str) -> String {
        let mac = parse_mac(mac.as_bytes()).unwrap_or_else(|| mac.to_string());
        let bypassed = self.binding_type_for(&mac) == Some("bypassed");
        let id = self.hosts.insert(vec![
            f("mac-address", mac),
            f("address", ip),
            f("to-address", ip),
            f("server", "hotspot1"),
            f("uptime", "0s"),
            f("idle-time", "0s"),
            f("found-by", "DHCP"),
            f("authorized", "false"),
            f("bypassed", if bypassed { "true" } else { "false" }),
            f("dynamic", "true"),
        ]);
        render_id(id)
    }

    fn binding_type_for(&self, mac: &str) -> Option<&'static str> {
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

    fn refresh_bypass(&mut self) {
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

    /// Executes one menu command. `attrs` are the `=k=v` words, `queries` the `?…` words
    /// (without `?`). Replies carry no tag yet.
    pub fn execute(
        &mut self,
        path: &str,
        attrs: &[(String, Vec<u8>)],
        queries: &[Vec<u8>],
        ctx: &Ctx<'_>,
    ) -> Out {
        let Some((menu, verb)) = path.rsplit_once('/') else {
            return no_such_command(path);
        };
        let verb = if verb == "getall" { "print" } else { verb };
        match (menu, verb) {
            ("/ip/hotspot/user", "print") => print(&self.users, attrs, queries, ctx),
            ("/ip/hotspot/user", "add") => self.user_add(attrs),
            ("/ip/hotspot/user", "set") => self.user_set(attrs),
            ("/ip/hotspot/user", "remove") => remove(&mut self.users, attrs, Some("name")),
            ("/ip/hotspot/user", "enable") => {
                set_flag(&mut self.users, attrs, Some("name"), "disabled", "false")
            }
            ("/ip/hotspot/user", "disable") => {
                set_flag(&mut self.users, attrs, Some("name"), "disabled", "true")
            }
            ("/ip/hotspot/user/profile", "print") => print(&self.profiles, attrs, queries, ctx),
            ("/ip/hotspot/user/profile", "add") => self.profile_add(attrs),
            ("/ip/hotspot/user/profile", "set") => self.profile_set(attrs),
            ("/ip/hotspot/user/profile", "remove") => {
                remove(&mut self.profiles, attrs, Some("name"))
            }
            ("/ip/hotspot/ip-binding", "print") => print(&self.bindings, attrs, queries, ctx),
            ("/ip/hotspot/ip-binding", "add") => {
                let r = self.binding_add(attrs);
                self.refresh_bypass();
                r
            }
            ("/ip/hotspot/ip-binding", "remove") => {
                let r = remove(&mut self.bindings, attrs, None);
                self.refresh_bypass();
                r
            }
            ("/ip/hotspot/ip-binding", "enable") => {
                set_flag(&mut self.bindings, attrs, None, "disabled", "false")
            }
            ("/ip/hotspot/ip-binding", "disable") => {
                set_flag(&mut self.bindings, attrs, None, "disabled", "true")
            }
            ("/ip/hotspot/active", "print") => print(&self.active, attrs, queries, ctx),
            ("/ip/hotspot/active", "login") => self.active_login(attrs),
            ("/ip/hotspot/active", "remove") => self.active_remove(attrs),
            ("/ip/hotspot/host", "print") => print(&self.hosts, attrs, queries, ctx),
            ("/ip/hotspot/host", "remove") => remove(&mut self.hosts, attrs, None),
            ("/ip/hotspot/cookie", "print") => print(&self.cookies, attrs, queries, ctx),
            ("/ip/hotspot/cookie", "remove") => remove(&mut self.cookies, attrs, None),
            ("/ip/hotspot", "print") => print(&self.servers, attrs, queries, ctx),
            ("/system/identity", "print") => {
                let mut t = Table::new();
                t.items.push(Item {
                    id: 0,
                    fields: vec![f("name", self.identity.as_str())],
                });
                print_rows(
                    t.items.iter().map(|i| i.fields.clone()).collect(),
                    attrs,
                    queries,
                    ctx,
                )
            }
            ("/system/identity", "set") => match attrs.iter().find(|(k, _)| k == "name") {
                Some((_, v)) => {
                    self.identity = String::from_utf8_lossy(v).into_owned();
                    vec![done()]
                }
                None => vec![done()],
            },
            ("/system/resource", "print") => {
                let row = vec![
                    f("uptime", format_duration(ctx.uptime_secs)),
                    f("version", format!("{} (stable)", ctx.version)),
                    f("build-time", "2025-03-04 10:00:00"),
                    f("factory-software", "7.5"),
                    f("free-memory", "183500800"),
                    f("total-memory", "268435456"),
                    f("cpu", "ARM64"),
                    f("cpu-count", "4"),
                    f("cpu-frequency", "864"),
                    f("cpu-load", "3"),
                    f("free-hdd-space", "93650944"),
                    f("total-hdd-space", "134217728"),
                    f("architecture-name", "arm64"),
                    f("board-name", ctx.board_name),
                    f("platform", "MikroTik"),
                ];
                print_rows(vec![row], attrs, queries, ctx)
            }
            _ => no_such_command(path),
        }
    }

    fn validate(
        &self,
        schema: &[(&str, Kind)],
        attrs: &[(String, Vec<u8>)],
        skip: &[&str],
    ) -> Result<Vec<(String, Vec<u8>)>, String> {
        let mut out = Vec::new();
        for (k, v) in attrs {
            if skip.contains(&k.as_str()) {
                continue;
            }
            let Some((_, kind)) = schema.iter().find(|(n, _)| *n == k) else {
                return Err(msg::unknown_parameter(k));
            };
            let norm: Vec<u8> = match kind {
                Kind::Str => v.clone(),
                Kind::Time => {
                    let s = String::from_utf8_lossy(v);
                    match parse_duration(&s) {
                        Some(secs) => format_duration(secs).into_bytes(),
                        None => return Err(msg::invalid_argument(k)),
                    }
                }
                Kind::TimeOrNone => {
                    if v.as_slice() == b"none" {
                        v.clone()
                    } else {
                        match parse_duration(&String::from_utf8_lossy(v)) {
                            Some(secs) => format_duration(secs).into_bytes(),
                            None => return Err(msg::invalid_argument(k)),
                        }
                    }
                }
                Kind::Mac => {
                    if v.is_empty() {
                        // Clearing the MAC (`any`), as `00:00:00:00:00:00`.
                        b"00:00:00:00:00:00".to_vec()
                    } else {
                        parse_mac(v).ok_or(msg::MAC_REQUIRED)?.into_bytes()
                    }
                }
                Kind::Ip => parse_ip(v)
                    .ok_or_else(|| msg::invalid_argument(k))?
                    .into_bytes(),
                Kind::IpRange => {
                    let s = String::from_utf8_lossy(v);
                    let ok = match s.split_once('-') {
                        Some((a, b)) => {
                            parse_ip(a.as_bytes()).is_some() && parse_ip(b.as_bytes()).is_some()
                        }
                        None => parse_ip(v).is_some(),
                    };
                    if !ok {
                        return Err(msg::ADDRESS_RANGE.into());
                    }
                    v.clone()
                }
                Kind::Bool => parse_bool(v)
                    .ok_or_else(|| msg::invalid_argument(k))?
                    .as_bytes()
                    .to_vec(),
                Kind::Int => {
                    let s = String::from_utf8_lossy(v);
                    s.parse::<u64>().map_err(|_| msg::invalid_argument(k))?;
                    v.clone()
                }
                Kind::IntOrUnlimited => {
                    let s = String::from_utf8_lossy(v);
                    if s != "unlimited" && s.parse::<u64>().is_err() {
                        return Err(msg::invalid_argument(k));
                    }
                    v.clone()
                }
                Kind::Profile => {
                    if !self.profiles.items.iter().any(|p| p.get("name") == Some(v)) {
                        return Err(msg::PROFILE_MISMATCH.into());
                    }
                    v.clone()
                }
                Kind::Server => {
                    if v.as_slice() != b"all"
                        && !self.servers.items.iter().any(|p| p.get("name") == Some(v))
                    {
                        return Err(msg::SERVER_MISMATCH.into());
                    }
                    v.clone()
                }
                Kind::BindingType => match v.as_slice() {
                    b"regular" | b"bypassed" | b"blocked" => v.clone(),
                    _ => return Err(msg::invalid_argument(k)),
                },
            };
            out.push((k.clone(), norm));
        }
        Ok(out)
    }

    fn user_conflict(&self, name: &[u8], server: &[u8], except: Option<u32>) -> bool {
        self.users.items.iter().any(|u| {
            Some(u.id) != except
                && u.get("name") == Some(name)
                && (u.get("server") == Some(server)
                    || u.get("server") == Some(b"all")
                    || server == b"all")
        })
    }

    fn user_add(&mut self, attrs: &[(String, Vec<u8>)]) -> Out {
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

    fn targets(
        table: &Table,
        attrs: &[(String, Vec<u8>)],
        name_key: Option<&str>,
    ) -> Result<Vec<usize>, Out> {
        let refs = attrs
            .iter()
            .find(|(k, _)| k == ".id" || k == "numbers")
            .map(|(_, v)| v.as_slice());
        match refs {
            None => Err(trap(msg::NO_SUCH_ITEM)),
            Some(r) => table
                .resolve(r, name_key)
                .ok_or_else(|| trap(msg::NO_SUCH_ITEM)),
        }
    }

    fn user_set(&mut self, attrs: &[(String, Vec<u8>)]) -> Out {
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

    fn profile_add(&mut self, attrs: &[(String, Vec<u8>)]) -> Out {
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

    fn profile_set(&mut self, attrs: &[(String, Vec<u8>)]) -> Out {
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

    fn binding_add(&mut self, attrs: &[(String, Vec<u8>)]) -> Out {
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

    fn active_login(&mut self, attrs: &[(String, Vec<u8>)]) -> Out {
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
        let Some(u) = self
            .users
            .items
            .iter()
            .find(|u| u.get("name") == Some(user))
            .cloned()
        else {
            return trap(msg::ACTIVE_BAD_CREDENTIALS);
        };
        if u.get("password").unwrap_or_default() != password {
            return trap(msg::ACTIVE_BAD_CREDENTIALS);
        }
        if u.get("disabled") == Some(b"true") {
            return trap(msg::ACTIVE_USER_DISABLED);
        }
        if let Some(m) = u.get("mac-address") {
            if !m.eq_ignore_ascii_case(host_mac.as_bytes()) && m != b"00:00:00:00:00:00" {
                return trap(msg::ACTIVE_WRONG_MAC);
            }
        }
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
        let session = profile
            .as_ref()
            .and_then(|p| {
                p.get("session-timeout")
                    .map(|v| String::from_utf8_lossy(v).into_owned())
            })
            .and_then(|s| parse_duration(&s))
            .filter(|s| *s > 0);
        let limit = u
            .get("limit-uptime")
            .and_then(|v| parse_duration(&String::from_utf8_lossy(v)))
            .filter(|s| *s > 0);
        if let Some(left) = match (session, limit) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        } {
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
        let add_cookie = profile
            .as_ref()
            .is_none_or(|p| p.get("add-mac-cookie") != Some(b"false"));
        if add_cookie {
            let expires = profile
                .as_ref()
                .map(|p| p.get_str("mac-cookie-timeout"))
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "3d".into());
            self.cookies.insert(vec![
                f("user", user),
                f("domain", get("domain").unwrap_or_default()),
                f("mac-address", host_mac.as_str()),
                f("expires-in", expires),
                f("mac-cookie", "true"),
            ]);
        }
        vec![done()]
    }

    fn active_remove(&mut self, attrs: &[(String, Vec<u8>)]) -> Out {
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

fn profile_fields(
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

fn no_such_command(path: &str) -> Out {
    let verb = path.rsplit('/').next().unwrap_or(path);
    vec![
        Response::Trap {
            tag: None,
            category: Some(dialect::CATEGORY_MISSING),
            message: format!("{} ({verb})", msg::NO_SUCH_COMMAND),
            attrs: Attrs::new(),
        },
        Response::Trap {
            tag: None,
            category: None,
            message: msg::NO_SUCH_COMMAND_PREFIX.into(),
            attrs: Attrs::new(),
        },
        done(),
    ]
}

fn remove(table: &mut Table, attrs: &[(String, Vec<u8>)], name_key: Option<&str>) -> Out {
    let idx = match State::targets(table, attrs, name_key) {
        Ok(i) => i,
        Err(o) => return o,
    };
    let ids: HashSet<u32> = idx
        .iter()
        .filter_map(|&i| table.items.get(i).map(|x| x.id))
        .collect();
    table.items.retain(|x| !ids.contains(&x.id));
    vec![done()]
}

fn set_flag(
    table: &mut Table,
    attrs: &[(String, Vec<u8>)],
    name_key: Option<&str>,
    key: &str,
    value: &str,
) -> Out {
    let idx = match State::targets(table, attrs, name_key) {
        Ok(i) => i,
        Err(o) => return o,
    };
    for i in idx {
        if let Some(x) = table.items.get_mut(i) {
            x.set(key, value);
        }
    }
    vec![done()]
}

fn print(table: &Table, attrs: &[(String, Vec<u8>)], queries: &[Vec<u8>], ctx: &Ctx<'_>) -> Out {
    print_rows(
        table.items.iter().map(Item::rendered).collect(),
        attrs,
        queries,
        ctx,
    )
}

fn print_rows(
    rows: Vec<Vec<(String, Vec<u8>)>>,
    attrs: &[(String, Vec<u8>)],
    queries: &[Vec<u8>],
    ctx: &Ctx<'_>,
) -> Out {
    let mut proplist: Option<Vec<String>> = None;
    let mut count_only = false;
    for (k, v) in attrs {
        match k.as_str() {
            ".proplist" => {
                proplist = Some(
                    String::from_utf8_lossy(v)
                        .split(',')
                        .map(|s| s.trim().to_string())
                        .filter(|s| !s.is_empty())
                        .collect(),
                )
            }
            "count-only" => count_only = true,
            k if PRINT_IGNORED.contains(&k) => {}
            k => return trap(msg::unknown_parameter(k)),
        }
    }
    let matching: Vec<Vec<(String, Vec<u8>)>> = rows
        .into_iter()
        .filter(|r| query::matches(r, queries))
        .collect();
    if count_only {
        return vec![done_ret(matching.len().to_string())];
    }
    let mut out = Vec::with_capacity(matching.len() + 1);
    if matching.is_empty() && ctx.sends_empty {
        out.push(Response::Empty { tag: None });
    }
    for r in matching {
        let mut a = Attrs::new();
        for (k, v) in r {
            if proplist.as_ref().is_none_or(|p| p.contains(&k)) {
                a.push(k.into_bytes(), v);
            }
        }
        out.push(Response::Re {
            tag: None,
            attrs: a,
        });
    }
    out.push(done());
    out
}
