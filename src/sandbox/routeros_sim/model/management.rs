//! What a router's setup touches besides the hotspot's users: `/user/group`, `/user`,
//! `/ip/service`, `/ip/hotspot/walled-garden` and `/ip/hotspot/walled-garden/ip` (print, add,
//! set, remove; enable/disable for the walled garden). A fresh simulator has RouterOS's default
//! groups (`read`, `write`, `full`), the user `admin`, the standard services with no address
//! restriction, and an empty walled garden.

use super::print::{print, print_rows};
use super::{
    done, done_ret, f, remove, render_id, set_flag, trap, Ctx, Item, Kind, Out, State, Table,
};
use crate::routeros::dialect::msg;

/// The menus this module answers.
pub(super) const MENUS: [&str; 5] = [
    "/user/group",
    "/user",
    "/ip/service",
    "/ip/hotspot/walled-garden",
    "/ip/hotspot/walled-garden/ip",
];

/// Every policy, in the order RouterOS prints them (v7; v6's `dude` and `tikapp` accepted).
const POLICIES: [&str; 17] = [
    "local",
    "telnet",
    "ssh",
    "ftp",
    "reboot",
    "read",
    "write",
    "policy",
    "test",
    "winbox",
    "password",
    "web",
    "sniff",
    "sensitive",
    "api",
    "romon",
    "rest-api",
];
const V6_ONLY_POLICIES: [&str; 2] = ["dude", "tikapp"];

const GROUP_ATTRS: &[(&str, Kind)] = &[
    ("name", Kind::Str),
    ("policy", Kind::Str),
    ("skin", Kind::Str),
    ("comment", Kind::Str),
];
const USER_ATTRS: &[(&str, Kind)] = &[
    ("name", Kind::Str),
    ("group", Kind::Str),
    ("password", Kind::Str),
    ("address", Kind::Str),
    ("comment", Kind::Str),
    ("disabled", Kind::Bool),
];
const SERVICE_ATTRS: &[(&str, Kind)] = &[
    ("address", Kind::Str),
    ("port", Kind::Int),
    ("certificate", Kind::Str),
    ("disabled", Kind::Bool),
];
const WALLED_GARDEN_ATTRS: &[(&str, Kind)] = &[
    ("dst-host", Kind::Str),
    ("dst-address", Kind::Str),
    ("dst-port", Kind::Str),
    ("path", Kind::Str),
    ("method", Kind::Str),
    ("action", Kind::Str),
    ("server", Kind::Str),
    ("src-address", Kind::Str),
    ("comment", Kind::Str),
    ("disabled", Kind::Bool),
];
const WALLED_GARDEN_IP_ATTRS: &[(&str, Kind)] = &[
    ("action", Kind::Str),
    ("dst-host", Kind::Str),
    ("dst-address", Kind::Str),
    ("dst-port", Kind::Str),
    ("protocol", Kind::Str),
    ("src-address", Kind::Str),
    ("server", Kind::Str),
    ("comment", Kind::Str),
    ("disabled", Kind::Bool),
];

/// The management tables of one router.
#[derive(Debug)]
pub(crate) struct Management {
    groups: Table,
    users: Table,
    services: Table,
    walled_garden: Table,
    walled_garden_ip: Table,
}

/// `read,write,api` (or a full `a,!b,…` list) as RouterOS prints it: every policy, allowed
/// ones plain and the others with `!`. `None` if a name is unknown.
fn canonical_policy(given: &str) -> Option<String> {
    let mut allowed = Vec::new();
    for p in given.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let name = p.strip_prefix('!').unwrap_or(p);
        if !POLICIES.contains(&name) && !V6_ONLY_POLICIES.contains(&name) {
            return None;
        }
        if !p.starts_with('!') {
            allowed.push(name);
        }
    }
    let listed = POLICIES
        .iter()
        .map(|p| {
            if allowed.contains(p) {
                (*p).to_string()
            } else {
                format!("!{p}")
            }
        })
        .collect::<Vec<_>>();
    Some(listed.join(","))
}

/// A comma list of IPv4 addresses or CIDR blocks (empty allowed: no restriction).
fn valid_addresses(v: &[u8]) -> bool {
    String::from_utf8_lossy(v)
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .all(|s| crate::config::ipv4_cidr(s).is_some())
}

