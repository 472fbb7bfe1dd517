//! `/openapi.json` documents exactly the routes the source registers, every documented route is
//! really served, and `/docs` works from embedded assets.

use std::collections::BTreeSet;
use std::path::Path;

use crate::helpers::spawn_app;
use serde_json::Value;

const METHODS: [&str; 5] = ["get", "post", "put", "delete", "patch"];

/// `{name}` and `{name:regex}` both become `{}`.
fn normalise(path: &str) -> String {
    let mut out = String::new();
    let mut depth = 0;
    for c in path.chars() {
        match c {
            '{' => {
                if depth == 0 {
                    out.push_str("{}");
                }
                depth += 1;
            }
            '}' => depth -= 1,
            _ if depth > 0 => {}
            _ => out.push(c),
        }
    }
    out
}

/// The first string literal in `s`.
fn first_literal(s: &str) -> Option<&str> {
    let start = s.find('"')? + 1;
    let len = s[start..].find('"')?;
    Some(&s[start..start + len])
}

/// Routes registered in one source file: actix's route macros, `.route("…", web::get()…)`
/// and `web::resource("…").route(web::get()…)`.
fn routes_in(text: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for line in text.lines() {
        let t = line.trim();
        for m in METHODS {
            if let Some(rest) = t.strip_prefix(&format!("#[{m}(")) {
                let path = first_literal(rest).expect("route macro with a path literal");
                found.push((m.to_ascii_uppercase(), normalise(path)));
            }
        }
        if let Some(rest) = t.strip_prefix("#[route(") {
            let path = first_literal(rest).expect("route macro with a path literal");
            for part in rest.split("method").skip(1) {
                if let Some(method) = first_literal(part) {
                    found.push((method.to_ascii_uppercase(), normalise(path)));
                }
            }
        }
    }
    // Builder forms (may span lines): look at each `.route("` and `web::resource("`.
    let flat: String = text.split_whitespace().collect();
    for (idx, _) in flat.match_indices(".route(\"") {
        let rest = &flat[idx + ".route(".len()..];
        let path = first_literal(rest).unwrap();
        let after = &rest[path.len() + 2..];
        for m in METHODS {
            if after.starts_with(&format!(",web::{m}()")) {
                found.push((m.to_ascii_uppercase(), normalise(path)));
            }
        }
    }
    for (idx, _) in flat.match_indices("web::resource(\"") {
        let rest = &flat[idx + "web::resource(".len()..];
        let path = first_literal(rest).unwrap();
        let end = rest.find(';').unwrap_or(rest.len());
        let chain = &rest[..end];
        for m in METHODS {
            if chain.contains(&format!(".route(web::{m}()")) {
                found.push((m.to_ascii_uppercase(), normalise(path)));
            }
        }
    }
    found
}

fn scan(dir: &Path, out: &mut BTreeSet<(String, String)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            scan(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).unwrap();
            out.extend(routes_in(&text));
        }
    }
}

fn source_routes() -> BTreeSet<(String, String)> {
    let mut set = BTreeSet::new();
    scan(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src/routes"),
        &mut set,
    );
    set
}

fn documented(doc: &Value) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for m in METHODS {
            if item.get(m).is_some() {
                out.push((m.to_ascii_uppercase(), normalise(path), path.clone()));
            }
        }
    }
    out
}

#[test]
fn the_scanner_finds_every_registration_form() {
    let text = r#"
        #[get("/a/{id}")]
        #[post("/b/{path:.*}")]
        #[route("/c", method = "GET", method = "HEAD")]
        cfg.route("/d", web::put().to(h));
        cfg.service(web::resource("/e/{x}")
            .route(web::get().to(h))
            .route(web::delete().to(h)));
    "#;
    let found: BTreeSet<_> = routes_in(text).into_iter().collect();
    let want: BTreeSet<_> = [
        ("GET", "/a/{}"),
        ("POST", "/b/{}"),
        ("GET", "/c"),
        ("HEAD", "/c"),
        ("PUT", "/d"),
        ("GET", "/e/{}"),
        ("DELETE", "/e/{}"),
    ]
    .iter()
    .map(|(m, p)| (m.to_string(), p.to_string()))
    .collect();
    assert_eq!(found, want);
}

