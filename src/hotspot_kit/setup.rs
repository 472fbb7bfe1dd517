//! The RouterOS setup script for one router, and the check of a router against it.
//!
//! The script is a list of [`Step`]s, each one CLI line in the space-separated form that both
//! RouterOS v6 and v7 accept (v7 also takes `/ip/hotspot/...`; v6 does not), with comments:
//!
//! 1. the group `pagos-hotspot` with `policy=read,write,api`: the least the service needs
//!    (`read` for prints, `write` for hotspot users, sessions, cookies and bindings, `api` to
//!    log in; no `policy`, `sensitive`, `ftp`, `ssh`, `winbox`, `web`, …);
//! 2. the API user in that group, limited to `address=<sources>`;
//! 3. `/ip service set api address=<sources>` and the same for `api-ssl`;
//! 4. for each host the portal needs (the API, each configured gateway's scripts, API and card
//!    pages): `/ip hotspot walled-garden add dst-host=…` (HTTP) and
//!    `/ip hotspot walled-garden ip add dst-host=… action=accept` (every protocol, HTTPS
//!    included; an IPv4 literal is a `dst-address=`).
//!
//! Lines that add something are wrapped as `:if ([:len [MENU find KEY="V"]] = 0) do={MENU add …}`
//! (with `else={MENU set …}` for the group and the user), so the script can run again.
//!
//! The check reads `/user/group`, `/user`, `/ip/service`, `/ip/hotspot/walled-garden` and
//! `/ip/hotspot/walled-garden/ip` and says of each step whether the router has it.

use std::collections::BTreeMap;

/// The user group the script creates.
pub const GROUP: &str = "pagos-hotspot";
/// The comment on everything the script adds.
pub const COMMENT: &str = "pagos-hotspot";
/// The script-global variable that holds the API user's password while the script runs. The
/// script never carries the stored password (secrets are never returned): the admin writes the
/// one they registered, and only a router without that user needs it.
pub const PASSWORD_VARIABLE: &str = "pagosApiPassword";
/// The policies the group gets; any other is more than the service needs.
pub const POLICIES: [&str; 3] = ["read", "write", "api"];

/// What the script is made from.
#[derive(Debug, Clone)]
pub struct SetupInput {
    pub router_name: String,
    /// The RouterOS user the service logs in as.
    pub api_user: String,
    /// Where routers see the service connect from (IPv4 CIDRs); empty when unknown.
    pub sources: Vec<String>,
    /// Hosts the hotspot must let unauthenticated devices reach, with what each is for.
    pub hosts: Vec<(String, String)>,
    /// The portal's API base and the path of the portal.zip route, for the upload notes.
    pub api_base: String,
    pub router_id: String,
}

/// What a step needs on the router for the check to call it `ok`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Want {
    Group,
    User {
        name: String,
        sources: Vec<String>,
    },
    Service {
        name: &'static str,
        sources: Vec<String>,
    },
    WalledGarden {
        host: String,
    },
    WalledGardenIp {
        host: String,
    },
}

/// One line of the script.
#[derive(Debug, Clone)]
pub struct Step {
    /// A short stable name (`grupo`, `usuario`, `servicio api`, `walled-garden host`, …).
    pub name: String,
    /// The CLI line that makes it so.
    pub command: String,
    pub want: Want,
}

/// A RouterOS string in double quotes (`"`, `\` and `$` escaped).
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if matches!(c, '"' | '\\' | '$') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// The host of a URL (`https://pay.example.com:8443/x` → `pay.example.com`).
pub fn url_host(url: &str) -> Option<String> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = match authority.rsplit_once(':') {
        Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) => h,
        _ => authority,
    };
    let host = host.trim().to_ascii_lowercase();
    (!host.is_empty() && !host.starts_with('[')).then_some(host)
}

fn is_ipv4(host: &str) -> bool {
    host.parse::<std::net::Ipv4Addr>().is_ok()
}

/// `:if ([:len [MENU find KEY="VALUE"]] = 0) do={ADD}` (and ` else={SET}`): adds what is
/// missing, so the script can run again.
fn ensure(menu: &str, key: &str, value: &str, add: &str, set: Option<&str>) -> String {
    let mut line = format!(
        ":if ([:len [{menu} find {key}={}]] = 0) do={{{menu} {add}}}",
        quote(value)
    );
    if let Some(set) = set {
        line.push_str(&format!(" else={{{menu} {set}}}"));
    }
    line
}