impl Management {
    pub(super) fn new() -> Self {
        let mut groups = Table::new();
        for (name, policy) in [
            ("read", "local,telnet,ssh,reboot,read,test,winbox,password,web,sniff,sensitive,api,romon,rest-api"),
            ("write", "local,telnet,ssh,reboot,read,write,test,winbox,password,web,sniff,sensitive,api,romon,rest-api"),
            ("full", &POLICIES.join(",")),
        ] {
            groups.insert(vec![
                f("name", name),
                f("policy", canonical_policy(policy).unwrap_or_default()),
                f("skin", "default"),
            ]);
        }
        let mut users = Table::new();
        users.insert(vec![
            f("name", "admin"),
            f("group", "full"),
            f("address", ""),
            f("last-logged-in", ""),
            f("disabled", "false"),
        ]);
        let mut services = Table::new();
        for (name, port, disabled) in [
            ("telnet", "23", "false"),
            ("ftp", "21", "false"),
            ("www", "80", "false"),
            ("ssh", "22", "false"),
            ("www-ssl", "443", "true"),
            ("api", "8728", "false"),
            ("winbox", "8291", "false"),
            ("api-ssl", "8729", "false"),
        ] {
            services.insert(vec![
                f("name", name),
                f("port", port),
                f("address", ""),
                f("certificate", "none"),
                f("invalid", "false"),
                f("disabled", disabled),
            ]);
        }
        Self {
            groups,
            users,
            services,
            walled_garden: Table::new(),
            walled_garden_ip: Table::new(),
        }
    }
}

impl State {
    /// A command on one of [`MENUS`].
    pub(super) fn management(
        &mut self,
        menu: &str,
        verb: &str,
        attrs: &[(String, Vec<u8>)],
        queries: &[Vec<u8>],
        ctx: &Ctx<'_>,
    ) -> Out {
        let m = &self.management;
        let (table, name_key) = match menu {
            "/user/group" => (&m.groups, Some("name")),
            "/user" => (&m.users, Some("name")),
            "/ip/service" => (&m.services, Some("name")),
            "/ip/hotspot/walled-garden" => (&m.walled_garden, None),
            _ => (&m.walled_garden_ip, None),
        };
        if verb == "print" && menu == "/user" {
            // RouterOS never prints a user's password.
            let rows = table
                .items
                .iter()
                .map(|i| {
                    let mut r = i.rendered();
                    r.retain(|(k, _)| k != "password");
                    r
                })
                .collect();
            return print_rows(rows, attrs, queries, ctx);
        }
        if verb == "print" {
            return print(table, attrs, queries, ctx);
        }
        match (menu, verb) {
            ("/user/group", "add") => self.group_add(attrs),
            ("/user", "add") => self.user_add_login(attrs),
            ("/ip/hotspot/walled-garden", "add") => {
                self.wg_add(attrs, WALLED_GARDEN_ATTRS, "allow", false)
            }
            ("/ip/hotspot/walled-garden/ip", "add") => {
                self.wg_add(attrs, WALLED_GARDEN_IP_ATTRS, "accept", true)
            }
            (_, "set") => self.management_set(menu, attrs, name_key),
            (
                "/user/group"
                | "/user"
                | "/ip/hotspot/walled-garden"
                | "/ip/hotspot/walled-garden/ip",
                "remove",
            ) => remove(self.management_table(menu), attrs, name_key),
            (
                "/ip/hotspot/walled-garden" | "/ip/hotspot/walled-garden/ip",
                "enable" | "disable",
            ) => {
                let value = if verb == "disable" { "true" } else { "false" };
                set_flag(self.management_table(menu), attrs, None, "disabled", value)
            }
            _ => super::no_such_command(&format!("{menu}/{verb}")),
        }
    }

    fn management_table(&mut self, menu: &str) -> &mut Table {
        let m = &mut self.management;
        match menu {
            "/user/group" => &mut m.groups,
            "/user" => &mut m.users,
            "/ip/service" => &mut m.services,
            "/ip/hotspot/walled-garden" => &mut m.walled_garden,
            _ => &mut m.walled_garden_ip,
        }
    }

    /// Generic checks plus the special values (policy, addresses, group, action).
    fn management_values(
        &self,
        menu: &str,
        attrs: &[(String, Vec<u8>)],
    ) -> Result<Vec<(String, Vec<u8>)>, String> {
        let schema = match menu {
            "/user/group" => GROUP_ATTRS,
            "/user" => USER_ATTRS,
            "/ip/service" => SERVICE_ATTRS,
            "/ip/hotspot/walled-garden" => WALLED_GARDEN_ATTRS,
            _ => WALLED_GARDEN_IP_ATTRS,
        };
        let mut given = self.validate(schema, attrs, &[".id", "numbers"])?;
        for (k, v) in &mut given {
            match k.as_str() {
                "policy" => {
                    *v = canonical_policy(&String::from_utf8_lossy(v))
                        .ok_or_else(|| msg::invalid_argument("policy"))?
                        .into_bytes();
                }
                "address" | "src-address" | "dst-address" if !valid_addresses(v) => {
                    return Err(msg::invalid_argument(k));
                }
                "group"
                    if !self
                        .management
                        .groups
                        .items
                        .iter()
                        .any(|g| g.get("name") == Some(v)) =>
                {
                    return Err("input does not match any value of group".into());
                }
                "action" => {
                    let ok: &[&[u8]] = if menu == "/ip/hotspot/walled-garden" {
                        &[b"allow", b"deny"]
                    } else {
                        &[b"accept", b"drop", b"reject"]
                    };
                    if !ok.contains(&v.as_slice()) {
                        return Err(msg::invalid_argument("action"));
                    }
                }
                _ => {}
            }
        }
        Ok(given)
    }

