//! Typed hotspot and system commands: request builders and reply parsers.
//!
//! Each builder returns a [`Command`] that can be run with any deadline through
//! [`super::RouterClient::run`]; each parser turns a [`Reply`] into typed rows. Values stay
//! strings (never `"0457"` → 457); only flags (`disabled`, `default`, …) become `bool`.

use crate::client::Reply;
use crate::error::RouterError;
use crate::proto::{Attrs, Command};

pub const USER: &str = "/ip/hotspot/user";
pub const PROFILE: &str = "/ip/hotspot/user/profile";
pub const IP_BINDING: &str = "/ip/hotspot/ip-binding";
pub const ACTIVE: &str = "/ip/hotspot/active";
pub const COOKIE: &str = "/ip/hotspot/cookie";
pub const HOST: &str = "/ip/hotspot/host";
pub const RESOURCE: &str = "/system/resource";
pub const IDENTITY: &str = "/system/identity";

fn path(menu: &str, verb: &str) -> String {
    format!("{menu}/{verb}")
}

/// `true`/`yes` → true.
pub fn flag(attrs: &Attrs, key: &str) -> bool {
    matches!(attrs.get(key).map(|v| v.as_ref()), Some(b"true" | b"yes"))
}

fn s(attrs: &Attrs, key: &str) -> Option<String> {
    attrs.get_str(key)
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

/// A new hotspot user (`/ip/hotspot/user/add`).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct NewHotspotUser {
    pub name: String,
    pub password: Option<String>,
    pub profile: Option<String>,
    pub limit_uptime: Option<String>,
    /// Bytes in + out the user may move in total (`limit-bytes-total`).
    pub limit_bytes_total: Option<String>,
    pub mac_address: Option<String>,
    pub server: Option<String>,
    pub comment: Option<String>,
    pub disabled: Option<bool>,
}

impl std::fmt::Debug for NewHotspotUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewHotspotUser")
            .field("name", &self.name)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("profile", &self.profile)
            .field("limit_uptime", &self.limit_uptime)
            .field("limit_bytes_total", &self.limit_bytes_total)
            .field("mac_address", &self.mac_address)
            .field("server", &self.server)
            .field("comment", &self.comment)
            .field("disabled", &self.disabled)
            .finish()
    }
}

/// Changes for `/ip/hotspot/user/set`; `None` leaves a field unchanged.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct HotspotUserUpdate {
    pub name: Option<String>,
    pub password: Option<String>,
    pub profile: Option<String>,
    pub limit_uptime: Option<String>,
    pub mac_address: Option<String>,
    pub server: Option<String>,
    pub comment: Option<String>,
    pub disabled: Option<bool>,
}

impl std::fmt::Debug for HotspotUserUpdate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HotspotUserUpdate")
            .field("name", &self.name)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("profile", &self.profile)
            .field("limit_uptime", &self.limit_uptime)
            .field("mac_address", &self.mac_address)
            .field("comment", &self.comment)
            .field("disabled", &self.disabled)
            .finish()
    }
}

/// A row of `/ip/hotspot/user/print`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct HotspotUser {
    pub id: String,
    pub name: String,
    pub password: Option<String>,
    pub profile: Option<String>,
    pub server: Option<String>,
    pub limit_uptime: Option<String>,
    pub uptime: Option<String>,
    /// `limit-bytes-total`, `bytes-in`, `bytes-out` (only when asked for, see [`USAGE_PROPS`]).
    pub limit_bytes_total: Option<String>,
    pub bytes_in: Option<String>,
    pub bytes_out: Option<String>,
    pub mac_address: Option<String>,
    pub comment: Option<String>,
    pub disabled: bool,
}

impl std::fmt::Debug for HotspotUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HotspotUser")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("profile", &self.profile)
            .field("server", &self.server)
            .field("limit_uptime", &self.limit_uptime)
            .field("uptime", &self.uptime)
            .field("limit_bytes_total", &self.limit_bytes_total)
            .field("bytes_in", &self.bytes_in)
            .field("bytes_out", &self.bytes_out)
            .field("mac_address", &self.mac_address)
            .field("comment", &self.comment)
            .field("disabled", &self.disabled)
            .finish()
    }
}

impl HotspotUser {
    /// From a `!re` row.
    pub fn from_attrs(a: &Attrs) -> Self {
        Self {
            id: s(a, ".id").unwrap_or_default(),
            name: s(a, "name").unwrap_or_default(),
            password: s(a, "password"),
            profile: s(a, "profile"),
            server: s(a, "server"),
            limit_uptime: s(a, "limit-uptime"),
            uptime: s(a, "uptime"),
            limit_bytes_total: s(a, "limit-bytes-total"),
            bytes_in: s(a, "bytes-in"),
            bytes_out: s(a, "bytes-out"),
            mac_address: s(a, "mac-address"),
            comment: s(a, "comment"),
            disabled: flag(a, "disabled"),
        }
    }
}