/// The script's steps, in order.
pub fn steps(input: &SetupInput) -> Vec<Step> {
    let sources = input.sources.join(",");
    let address = if sources.is_empty() {
        String::new()
    } else {
        format!(" address={sources}")
    };
    let policy = POLICIES.join(",");
    let user = quote(&input.api_user);
    let var = PASSWORD_VARIABLE;
    // A new user only with a password written in; an existing one keeps its own.
    let mut user_line = format!(
        ":if ([:len [/user find name={user}]] = 0) do={{:if (${var} = \"\") do={{:error \"pagos-hotspot: write the API user's password in {var} first\"}} else={{/user add name={user} group={GROUP}{address} password=${var} comment={}}}}} else={{/user set {user} group={GROUP}{address}}}",
        quote(COMMENT)
    );
    if input.api_user.eq_ignore_ascii_case("admin") {
        user_line = format!("# {user_line}");
    }
    let mut out = vec![
        Step {
            name: "grupo".into(),
            command: ensure(
                "/user group",
                "name",
                GROUP,
                &format!(
                    "add name={GROUP} policy={policy} comment={}",
                    quote(COMMENT)
                ),
                Some(&format!("set {GROUP} policy={policy}")),
            ),
            want: Want::Group,
        },
        Step {
            name: "usuario".into(),
            command: user_line,
            want: Want::User {
                name: input.api_user.clone(),
                sources: input.sources.clone(),
            },
        },
    ];
    for service in ["api", "api-ssl"] {
        out.push(Step {
            name: format!("servicio {service}"),
            command: format!(
                "/ip service set {service} address={}",
                if sources.is_empty() {
                    "<ROUTER_SOURCE_ADDRESSES>"
                } else {
                    &sources
                }
            ),
            want: Want::Service {
                name: service,
                sources: input.sources.clone(),
            },
        });
    }
    for (host, purpose) in &input.hosts {
        let comment = quote(&format!("{COMMENT}: {purpose}"));
        let key = if is_ipv4(host) {
            "dst-address"
        } else {
            "dst-host"
        };
        let dst = format!("{key}={host}");
        out.push(Step {
            name: format!("walled-garden {host}"),
            command: ensure(
                "/ip hotspot walled-garden",
                key,
                host,
                &format!("add {dst} comment={comment}"),
                None,
            ),
            want: Want::WalledGarden { host: host.clone() },
        });
        out.push(Step {
            name: format!("walled-garden ip {host}"),
            command: ensure(
                "/ip hotspot walled-garden ip",
                key,
                host,
                &format!("add {dst} action=accept comment={comment}"),
                None,
            ),
            want: Want::WalledGardenIp { host: host.clone() },
        });
    }
    out
}

/// The whole script: a header, the steps, and how to put the portal on the router.
pub fn script(input: &SetupInput) -> String {
    let mut s = String::new();
    let mut line = |l: &str| {
        s.push_str(l);
        s.push('\n');
    };
    line(&format!(
        "# pagos-hotspot: setup of router {} ({})",
        input.router_name.replace(['\r', '\n'], " "),
        input.router_id
    ));
    line(
        "# Paste into a terminal (Winbox > New Terminal, or SSH) as an admin. RouterOS v6 (6.43+)",
    );
    line("# and v7: every command below is written the same in both (v7 also accepts /ip/hotspot/...,");
    line("# v6 only the space form used here). It adds only what is missing, so it can run again;");
    line("# GET .../setup-check says which lines a router still lacks.");
    if input.sources.is_empty() {
        line("# WARNING: the service's source address is unknown (set ROUTER_SOURCE_ADDRESSES or ?source=):");
        line("# replace <ROUTER_SOURCE_ADDRESSES> before running the service lines.");
    }
    if input.api_user.eq_ignore_ascii_case("admin") {
        line("# WARNING: this router's API user is \"admin\": give the service a user of its own, then");
        line("# change the router's credentials in pagos-hotspot. The user line is left commented out");
        line("# so that admin keeps its rights.");
    }
    line(
        "# 0. The API user's password, as registered for this router in pagos-hotspot (this script",
    );
    line("#    does not carry it). Needed only if the user does not exist on the router yet: write it");
    line("#    between the quotes before pasting. It is cleared again at the end.");
    line(&format!(":global {PASSWORD_VARIABLE} \"\""));
    let steps = steps(input);
    let mut section = "";
    for step in &steps {
        let title = match step.want {
            Want::Group | Want::User { .. } => {
                "# 1. The API user, with the least policy the service needs (read, write, api)"
            }
            Want::Service { .. } => "# 2. The API service answers only the service's address",
            Want::WalledGarden { .. } | Want::WalledGardenIp { .. } => {
                "# 3. Walled garden: the API and the payment gateways, reachable before login"
            }
        };
        if title != section {
            line(title);
            section = title;
        }
        line(&step.command);
    }
    line("# 4. The portal: POST /api/v1/admin/routers/ROUTER_ID/portal.zip with {\"api_key\": \"jwt_...\"},");
    line(
        "#    unzip it and upload login.html, portal.js and portal.css into the router's hotspot/",
    );
    line("#    folder (Winbox > Files, or FTP), the html-directory of the hotspot server profile.");
    line(&format!("#    API: {}", input.api_base));
    line(&format!(":set {PASSWORD_VARIABLE} \"\""));
    s.replace("ROUTER_ID", &input.router_id)
}