    fn group_add(&mut self, attrs: &[(String, Vec<u8>)]) -> Out {
        let given = match self.management_values("/user/group", attrs) {
            Ok(g) => g,
            Err(m) => return trap(m),
        };
        let Some((_, name)) = given.iter().find(|(k, _)| k == "name") else {
            return trap(msg::missing_value("name"));
        };
        if self
            .management
            .groups
            .items
            .iter()
            .any(|g| g.get("name") == Some(name))
        {
            return trap("failure: group with the same name already exists");
        }
        let mut item = Item {
            id: 0,
            fields: vec![
                f("name", name.clone()),
                f("policy", canonical_policy("").unwrap_or_default()),
                f("skin", "default"),
            ],
        };
        for (k, v) in &given {
            item.set(k, v.clone());
        }
        let id = self.management.groups.insert(item.fields);
        vec![done_ret(render_id(id))]
    }

    /// `/user/add` (router login users, not hotspot users).
    fn user_add_login(&mut self, attrs: &[(String, Vec<u8>)]) -> Out {
        let given = match self.management_values("/user", attrs) {
            Ok(g) => g,
            Err(m) => return trap(m),
        };
        let (Some((_, name)), true) = (
            given.iter().find(|(k, _)| k == "name"),
            given.iter().any(|(k, _)| k == "group"),
        ) else {
            return trap(msg::missing_value(
                if given.iter().any(|(k, _)| k == "name") {
                    "group"
                } else {
                    "name"
                },
            ));
        };
        if self
            .management
            .users
            .items
            .iter()
            .any(|u| u.get("name") == Some(name))
        {
            return trap("failure: user with the same name already exists");
        }
        let mut item = Item {
            id: 0,
            fields: vec![
                f("name", name.clone()),
                f("group", ""),
                f("address", ""),
                f("last-logged-in", ""),
                f("disabled", "false"),
            ],
        };
        for (k, v) in &given {
            item.set(k, v.clone());
        }
        let id = self.management.users.insert(item.fields);
        vec![done_ret(render_id(id))]
    }

    fn wg_add(
        &mut self,
        attrs: &[(String, Vec<u8>)],
        schema: &[(&str, Kind)],
        default_action: &str,
        ip: bool,
    ) -> Out {
        let menu = if ip {
            "/ip/hotspot/walled-garden/ip"
        } else {
            "/ip/hotspot/walled-garden"
        };
        let given = match self.management_values(menu, attrs) {
            Ok(g) => g,
            Err(m) => return trap(m),
        };
        let mut item = Item {
            id: 0,
            fields: Vec::new(),
        };
        for (k, _) in schema {
            if *k == "action" {
                item.set(k, default_action);
            }
        }
        item.set("disabled", "false");
        for (k, v) in &given {
            item.set(k, v.clone());
        }
        item.set("dynamic", "false");
        if !ip {
            item.set("hits", "0");
        }
        let id = self.management_table(menu).insert(item.fields);
        vec![done_ret(render_id(id))]
    }

    fn management_set(
        &mut self,
        menu: &str,
        attrs: &[(String, Vec<u8>)],
        name_key: Option<&str>,
    ) -> Out {
        let idx = match Self::targets(self.management_table(menu), attrs, name_key) {
            Ok(i) => i,
            Err(o) => return o,
        };
        let given = match self.management_values(menu, attrs) {
            Ok(g) => g,
            Err(m) => return trap(m),
        };
        let table = self.management_table(menu);
        for i in idx {
            if let Some(item) = table.items.get_mut(i) {
                for (k, v) in &given {
                    item.set(k, v.clone());
                }
            }
        }
        vec![done()]
    }
}

#[cfg(test)]
mod tests {
    use super::canonical_policy;

    #[test]
    fn policies_print_as_routeros_does() {
        let p = canonical_policy("read,write,api").unwrap();
        assert!(p.starts_with("!local,!telnet,!ssh,!ftp,!reboot,read,write,!policy"));
        assert!(p.contains(",api,"));
        assert_eq!(canonical_policy("read,nonsense"), None);
        assert_eq!(canonical_policy("!ftp,api"), canonical_policy("api"));
    }
}
