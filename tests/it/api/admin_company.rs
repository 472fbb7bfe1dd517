//! The cliente_admin company settings API over real HTTP: shapes, errors, tenant isolation,
//! roles, bad input, and secrets at rest.

use std::sync::{Arc, Mutex};

use crate::helpers::{call, spawn_app, spawn_app_with, status_json, TestApp};
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use chrono::Utc;
use rust_decimal::Decimal;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter, Set,
};
use serde_json::{json, Value};

use entity::{audit_log, empresa, router, transaccion};
use pagos_hotspot::crypto::field;

// ------------------------------------------------------------------ helpers

async fn raw(app: &TestApp, method: &str, path: &str, token: &str, body: &str) -> (u16, Value) {
    let rb = match method {
        "PUT" => app.http.put(app.url(path)),
        _ => app.http.post(app.url(path)),
    };
    let res = rb
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    status_json(res).await
}

async fn empresa_row(app: &TestApp, id: &str) -> empresa::Model {
    empresa::Entity::find_by_id(id.to_string())
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
}

async fn router_row(app: &TestApp, id: &str) -> router::Model {
    router::Entity::find_by_id(id.to_string())
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
}

async fn audit_count(app: &TestApp, empresa_id: &str) -> u64 {
    audit_log::Entity::find()
        .filter(audit_log::Column::EmpresaId.eq(empresa_id))
        .count(&app.db)
        .await
        .unwrap()
}

fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
    k.sort();
    k
}