/// Columns requested by [`user_print`] when no `.proplist` is given.
pub const USER_PROPS: &[&str] = &[
    ".id",
    "name",
    "password",
    "profile",
    "server",
    "limit-uptime",
    "uptime",
    "mac-address",
    "comment",
    "disabled",
];

/// Columns of a user listing that reads what the user consumed (no password).
pub const USAGE_PROPS: &[&str] = &[
    ".id",
    "name",
    "profile",
    "limit-uptime",
    "uptime",
    "limit-bytes-total",
    "bytes-in",
    "bytes-out",
    "mac-address",
    "comment",
    "disabled",
];

/// A row of `/ip/hotspot/user/profile/print`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserProfile {
    pub id: String,
    pub name: String,
    pub session_timeout: Option<String>,
    pub idle_timeout: Option<String>,
    pub keepalive_timeout: Option<String>,
    pub status_autorefresh: Option<String>,
    pub shared_users: Option<String>,
    pub rate_limit: Option<String>,
    pub address_list: Option<String>,
    pub mac_cookie_timeout: Option<String>,
    pub add_mac_cookie: bool,
    pub default: bool,
}

impl UserProfile {
    /// From a `!re` row.
    pub fn from_attrs(a: &Attrs) -> Self {
        Self {
            id: s(a, ".id").unwrap_or_default(),
            name: s(a, "name").unwrap_or_default(),
            session_timeout: s(a, "session-timeout"),
            idle_timeout: s(a, "idle-timeout"),
            keepalive_timeout: s(a, "keepalive-timeout"),
            status_autorefresh: s(a, "status-autorefresh"),
            shared_users: s(a, "shared-users"),
            rate_limit: s(a, "rate-limit"),
            address_list: s(a, "address-list"),
            mac_cookie_timeout: s(a, "mac-cookie-timeout"),
            add_mac_cookie: flag(a, "add-mac-cookie"),
            default: flag(a, "default"),
        }
    }
}

/// `type` of an ip-binding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BindingType {
    Regular,
    Bypassed,
    Blocked,
}

impl BindingType {
    /// Wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            BindingType::Regular => "regular",
            BindingType::Bypassed => "bypassed",
            BindingType::Blocked => "blocked",
        }
    }
}

/// A new `/ip/hotspot/ip-binding`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewIpBinding {
    pub mac_address: Option<String>,
    pub address: Option<String>,
    pub to_address: Option<String>,
    pub server: Option<String>,
    pub kind: BindingType,
    pub comment: Option<String>,
}

/// A row of `/ip/hotspot/ip-binding/print`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IpBinding {
    pub id: String,
    pub mac_address: Option<String>,
    pub address: Option<String>,
    pub to_address: Option<String>,
    pub server: Option<String>,
    pub kind: Option<String>,
    pub comment: Option<String>,
    pub disabled: bool,
}

impl IpBinding {
    /// From a `!re` row.
    pub fn from_attrs(a: &Attrs) -> Self {
        Self {
            id: s(a, ".id").unwrap_or_default(),
            mac_address: s(a, "mac-address"),
            address: s(a, "address"),
            to_address: s(a, "to-address"),
            server: s(a, "server"),
            kind: s(a, "type"),
            comment: s(a, "comment"),
            disabled: flag(a, "disabled"),
        }
    }
}

/// `/ip/hotspot/active/login` arguments.
#[derive(Clone, PartialEq, Eq)]
pub struct ActiveLogin {
    pub user: String,
    pub password: String,
    pub ip: String,
    pub mac_address: Option<String>,
}

impl std::fmt::Debug for ActiveLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActiveLogin")
            .field("user", &self.user)
            .field("ip", &self.ip)
            .field("mac_address", &self.mac_address)
            .finish_non_exhaustive()
    }
}

/// A row of `/ip/hotspot/active/print`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActiveSession {
    pub id: String,
    pub server: Option<String>,
    pub user: String,
    pub address: Option<String>,
    pub mac_address: Option<String>,
    pub login_by: Option<String>,
    pub uptime: Option<String>,
    pub session_time_left: Option<String>,
    pub idle_time: Option<String>,
    pub bytes_in: Option<String>,
    pub bytes_out: Option<String>,
}

impl ActiveSession {
    /// From a `!re` row.
    pub fn from_attrs(a: &Attrs) -> Self {
        Self {
            id: s(a, ".id").unwrap_or_default(),
            server: s(a, "server"),
            user: s(a, "user").unwrap_or_default(),
            address: s(a, "address"),
            mac_address: s(a, "mac-address"),
            login_by: s(a, "login-by"),
            uptime: s(a, "uptime"),
            session_time_left: s(a, "session-time-left"),
            idle_time: s(a, "idle-time"),
            bytes_in: s(a, "bytes-in"),
            bytes_out: s(a, "bytes-out"),
        }
    }
}

