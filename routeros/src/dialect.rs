//! Everything we know (or believe) about how a real router talks, in ONE place.
//!
//! Each item is tagged by its source: `[DOC]` MikroTik documentation, `[WIRE]` bytes
//! captured from a real router, `[CLIENT]` third-party client behaviour, `[UNVERIFIED]` a plausible
//! belief. The client classifies traps with [`classify_trap`]; the simulator answers with these
//! texts. Correct an `[UNVERIFIED]` entry here once a real router has been observed.

/// Trap and fatal texts.
pub mod msg {
    /// `[WIRE]` plain login refused, RouterOS ≥ 6.43 and v7.
    pub const LOGIN_FAILED: &str = "invalid user name or password (6)";
    /// `[WIRE]` login refused, pre-6.43 (challenge login).
    pub const LOGIN_FAILED_LEGACY: &str = "cannot log in";
    /// `[WIRE]` duplicate hotspot user (no category).
    pub const USER_EXISTS: &str = "failure: already have user with this name for this server";
    /// `[WIRE/CLIENT]` unknown `.id` on set/remove (also seen as `no such item (4)`).
    pub const NO_SUCH_ITEM: &str = "no such item";
    /// `[WIRE]` a profile name that does not exist.
    pub const PROFILE_MISMATCH: &str = "input does not match any value of profile";
    /// `[UNVERIFIED]` same shape as the profile text, for `server`.
    pub const SERVER_MISMATCH: &str = "input does not match any value of server";
    /// `[WIRE]` a malformed MAC address.
    pub const MAC_REQUIRED: &str = "invalid value of mac-address, mac address required";
    /// `[WIRE]` a malformed ip-binding address.
    pub const ADDRESS_RANGE: &str = "value of address expects range of ip addresses";
    /// `[CLIENT/WIRE]` the API user's group lacks a policy.
    pub const NOT_ENOUGH_PERMISSIONS: &str = "not enough permissions (9)";
    /// `[WIRE]` (old RouterOS) unknown command: first trap, category 0.
    pub const NO_SUCH_COMMAND: &str = "no such command or directory";
    /// `[WIRE]` (old RouterOS) unknown command: second trap.
    pub const NO_SUCH_COMMAND_PREFIX: &str = "no such command prefix";
    /// `[DOC]` a command interrupted by `/cancel` (category 2).
    pub const INTERRUPTED: &str = "interrupted";
    /// `[WIRE]` `!fatal` reason after `/quit`.
    pub const SESSION_TERMINATED: &str = "session terminated on request";
    /// `[UNVERIFIED]` `!fatal` reason for a command sent before login (what mocks send).
    pub const NOT_LOGGED_IN: &str = "not logged in";
    /// `[UNVERIFIED]` a duplicate ip-binding (text matched by third-party code).
    pub const BINDING_EXISTS: &str = "such client already exists";
    /// `[UNVERIFIED]` a duplicate profile name.
    pub const PROFILE_EXISTS: &str = "failure: profile with the same name already exists";
    /// `[UNVERIFIED]` `/ip/hotspot/active/login` with wrong credentials.
    pub const ACTIVE_BAD_CREDENTIALS: &str = "invalid username or password";
    /// `[UNVERIFIED]` `/ip/hotspot/active/login` for an IP not in the host table (prefix).
    pub const ACTIVE_UNKNOWN_HOST: &str = "unknown host IP";
    /// `[UNVERIFIED]` `/ip/hotspot/active/login` with a missing or malformed `ip`.
    pub const ACTIVE_BAD_IP: &str = "invalid value for argument ip";
    /// `[UNVERIFIED]` `/ip/hotspot/active/login` with a MAC that does not match the host.
    pub const ACTIVE_WRONG_MAC: &str = "wrong MAC provided";
    /// `[UNVERIFIED]` `/ip/hotspot/active/login` for a host that is already logged in.
    pub const ACTIVE_ALREADY: &str = "already logged in";
    /// `[UNVERIFIED]` `/ip/hotspot/active/login` for a disabled user.
    pub const ACTIVE_USER_DISABLED: &str = "user disabled";

    /// `[UNVERIFIED]` an attribute the menu does not know.
    pub fn unknown_parameter(name: &str) -> String {
        format!("unknown parameter {name}")
    }

    /// `[UNVERIFIED]` a value that does not parse for its argument (time, number, boolean…).
    pub fn invalid_argument(name: &str) -> String {
        format!("invalid value for argument {name}")
    }

    /// `[UNVERIFIED]` a mandatory argument that is missing on `add`.
    pub fn missing_value(name: &str) -> String {
        format!("failure: {name} must be set")
    }
}

/// `[DOC]` `!trap` category for an interrupted command.
pub const CATEGORY_INTERRUPTED: u32 = 2;
/// `[WIRE]` category on the first trap of an unknown command.
pub const CATEGORY_MISSING: u32 = 0;

