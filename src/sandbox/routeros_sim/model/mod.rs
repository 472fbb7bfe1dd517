//! The simulated router's state and the execution of menu commands (everything except `/login`,
//! `/cancel` and `/quit`, which belong to the connection).

use std::collections::HashSet;

use crate::routeros::commands::{format_duration, parse_duration};
use crate::routeros::dialect::{self, msg};
use crate::routeros::proto::{Attrs, Response};

use super::query;

mod active;
mod bindings;
mod management;
mod print;
mod profiles;
mod usage;
mod users;

use print::{print, print_rows};
use profiles::profile_fields;

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
    /// `/user`, `/user/group`, `/ip/service` and the walled garden.
    management: management::Management,
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
            management: management::Management::new(),
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

    /// A router that lost its hotspot users (reset, restored backup, replaced device): users,
    /// sessions and cookies are gone and new users' `.id`s start again at `*1`.
    pub fn forget_users(&mut self) {
        self.users = Table::new();
        self.active.items.clear();
        self.cookies.items.clear();
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
            (m, v) if management::MENUS.contains(&m) => self.management(m, v, attrs, queries, ctx),
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