/// A row of `/ip/hotspot/cookie/print`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cookie {
    pub id: String,
    pub user: String,
    pub domain: Option<String>,
    pub mac_address: Option<String>,
    pub expires_in: Option<String>,
}

impl Cookie {
    /// From a `!re` row.
    pub fn from_attrs(a: &Attrs) -> Self {
        Self {
            id: s(a, ".id").unwrap_or_default(),
            user: s(a, "user").unwrap_or_default(),
            domain: s(a, "domain"),
            mac_address: s(a, "mac-address"),
            expires_in: s(a, "expires-in"),
        }
    }
}

/// A row of `/ip/hotspot/host/print`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Host {
    pub id: String,
    pub mac_address: Option<String>,
    pub address: Option<String>,
    pub to_address: Option<String>,
    pub server: Option<String>,
    pub authorized: bool,
    pub bypassed: bool,
}

impl Host {
    /// From a `!re` row.
    pub fn from_attrs(a: &Attrs) -> Self {
        Self {
            id: s(a, ".id").unwrap_or_default(),
            mac_address: s(a, "mac-address"),
            address: s(a, "address"),
            to_address: s(a, "to-address"),
            server: s(a, "server"),
            authorized: flag(a, "authorized"),
            bypassed: flag(a, "bypassed"),
        }
    }
}

/// `/system/resource/print`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SystemResource {
    pub uptime: Option<String>,
    pub version: Option<String>,
    pub board_name: Option<String>,
    pub architecture_name: Option<String>,
    pub platform: Option<String>,
    pub cpu_load: Option<String>,
    pub free_memory: Option<String>,
    pub total_memory: Option<String>,
}

impl SystemResource {
    /// From a `!re` row.
    pub fn from_attrs(a: &Attrs) -> Self {
        Self {
            uptime: s(a, "uptime"),
            version: s(a, "version"),
            board_name: s(a, "board-name"),
            architecture_name: s(a, "architecture-name"),
            platform: s(a, "platform"),
            cpu_load: s(a, "cpu-load"),
            free_memory: s(a, "free-memory"),
            total_memory: s(a, "total-memory"),
        }
    }
}

/// Parses a RouterOS duration (`1w2d3h4m5s`, `01:00:00`, `1d02:03:04`, `90`, `none`→None) into
/// seconds. Fractions (`1.5s`, `500ms`) are truncated to whole seconds.
pub fn parse_duration(v: &str) -> Option<u64> {
    let v = v.trim();
    if v.is_empty() || v == "none" {
        return None;
    }
    let mut total: u64 = 0;
    let (prefix, clock) = match v.rfind(|c: char| c.is_ascii_alphabetic()) {
        Some(i) if v.get(i + 1..).is_some_and(|r| r.contains(':')) => (
            v.get(..=i).unwrap_or_default(),
            v.get(i + 1..).unwrap_or_default(),
        ),
        _ if v.contains(':') => ("", v),
        _ => (v, ""),
    };
    if !clock.is_empty() {
        let parts: Vec<&str> = clock.split(':').collect();
        if parts.len() != 3 {
            return None;
        }
        let mut secs = 0u64;
        for p in parts {
            let p = p.split('.').next()?;
            secs = secs.checked_mul(60)?.checked_add(p.parse::<u64>().ok()?)?;
        }
        total = secs;
    }
    let mut num = String::new();
    let mut chars = prefix.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() || c == '.' {
            num.push(c);
            continue;
        }
        let unit: u64 = match c {
            'w' => 604_800,
            'd' => 86_400,
            'h' => 3_600,
            'm' if chars.peek() == Some(&'s') => {
                chars.next();
                num.clear();
                continue;
            }
            'm' => 60,
            's' => 1,
            _ => return None,
        };
        let whole = num.split('.').next().unwrap_or_default();
        if whole.is_empty() {
            return None;
        }
        total = total.checked_add(whole.parse::<u64>().ok()?.checked_mul(unit)?)?;
        num.clear();
    }
    if !num.is_empty() {
        // A bare number is seconds.
        total = total.checked_add(num.split('.').next()?.parse::<u64>().ok()?)?;
    }
    Some(total)
}

/// Formats seconds as RouterOS does in API replies (`1w2d3h4m5s`, `0s`).
pub fn format_duration(mut secs: u64) -> String {
    if secs == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    for (unit, suffix) in [
        (604_800, 'w'),
        (86_400, 'd'),
        (3_600, 'h'),
        (60, 'm'),
        (1, 's'),
    ] {
        if secs >= unit {
            out.push_str(&(secs / unit).to_string());
            out.push(suffix);
            secs %= unit;
        }
    }
    out
}

