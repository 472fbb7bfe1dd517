//! `setup.rsc` and `setup-check` against the simulator: the script's lines, turned into API
//! commands by the small translation below and sent over a RouterOS API session, leave a router
//! that the check (through the broker) reports complete; each missing piece is named with its
//! line.
//!
//! The translation (documented in docs/portal.md):
//!
//! * blank lines and `# comments` are skipped;
//! * `/ip hotspot walled-garden add dst-host=x comment="a b"` → `/ip/hotspot/walled-garden/add
//!   =dst-host=x =comment=a b`: the menu words joined by `/`, the verb, each `k=v` as `=k=v`
//!   (quotes removed, `\"`, `\\`, `\$` unescaped);
//! * a bare word after the verb (`/ip service set api …`) is the item: `=numbers=api`;
//! * `:if ([:len [MENU find k="v"]] = 0) do={A} else={B}` → `MENU/print ?=k=v`; no rows → A,
//!   else B (the `else` part is optional);
//! * `:global NAME "v"` and `:set NAME "v"` set a script variable; `$NAME` in a value is replaced
//!   by it; `:if ($NAME = "") do={:error "…"} else={A}` fails the test when NAME is empty (the
//!   router would stop that line), else runs A.

use std::time::Duration;

use crate::helpers::{call, spawn_app_with, Tenant, TestApp};
use pagos_hotspot::config::Config;
use pagos_hotspot::routeros::{Command, ConnectOptions, RouterClient};
use pagos_hotspot::sandbox::routeros_sim::{RouterSim, SimConfig};
use sea_orm::{ActiveModelTrait, IntoActiveModel, Set};
use serde_json::Value;

const SOURCE: &str = "203.0.113.7/32";

