//! `POST /api/v1/admin/routers/{router_id}/portal.zip`: the hotspot folder with the API base
//! and a live key of that router filled in; any other key is a 422 and nothing is sent.

use std::io::Read as _;

use crate::helpers::{call, spawn_app_with, TestApp};
use pagos_hotspot::config::Config;
use serde_json::{json, Value};

async fn post_zip(app: &TestApp, router_id: &str, token: &str, body: Value) -> reqwest::Response {
    app.http
        .post(app.url(&format!("/api/v1/admin/routers/{router_id}/portal.zip")))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[actix_web::test]
async fn a_live_key_of_the_router_gets_its_folder() {
    let app = spawn_app_with(|c: &mut Config| {
        c.public_base_url = Some("https://pagos.example.com".into());
    })
    .await;
    let t = app.tenant("Zip").await;
    let res = post_zip(
        &app,
        &t.router.id,
        &t.admin_token,
        json!({"api_key": t.api_key}),
    )
    .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/zip");
    assert_eq!(res.headers()["cache-control"], "no-store");
    let bytes = res.bytes().await.unwrap();
    assert!(bytes.len() < 100 * 1024);
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let mut names: Vec<String> = zip.file_names().map(str::to_string).collect();
    names.sort();
    assert_eq!(names, ["login.html", "portal.css", "portal.js"]);
    let mut html = String::new();
    zip.by_name("login.html")
        .unwrap()
        .read_to_string(&mut html)
        .unwrap();
    assert!(
        html.contains("API_BASE: \"https://pagos.example.com\""),
        "{html}"
    );
    assert!(html.contains(&format!("API_KEY: \"{}\"", t.api_key)));
    // The router's own variables stay for RouterOS to fill in.
    assert!(html.contains("\"$(link-login-only)\""));
}

#[actix_web::test]
async fn any_other_key_is_refused() {
    let app = spawn_app_with(|_| {}).await;
    let t = app.tenant("Zip").await;
    let (_, other_router_key) = app.add_router(&t.empresa.id, "Second").await;
    let other = app.tenant("Other").await;
    let detail = "La API key no es una key vigente de este router";
    for key in [
        other_router_key.as_str(),
        other.api_key.as_str(),
        "jwt_garbage",
        "",
    ] {
        let res = post_zip(&app, &t.router.id, &t.admin_token, json!({"api_key": key})).await;
        assert_eq!(res.status(), 422);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["detail"], detail, "{key}");
    }
    // A revoked key of the router is no longer live.
    let keys = pagos_hotspot::db::api_keys::list_for_router(
        &app.db,
        pagos_hotspot::ids::RouterId(&t.router.id),
    )
    .await
    .unwrap();
    pagos_hotspot::db::api_keys::revoke(&app.db, &keys[0].key_id, chrono::Utc::now())
        .await
        .unwrap();
    let res = post_zip(
        &app,
        &t.router.id,
        &t.admin_token,
        json!({"api_key": t.api_key}),
    )
    .await;
    assert_eq!(res.status(), 422);

    let (status, body) = call(
        &app,
        "POST",
        &format!("/api/v1/admin/routers/{}/portal.zip", t.router.id),
        Some(&t.admin_token),
        Some(json!({})),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["detail"][0]["loc"], json!(["body", "api_key"]));
    // Another company's router does not exist for this admin.
    let res = post_zip(
        &app,
        &other.router.id,
        &t.admin_token,
        json!({"api_key": other.api_key}),
    )
    .await;
    assert_eq!(res.status(), 404);
}