/// One row of a printed menu.
pub type Row = BTreeMap<String, String>;

/// The menus the check reads.
#[derive(Debug, Clone, Default)]
pub struct RouterTables {
    pub groups: Vec<Row>,
    pub users: Vec<Row>,
    pub services: Vec<Row>,
    pub walled_garden: Vec<Row>,
    pub walled_garden_ip: Vec<Row>,
}

/// The menus, as API paths, in the order of [`RouterTables`]' fields.
pub const MENUS: [&str; 5] = [
    "/user/group",
    "/user",
    "/ip/service",
    "/ip/hotspot/walled-garden",
    "/ip/hotspot/walled-garden/ip",
];

fn field<'a>(row: &'a Row, k: &str) -> &'a str {
    row.get(k).map_or("", String::as_str)
}

fn disabled(row: &Row) -> bool {
    matches!(field(row, "disabled"), "true" | "yes")
}

/// The allowed policies of a group (`read,write,api,!ftp,…` → read, write, api).
fn granted(policy: &str) -> Vec<&str> {
    policy
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty() && !p.starts_with('!'))
        .collect()
}

/// A comma list of addresses as CIDRs (`10.0.0.5` → `10.0.0.5/32`), sorted.
fn cidrs(list: &str) -> Vec<String> {
    let mut v: Vec<String> = list
        .split(',')
        .filter_map(crate::config::ipv4_cidr)
        .collect();
    v.sort();
    v.dedup();
    v
}

/// Restricted to exactly `sources` (or, when they are unknown, to something at all).
fn restricted(address: &str, sources: &[String]) -> bool {
    let have = cidrs(address);
    if sources.is_empty() {
        return !have.is_empty() && !have.iter().any(|c| c.ends_with("/0"));
    }
    let mut want: Vec<String> = sources
        .iter()
        .filter_map(|s| crate::config::ipv4_cidr(s))
        .collect();
    want.sort();
    want.dedup();
    have == want
}

fn wg_matches(row: &Row, host: &str) -> bool {
    !disabled(row)
        && (field(row, "dst-host").eq_ignore_ascii_case(host)
            || (is_ipv4(host) && cidrs(field(row, "dst-address")) == cidrs(host)))
}