// ---- builders -----------------------------------------------------------------------------

/// `/ip/hotspot/user/add`.
pub fn user_add(u: &NewHotspotUser) -> Command {
    Command::new(path(USER, "add"))
        .attr("name", &u.name)
        .attr_opt("password", u.password.as_ref())
        .attr_opt("profile", u.profile.as_ref())
        .attr_opt("server", u.server.as_ref())
        .attr_opt("limit-uptime", u.limit_uptime.as_ref())
        .attr_opt("limit-bytes-total", u.limit_bytes_total.as_ref())
        .attr_opt("mac-address", u.mac_address.as_ref())
        .attr_opt("comment", u.comment.as_ref())
        .attr_opt("disabled", u.disabled.map(yes_no))
}

/// `/ip/hotspot/user/set =.id=…`.
pub fn user_set(id: &str, u: &HotspotUserUpdate) -> Command {
    Command::new(path(USER, "set"))
        .id(id)
        .attr_opt("name", u.name.as_ref())
        .attr_opt("password", u.password.as_ref())
        .attr_opt("profile", u.profile.as_ref())
        .attr_opt("server", u.server.as_ref())
        .attr_opt("limit-uptime", u.limit_uptime.as_ref())
        .attr_opt("mac-address", u.mac_address.as_ref())
        .attr_opt("comment", u.comment.as_ref())
        .attr_opt("disabled", u.disabled.map(yes_no))
}

/// `<menu>/<verb> =.id=…` (remove, enable, disable).
pub fn by_id(menu: &str, verb: &str, id: &str) -> Command {
    Command::new(path(menu, verb)).id(id)
}

/// A printed row as attribute name → value (lossy UTF-8).
pub fn row_map(a: &Attrs) -> std::collections::BTreeMap<String, String> {
    a.iter()
        .map(|(k, v)| {
            (
                String::from_utf8_lossy(k).into_owned(),
                String::from_utf8_lossy(v).into_owned(),
            )
        })
        .collect()
}

/// `<menu>/print` with equality queries (ANDed) and an optional `.proplist`.
pub fn print(menu: &str, filter: &[(&str, &str)], proplist: Option<&[&str]>) -> Command {
    let mut c = Command::new(path(menu, "print"));
    if let Some(p) = proplist {
        c = c.proplist(p);
    }
    for (k, v) in filter {
        c = c.query_eq(k, v);
    }
    c
}

/// `/ip/hotspot/ip-binding/add`.
pub fn ip_binding_add(b: &NewIpBinding) -> Command {
    Command::new(path(IP_BINDING, "add"))
        .attr_opt("mac-address", b.mac_address.as_ref())
        .attr_opt("address", b.address.as_ref())
        .attr_opt("to-address", b.to_address.as_ref())
        .attr_opt("server", b.server.as_ref())
        .attr("type", b.kind.as_str())
        .attr_opt("comment", b.comment.as_ref())
}

/// `/ip/hotspot/active/login`.
pub fn active_login(l: &ActiveLogin) -> Command {
    Command::new(path(ACTIVE, "login"))
        .attr("user", &l.user)
        .attr("password", &l.password)
        .attr("ip", &l.ip)
        .attr_opt("mac-address", l.mac_address.as_ref())
}

/// `/system/resource/print`.
pub fn system_resource() -> Command {
    Command::new(path(RESOURCE, "print"))
}

/// `/system/identity/print`.
pub fn system_identity() -> Command {
    Command::new(path(IDENTITY, "print"))
}

/// The `=ret=` of an `add`, required.
pub fn ret_id(r: &Reply) -> Result<String, RouterError> {
    r.ret()
        .ok_or_else(|| RouterError::Protocol("add returned no =ret= id".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("1h"), Some(3600));
        assert_eq!(parse_duration("01:00:00"), Some(3600));
        assert_eq!(parse_duration("1d2h30m"), Some(86_400 + 7_200 + 1_800));
        assert_eq!(parse_duration("1w"), Some(604_800));
        assert_eq!(parse_duration("1d02:00:00"), Some(86_400 + 7_200));
        assert_eq!(parse_duration("0"), Some(0));
        assert_eq!(parse_duration("0s"), Some(0));
        assert_eq!(parse_duration("90"), Some(90));
        assert_eq!(parse_duration("500ms"), Some(0));
        assert_eq!(parse_duration("none"), None);
        assert_eq!(parse_duration("abc"), None);
        assert_eq!(parse_duration("1x"), None);
        assert_eq!(format_duration(3600), "1h");
        assert_eq!(format_duration(0), "0s");
        assert_eq!(format_duration(694_861), "1w1d1h1m1s");
    }
}
