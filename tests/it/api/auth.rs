//! Authentication over real HTTP: admin sessions, router API keys, and the attacks on them.

use crate::helpers::{spawn_app, status_json, ADMIN_PASSWORD};
use base64::Engine;
use chrono::Utc;
use hmac::{Hmac, Mac};
use sea_orm::{ActiveModelTrait, EntityTrait, IntoActiveModel, Set};
use secrecy::ExposeSecret;
use serde_json::json;
use sha2::Sha256;

fn sign(header: &str, claims: &str, secret: &str) -> String {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let input = format!("{}.{}", b64.encode(header), b64.encode(claims));
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(input.as_bytes());
    format!("{input}.{}", b64.encode(mac.finalize().into_bytes()))
}

#[actix_web::test]
async fn login_returns_the_original_shape_and_logout_revokes() {
    let app = spawn_app().await;
    let user = app
        .insert_user("ana@example.com", "super_admin", None)
        .await;
    let res = app
        .http
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"email": "ana@example.com", "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(res).await;
    assert_eq!(status, 200);
    assert_eq!(body["token_type"], "bearer");
    assert!(body["expires_at"].as_str().unwrap().contains('T'));
    assert_eq!(body["user"]["id"], user.id);
    assert_eq!(body["user"]["rol"], "super_admin");
    assert_eq!(body["user"]["empresa_id"], serde_json::Value::Null);
    assert_eq!(body["user"]["activo"], true);
    let token = body["access_token"].as_str().unwrap().to_string();

    let stored = entity::usuario::Entity::find_by_id(user.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(stored.ultimo_login.is_some());

    // The session works, logout revokes it, and it stays revoked.
    let res = app
        .http
        .post(app.url("/api/v1/auth/logout"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(res).await;
    assert_eq!(
        (status, body["message"].as_str()),
        (200, Some("Sesión cerrada exitosamente"))
    );
    let res = app
        .http
        .post(app.url("/api/v1/auth/logout"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
}

#[actix_web::test]
async fn login_does_not_reveal_which_accounts_exist() {
    let app = spawn_app().await;
    let u = app
        .insert_user("inactive@example.com", "super_admin", None)
        .await;
    let mut m = u.into_active_model();
    m.activo = Set(false);
    m.update(&app.db).await.unwrap();
    for (email, pw) in [
        ("nobody@example.com", ADMIN_PASSWORD),
        ("inactive@example.com", ADMIN_PASSWORD),
        ("inactive@example.com", "wrong-password"),
    ] {
        let res = app
            .http
            .post(app.url("/api/v1/auth/login"))
            .json(&json!({"email": email, "password": pw}))
            .send()
            .await
            .unwrap();
        let (status, body) = status_json(res).await;
        assert_eq!(status, 401, "{email}");
        assert_eq!(body["detail"], "Credenciales incorrectas", "{email}");
    }
    // Bad input is a 422 with a detail list, never a 500.
    for body in [
        json!({"email": "not-an-email", "password": "x"}),
        json!({"email": 5}),
        json!([]),
    ] {
        let res = app
            .http
            .post(app.url("/api/v1/auth/login"))
            .json(&body)
            .send()
            .await
            .unwrap();
        let (status, body) = status_json(res).await;
        assert_eq!(status, 422);
        assert!(body["detail"].is_array());
    }
    let res = app
        .http
        .post(app.url("/api/v1/auth/login"))
        .header("content-type", "application/json")
        .body("{broken")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
}

#[actix_web::test]
async fn login_is_rate_limited_per_email() {
    let app = spawn_app().await;
    app.insert_user("target@example.com", "super_admin", None)
        .await;
    let mut statuses = vec![];
    for _ in 0..7 {
        let res = app
            .http
            .post(app.url("/api/v1/auth/login"))
            .json(&json!({"email": "target@example.com", "password": "guess"}))
            .send()
            .await
            .unwrap();
        if res.status() == 429 {
            assert!(res.headers().get("retry-after").is_some());
        }
        statuses.push(res.status().as_u16());
    }
    assert_eq!(&statuses[..5], &[401; 5]);
    assert_eq!(statuses[6], 429, "{statuses:?}");
}

#[actix_web::test]
async fn legacy_bcrypt_hash_is_accepted_and_rehashed() {
    let app = spawn_app().await;
    let u = app
        .insert_user("legacy@example.com", "super_admin", None)
        .await;
    let legacy = bcrypt::hash_with_result("old-password", 4)
        .unwrap()
        .format_for_version(bcrypt::Version::TwoB);
    let mut m = u.clone().into_active_model();
    m.password_hash = Set(legacy);
    m.update(&app.db).await.unwrap();
    app.login("legacy@example.com", "old-password").await;
    let stored = entity::usuario::Entity::find_by_id(u.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(
        stored.password_hash.starts_with("$argon2id$"),
        "re-hashed on login"
    );
    app.login("legacy@example.com", "old-password").await;
}

#[actix_web::test]
async fn change_password_cuts_off_old_sessions() {
    let app = spawn_app().await;
    app.insert_user("cp@example.com", "super_admin", None).await;
    let token = app.login("cp@example.com", ADMIN_PASSWORD).await;
    let res = app
        .http
        .post(app.url("/api/v1/auth/change-password"))
        .bearer_auth(&token)
        .json(&json!({"current_password": "wrong", "new_password": "another-long-pass"}))
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(res).await;
    assert_eq!(
        (status, body["detail"].as_str()),
        (400, Some("Contraseña actual incorrecta"))
    );

    let res = app
        .http
        .post(app.url("/api/v1/auth/change-password"))
        .bearer_auth(&token)
        .json(&json!({"current_password": ADMIN_PASSWORD, "new_password": "another-long-pass"}))
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(res).await;
    assert_eq!(status, 200);
    assert_eq!(body["message"], "Contraseña actualizada exitosamente");
    let fresh = body["access_token"].as_str().unwrap().to_string();
    let old = app
        .http
        .post(app.url("/api/v1/auth/logout"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(old.status(), 401, "the old session is cut off");
    let new = app
        .http
        .post(app.url("/api/v1/auth/logout"))
        .bearer_auth(&fresh)
        .send()
        .await
        .unwrap();
    assert_eq!(new.status(), 200, "the returned session works");
    app.login("cp@example.com", "another-long-pass").await;
}

#[actix_web::test]
async fn session_attacks_get_401_or_403_never_500() {
    let app = spawn_app().await;
    let user = app.insert_user("x@example.com", "super_admin", None).await;
    let secret = app
        .state
        .config
        .jwt_session_secret
        .expose_secret()
        .to_string();
    let now = Utc::now().timestamp();
    let claims = |exp: i64| {
        format!(
            r#"{{"sub":"{}","email":"x@example.com","nombre":"x","rol":"super_admin","empresa_id":null,"exp":{exp},"iat":{now}}}"#,
            user.id
        )
    };
    let hs = r#"{"alg":"HS256","typ":"JWT"}"#;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let cases: Vec<(String, u16, &str)> = vec![
        (sign(hs, &claims(now - 10), &secret), 401, "Token expirado"),
        (
            sign(hs, &claims(now + 600), "the-wrong-secret-entirely"),
            401,
            "Token inválido",
        ),
        (
            format!(
                "{}.{}.",
                b64.encode(r#"{"alg":"none"}"#),
                b64.encode(claims(now + 600))
            ),
            401,
            "Token inválido",
        ),
        ("garbage".into(), 401, "Token inválido"),
        (
            sign(
                hs,
                &claims(now + 600).replace(&format!("\"sub\":\"{}\"", user.id), "\"sub\":\"abc\""),
                &secret,
            ),
            401,
            "Token inválido",
        ),
    ];
    for (token, status, detail) in cases {
        let res = app
            .http
            .post(app.url("/api/v1/auth/logout"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        let (s, body) = status_json(res).await;
        assert_eq!(
            (s, body["detail"].as_str()),
            (status, Some(detail)),
            "token {token}"
        );
    }
    // A genuine token still works (the forged ones above changed nothing).
    let ok = sign(hs, &claims(now + 600), &secret);
    let res = app
        .http
        .post(app.url("/api/v1/auth/logout"))
        .bearer_auth(&ok)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    // No header / wrong scheme: HTTPBearer's 403s.
    let res = app
        .http
        .post(app.url("/api/v1/auth/logout"))
        .send()
        .await
        .unwrap();
    let (s, body) = status_json(res).await;
    assert_eq!(
        (s, body["detail"].as_str()),
        (403, Some("Not authenticated"))
    );
    let res = app
        .http
        .post(app.url("/api/v1/auth/logout"))
        .header("authorization", "Basic abc")
        .send()
        .await
        .unwrap();
    let (s, body) = status_json(res).await;
    assert_eq!(
        (s, body["detail"].as_str()),
        (403, Some("Invalid authentication credentials"))
    );
}

#[actix_web::test]
async fn api_key_accepted_in_both_headers_and_counted() {
    let app = spawn_app().await;
    let t = app.tenant("Acme").await;
    for req in [
        app.http
            .get(app.url("/api/v1/config/public"))
            .header("x-api-key", &t.api_key),
        app.http
            .get(app.url("/api/v1/config/public"))
            .bearer_auth(&t.api_key),
    ] {
        let (status, body) = status_json(req.send().await.unwrap()).await;
        assert_eq!(status, 200);
        assert_eq!(body["empresa"]["id"], t.empresa.id.as_str());
        assert_eq!(body["router"]["id"], t.router.id.as_str());
        assert!(body["empresa"].get("mercadopago_public_key").is_some());
    }
    app.state.key_usage.flush(&app.db).await.unwrap();
    let keys = entity::api_key::Entity::find().all(&app.db).await.unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].use_count, 2);
    assert!(keys[0].last_used.is_some());
}

#[actix_web::test]
async fn api_key_attacks_get_401_or_403() {
    let app = spawn_app().await;
    let t = app.tenant("Acme").await;
    let secret = app
        .state
        .config
        .jwt_apikey_secret
        .expose_secret()
        .to_string();
    let hs = r#"{"alg":"HS256","typ":"JWT"}"#;
    let now = Utc::now().timestamp() as f64;
    let claims = |exp: f64| {
        format!(
            r#"{{"jti":"key_0000000000000000","sub":"{}","empresa":"{}","iat":{now},"exp":{exp},"type":"router_api_key"}}"#,
            t.router.id, t.empresa.id
        )
    };
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let cases: Vec<(String, u16, &str)> = vec![
        (
            "eyJhbGciOiJIUzI1NiJ9".into(),
            401,
            "Formato de API Key inválido",
        ),
        (
            format!("jwt_{}", sign(hs, &claims(now - 5.5), &secret)),
            401,
            "API Key expirada",
        ),
        (
            format!(
                "jwt_{}",
                sign(hs, &claims(now + 600.0), "not-the-secret-at-all")
            ),
            401,
            "API Key no válida o revocada",
        ),
        (
            format!(
                "jwt_{}.{}.",
                b64.encode(r#"{"alg":"none"}"#),
                b64.encode(claims(now + 600.0))
            ),
            401,
            "API Key no válida o revocada",
        ),
        // Correctly signed but never issued (not in the tracking table).
        (
            format!("jwt_{}", sign(hs, &claims(now + 600.0), &secret)),
            401,
            "API Key no válida o revocada",
        ),
        ("jwt_".into(), 401, "API Key no válida o revocada"),
    ];
    for (key, status, detail) in cases {
        let res = app
            .http
            .get(app.url("/api/v1/config/public"))
            .header("x-api-key", &key)
            .send()
            .await
            .unwrap();
        let (s, body) = status_json(res).await;
        assert_eq!(
            (s, body["detail"].as_str()),
            (status, Some(detail)),
            "key {key}"
        );
    }
    // Revoked key.
    let k = entity::api_key::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let mut m = k.into_active_model();
    m.revoked = Set(true);
    m.update(&app.db).await.unwrap();
    let res = app
        .http
        .get(app.url("/api/v1/config/public"))
        .bearer_auth(&t.api_key)
        .send()
        .await
        .unwrap();
    let (s, body) = status_json(res).await;
    assert_eq!(
        (s, body["detail"].as_str()),
        (401, Some("API Key no válida o revocada"))
    );
    // Missing entirely.
    let res = app
        .http
        .get(app.url("/api/v1/config/public"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
}

#[actix_web::test]
async fn inactive_company_key_is_refused() {
    let app = spawn_app().await;
    let t = app.tenant("Acme").await;
    let mut m = t.empresa.clone().into_active_model();
    m.activa = Set(false);
    m.update(&app.db).await.unwrap();
    let res = app
        .http
        .get(app.url("/api/v1/config/public"))
        .bearer_auth(&t.api_key)
        .send()
        .await
        .unwrap();
    let (s, body) = status_json(res).await;
    assert_eq!(
        (s, body["detail"].as_str()),
        (401, Some("Empresa no activa"))
    );
}

#[actix_web::test]
async fn health_checks_the_database() {
    let app = spawn_app().await;
    let (s, body) = status_json(app.http.get(app.url("/health")).send().await.unwrap()).await;
    assert_eq!((s, body["status"].as_str()), (200, Some("healthy")));
    let (s, body) = status_json(app.http.get(app.url("/")).send().await.unwrap()).await;
    assert_eq!(s, 200);
    assert_eq!(body["version"], "2.0.0");
    assert!(body["timestamp"].as_str().unwrap().ends_with('Z'));
    assert!(app
        .http
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .headers()
        .get("x-request-id")
        .is_some());
}