/// Splits a CLI line into words; quotes and `{…}`/`[…]` keep their spaces.
fn words(line: &str) -> Vec<String> {
    let (mut out, mut cur, mut quoted, mut depth, mut escaped) =
        (Vec::new(), String::new(), false, 0i32, false);
    for c in line.chars() {
        if escaped {
            cur.push(c);
            escaped = false;
            continue;
        }
        match c {
            '\\' if quoted => {
                cur.push(c);
                escaped = true;
            }
            '"' => {
                quoted = !quoted;
                cur.push(c);
            }
            '{' | '[' if !quoted => {
                depth += 1;
                cur.push(c);
            }
            '}' | ']' if !quoted => {
                depth -= 1;
                cur.push(c);
            }
            ' ' if !quoted && depth == 0 => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            _ => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// A RouterOS value as written in the script: quotes removed, escapes undone.
fn unquote(v: &str) -> String {
    let Some(inner) = v.strip_prefix('"').and_then(|v| v.strip_suffix('"')) else {
        return v.to_string();
    };
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

const VERBS: [&str; 6] = ["add", "set", "remove", "print", "enable", "disable"];

/// One plain CLI command → (API path, attributes).
fn sentence(line: &str) -> (String, Vec<(String, String)>) {
    let w = words(line.trim());
    let verb_at = w
        .iter()
        .position(|x| VERBS.contains(&x.as_str()))
        .unwrap_or_else(|| panic!("no verb in {line:?}"));
    let path = format!(
        "/{}/{}",
        w[..verb_at]
            .iter()
            .map(|x| x.trim_start_matches('/'))
            .collect::<Vec<_>>()
            .join("/"),
        w[verb_at]
    );
    let attrs = w[verb_at + 1..]
        .iter()
        .map(|a| match a.split_once('=') {
            Some((k, v)) => (k.to_string(), unquote(v)),
            None => ("numbers".to_string(), unquote(a)),
        })
        .collect();
    (path, attrs)
}

/// `:if ([:len [MENU find k="v"]] = 0) do={A} else={B}` → (MENU, k, v, A, B).
fn conditional(line: &str) -> Option<(String, String, String, String, Option<String>)> {
    let rest = line.strip_prefix(":if ([:len [")?;
    let (menu, rest) = rest.split_once(" find ")?;
    let (cond, rest) = rest.split_once("]] = 0) do={")?;
    let (k, v) = cond.split_once('=')?;
    // The last `} else={`: the `do={…}` part may hold a conditional of its own.
    let (then, otherwise) = match rest.rsplit_once("} else={") {
        Some((t, e)) => (t, Some(e.strip_suffix('}')?.to_string())),
        None => (rest.strip_suffix('}')?, None),
    };
    Some((menu.into(), k.into(), unquote(v), then.into(), otherwise))
}

async fn run(client: &mut RouterClient, path: &str, attrs: &[(String, String)]) -> usize {
    let mut cmd = Command::new(path);
    for (k, v) in attrs {
        cmd = cmd.attr(k, v);
    }
    let reply = client
        .run(&cmd, Duration::from_secs(5))
        .await
        .unwrap_or_else(|e| panic!("{path} {attrs:?}: {e}"));
    reply.rows.len()
}

/// `:global NAME "v"` / `:set NAME "v"` → (NAME, v).
fn assignment(line: &str) -> Option<(String, String)> {
    let rest = line
        .strip_prefix(":global ")
        .or_else(|| line.strip_prefix(":set "))?;
    let (name, value) = rest.split_once(' ')?;
    Some((name.to_string(), unquote(value)))
}

/// `:if ($NAME = "") do={:error "…"} else={A}` → A with the variables replaced; panics (the
/// router would stop the line) when NAME is empty.
fn guarded(command: String, vars: &std::collections::HashMap<String, String>) -> String {
    let Some(rest) = command.strip_prefix(":if ($") else {
        return command;
    };
    let (name, rest) = rest.split_once(" = \"\") do={:error ").unwrap();
    let value = vars.get(name).cloned().unwrap_or_default();
    assert!(!value.is_empty(), "the script stops here: {name} is empty");
    let (_, then) = rest.rsplit_once("} else={").unwrap();
    then.strip_suffix('}')
        .unwrap()
        .replace(&format!("${name}"), &value)
}

/// Applies the script's lines to the router over the API, with the router's password written
/// into its password variable as the admin would (the simulator's `/user` table starts without
/// the API user); how many commands changed it.
async fn apply_script(script: &str, client: &mut RouterClient) -> usize {
    apply_script_with(script, client, Some("router-pass")).await
}

async fn apply_script_with(
    script: &str,
    client: &mut RouterClient,
    password: Option<&str>,
) -> usize {
    let mut vars = std::collections::HashMap::new();
    let mut applied = 0;
    for line in script.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some((name, value)) = assignment(line) {
            let value = match password {
                Some(p) if line.starts_with(":global ") => p.to_string(),
                _ => value,
            };
            vars.insert(name, value);
            continue;
        }
        let command = match conditional(line) {
            Some((menu, k, v, then, otherwise)) => {
                let (print, _) = sentence(&format!("{menu} print"));
                let found = client
                    .run(
                        &Command::new(print).query_eq(&k, &v),
                        Duration::from_secs(5),
                    )
                    .await
                    .unwrap()
                    .rows
                    .len();
                match (found, otherwise) {
                    (0, _) => then,
                    (_, Some(e)) => e,
                    (_, None) => continue,
                }
            }
            None => line.to_string(),
        };
        let (path, attrs) = sentence(&guarded(command, &vars));
        run(client, &path, &attrs).await;
        applied += 1;
    }
    applied
}

async fn setup() -> (TestApp, RouterSim, Tenant) {
    let sim = RouterSim::start(SimConfig::new("api", "router-pass")).unwrap();
    let app = spawn_app_with(|c: &mut Config| {
        c.public_base_url = Some("https://pagos.example.com".into());
        c.portal.router_source_addresses = vec![SOURCE.into()];
    })
    .await;
    let t = app
        .tenant_with_router("Setup", "127.0.0.1", sim.addr().port())
        .await;
    // Both gateways configured: their hosts belong in the walled garden.
    let mut e = t.empresa.clone().into_active_model();
    e.conekta_public_key = Set(Some("key_public_test".into()));
    e.mercado_pago_public_key = Set(Some("TEST-public".into()));
    e.update(&app.db).await.unwrap();
    (app, sim, t)
}

async fn check(app: &TestApp, t: &Tenant) -> Value {
    let (status, body) = call(
        app,
        "GET",
        &format!("/api/v1/admin/routers/{}/setup-check", t.router.id),
        Some(&t.admin_token),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body
}

fn states(check: &Value) -> Vec<(String, String)> {
    check["elementos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["nombre"].as_str().unwrap().to_string(),
                e["estado"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

async fn script(app: &TestApp, t: &Tenant, query: &str) -> (u16, String) {
    let res = app
        .http
        .get(app.url(&format!(
            "/api/v1/admin/routers/{}/setup.rsc{query}",
            t.router.id
        )))
        .bearer_auth(&t.admin_token)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    if status == 200 {
        assert_eq!(res.headers()["cache-control"], "no-store");
    }
    (status, res.text().await.unwrap())
}

#[actix_web::test]
async fn the_script_applied_line_by_line_makes_the_check_all_ok() {
    let (app, sim, t) = setup().await;

    let before = check(&app, &t).await;
    assert_eq!(before["completo"], false);
    let names: Vec<String> = states(&before).into_iter().map(|(n, _)| n).collect();
    for host in [
        "pagos.example.com",
        "cdn.conekta.io",
        "api.conekta.io",
        "sdk.mercadopago.com",
        "api.mercadopago.com",
    ] {
        assert!(
            names.contains(&format!("walled-garden ip {host}")),
            "{names:?}"
        );
    }
    assert!(
        states(&before).iter().all(|(_, s)| s == "missing"),
        "{before}"
    );

    let (status, text) = script(&app, &t, "").await;
    assert_eq!(status, 200, "{text}");
    assert!(
        text.contains("/ip service set api address=203.0.113.7/32"),
        "{text}"
    );
    assert!(text.contains("policy=read,write,api"), "{text}");

    let mut opts = ConnectOptions::new("127.0.0.1", sim.addr().port(), "api", "router-pass");
    opts.command_timeout = Duration::from_secs(5);
    let mut client = RouterClient::connect(&opts).await.unwrap();
    let applied = apply_script(&text, &mut client).await;
    assert!(applied >= 14, "{applied} commands applied");

    let after = check(&app, &t).await;
    assert_eq!(after["completo"], true, "{after}");
    assert!(after["elementos"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["estado"] == "ok" && e["ejecutar"].is_null()));

    // The router as RouterOS prints it: the group has exactly read, write and api.
    let groups = sim.command("/user/group/print", &[]).unwrap();
    let ours = groups
        .iter()
        .find(|g| g["name"] == "pagos-hotspot")
        .unwrap();
    let allowed: Vec<&str> = ours["policy"]
        .split(',')
        .filter(|p| !p.starts_with('!'))
        .collect();
    assert_eq!(allowed, ["read", "write", "api"]);
    let user = sim.command("/user/print", &[]).unwrap();
    let api = user.iter().find(|u| u["name"] == "api").unwrap();
    assert_eq!(api["group"], "pagos-hotspot");
    assert_eq!(api["address"], SOURCE);
    assert!(!api.contains_key("password"), "passwords are not printed");

    // Run again: nothing is added twice, the router stays complete.
    apply_script(&text, &mut client).await;
    let wg = sim
        .command("/ip/hotspot/walled-garden/ip/print", &[])
        .unwrap();
    let hosts: Vec<&String> = wg.iter().map(|r| &r["dst-host"]).collect();
    let mut unique = hosts.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(hosts.len(), unique.len(), "{hosts:?}");
    assert_eq!(check(&app, &t).await["completo"], true);
}

#[actix_web::test]
async fn a_missing_piece_is_named_with_its_line() {
    let (app, sim, t) = setup().await;
    let (_, text) = script(&app, &t, "").await;
    let mut opts = ConnectOptions::new("127.0.0.1", sim.addr().port(), "api", "router-pass");
    opts.command_timeout = Duration::from_secs(5);
    let mut client = RouterClient::connect(&opts).await.unwrap();
    apply_script(&text, &mut client).await;

    // Someone opens the API service to everyone and drops one walled-garden entry.
    sim.command("/ip/service/set", &[("numbers", "api"), ("address", "")])
        .unwrap();
    let wg = sim
        .command("/ip/hotspot/walled-garden/ip/print", &[])
        .unwrap();
    let conekta = wg
        .iter()
        .find(|r| r["dst-host"] == "api.conekta.io")
        .unwrap();
    sim.command(
        "/ip/hotspot/walled-garden/ip/remove",
        &[(".id", conekta[".id"].as_str())],
    )
    .unwrap();

    let body = check(&app, &t).await;
    assert_eq!(body["completo"], false);
    let missing: Vec<(&str, &str)> = body["elementos"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["estado"] == "missing")
        .map(|e| {
            (
                e["nombre"].as_str().unwrap(),
                e["ejecutar"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(missing.len(), 2, "{missing:?}");
    assert_eq!(
        missing[0],
        ("servicio api", "/ip service set api address=203.0.113.7/32")
    );
    assert_eq!(missing[1].0, "walled-garden ip api.conekta.io");
    assert!(missing[1]
        .1
        .contains("do={/ip hotspot walled-garden ip add dst-host=api.conekta.io action=accept"));
}

#[actix_web::test]
async fn setup_routes_refuse_bad_input_and_other_companies() {
    let (app, _sim, t) = setup().await;
    let (status, text) = script(&app, &t, "?source=10.0.0.300").await;
    assert_eq!(status, 422, "{text}");
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        body["detail"],
        "Dirección de origen inválida: use direcciones IPv4 o bloques CIDR separados por comas"
    );
    // A query parameter overrides the setting.
    let (status, text) = script(&app, &t, "?source=198.51.100.0/24,192.0.2.9").await;
    assert_eq!(status, 200);
    assert!(
        text.contains("address=198.51.100.0/24,192.0.2.9/32"),
        "{text}"
    );

    let other = app.tenant("Other").await;
    for path in ["setup.rsc", "setup-check"] {
        let (status, body) = call(
            &app,
            "GET",
            &format!("/api/v1/admin/routers/{}/{path}", t.router.id),
            Some(&other.admin_token),
            None,
        )
        .await;
        assert_eq!(status, 404, "{path}: {body}");
        assert_eq!(
            body["detail"],
            "Router no encontrado o no pertenece a tu empresa"
        );
    }
}

#[actix_web::test]
async fn the_script_never_carries_the_stored_password_and_creates_a_missing_user_with_the_one_written_in(
) {
    let (app, sim, t) = setup().await;
    // The service is to log in as `pagos`, a user the router does not have yet.
    let mut r = t.router.clone().into_active_model();
    r.usuario = Set("pagos".into());
    r.update(&app.db).await.unwrap();
    let (status, text) = script(&app, &t, "").await;
    assert_eq!(status, 200, "{text}");
    assert!(
        !text.contains("router-pass"),
        "a stored password in the script: {text}"
    );
    assert!(text.contains(":global pagosApiPassword \"\""), "{text}");

    let mut opts = ConnectOptions::new("127.0.0.1", sim.addr().port(), "api", "router-pass");
    opts.command_timeout = Duration::from_secs(5);
    let mut client = RouterClient::connect(&opts).await.unwrap();
    apply_script_with(&text, &mut client, Some("written-by-the-admin")).await;
    let users = sim.command("/user/print", &[]).unwrap();
    let pagos = users.iter().find(|u| u["name"] == "pagos").unwrap();
    assert_eq!(pagos["group"], "pagos-hotspot");
    assert_eq!(pagos["address"], SOURCE);
}

#[test]
#[should_panic(expected = "the script stops here: pagosApiPassword is empty")]
fn without_a_password_written_in_the_user_line_stops() {
    let line = ":if ($pagosApiPassword = \"\") do={:error \"x\"} else={/user add name=p password=$pagosApiPassword}";
    let vars = std::collections::HashMap::from([("pagosApiPassword".to_string(), String::new())]);
    guarded(line.to_string(), &vars);
}
