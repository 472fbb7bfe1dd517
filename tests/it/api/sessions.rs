//! Sessions under attack: the per-address login limit cannot be dodged by padding the e-mail,
//! concurrent logouts with one token never answer 500, and a password change revokes a session
//! issued earlier in the same second.

use base64::Engine;
use chrono::{TimeZone, Utc};
use futures_util::future::join_all;
use sea_orm::{ActiveModelTrait, EntityTrait, IntoActiveModel, Set};
use serde_json::{json, Value};

use entity::usuario;

use crate::helpers::{spawn_app, status_json, TestApp, ADMIN_PASSWORD};

async fn login(app: &TestApp, email: &str, password: &str) -> (u16, Value) {
    let res = app
        .http
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap();
    status_json(res).await
}

/// The claims of a session token (its signature is the service's business, not the test's).
fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

#[actix_web::test]
async fn padding_or_case_does_not_reset_the_per_email_login_limit() {
    let app = spawn_app().await;
    let t = app.tenant("Alfa").await;
    // The tenant's own login and four wrong passwords, each spelled differently, use up the
    // address's allowance (5 a minute).
    let spellings = [
        format!(" {}", t.admin_email),
        format!("{} ", t.admin_email),
        format!("\t{}\t", t.admin_email),
        t.admin_email.to_uppercase(),
    ];
    for email in &spellings {
        let (s, v) = login(&app, email, "wrong-password").await;
        assert_eq!(s, 401, "{email:?}: {v}");
    }
    // A sixth spelling is refused by the limit, even with the right password.
    let (s, v) = login(&app, &format!("  {}  ", t.admin_email), ADMIN_PASSWORD).await;
    assert_eq!(s, 429, "{v}");
}

#[actix_web::test]
async fn concurrent_logouts_with_one_token_never_answer_500() {
    let app = spawn_app().await;
    let t = app.tenant("Alfa").await;
    let token = t.admin_token.clone();
    let answers = join_all((0..6).map(|_| {
        app.http
            .post(app.url("/api/v1/auth/logout"))
            .bearer_auth(&token)
            .send()
    }))
    .await;
    let mut ok = 0;
    for res in answers {
        let (s, v) = status_json(res.unwrap()).await;
        match s {
            200 => ok += 1,
            401 => assert_eq!(v["detail"], "Token revocado", "{v}"),
            other => panic!("logout answered {other}: {v}"),
        }
    }
    assert!(ok >= 1, "at least the first logout succeeds");
    // And the token is revoked.
    let res = app
        .http
        .get(app.url("/api/v1/admin/mi-empresa"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let (s, v) = status_json(res).await;
    assert_eq!((s, &v["detail"]), (401, &json!("Token revocado")));
}

#[actix_web::test]
async fn a_password_change_revokes_a_session_issued_earlier_in_the_same_second() {
    let app = spawn_app().await;
    let t = app.tenant("Alfa").await;
    // A session issued early enough in its second that a change 50 ms later is the same second.
    let (token, issued_ms) = loop {
        let (s, v) = login(&app, &t.admin_email, ADMIN_PASSWORD).await;
        assert_eq!(s, 200, "{v}");
        let token = v["access_token"].as_str().unwrap().to_string();
        let ms = claims(&token)["iat_ms"].as_i64().expect("iat_ms claim");
        if ms % 1000 < 900 {
            break (token, ms);
        }
    };
    assert_eq!(claims(&token)["iat"].as_i64().unwrap(), issued_ms / 1000);
    // The password changes 50 ms after the session was issued, in the same second.
    let user = usuario::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.email == t.admin_email)
        .unwrap();
    let mut m = user.into_active_model();
    m.password_changed_at = Set(Some(
        Utc.timestamp_millis_opt(issued_ms + 50).single().unwrap(),
    ));
    m.update(&app.db).await.unwrap();
    let res = app
        .http
        .get(app.url("/api/v1/admin/mi-empresa"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let (s, v) = status_json(res).await;
    assert_eq!((s, &v["detail"]), (401, &json!("Token revocado")), "{v}");
}

#[actix_web::test]
async fn the_token_a_password_change_returns_keeps_working_and_the_old_one_does_not() {
    let app = spawn_app().await;
    let t = app.tenant("Alfa").await;
    let old = login(&app, &t.admin_email, ADMIN_PASSWORD).await.1["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let res = app
        .http
        .post(app.url("/api/v1/auth/change-password"))
        .bearer_auth(&t.admin_token)
        .json(&json!({"current_password": ADMIN_PASSWORD, "new_password": "another-long-pass-1"}))
        .send()
        .await
        .unwrap();
    let (s, v) = status_json(res).await;
    assert_eq!(s, 200, "{v}");
    let fresh = v["access_token"].as_str().unwrap().to_string();
    for (token, expected) in [(&fresh, 200), (&old, 401), (&t.admin_token, 401)] {
        let res = app
            .http
            .get(app.url("/api/v1/admin/mi-empresa"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), expected);
    }
}