/// `[DOC/WIRE]` `!empty` is sent from this version on (7.18; changelog and captures).
pub const EMPTY_SINCE: (u32, u32, u32) = (7, 18, 0);
/// `[DOC]` plain `/login =name= =password=` from 6.43 on.
pub const PLAIN_LOGIN_SINCE: (u32, u32, u32) = (6, 43, 0);
/// `[DOC/WIRE]` from 6.45.1 the challenge response is rejected, although a bare `/login` still
/// returns `=ret=` (6.47.6 capture). Behaviour on v7 is `[UNVERIFIED]`; the simulator assumes the same.
pub const LEGACY_LOGIN_REMOVED: (u32, u32, u32) = (6, 45, 1);
/// `[DOC]` default `max-sessions` of the `api` service.
pub const DEFAULT_MAX_SESSIONS: usize = 20;
/// `[UNVERIFIED]` over `max-sessions` the router accepts the TCP connection and closes it at once.
pub const OVER_LIMIT_ACCEPT_THEN_CLOSE: bool = true;
/// `[UNVERIFIED]` whether the router closes the connection after a failed `/login`. We keep it open;
/// clients close it themselves (librouteros does).
pub const CLOSE_AFTER_FAILED_LOGIN: bool = false;
/// `[UNVERIFIED]` `/cancel =tag=X` for a tag that is not running just gets `!done`.
pub const CANCEL_UNKNOWN_TAG_IS_DONE: bool = true;

/// `[UNVERIFIED]` `login-by` of a session created by `/ip/hotspot/active/login`.
pub const ACTIVE_LOGIN_BY_API: &str = "api";
/// `[UNVERIFIED]` whether a reboot empties the host table (the simulator keeps hosts, as
/// devices reappear at once, but marks them unauthorised; active sessions and cookies go).
pub const REBOOT_CLEARS_HOSTS: bool = false;

/// What a trap means to a caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrapClass {
    /// The item does not exist (remove/set of a gone `.id`).
    NotFound,
    /// A unique key is taken.
    AlreadyExists,
    /// A value was refused.
    InvalidValue,
    /// The API user lacks a policy.
    Permission,
    /// Login refused.
    AuthFailed,
    /// Anything else.
    Other,
}

/// Substrings (lower-case) checked in order against the lower-cased trap message. Never branch on
/// the category: it is often absent `[WIRE]`.
pub const TRAP_CLASSES: &[(&str, TrapClass)] = &[
    ("no such item", TrapClass::NotFound),
    ("already have", TrapClass::AlreadyExists),
    ("already exists", TrapClass::AlreadyExists),
    ("not enough permissions", TrapClass::Permission),
    ("invalid user name or password", TrapClass::AuthFailed),
    ("cannot log in", TrapClass::AuthFailed),
    ("input does not match any value", TrapClass::InvalidValue),
    ("ambiguous value", TrapClass::InvalidValue),
    ("invalid value", TrapClass::InvalidValue),
    ("value of ", TrapClass::InvalidValue),
    ("unknown parameter", TrapClass::InvalidValue),
    ("must be set", TrapClass::InvalidValue),
];

/// Classifies a trap message by substring ([`TRAP_CLASSES`]).
pub fn classify_trap(message: &str) -> TrapClass {
    let m = message.to_ascii_lowercase();
    TRAP_CLASSES
        .iter()
        .find(|(needle, _)| m.contains(needle))
        .map_or(TrapClass::Other, |(_, c)| *c)
}

/// Parses the leading `major.minor[.patch]` of a version such as `7.18.2 (stable)`.
pub fn parse_version(v: &str) -> Option<(u32, u32, u32)> {
    let core = v.split_whitespace().next()?;
    let core: String = core
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    let mut it = core.split('.');
    let major = it.next()?.parse().ok()?;
    let minor = it.next().unwrap_or("0").parse().ok()?;
    let patch = it.next().unwrap_or("0").parse().unwrap_or(0);
    Some((major, minor, patch))
}

/// Whether a router of this version sends `!empty`.
pub fn sends_empty(version: &str) -> bool {
    parse_version(version).is_some_and(|v| v >= EMPTY_SINCE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification() {
        assert_eq!(classify_trap(msg::USER_EXISTS), TrapClass::AlreadyExists);
        assert_eq!(classify_trap("no such item (4)"), TrapClass::NotFound);
        assert_eq!(
            classify_trap(msg::PROFILE_MISMATCH),
            TrapClass::InvalidValue
        );
        assert_eq!(classify_trap(msg::MAC_REQUIRED), TrapClass::InvalidValue);
        assert_eq!(classify_trap(msg::ADDRESS_RANGE), TrapClass::InvalidValue);
        assert_eq!(
            classify_trap(msg::NOT_ENOUGH_PERMISSIONS),
            TrapClass::Permission
        );
        assert_eq!(classify_trap(msg::LOGIN_FAILED), TrapClass::AuthFailed);
        assert_eq!(classify_trap(msg::BINDING_EXISTS), TrapClass::AlreadyExists);
        assert_eq!(classify_trap(msg::NO_SUCH_COMMAND), TrapClass::Other);
    }

    #[test]
    fn versions() {
        assert_eq!(parse_version("7.18.2 (stable)"), Some((7, 18, 2)));
        assert_eq!(parse_version("6.49"), Some((6, 49, 0)));
        assert!(sends_empty("7.18"));
        assert!(sends_empty("7.19.3"));
        assert!(!sends_empty("7.17.2"));
        assert!(!sends_empty("6.49.10"));
        assert_eq!(parse_version("garbage"), None);
    }
}