fn sorted(list: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = list.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

fn assert_422(status: u16, body: &Value, ctx: &str) {
    assert_eq!(status, 422, "{ctx}: {body}");
    assert!(
        body["detail"].is_array() || body["detail"].is_string(),
        "{ctx}: {body}"
    );
}

/// A multipart/form-data body with one file field.
fn multipart(field_name: &str, filename: &str, content: &[u8]) -> (String, Vec<u8>) {
    let boundary = "----pagoshotspotboundary7MA4YWxk";
    let mut body = Vec::new();
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{field_name}\"; filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(content);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn upload(app: &TestApp, token: &str, filename: &str, content: &[u8]) -> (u16, Value) {
    let (ct, body) = multipart("file", filename, content);
    let res = app
        .http
        .post(app.url("/api/v1/admin/mi-empresa/logo"))
        .bearer_auth(token)
        .header("content-type", ct)
        .body(body)
        .send()
        .await
        .unwrap();
    status_json(res).await
}

fn png_bytes(len: usize) -> Vec<u8> {
    let mut v = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    v.resize(len.max(v.len()), 0x42);
    v
}

async fn insert_transaccion(app: &TestApp, empresa_id: &str, router_id: &str, ext_ref: &str) {
    transaccion::ActiveModel {
        transaccion_id: Set(Some(format!("mp-{ext_ref}"))),
        external_reference: Set(Some(ext_ref.to_string())),
        empresa_id: Set(empresa_id.to_string()),
        router_id: Set(router_id.to_string()),
        producto_id: Set(None),
        purchase_id: Set(None),
        gateway: Set(Some("mercado_pago".into())),
        monto: Set(Decimal::new(1500, 2)),
        moneda: Set("MXN".into()),
        cliente_nombre: Set(Some("Cliente".into())),
        cliente_email: Set(Some("cliente@example.com".into())),
        cliente_telefono: Set(None),
        usuario_hotspot: Set(Some("PT-ABCDE1234".into())),
        password_hotspot: Set(Some(
            app.state
                .secrets
                .encrypt(field::HOTSPOT_PASSWORD, "hs-pass-991"),
        )),
        expiracion_hotspot: Set(None),
        estado_pago: Set("approved".into()),
        estado_hotspot: Set("active".into()),
        notification_id: Set(None),
        webhook_processed: Set(false),
        metadata_json: Set(json!({"gateway": "mercado_pago"})),
        api_key_usada: Set(None),
        creada_en: Set(Utc::now()),
        pagada_en: Set(Some(Utc::now())),
        usuario_creado_en: Set(None),
        webhook_received_at: Set(None),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .unwrap();
}

/// Requests seen by the fake Telegram API: `(path, json body)`.
type Recorded = Arc<Mutex<Vec<(String, Value)>>>;

/// A tiny fake Telegram API that records `(path, json body)` and fails for chat id "fail".
struct FakeTelegram {
    base: String,
    seen: Recorded,
    handle: actix_web::dev::ServerHandle,
}

impl Drop for FakeTelegram {
    fn drop(&mut self) {
        let h = self.handle.clone();
        drop(actix_web::rt::spawn(async move { h.stop(false).await }));
    }
}

async fn fake_telegram() -> FakeTelegram {
    let seen: Recorded = Arc::default();
    let data = web::Data::new(seen.clone());
    let server = HttpServer::new(move || {
        App::new().app_data(data.clone()).default_service(web::to(
            |req: HttpRequest, body: web::Bytes, seen: web::Data<Recorded>| async move {
                let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                seen.lock()
                    .unwrap()
                    .push((req.path().to_string(), v.clone()));
                if v["chat_id"] == "fail" {
                    HttpResponse::BadRequest()
                        .json(json!({"ok": false, "description": "Bad Request: chat not found"}))
                } else {
                    HttpResponse::Ok().json(json!({"ok": true, "result": {}}))
                }
            },
        ))
    })
    .workers(1)
    .bind(("127.0.0.1", 0))
    .unwrap();
    let port = server.addrs()[0].port();
    let server = server.run();
    let handle = server.handle();
    actix_web::rt::spawn(server);
    FakeTelegram {
        base: format!("http://127.0.0.1:{port}"),
        seen,
        handle,
    }
}

fn rsa_public_pem() -> String {
    use rsa::pkcs8::{EncodePublicKey, LineEnding};
    let private = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 1024).unwrap();
    rsa::RsaPublicKey::from(&private)
        .to_public_key_pem(LineEnding::LF)
        .unwrap()
}

// ------------------------------------------------------------------ mi-empresa

#[actix_web::test]
async fn mi_empresa_get_has_the_reference_keys_and_masks_the_bot_token() {
    let app = spawn_app().await;
    let a = app.tenant("Empresa A").await;
    let (status, body) = call(
        &app,
        "GET",
        "/api/v1/admin/mi-empresa",
        Some(&a.admin_token),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        keys(&body),
        sorted(&[
            "id",
            "nombre",
            "contacto_email",
            "contacto_telefono",
            "logo_url",
            "conekta_mode",
            "conekta_public_key",
            "mercado_pago_mode",
            "mercado_pago_public_key",
            "activa",
            "creada_en",
            "telegram_bot_token",
            "telegram_chat_id",
            "notificaciones_telegram",
            "al_expirar",
            // Added: the company's time zone.
            "zona_horaria",
        ])
    );
    assert_eq!(body["id"], a.empresa.id);
    assert_eq!(body["al_expirar"], "eliminar", "the default");
    assert_eq!(body["nombre"], "Empresa A");
    assert_eq!(body["telegram_bot_token"], Value::Null);
    assert_eq!(body["activa"], true);
    assert!(!body["creada_en"].as_str().unwrap().ends_with('Z'));

    // A NULL contacto_email is a null, not a 500.
    let mut m = a.empresa.clone().into_active_model();
    m.contacto_email = Set(None);
    m.update(&app.db).await.unwrap();

    let token = "123456789:AAHx-secretBotToken_zz9Q";
    let (status, body) = call(
        &app,
        "PUT",
        "/api/v1/admin/mi-empresa",
        Some(&a.admin_token),
        Some(json!({"telegram_bot_token": token, "telegram_chat_id": "-100123", "notificaciones_telegram": true})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["empresa"]["telegram_bot_token"], "********zz9Q");
    let (status, body) = call(
        &app,
        "GET",
        "/api/v1/admin/mi-empresa",
        Some(&a.admin_token),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["contacto_email"], Value::Null);
    assert_eq!(body["telegram_bot_token"], "********zz9Q");
    assert_eq!(body["telegram_chat_id"], "-100123");
    assert_eq!(body["notificaciones_telegram"], true);
    assert!(!body.to_string().contains("secretBotToken"));
    // Stored encrypted, under the Telegram label.
    let row = empresa_row(&app, &a.empresa.id).await;
    let stored = row.telegram_bot_token.unwrap();
    assert!(!stored.contains("secretBotToken"));
    assert_eq!(
        app.state
            .secrets
            .decrypt(field::TELEGRAM_BOT_TOKEN, &stored)
            .unwrap()
            .as_str(),
        token
    );
}

#[actix_web::test]
async fn mi_empresa_put_is_partial_and_rejects_bad_input_without_changes() {
    let app = spawn_app().await;
    let a = app.tenant("Empresa A").await;
    let audits = audit_count(&app, &a.empresa.id).await;

    let (status, body) = call(
        &app,
        "PUT",
        "/api/v1/admin/mi-empresa",
        Some(&a.admin_token),
        Some(json!({"nombre": "Nuevo Nombre", "contacto_telefono": "5512345678", "extra": 1})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["message"],
        "Información de la empresa actualizada correctamente"
    );
    assert_eq!(
        keys(&body["empresa"]),
        sorted(&[
            "al_expirar",
            "nombre",
            "contacto_email",
            "contacto_telefono",
            "telegram_bot_token",
            "telegram_chat_id",
            "notificaciones_telegram",
            "zona_horaria"
        ])
    );
    assert_eq!(body["empresa"]["nombre"], "Nuevo Nombre");
    // Absent keys stay: the e-mail is unchanged.
    assert_eq!(body["empresa"]["contacto_email"], "contacto@example.com");
    assert_eq!(audit_count(&app, &a.empresa.id).await, audits + 1);

    // Explicit null clears a nullable column.
    let (status, body) = call(
        &app,
        "PUT",
        "/api/v1/admin/mi-empresa",
        Some(&a.admin_token),
        Some(json!({"contacto_telefono": null})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["empresa"]["contacto_telefono"], Value::Null);
    assert_eq!(body["empresa"]["nombre"], "Nuevo Nombre");

    let before = empresa_row(&app, &a.empresa.id).await;
    let audits = audit_count(&app, &a.empresa.id).await;
    for (bad, ctx) in [
        (json!({"nombre": null}), "null nombre"),
        (json!({"nombre": ""}), "blank nombre"),
        (json!({"nombre": "x".repeat(101)}), "long nombre"),
        (json!({"contacto_email": "not-an-email"}), "email"),
        (json!({"contacto_telefono": "1".repeat(21)}), "long phone"),
        (json!({"nombre": 5}), "wrong type"),
        (json!({"notificaciones_telegram": "yes"}), "wrong bool"),
        (json!({"notificaciones_telegram": null}), "null bool"),
        (json!({"telegram_chat_id": "9".repeat(51)}), "long chat"),
        (
            json!({"telegram_bot_token": "12/../../x"}),
            "bad token chars",
        ),
        (
            json!({"nombre": "Ok", "contacto_email": "bad@"}),
            "half valid",
        ),
        (json!([1, 2]), "array"),
    ] {
        let (status, body) = call(
            &app,
            "PUT",
            "/api/v1/admin/mi-empresa",
            Some(&a.admin_token),
            Some(bad),
        )
        .await;
        assert_422(status, &body, ctx);
    }
    let (status, body) = raw(
        &app,
        "PUT",
        "/api/v1/admin/mi-empresa",
        &a.admin_token,
        "{nombre:",
    )
    .await;
    assert_422(status, &body, "malformed");
    assert_eq!(empresa_row(&app, &a.empresa.id).await, before);
    assert_eq!(audit_count(&app, &a.empresa.id).await, audits);
}

// ------------------------------------------------------------------ Conekta

#[actix_web::test]
async fn conekta_config_encrypts_masks_and_keeps_an_omitted_mode() {
    let app = spawn_app().await;
    let a = app.tenant("Empresa A").await;
    let private = "key_PRIVconektaSECRET42";
    let (status, body) = call(
        &app,
        "PUT",
        "/api/v1/admin/mi-empresa/conekta-config",
        Some(&a.admin_token),
        Some(json!({"conekta_private_key": private, "conekta_public_key": "key_PUBLIC1", "conekta_mode": "live"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["message"], "Configuración de Conekta actualizada");
    let row = empresa_row(&app, &a.empresa.id).await;
    assert_eq!(row.conekta_mode, "live");
    assert_eq!(row.conekta_public_key.as_deref(), Some("key_PUBLIC1"));
    let stored = row.conekta_private_key.clone().unwrap();
    assert!(!stored.contains("PRIVconekta"));
    assert_eq!(
        app.state
            .secrets
            .decrypt(field::CONEKTA_PRIVATE_KEY, &stored)
            .unwrap()
            .as_str(),
        private
    );

    // The "desktop" route: same behaviour, its own message; an omitted mode stays "live",
    // and empty keys are left unchanged.
    let (status, body) = call(
        &app,
        "POST",
        "/api/v1/admin/mi-empresa/configurar-conekta",
        Some(&a.admin_token),
        Some(json!({"conekta_public_key": "key_PUBLIC2", "conekta_private_key": ""})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["message"],
        "Credenciales de Conekta actualizadas correctamente"
    );
    let row = empresa_row(&app, &a.empresa.id).await;
    assert_eq!(row.conekta_mode, "live");
    assert_eq!(row.conekta_public_key.as_deref(), Some("key_PUBLIC2"));
    assert_eq!(row.conekta_private_key.as_deref(), Some(stored.as_str()));

    let (status, body) = call(
        &app,
        "GET",
        "/api/v1/admin/mi-empresa/conekta",
        Some(&a.admin_token),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["message"], "Configuración cargada");
    let conf = &body["configuracion_actual"];
    assert_eq!(conf["conekta_private_key"], "********");
    assert_eq!(conf["conekta_public_key"], "key_PUBLIC2");
    assert_eq!(conf["conekta_mode"], "live");
    assert!(!body.to_string().contains("PRIVconekta"));

    let before = empresa_row(&app, &a.empresa.id).await;
    for (bad, ctx) in [
        (json!({"conekta_mode": "production"}), "bad mode"),
        (
            json!({"conekta_private_key": "k", "conekta_mode": ""}),
            "empty mode",
        ),
        (json!({"conekta_private_key": 42}), "wrong type"),
        (
            json!({"conekta_public_key": "p".repeat(256)}),
            "long public key",
        ),
        (
            json!({"conekta_private_key": "p".repeat(501)}),
            "long private key",
        ),
    ] {
        for (method, path) in [
            ("PUT", "/api/v1/admin/mi-empresa/conekta-config"),
            ("POST", "/api/v1/admin/mi-empresa/configurar-conekta"),
        ] {
            let (status, body) =
                call(&app, method, path, Some(&a.admin_token), Some(bad.clone())).await;
            assert_422(status, &body, ctx);
        }
    }
    assert_eq!(empresa_row(&app, &a.empresa.id).await, before);
}

#[actix_web::test]
async fn conekta_webhook_key_must_be_an_rsa_public_key() {
    let app = spawn_app().await;
    let a = app.tenant("Empresa A").await;
    let path = "/api/v1/admin/mi-empresa/conekta-webhook-key";
    let audits = audit_count(&app, &a.empresa.id).await;
    for (bad, ctx) in [
        (json!({"public_key_pem": "not a pem"}), "garbage"),
        (
            json!({"public_key_pem": "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"}),
            "bad der",
        ),
        (json!({"public_key_pem": "x".repeat(9000)}), "too long"),
        (json!({"public_key_pem": 7}), "wrong type"),
        (json!({}), "missing"),
    ] {
        let (status, body) = call(&app, "PUT", path, Some(&a.admin_token), Some(bad)).await;
        assert_422(status, &body, ctx);
    }
    assert_eq!(
        empresa_row(&app, &a.empresa.id).await.conekta_webhook_key,
        None
    );
    assert_eq!(audit_count(&app, &a.empresa.id).await, audits);

    let pem = rsa_public_pem();
    let (status, body) = call(
        &app,
        "PUT",
        path,
        Some(&a.admin_token),
        Some(json!({"public_key_pem": pem})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["conekta_webhook_key_configurada"], true);
    assert_eq!(
        empresa_row(&app, &a.empresa.id)
            .await
            .conekta_webhook_key
            .as_deref(),
        Some(pem.trim())
    );
    let (_, body) = call(
        &app,
        "GET",
        "/api/v1/admin/mi-empresa/conekta",
        Some(&a.admin_token),
        None,
    )
    .await;
    assert_eq!(
        body["configuracion_actual"]["conekta_webhook_key_configurada"],
        true
    );
    assert_eq!(audit_count(&app, &a.empresa.id).await, audits + 1);

    // null clears it.
    let (status, _) = call(
        &app,
        "PUT",
        path,
        Some(&a.admin_token),
        Some(json!({"public_key_pem": null})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        empresa_row(&app, &a.empresa.id).await.conekta_webhook_key,
        None
    );
}

// ------------------------------------------------------------------ Mercado Pago

#[actix_web::test]
async fn mercado_pago_credentials_share_one_encrypting_implementation() {
    let app = spawn_app().await;
    let a = app.tenant("Empresa A").await;
    for (i, path) in [
        "/api/v1/payments/configurar-credenciales",
        "/api/v1/admin/mi-empresa/configurar-credenciales",
    ]
    .into_iter()
    .enumerate()
    {
        let token = format!("APP_USR-mpSECRETtoken-{i}");
        let secret = format!("whSECRETvalue-{i}");
        let (status, body) = call(
            &app,
            "POST",
            path,
            Some(&a.admin_token),
            Some(json!({"access_token": token, "webhook_secret": secret, "public_key": " APP_USR-pub ", "mode": "live"})),
        )
        .await;
        assert_eq!(status, 200, "{path}: {body}");
        assert_eq!(body["success"], true);
        assert_eq!(body["message"], "Credenciales actualizadas correctamente");
        assert_eq!(
            body["empresa"],
            json!({"id": a.empresa.id, "nombre": "Empresa A"})
        );
        assert_eq!(
            body["campos_modificados"],
            json!([
                "access_token (actualizado)",
                "webhook_secret (actualizado)",
                "public_key",
                "mode"
            ])
        );
        assert_eq!(
            body["configuracion_actual"],
            json!({"access_token": true, "webhook_secret": true, "public_key": true, "mode": "live",
                   "telegram_configurado": false, "telegram_activo": false})
        );
        assert!(!body.to_string().contains("SECRET"));
        let row = empresa_row(&app, &a.empresa.id).await;
        assert_eq!(row.mercado_pago_public_key.as_deref(), Some("APP_USR-pub"));
        let stored = row.mercado_pago_access_token.unwrap();
        assert!(!stored.contains("SECRET"), "{path} stores ciphertext");
        assert_eq!(
            app.state
                .secrets
                .decrypt(field::MP_ACCESS_TOKEN, &stored)
                .unwrap()
                .as_str(),
            token
        );
        let stored = row.mercado_pago_webhook_secret.unwrap();
        assert_eq!(
            app.state
                .secrets
                .decrypt(field::MP_WEBHOOK_SECRET, &stored)
                .unwrap()
                .as_str(),
            secret
        );
    }

    // An omitted mode stays "live"; an empty secret deletes it; Telegram fields too.
    let (status, body) = call(
        &app,
        "POST",
        "/api/v1/payments/configurar-credenciales",
        Some(&a.admin_token),
        Some(json!({"webhook_secret": "", "telegram_bot_token": "55:tgSECRET", "telegram_chat_id": "77", "notificaciones_telegram": true})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["campos_modificados"],
        json!([
            "webhook_secret (eliminado)",
            "telegram_bot_token",
            "telegram_chat_id",
            "notificaciones_telegram"
        ])
    );
    assert_eq!(body["configuracion_actual"]["mode"], "live");
    assert_eq!(body["configuracion_actual"]["webhook_secret"], false);
    assert_eq!(body["configuracion_actual"]["telegram_configurado"], true);
    assert_eq!(body["configuracion_actual"]["telegram_activo"], true);
    let row = empresa_row(&app, &a.empresa.id).await;
    assert_eq!(row.mercado_pago_mode, "live");
    assert_eq!(row.mercado_pago_webhook_secret, None);
    assert!(!row.telegram_bot_token.clone().unwrap().contains("tgSECRET"));

    // Nothing sent: the "no changes" answer.
    let (status, body) = call(
        &app,
        "POST",
        "/api/v1/payments/configurar-credenciales",
        Some(&a.admin_token),
        Some(json!({})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        body["message"],
        "No se enviaron cambios. Credenciales actuales se mantienen."
    );
    assert_eq!(body["configurado"]["access_token"], true);

    // Masked read.
    let (status, body) = call(
        &app,
        "GET",
        "/api/v1/admin/mi-empresa/mercado-pago",
        Some(&a.admin_token),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({"message": "Configuración cargada", "configuracion_actual": {
            "access_token": "********", "public_key": "APP_USR-pub", "mode": "live", "webhook_secret": null}})
    );

    // Bad input: 422 and nothing changed.
    let before = empresa_row(&app, &a.empresa.id).await;
    let audits = audit_count(&app, &a.empresa.id).await;
    for (bad, ctx) in [
        (json!({"mode": "production"}), "bad mode"),
        (
            json!({"access_token": "t", "mode": "sandbox"}),
            "bad mode with token",
        ),
        (json!({"access_token": 1}), "wrong type"),
        (json!({"public_key": "k".repeat(256)}), "long public key"),
        (json!({"access_token": "k".repeat(501)}), "long token"),
        (json!({"telegram_chat_id": "1".repeat(51)}), "long chat id"),
        (json!({"notificaciones_telegram": "si"}), "bad bool"),
    ] {
        for path in [
            "/api/v1/payments/configurar-credenciales",
            "/api/v1/admin/mi-empresa/configurar-credenciales",
        ] {
            let (status, body) =
                call(&app, "POST", path, Some(&a.admin_token), Some(bad.clone())).await;
            assert_422(status, &body, ctx);
        }
    }
    let (status, body) = raw(
        &app,
        "POST",
        "/api/v1/payments/configurar-credenciales",
        &a.admin_token,
        "{",
    )
    .await;
    assert_422(status, &body, "malformed");
    assert_eq!(empresa_row(&app, &a.empresa.id).await, before);
    assert_eq!(audit_count(&app, &a.empresa.id).await, audits);

    // An inactive company cannot change credentials.
    let mut m = before.clone().into_active_model();
    m.activa = Set(false);
    m.update(&app.db).await.unwrap();
    let (status, body) = call(
        &app,
        "POST",
        "/api/v1/admin/mi-empresa/configurar-credenciales",
        Some(&a.admin_token),
        Some(json!({"access_token": "new"})),
    )
    .await;
    // Its admin's session is refused before the route runs (the original, which kept such
    // sessions alive, answered this route 400 "Empresa inactiva").
    assert_eq!(
        (status, body["detail"].as_str()),
        (401, Some("Empresa no activa"))
    );
    assert_eq!(
        empresa_row(&app, &a.empresa.id)
            .await
            .mercado_pago_access_token,
        before.mercado_pago_access_token
    );
}

// ------------------------------------------------------------------ Telegram

#[actix_web::test]
async fn test_telegram_uses_the_given_or_stored_credentials() {
    let tg = fake_telegram().await;
    let base = tg.base.clone();
    let app = spawn_app_with(move |c| c.telegram_api_base = base).await;
    let a = app.tenant("Café <Norte> & Sur").await;
    let path = "/api/v1/admin/test-telegram";

    let (status, body) = call(&app, "POST", path, Some(&a.admin_token), Some(json!({}))).await;
    assert_eq!(
        (status, body["detail"].as_str()),
        (400, Some("Faltan credenciales (Token o Chat ID)"))
    );
    let (status, body) = call(
        &app,
        "POST",
        path,
        Some(&a.admin_token),
        Some(json!({"token": "1:abc"})),
    )
    .await;
    assert_eq!(
        (status, body["detail"].as_str()),
        (400, Some("Faltan credenciales (Token o Chat ID)"))
    );
    assert!(tg.seen.lock().unwrap().is_empty());

    // Explicit credentials.
    let (status, body) = call(
        &app,
        "POST",
        path,
        Some(&a.admin_token),
        Some(json!({"token": "111:givenTok", "chat_id": "42"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["message"], "Mensaje de prueba enviado con éxito");
    {
        let seen = tg.seen.lock().unwrap();
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0].0, "/bot111:givenTok/sendMessage");
        // Telegram accepts the chat id as a number or a string.
        assert_eq!(seen[0].1["chat_id"].to_string().trim_matches('"'), "42");
        assert_eq!(seen[0].1["parse_mode"], "HTML");
        let text = seen[0].1["text"].as_str().unwrap();
        assert_eq!(text.lines().count(), 3);
        assert!(text.contains("Prueba de Conexión en Vivo"));
        assert!(
            text.contains("Empresa: Café &lt;Norte&gt; &amp; Sur"),
            "{text}"
        );
        assert!(text.contains("¡Tus credenciales son correctas!"));
    }

    // Stored (encrypted) credentials are the fallback.
    let (status, _) = call(
        &app,
        "PUT",
        "/api/v1/admin/mi-empresa",
        Some(&a.admin_token),
        Some(json!({"telegram_bot_token": "222:storedTok", "telegram_chat_id": "99"})),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = call(&app, "POST", path, Some(&a.admin_token), Some(json!({}))).await;
    assert_eq!(status, 200);
    let (status, _) = call(
        &app,
        "POST",
        path,
        Some(&a.admin_token),
        Some(json!({"chat_id": "100"})),
    )
    .await;
    assert_eq!(status, 200);
    {
        let seen = tg.seen.lock().unwrap();
        assert_eq!(seen[1].0, "/bot222:storedTok/sendMessage");
        assert_eq!(seen[1].1["chat_id"].to_string().trim_matches('"'), "99");
        assert_eq!(seen[2].0, "/bot222:storedTok/sendMessage");
        assert_eq!(seen[2].1["chat_id"].to_string().trim_matches('"'), "100");
    }

    // Telegram refusing (a bad token or chat) → 400 with the original's detail (the original
    // answered 500).
    let (status, body) = call(
        &app,
        "POST",
        path,
        Some(&a.admin_token),
        Some(json!({"chat_id": "fail"})),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["detail"],
        "Error de Telegram. Verifica que el Token sea válido y que hayas iniciado chat con el bot."
    );
    // A token that would escape the URL path is refused before any request.
    let n = tg.seen.lock().unwrap().len();
    let (status, body) = call(
        &app,
        "POST",
        path,
        Some(&a.admin_token),
        Some(json!({"token": "1:a/../../x?y=", "chat_id": "1"})),
    )
    .await;
    assert_422(status, &body, "token chars");
    let (status, body) = call(
        &app,
        "POST",
        path,
        Some(&a.admin_token),
        Some(json!({"token": 5})),
    )
    .await;
    assert_422(status, &body, "token type");
    assert_eq!(tg.seen.lock().unwrap().len(), n);
}

#[actix_web::test]
async fn test_telegram_unreachable_api_is_a_502() {
    // Port 9 on loopback: nothing listens there.
    let app = spawn_app_with(|c| c.telegram_api_base = "http://127.0.0.1:9".into()).await;
    let a = app.tenant("A").await;
    let (status, body) = call(
        &app,
        "POST",
        "/api/v1/admin/test-telegram",
        Some(&a.admin_token),
        Some(json!({"token": "1:x", "chat_id": "2"})),
    )
    .await;
    assert_eq!(status, 502);
    assert!(body["detail"]
        .as_str()
        .unwrap()
        .starts_with("Error de Telegram."));
}

// ------------------------------------------------------------------ logo

#[actix_web::test]
async fn logo_upload_checks_content_and_size_and_replaces_the_old_file() {
    let app = spawn_app().await;
    let a = app.tenant("A").await;
    let logos = app.state.config.static_dir.join("logos");

    let png = png_bytes(300);
    let (status, body) = upload(&app, &a.admin_token, "Mi Logo.PNG", &png).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["message"], "Logo actualizado correctamente");
    let url1 = body["logo_url"].as_str().unwrap().to_string();
    let prefix = format!("/static/logos/logo_{}_", a.empresa.id);
    assert!(
        url1.starts_with(&prefix) && url1.ends_with(".png"),
        "{url1}"
    );
    assert_eq!(url1.len(), prefix.len() + 6 + 4);
    let name1 = url1.rsplit('/').next().unwrap().to_string();
    assert_eq!(std::fs::read(logos.join(&name1)).unwrap(), png);
    assert_eq!(
        empresa_row(&app, &a.empresa.id).await.logo_url.as_deref(),
        Some(url1.as_str())
    );

    // Served publicly under /static.
    let res = app.http.get(app.url(&url1)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/png");
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    assert_eq!(res.bytes().await.unwrap().to_vec(), png);
    for bad in [
        "/static/logos/",
        "/static/logos/../../etc/passwd",
        "/static/%2e%2e/x",
        "/static/logos/nope.png",
    ] {
        let res = app.http.get(app.url(bad)).send().await.unwrap();
        assert_eq!(res.status(), 404, "{bad}");
    }

    // A new logo replaces the file.
    let jpeg = [&[0xFF, 0xD8, 0xFF, 0xE0][..], &[7u8; 100][..]].concat();
    let (status, body) = upload(&app, &a.admin_token, "logo.jpeg", &jpeg).await;
    assert_eq!(status, 200, "{body}");
    let url2 = body["logo_url"].as_str().unwrap().to_string();
    assert!(url2.ends_with(".jpeg"));
    assert!(!logos.join(&name1).exists(), "the old logo is deleted");
    let webp = [&b"RIFF\x10\0\0\0WEBPVP8 "[..], &[1u8; 50][..]].concat();
    let (status, body) = upload(&app, &a.admin_token, "l.webp", &webp).await;
    assert_eq!(status, 200, "{body}");
    let url3 = body["logo_url"].as_str().unwrap().to_string();

    // Refused uploads leave the DB and the folder unchanged.
    let before = empresa_row(&app, &a.empresa.id).await;
    let files_before = std::fs::read_dir(&logos).unwrap().count();
    for (name, content, status_want, detail) in [
        (
            "evil.png",
            b"<svg onload=alert(1)>".to_vec(),
            400,
            "Formato de imagen no permitido",
        ),
        (
            "logo.gif",
            b"GIF89a....".to_vec(),
            400,
            "Formato de imagen no permitido",
        ),
        (
            "logo.jpg",
            png.clone(),
            400,
            "Formato de imagen no permitido",
        ),
        ("noext", png.clone(), 400, "Formato de imagen no permitido"),
        ("x.php", png.clone(), 400, "Formato de imagen no permitido"),
    ] {
        let (status, body) = upload(&app, &a.admin_token, name, &content).await;
        assert_eq!(
            (status, body["detail"].as_str()),
            (status_want, Some(detail)),
            "{name}"
        );
    }
    let big = png_bytes(2 * 1024 * 1024 + 1);
    let (status, body) = upload(&app, &a.admin_token, "big.png", &big).await;
    assert_eq!(status, 413);
    assert_eq!(
        body["detail"],
        "El archivo es demasiado grande. Tamaño máximo permitido: 2 MB"
    );
    // Exactly 2 MiB is fine... but checked last so the state comparison above holds first.
    assert_eq!(empresa_row(&app, &a.empresa.id).await, before);
    assert_eq!(std::fs::read_dir(&logos).unwrap().count(), files_before);
    assert_eq!(before.logo_url.as_deref(), Some(url3.as_str()));

    // Missing field / not multipart.
    let (ct, body) = multipart("other", "a.png", &png);
    let res = app
        .http
        .post(app.url("/api/v1/admin/mi-empresa/logo"))
        .bearer_auth(&a.admin_token)
        .header("content-type", ct)
        .body(body)
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(res).await;
    assert_422(status, &body, "missing file field");
    let res = app
        .http
        .post(app.url("/api/v1/admin/mi-empresa/logo"))
        .bearer_auth(&a.admin_token)
        .json(&json!({"file": "x"}))
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(res).await;
    assert!((400..500).contains(&status), "{status}");
    assert!(body["detail"].is_string() || body["detail"].is_array());
    assert_eq!(empresa_row(&app, &a.empresa.id).await, before);

    let (status, _) = upload(&app, &a.admin_token, "max.png", &png_bytes(2 * 1024 * 1024)).await;
    assert_eq!(status, 200);
}

// ------------------------------------------------------------------ routers

#[actix_web::test]
async fn my_routers_list_and_update() {
    let app = spawn_app().await;
    let a = app.tenant_with_router("A", "127.0.0.1", 8729).await;
    let (status, body) = call(
        &app,
        "GET",
        "/api/v1/admin/mi-empresa/routers",
        Some(&a.admin_token),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["empresa_id"], a.empresa.id);
    assert_eq!(body["total"], 1);
    assert_eq!(
        keys(&body["routers"][0]),
        sorted(&["id", "nombre", "host", "ubicacion", "activo", "creado_en"])
    );
    assert_eq!(body["routers"][0]["id"], a.router.id);

    let path = format!("/api/v1/admin/mi-empresa/routers/{}", a.router.id);
    let audits = audit_count(&app, &a.empresa.id).await;
    // Absent puerto keeps the custom port (the original reset it to 8728).
    let (status, body) = call(
        &app,
        "PUT",
        &path,
        Some(&a.admin_token),
        Some(json!({"nombre": "Principal", "password_encrypted": "n3w-R0uterPASS", "ubicacion": null})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["message"], "Router actualizado correctamente");
    let r = &body["router"];
    assert_eq!(r["id"], a.router.id);
    assert_eq!(r["nombre"], "Principal");
    assert_eq!(r["puerto"], 8729);
    assert_eq!(r["host"], "127.0.0.1");
    assert_eq!(r["usuario"], "api");
    assert_eq!(r["ubicacion"], Value::Null);
    assert_eq!(r["activo"], true);
    assert!(!body.to_string().contains("R0uterPASS"));
    let row = router_row(&app, &a.router.id).await;
    assert_eq!(row.puerto, 8729);
    assert!(!row.password_encrypted.contains("R0uterPASS"));
    assert_eq!(
        app.state
            .secrets
            .decrypt(field::ROUTER_PASSWORD, &row.password_encrypted)
            .unwrap()
            .as_str(),
        "n3w-R0uterPASS"
    );
    assert_eq!(audit_count(&app, &a.empresa.id).await, audits + 1);
    let audit = audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq("router.update"))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(audit.target_id.as_deref(), Some(a.router.id.as_str()));
    assert!(!audit.details.to_string().contains("R0uterPASS"));

    let fp = "AB:".repeat(31) + "AB";
    let (status, body) = call(
        &app,
        "PUT",
        &path,
        Some(&a.admin_token),
        Some(json!({"host": "router.example.com", "puerto": 8730, "use_tls": true, "tls_fingerprint": fp})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let row = router_row(&app, &a.router.id).await;
    assert_eq!(
        (row.host.as_str(), row.puerto, row.use_tls),
        ("router.example.com", 8730, true)
    );
    assert_eq!(
        row.tls_fingerprint.as_deref(),
        Some("ab".repeat(32).as_str())
    );

    let before = router_row(&app, &a.router.id).await;
    for (bad, ctx) in [
        (json!({"host": "http://evil/x"}), "bad host"),
        (json!({"host": "a b"}), "space host"),
        (json!({"host": null}), "null host"),
        (json!({"puerto": 0}), "port 0"),
        (json!({"puerto": 70000}), "port high"),
        (json!({"puerto": "8728"}), "port type"),
        (json!({"puerto": null}), "null port"),
        (json!({"nombre": ""}), "empty name"),
        (json!({"nombre": "n".repeat(101)}), "long name"),
        (json!({"usuario": "u".repeat(101)}), "long user"),
        (json!({"password_encrypted": ""}), "empty password"),
        (
            json!({"password_encrypted": "p".repeat(256)}),
            "long password",
        ),
        (json!({"ubicacion": "u".repeat(201)}), "long location"),
        (json!({"tls_fingerprint": "abc"}), "bad fingerprint"),
        (json!({"use_tls": "yes"}), "bad bool"),
        (json!({"nombre": "ok", "puerto": -1}), "half valid"),
    ] {
        let (status, body) = call(&app, "PUT", &path, Some(&a.admin_token), Some(bad)).await;
        assert_422(status, &body, ctx);
    }
    let (status, body) = raw(&app, "PUT", &path, &a.admin_token, "{\"nombre\":").await;
    assert_422(status, &body, "malformed");
    assert_eq!(router_row(&app, &a.router.id).await, before);

    let (status, body) = call(
        &app,
        "PUT",
        "/api/v1/admin/mi-empresa/routers/RTR_NOPE0000",
        Some(&a.admin_token),
        Some(json!({"nombre": "x"})),
    )
    .await;
    assert_eq!(
        (status, body["detail"].as_str()),
        (
            404,
            Some("Router no encontrado o no pertenece a tu empresa")
        )
    );
}

// ------------------------------------------------------------------ webhook configuration

#[actix_web::test]
async fn webhook_configuration_routes_need_the_companys_own_session() {
    let app = spawn_app_with(|c| c.public_base_url = Some("https://pay.example.com/".into())).await;
    let a = app.tenant("A").await;
    let b = app.tenant("B").await;
    let secret = "mpWebhookSECRET-xyz-123";

    let path_a = format!(
        "/api/v1/webhook/empresa/{}/configurar-webhook",
        a.empresa.id
    );
    let (status, body) = call(
        &app,
        "POST",
        &path_a,
        None,
        Some(json!({"webhook_secret": secret})),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    let (status, body) = call(
        &app,
        "POST",
        &path_a,
        Some(&b.admin_token),
        Some(json!({"webhook_secret": secret})),
    )
    .await;
    assert_eq!(
        (status, body["detail"].as_str()),
        (404, Some("Empresa no encontrada"))
    );
    let (status, body) = call(&app, "POST", &path_a, Some(&a.admin_token), Some(json!({}))).await;
    assert_eq!(
        (status, body["detail"].as_str()),
        (400, Some("webhook_secret es requerido"))
    );
    let (status, body) = call(
        &app,
        "POST",
        &path_a,
        Some(&a.admin_token),
        Some(json!({"webhook_secret": ""})),
    )
    .await;
    assert_eq!(
        (status, body["detail"].as_str()),
        (400, Some("webhook_secret es requerido"))
    );
    let (status, body) = call(
        &app,
        "POST",
        &path_a,
        Some(&a.admin_token),
        Some(json!({"webhook_secret": 5})),
    )
    .await;
    assert_422(status, &body, "type");
    let (status, body) = call(
        &app,
        "POST",
        &path_a,
        Some(&a.admin_token),
        Some(json!({"webhook_secret": "s".repeat(501)})),
    )
    .await;
    assert_422(status, &body, "long");
    assert_eq!(
        empresa_row(&app, &a.empresa.id)
            .await
            .mercado_pago_webhook_secret,
        None
    );

    let (status, body) = call(
        &app,
        "POST",
        &path_a,
        Some(&a.admin_token),
        Some(json!({"webhook_secret": secret})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["success"], true);
    assert_eq!(body["message"], "Clave secreta configurada correctamente");
    assert_eq!(body["empresa"], json!({"id": a.empresa.id, "nombre": "A"}));
    // The company id rides along so the webhook is verified with this company's secret.
    let url = format!(
        "https://pay.example.com/api/v1/webhook/mercado-pago?empresa_id={}",
        a.empresa.id
    );
    assert_eq!(body["webhook_url"], url.as_str());
    assert_eq!(body["instrucciones"].as_array().unwrap().len(), 5);
    assert_eq!(body["instrucciones"][2], format!("3. URL: {url}"));
    assert!(
        !body.to_string().contains("mpWebhook"),
        "the secret is not echoed"
    );
    let row = empresa_row(&app, &a.empresa.id).await;
    let stored = row.mercado_pago_webhook_secret.unwrap();
    assert_eq!(
        app.state
            .secrets
            .decrypt(field::MP_WEBHOOK_SECRET, &stored)
            .unwrap()
            .as_str(),
        secret
    );
    assert_eq!(
        empresa_row(&app, &b.empresa.id)
            .await
            .mercado_pago_webhook_secret,
        None
    );

    // estado-webhook.
    insert_transaccion(&app, &a.empresa.id, &a.router.id, "HSA0001").await;
    insert_transaccion(&app, &b.empresa.id, &b.router.id, "HSB0001").await;
    let path_estado = format!("/api/v1/webhook/empresa/{}/estado-webhook", a.empresa.id);
    let (status, body) = call(&app, "GET", &path_estado, Some(&a.admin_token), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["empresa"],
        json!({"id": a.empresa.id, "nombre": "A", "modo_mercado_pago": "test",
               "access_token_configurado": false, "webhook_secret_configurado": true})
    );
    assert_eq!(body["estadisticas"], json!({"total_transacciones": 1}));
    assert_eq!(
        body["configuracion_webhook"],
        json!({"url": url, "metodo": "POST", "header_firma": "X-Signature", "tipo_contenido": "application/json"})
    );
    assert_eq!(body["estado"], "configurado");
    assert!(body["timestamp"].is_string());
    let (status, body) = call(&app, "GET", &path_estado, Some(&b.admin_token), None).await;
    assert_eq!(
        (status, body["detail"].as_str()),
        (404, Some("Empresa no encontrada"))
    );
    let (status, body) = call(
        &app,
        "GET",
        &format!("/api/v1/webhook/empresa/{}/estado-webhook", b.empresa.id),
        Some(&b.admin_token),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["estado"], "pendiente");

    // test-webhook.
    let (status, body) = call(
        &app,
        "GET",
        "/api/v1/webhook/test-webhook",
        Some(&a.admin_token),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "active");
    assert_eq!(body["endpoint"], "/api/v1/webhook/mercado-pago");
    assert_eq!(body["url_produccion"], url);
    let (status, _) = call(&app, "GET", "/api/v1/webhook/test-webhook", None, None).await;
    assert_eq!(status, 403);

    // transaccion lookup: only the caller's company, and no hotspot password.
    let (status, body) = call(
        &app,
        "GET",
        "/api/v1/webhook/transaccion/HSA0001",
        Some(&a.admin_token),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        keys(&body["transaction"]),
        sorted(&[
            "id",
            "transaccion_id",
            "external_reference",
            "empresa_id",
            "estado_pago",
            "monto",
            "usuario_hotspot",
            "creada_en",
            "pagada_en",
            "webhook_processed",
            "notification_id",
            "metadata_json"
        ])
    );
    assert_eq!(body["transaction"]["monto"], 15.0);
    assert_eq!(body["transaction"]["external_reference"], "HSA0001");
    assert_eq!(
        body["empresa"],
        json!({"id": a.empresa.id, "nombre": "A", "tiene_webhook_secret": true})
    );
    assert!(!body.to_string().contains("hs-pass-991"));
    assert!(!body.to_string().contains("password"));
    let (status, body) = call(
        &app,
        "GET",
        "/api/v1/webhook/transaccion/HSB0001",
        Some(&a.admin_token),
        None,
    )
    .await;
    assert_eq!(
        (status, body["detail"].as_str()),
        (404, Some("Transaction not found"))
    );
    let (status, _) = call(
        &app,
        "GET",
        "/api/v1/webhook/transaccion/HSA0001",
        None,
        None,
    )
    .await;
    assert_eq!(status, 403);
}

#[actix_web::test]
async fn webhook_url_falls_back_to_the_request_host() {
    let app = spawn_app().await;
    let a = app.tenant("A").await;
    let (status, body) = call(
        &app,
        "GET",
        &format!("/api/v1/webhook/empresa/{}/estado-webhook", a.empresa.id),
        Some(&a.admin_token),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let host = app.address.trim_start_matches("http://");
    assert_eq!(
        body["configuracion_webhook"]["url"],
        format!(
            "http://{host}/api/v1/webhook/mercado-pago?empresa_id={}",
            a.empresa.id
        )
    );
}

// ------------------------------------------------------------------ isolation and roles

/// Every route of the module, as (method, path, body) for the given company/router ids.
fn all_routes(empresa_id: &str, router_id: &str) -> Vec<(&'static str, String, Option<Value>)> {
    vec![
        ("GET", "/api/v1/admin/mi-empresa".into(), None),
        (
            "PUT",
            "/api/v1/admin/mi-empresa".into(),
            Some(json!({"nombre": "Hacked"})),
        ),
        (
            "POST",
            "/api/v1/admin/test-telegram".into(),
            Some(json!({"token": "1:a", "chat_id": "1"})),
        ),
        (
            "PUT",
            "/api/v1/admin/mi-empresa/conekta-config".into(),
            Some(json!({"conekta_private_key": "k", "conekta_mode": "live"})),
        ),
        (
            "POST",
            "/api/v1/admin/mi-empresa/configurar-conekta".into(),
            Some(json!({"conekta_private_key": "k"})),
        ),
        ("GET", "/api/v1/admin/mi-empresa/conekta".into(), None),
        (
            "PUT",
            "/api/v1/admin/mi-empresa/conekta-webhook-key".into(),
            Some(json!({"public_key_pem": null})),
        ),
        ("GET", "/api/v1/admin/mi-empresa/mercado-pago".into(), None),
        (
            "POST",
            "/api/v1/admin/mi-empresa/configurar-credenciales".into(),
            Some(json!({"access_token": "t"})),
        ),
        (
            "POST",
            "/api/v1/payments/configurar-credenciales".into(),
            Some(json!({"access_token": "t"})),
        ),
        ("GET", "/api/v1/admin/mi-empresa/routers".into(), None),
        (
            "PUT",
            format!("/api/v1/admin/mi-empresa/routers/{router_id}"),
            Some(json!({"host": "evil.example.com"})),
        ),
        (
            "POST",
            format!("/api/v1/webhook/empresa/{empresa_id}/configurar-webhook"),
            Some(json!({"webhook_secret": "s"})),
        ),
        (
            "GET",
            format!("/api/v1/webhook/empresa/{empresa_id}/estado-webhook"),
            None,
        ),
        ("GET", "/api/v1/webhook/test-webhook".into(), None),
        ("GET", "/api/v1/webhook/transaccion/HSA0001".into(), None),
    ]
}

#[actix_web::test]
async fn super_admin_and_anonymous_callers_are_refused_everywhere() {
    let app = spawn_app().await;
    let a = app.tenant("A").await;
    let root = app.super_admin().await;
    let before = empresa_row(&app, &a.empresa.id).await;
    let router_before = router_row(&app, &a.router.id).await;
    for (method, path, body) in all_routes(&a.empresa.id, &a.router.id) {
        let (status, resp) = call(&app, method, &path, Some(&root), body.clone()).await;
        assert_eq!(
            (status, resp["detail"].as_str()),
            (403, Some("Se requiere rol CLIENTE_ADMIN")),
            "{method} {path}"
        );
        let (status, resp) = call(&app, method, &path, None, body).await;
        assert_eq!(
            (status, resp["detail"].as_str()),
            (403, Some("Not authenticated")),
            "{method} {path}"
        );
    }
    let res = app
        .http
        .post(app.url("/api/v1/admin/mi-empresa/logo"))
        .bearer_auth(&root)
        .header("content-type", multipart("file", "a.png", &png_bytes(10)).0)
        .body(multipart("file", "a.png", &png_bytes(10)).1)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(empresa_row(&app, &a.empresa.id).await, before);
    assert_eq!(router_row(&app, &a.router.id).await, router_before);
    assert_eq!(audit_count(&app, &a.empresa.id).await, 0);
}

#[actix_web::test]
async fn company_b_cannot_reach_company_a() {
    let app = spawn_app().await;
    let a = app.tenant("A").await;
    let b = app.tenant("B").await;
    insert_transaccion(&app, &a.empresa.id, &a.router.id, "HSA0001").await;
    // Give A some configuration to leak.
    let (status, _) = call(
        &app,
        "POST",
        "/api/v1/payments/configurar-credenciales",
        Some(&a.admin_token),
        Some(json!({"access_token": "A-TOKEN-SECRET", "public_key": "A-PUB", "mode": "live"})),
    )
    .await;
    assert_eq!(status, 200);
    let a_before = empresa_row(&app, &a.empresa.id).await;
    let a_router_before = router_row(&app, &a.router.id).await;

    // Routes naming A's ids answer 404 to B.
    for (method, path, body) in [
        (
            "PUT",
            format!("/api/v1/admin/mi-empresa/routers/{}", a.router.id),
            json!({"host": "evil.example.com", "puerto": 1}),
        ),
        (
            "POST",
            format!(
                "/api/v1/webhook/empresa/{}/configurar-webhook",
                a.empresa.id
            ),
            json!({"webhook_secret": "s"}),
        ),
    ] {
        let (status, resp) = call(&app, method, &path, Some(&b.admin_token), Some(body)).await;
        assert_eq!(status, 404, "{path}: {resp}");
    }
    let (status, _) = call(
        &app,
        "GET",
        &format!("/api/v1/webhook/empresa/{}/estado-webhook", a.empresa.id),
        Some(&b.admin_token),
        None,
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = call(
        &app,
        "GET",
        "/api/v1/webhook/transaccion/HSA0001",
        Some(&b.admin_token),
        None,
    )
    .await;
    assert_eq!(status, 404);

    // Session-scoped routes only ever show and change B.
    let (_, body) = call(
        &app,
        "GET",
        "/api/v1/admin/mi-empresa",
        Some(&b.admin_token),
        None,
    )
    .await;
    assert_eq!(body["id"], b.empresa.id);
    let (_, body) = call(
        &app,
        "GET",
        "/api/v1/admin/mi-empresa/mercado-pago",
        Some(&b.admin_token),
        None,
    )
    .await;
    assert_eq!(body["configuracion_actual"]["access_token"], Value::Null);
    assert_eq!(body["configuracion_actual"]["public_key"], Value::Null);
    let (_, body) = call(
        &app,
        "GET",
        "/api/v1/admin/mi-empresa/routers",
        Some(&b.admin_token),
        None,
    )
    .await;
    assert_eq!(body["total"], 1);
    assert_eq!(body["routers"][0]["id"], b.router.id);
    for (method, path, body) in all_routes(&b.empresa.id, &b.router.id) {
        if method == "GET" || path.contains("test-telegram") {
            continue;
        }
        let (status, resp) = call(&app, method, &path, Some(&b.admin_token), body).await;
        assert_eq!(status, 200, "{method} {path}: {resp}");
    }
    let (status, _) = upload(&app, &b.admin_token, "b.png", &png_bytes(64)).await;
    assert_eq!(status, 200);

    assert_eq!(empresa_row(&app, &a.empresa.id).await, a_before);
    assert_eq!(router_row(&app, &a.router.id).await, a_router_before);
    let b_now = empresa_row(&app, &b.empresa.id).await;
    assert_eq!(b_now.nombre, "Hacked");
    assert_eq!(
        router_row(&app, &b.router.id).await.host,
        "evil.example.com"
    );
    // Every change of B was audited under B, none under A.
    assert_eq!(audit_count(&app, &a.empresa.id).await, 1);
    assert!(audit_count(&app, &b.empresa.id).await >= 8);
}

// ------------------------------------------------------------------ secrets at rest

#[actix_web::test]
async fn secrets_set_through_the_api_are_never_stored_or_returned_in_clear() {
    let app = spawn_app().await;
    let a = app.tenant("A").await;
    let secrets = [
        "CONEKTAprivSECRETq1w2e3",
        "MPaccessTOKENSECRETz9x8",
        "MPwebhookSECRETm7n6b5",
        "987654:TELEGRAMbotSECRETv4c3",
        "ROUTERpassSECRETk2j1",
        "MPwebhook2SECRETp0o9",
    ];
    let t = Some(a.admin_token.as_str());
    let router_path = format!("/api/v1/admin/mi-empresa/routers/{}", a.router.id);
    for (method, path, body) in [
        (
            "PUT",
            "/api/v1/admin/mi-empresa/conekta-config".to_string(),
            json!({"conekta_private_key": secrets[0], "conekta_public_key": "key_pub"}),
        ),
        (
            "POST",
            "/api/v1/admin/mi-empresa/configurar-credenciales".to_string(),
            json!({"access_token": secrets[1], "webhook_secret": secrets[2]}),
        ),
        (
            "PUT",
            "/api/v1/admin/mi-empresa".to_string(),
            json!({"telegram_bot_token": secrets[3], "telegram_chat_id": "5"}),
        ),
        (
            "PUT",
            router_path.clone(),
            json!({"password_encrypted": secrets[4]}),
        ),
        (
            "POST",
            format!(
                "/api/v1/webhook/empresa/{}/configurar-webhook",
                a.empresa.id
            ),
            json!({"webhook_secret": secrets[5]}),
        ),
    ] {
        let (status, resp) = call(&app, method, &path, t, Some(body)).await;
        assert_eq!(status, 200, "{path}: {resp}");
        for s in secrets {
            assert!(!resp.to_string().contains(s), "{path} echoed a secret");
        }
    }

    // No GET returns them.
    let mut reads = String::new();
    for path in [
        "/api/v1/admin/mi-empresa".to_string(),
        "/api/v1/admin/mi-empresa/conekta".into(),
        "/api/v1/admin/mi-empresa/mercado-pago".into(),
        "/api/v1/admin/mi-empresa/routers".into(),
        format!("/api/v1/webhook/empresa/{}/estado-webhook", a.empresa.id),
    ] {
        let (status, body) = call(&app, "GET", &path, t, None).await;
        assert_eq!(status, 200, "{path}");
        reads.push_str(&body.to_string());
    }
    // The raw rows (every column, every table we wrote to).
    let mut rows = String::new();
    for v in empresa::Entity::find()
        .into_json()
        .all(&app.db)
        .await
        .unwrap()
    {
        rows.push_str(&v.to_string());
    }
    for v in router::Entity::find()
        .into_json()
        .all(&app.db)
        .await
        .unwrap()
    {
        rows.push_str(&v.to_string());
    }
    for v in audit_log::Entity::find()
        .into_json()
        .all(&app.db)
        .await
        .unwrap()
    {
        rows.push_str(&v.to_string());
    }
    assert!(rows.contains("v1:"), "the secret columns hold ciphertext");
    for s in secrets {
        // The Telegram token is shown masked (last 4), never whole.
        assert!(!reads.contains(s), "a GET returned {s}");
        assert!(!rows.contains(s), "a row holds {s} in clear");
    }

    // SQLite: the database file (and its WAL) never contain them either.
    if let Some(rest) = app.testdb.url.strip_prefix("sqlite://") {
        let file = rest.split('?').next().unwrap();
        let mut bytes = std::fs::read(file).unwrap();
        if let Ok(wal) = std::fs::read(format!("{file}-wal")) {
            bytes.extend_from_slice(&wal);
        }
        assert!(bytes.len() > 4096);
        for s in secrets {
            assert!(
                !bytes.windows(s.len()).any(|w| w == s.as_bytes()),
                "the SQLite files hold {s} in clear"
            );
        }
        // The check can fail: a value we did store in clear (the public key) is found.
        assert!(bytes.windows(7).any(|w| w == b"key_pub"));
    }
}