#[actix_web::test]
async fn openapi_json_lists_exactly_the_served_routes() {
    let app = spawn_app().await;
    let res = app.http.get(app.url("/openapi.json")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    let doc: Value = res.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));

    let source = source_routes();
    assert!(
        source.contains(&("GET".into(), "/openapi.json".into())),
        "the scanner sees the docs routes: {source:?}"
    );
    let docs: BTreeSet<(String, String)> = documented(&doc)
        .into_iter()
        .map(|(m, p, _)| (m, p))
        .collect();
    let pending: BTreeSet<(String, String)> = pagos_hotspot::openapi::PENDING
        .iter()
        .map(|(m, p)| (m.to_string(), normalise(p)))
        .collect();

    let undocumented: Vec<_> = source.difference(&docs).collect();
    assert!(
        undocumented.is_empty(),
        "served but missing from src/openapi.rs ROUTES: {undocumented:?}"
    );
    let now_served: Vec<_> = pending.intersection(&source).collect();
    assert!(
        now_served.is_empty(),
        "served now: remove from openapi::PENDING: {now_served:?}"
    );
    let phantom: Vec<_> = docs
        .difference(&source)
        .filter(|r| !pending.contains(*r))
        .collect();
    assert!(
        phantom.is_empty(),
        "documented but not served (and not pending): {phantom:?}"
    );
}

fn sample_path(path: &str) -> String {
    path.split('/')
        .map(|seg| match seg {
            "{file}" => "swagger-ui.css".to_string(),
            "{path}" => "logos/missing.png".to_string(),
            s if s.starts_with('{') && (s.contains("producto_id") || s.contains("usuario_id")) => {
                "1".to_string()
            }
            "{payment_id}" => "20000000001".to_string(),
            s if s.starts_with('{') => "X_1".to_string(),
            s => s.to_string(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[actix_web::test]
async fn every_documented_route_is_answered_by_a_handler() {
    let app = spawn_app().await;
    let doc: Value = app
        .http
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut checked = 0;
    for (method, _, path) in documented(&doc) {
        if pagos_hotspot::openapi::is_pending(&method, &path) {
            continue;
        }
        let url = app.url(&sample_path(&path));
        let res = app
            .http
            .request(method.parse().unwrap(), &url)
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        let body = res.bytes().await.unwrap();
        // actix's answer for an unknown route is a 404 with an empty body; every handler's
        // 404 carries {"detail": …}.
        assert!(
            !(status == 404 && body.is_empty()),
            "{method} {path} is documented but no handler answered"
        );
        assert!(status < 500, "{method} {path} -> {status}");
        checked += 1;
    }
    // Unknown routes really get that empty 404 (so the check above can fail).
    let res = app
        .http
        .get(app.url("/no/such/route"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    assert!(res.bytes().await.unwrap().is_empty());
    let served = pagos_hotspot::openapi::ROUTES.len() - pagos_hotspot::openapi::PENDING.len();
    assert_eq!(checked, served, "every served route was called");
}

#[actix_web::test]
async fn docs_page_and_assets_are_served_locally() {
    let app = spawn_app().await;
    let res = app.http.get(app.url("/docs")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("default-src 'self'"));
    let html = res.text().await.unwrap();
    assert!(!html.contains("http://") && !html.contains("https://"));
    for (asset, kind, needle) in [
        ("swagger-ui-bundle.js", "text/javascript", "SwaggerUIBundle"),
        ("swagger-ui.css", "text/css", ".swagger-ui"),
        ("swagger-initializer.js", "text/javascript", "/openapi.json"),
        ("LICENSE", "text/plain", "Apache License"),
    ] {
        assert!(html.contains(asset) || kind == "text/plain");
        let res = app
            .http
            .get(app.url(&format!("/docs/{asset}")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{asset}");
        assert!(res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with(kind));
        assert!(res.text().await.unwrap().contains(needle), "{asset}");
    }
    let res = app
        .http
        .get(app.url("/docs/..%2FCargo.toml"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["detail"], "Not Found");
}

#[actix_web::test]
async fn payment_fields_show_their_spanish_aliases() {
    let app = spawn_app().await;
    let doc: Value = app
        .http
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for (path, pairs) in [
        (
            "/api/v1/payments/pagar-conekta",
            &[
                ("product_id", "producto_id"),
                ("card_token", "token_tarjeta"),
                ("customer_name", "nombre_cliente"),
                ("auto_connect", "conexion_automatica"),
                ("mac_address", "mac_cliente"),
            ][..],
        ),
        (
            "/api/v1/payments/pagar-mercado-pago",
            &[
                ("transaction_amount", "monto"),
                ("installments", "cuotas"),
                ("customer_email", "email_cliente"),
            ][..],
        ),
    ] {
        let props = &doc["paths"][path]["post"]["requestBody"]["content"]["application/json"]
            ["schema"]["properties"];
        for (canonical, alias) in pairs {
            let d = props[alias]["description"].as_str().unwrap();
            assert!(
                d.contains(&format!("Alias of `{canonical}`")) && d.contains("alias wins"),
                "{path} {alias}: {d}"
            );
            assert!(props[canonical]["description"]
                .as_str()
                .unwrap()
                .contains(&format!("`{alias}`")));
        }
    }
}
