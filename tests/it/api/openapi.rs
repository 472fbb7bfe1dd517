//! `/openapi.json` documents exactly the routes the running app registers (read from its
//! resource map), every documented route is really served and no undocumented method is, and
//! `/docs` works from embedded assets.

use std::collections::BTreeSet;
use std::sync::Arc;

use actix_web::{get, post, route, web, App, HttpRequest, HttpResponse};
use pagos_hotspot::config::Config;
use pagos_hotspot::db::testing::fresh_database;
use pagos_hotspot::startup::{Application, ExtraRoutes};
use serde_json::Value;

use crate::helpers::spawn_app;

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

/// The path patterns in the `Debug` text of an actix `ResourceMap` (`HttpRequest::resource_map`),
/// the only public view of the routes an app really registered. Each resource shows as
/// `patterns: Single("…")`; a pattern list (`List([…])`) is not expected here.
fn patterns_in(map_debug: &str) -> BTreeSet<String> {
    assert!(
        !map_debug.contains("patterns: List("),
        "multi-pattern resources are not parsed"
    );
    let mut found = BTreeSet::new();
    for (idx, _) in map_debug.match_indices("patterns: Single(\"") {
        let rest = &map_debug[idx + "patterns: Single(\"".len()..];
        let end = rest.find("\")").expect("a closed pattern");
        if !rest[..end].is_empty() {
            found.insert(normalise(&rest[..end]));
        }
    }
    found
}

/// Answers the `Debug` text of the app's resource map.
async fn resource_map(req: HttpRequest) -> String {
    format!("{:?}", req.resource_map())
}

const MAP_ROUTE: &str = "/__test/resource-map";

/// The real application (`startup`'s `run`, the service's own routes) with one extra route
/// that dumps its resource map: the patterns it really serves, but that one.
async fn served_patterns() -> BTreeSet<String> {
    let testdb = fresh_database().await;
    let config = Config::for_tests(testdb.url.clone());
    let extra: ExtraRoutes = Arc::new(|cfg: &mut web::ServiceConfig| {
        cfg.route(MAP_ROUTE, web::get().to(resource_map));
    });
    let app = Application::build_with_routes(config, testdb.db.clone(), Some(extra))
        .await
        .expect("app builds");
    let url = format!("http://127.0.0.1:{}{MAP_ROUTE}", app.port());
    let handles = crate::helpers::spawn_servers(app);
    let text = reqwest::get(&url).await.unwrap().text().await.unwrap();
    for handle in handles {
        handle.stop(false).await;
    }
    let mut patterns = patterns_in(&text);
    assert!(patterns.remove(MAP_ROUTE), "the dump sees its own route");
    patterns
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

#[actix_web::test]
async fn the_resource_map_parser_finds_every_registration_form() {
    #[get("/a/{id}")]
    async fn a() -> HttpResponse {
        HttpResponse::Ok().finish()
    }
    #[post("/b/{path:.*}")]
    async fn b() -> HttpResponse {
        HttpResponse::Ok().finish()
    }
    #[route("/c", method = "GET", method = "HEAD")]
    async fn c() -> HttpResponse {
        HttpResponse::Ok().finish()
    }
    async fn h() -> HttpResponse {
        HttpResponse::Ok().finish()
    }
    let app = actix_web::test::init_service(
        App::new()
            .service(a)
            .service(b)
            .service(c)
            .route("/d", web::put().to(h))
            .service(
                web::resource("/e/{x}")
                    .route(web::get().to(h))
                    .route(web::delete().to(h)),
            )
            .route(MAP_ROUTE, web::get().to(resource_map)),
    )
    .await;
    let req = actix_web::test::TestRequest::get()
        .uri(MAP_ROUTE)
        .to_request();
    let body = actix_web::test::call_and_read_body(&app, req).await;
    let found = patterns_in(std::str::from_utf8(&body).unwrap());
    let want: BTreeSet<String> = ["/a/{}", "/b/{}", "/c", "/d", "/e/{}", MAP_ROUTE]
        .iter()
        .map(|p| p.to_string())
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

    let served = served_patterns().await;
    assert!(
        served.contains("/openapi.json"),
        "the resource map shows the docs routes: {served:?}"
    );
    let docs: BTreeSet<String> = documented(&doc).into_iter().map(|(_, p, _)| p).collect();

    let undocumented: Vec<_> = served.difference(&docs).collect();
    assert!(
        undocumented.is_empty(),
        "served but missing from /openapi.json (register it through utoipa-actix-web, \
         with #[utoipa::path]): {undocumented:?}"
    );
    let phantom: Vec<_> = docs.difference(&served).collect();
    assert!(phantom.is_empty(), "documented but not served: {phantom:?}");
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

/// Whether a concrete URL path falls under a documented path (`{name}` is one segment,
/// `{path}` the rest of the URL).
fn covers(doc_path: &str, url: &str) -> bool {
    let mut want = doc_path.split('/');
    let mut got = url.split('/');
    loop {
        match (want.next(), got.next()) {
            (None, None) => return true,
            (Some("{path}"), Some(_)) => return true,
            (Some(w), Some(g)) if w == g || (w.starts_with('{') && !g.is_empty()) => {}
            _ => return false,
        }
    }
}

/// Sends `method` to `path` (a sample URL path) with an empty JSON object: status and body.
async fn call(app: &crate::helpers::TestApp, method: &str, path: &str) -> (u16, bytes::Bytes) {
    let res = app
        .http
        .request(method.parse().unwrap(), app.url(path))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.bytes().await.unwrap())
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
    let operations = documented(&doc);
    let mut checked = 0;
    for (method, _, path) in &operations {
        let (status, body) = call(&app, method, &sample_path(path)).await;
        // actix's answer for an unknown route is a 404 with an empty body; every handler's
        // 404 carries {"detail": …}.
        assert!(
            !(status == 404 && body.is_empty()),
            "{method} {path} is documented but no handler answered"
        );
        assert!(status < 500, "{method} {path} -> {status}");
        checked += 1;
    }
    // The methods a documented path does not document are not served either (unless another
    // documented route covers the same URL): a handler added on a documented path with another
    // method shows up here.
    for (_, _, path) in &operations {
        let url = sample_path(path);
        for method in METHODS.map(|m| m.to_ascii_uppercase()) {
            let covered = operations
                .iter()
                .any(|(m, _, p)| *m == method && covers(p, &url));
            if covered {
                continue;
            }
            let (status, body) = call(&app, &method, &url).await;
            assert!(
                matches!(status, 404 | 405) && body.is_empty(),
                "{method} {url} is served ({status}) but not documented"
            );
        }
    }
    // Unknown routes really get that empty 404 (so the checks above can fail).
    let res = app
        .http
        .get(app.url("/no/such/route"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    assert!(res.bytes().await.unwrap().is_empty());
    let built = serde_json::to_value(pagos_hotspot::openapi::document()).unwrap();
    assert_eq!(
        checked,
        documented(&built).len(),
        "every documented route was called"
    );
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