/// Whether the router already has what `want` asks for.
pub fn present(want: &Want, t: &RouterTables) -> bool {
    match want {
        Want::Group => t.groups.iter().any(|g| {
            let mut p = granted(field(g, "policy"));
            p.sort_unstable();
            let mut w = POLICIES.to_vec();
            w.sort_unstable();
            field(g, "name") == GROUP && p == w
        }),
        Want::User { name, sources } => t.users.iter().any(|u| {
            field(u, "name") == name
                && field(u, "group") == GROUP
                && !disabled(u)
                && (sources.is_empty() || restricted(field(u, "address"), sources))
        }),
        Want::Service { name, sources } => t
            .services
            .iter()
            .any(|s| field(s, "name") == *name && restricted(field(s, "address"), sources)),
        Want::WalledGarden { host } => t
            .walled_garden
            .iter()
            .any(|r| wg_matches(r, host) && field(r, "action") != "deny"),
        Want::WalledGardenIp { host } => t
            .walled_garden_ip
            .iter()
            .any(|r| wg_matches(r, host) && matches!(field(r, "action"), "" | "accept")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> SetupInput {
        SetupInput {
            router_name: "R1".into(),
            api_user: "pagos".into(),
            sources: vec!["203.0.113.7/32".into()],
            hosts: vec![
                ("pagos.example.com".into(), "API".into()),
                ("127.0.0.1".into(), "sandbox".into()),
            ],
            api_base: "https://pagos.example.com".into(),
            router_id: "RTR_1".into(),
        }
    }

    #[test]
    fn script_lines_quote_and_restrict() {
        let s = script(&input());
        assert!(s.contains(":if ([:len [/user group find name=\"pagos-hotspot\"]] = 0) do={/user group add name=pagos-hotspot policy=read,write,api"));
        // The password is the script variable's, never a stored one.
        assert!(s.contains(":global pagosApiPassword \"\""), "{s}");
        assert!(s.contains("password=$pagosApiPassword comment="), "{s}");
        assert!(
            s.contains("else={/user set \"pagos\" group=pagos-hotspot address=203.0.113.7/32}"),
            "{s}"
        );
        assert!(s.contains("/ip service set api address=203.0.113.7/32"));
        assert!(
            s.contains("/ip hotspot walled-garden ip add dst-host=pagos.example.com action=accept")
        );
        assert!(s.contains("/ip hotspot walled-garden add dst-address=127.0.0.1 comment="));
        assert!(s.contains("routers/RTR_1/portal.zip"));
    }

    fn row(pairs: &[(&str, &str)]) -> Row {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect()
    }

    #[test]
    fn the_check_wants_exactly_what_the_script_makes() {
        let sources = vec!["203.0.113.7/32".to_string()];
        // More policy than needed is not ok.
        let mut t = RouterTables {
            groups: vec![row(&[
                ("name", GROUP),
                ("policy", "read,write,api,policy,!ftp"),
            ])],
            ..RouterTables::default()
        };
        assert!(!present(&Want::Group, &t));
        t.groups = vec![row(&[
            ("name", GROUP),
            ("policy", "!local,read,write,api,!ftp"),
        ])];
        assert!(present(&Want::Group, &t));
        let user = Want::User {
            name: "pagos".into(),
            sources: sources.clone(),
        };
        t.users = vec![row(&[("name", "pagos"), ("group", GROUP), ("address", "")])];
        assert!(!present(&user, &t), "not limited to the service's address");
        t.users = vec![row(&[
            ("name", "pagos"),
            ("group", GROUP),
            ("address", "203.0.113.7"),
        ])];
        assert!(present(&user, &t));
        t.users[0].insert("disabled".into(), "true".into());
        assert!(!present(&user, &t));
        let service = Want::Service {
            name: "api",
            sources,
        };
        t.services = vec![row(&[
            ("name", "api"),
            ("address", "203.0.113.7/32,10.0.0.0/8"),
        ])];
        assert!(!present(&service, &t), "also open to others");
        let wg = Want::WalledGardenIp {
            host: "api.conekta.io".into(),
        };
        t.walled_garden_ip = vec![row(&[("dst-host", "api.conekta.io"), ("action", "drop")])];
        assert!(!present(&wg, &t));
        t.walled_garden_ip = vec![row(&[("dst-host", "API.conekta.io"), ("action", "accept")])];
        assert!(present(&wg, &t));
    }

    #[test]
    fn hosts_and_addresses() {
        assert_eq!(url_host("https://a.b:8443/x?y").as_deref(), Some("a.b"));
        assert_eq!(
            url_host("http://127.0.0.1:9/").as_deref(),
            Some("127.0.0.1")
        );
        assert!(restricted("203.0.113.7", &["203.0.113.7/32".into()]));
        assert!(!restricted("", &["203.0.113.7/32".into()]));
        assert!(!restricted("0.0.0.0/0", &[]));
        assert_eq!(granted("read,write,api,!ftp"), vec!["read", "write", "api"]);
    }
}
