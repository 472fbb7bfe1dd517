//! `/api/v1/auth`: login, logout (revokes the token) and change-password.

use actix_web::{post, web, HttpRequest, HttpResponse};
use chrono::Utc;
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde_json::json;

use crate::auth::client_ip;
use crate::auth::password::{
    hash_password, verify_dummy, verify_password, Verification, MIN_PASSWORD_LEN,
};
use crate::auth::session::{self, Session};
use crate::db::usuarios::{self, Usuario};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{FieldAliases, JsonBody};
use crate::state::AppState;
use crate::wire::iso;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(login).service(logout).service(change_password);
}

#[derive(Debug, Deserialize)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}
impl FieldAliases for LoginRequest {}

pub fn user_json(u: &Usuario) -> serde_json::Value {
    json!({
        "id": u.id,
        "email": u.email,
        "nombre": u.nombre,
        "rol": u.rol,
        "empresa_id": u.empresa_id,
        "activo": u.activo,
    })
}

/// Runs a password check off the async workers (argon2 is deliberately slow).
async fn check_password(stored: Option<String>, password: String) -> ApiResult<Verification> {
    Ok(web::block(move || match stored {
        Some(hash) => verify_password(&hash, &password),
        None => {
            verify_dummy(&password);
            Verification::Invalid
        }
    })
    .await?)
}

#[utoipa::path(
    tag = "auth",
    summary = "Admin login (session JWT)",
    request_body(content = inline(crate::openapi::schemas::Login), content_type = "application/json", example = json!({"email": "admin@example.com", "password": "********"})),
    responses((status = 200, description = "OK", body = Object, example = json!({"access_token": "<session JWT>", "token_type": "bearer", "expires_at": "2026-01-02T10:00:00", "user": {"id": 2, "email": "admin@example.com", "nombre": "Admin", "rol": "cliente_admin", "empresa_id": "EMP_6692D1F6DA", "activo": true}}))),
)]
#[post("/api/v1/auth/login")]
async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: JsonBody<LoginRequest>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    if !email_address::EmailAddress::is_valid(body.email.trim()) {
        return Err(ApiError::field(
            "email",
            "value_error",
            "value is not a valid email address",
            json!(body.email),
        ));
    }
    let ip = client_ip(&req, state.config.trust_forwarded_for);
    state.limits.login_ip.check(&ip)?;
    // The key is the address as looked up (trimmed, case-folded): padding it does not make a
    // new key.
    state
        .limits
        .login_email
        .check(&body.email.trim().to_lowercase())?;

    let found = usuarios::find_by_email_with_empresa(&state.db, body.email.trim()).await?;
    let verdict = check_password(
        found.as_ref().map(|(u, _)| u.password_hash.clone()),
        body.password.clone(),
    )
    .await?;
    // Unknown account, inactive account (or company) and wrong password all look the same.
    let (user, rehash) = match (found, verdict) {
        (Some((u, e)), Verification::Valid { rehash })
            if u.activo && session::empresa_admits(&u, e.as_ref()) =>
        {
            (u, rehash)
        }
        _ => {
            tracing::info!("admin login refused");
            return Err(ApiError::from(Problem::LoginFailed));
        }
    };
    let rehashed = if rehash {
        let password = body.password.clone();
        Some(
            web::block(move || hash_password(&password))
                .await?
                .map_err(ApiError::internal)?,
        )
    } else {
        None
    };
    let user = usuarios::record_login(&state.db, user, rehashed).await?;
    let issued = session::issue(
        &user,
        state.config.jwt_session_secret.expose_secret(),
        state.config.session_ttl,
    )
    .map_err(ApiError::internal)?;
    tracing::info!(user_id = user.id, "admin login");
    Ok(HttpResponse::Ok().json(json!({
        "access_token": issued.token,
        "token_type": "bearer",
        "expires_at": iso(issued.expires_at),
        "user": user_json(&user),
    })))
}

#[utoipa::path(
    tag = "auth",
    summary = "Log out (revokes this session)",
    responses((status = 200, description = "OK")),
    security(("session" = [])),
)]
#[post("/api/v1/auth/logout")]
async fn logout(state: web::Data<AppState>, session: Session) -> ApiResult<HttpResponse> {
    revoke(&state, &session).await?;
    Ok(HttpResponse::Ok().json(json!({"message": "Sesión cerrada exitosamente"})))
}

/// Revokes the session's token by its `jti`.
async fn revoke(state: &AppState, session: &Session) -> ApiResult<()> {
    if let Some(jti) = &session.claims.jti {
        let expires_at =
            chrono::DateTime::from_timestamp(session.claims.exp, 0).unwrap_or_else(Utc::now);
        // Idempotent: concurrent logouts with one token all succeed (the first insert wins).
        usuarios::revoke_session(&state.db, jti, session.user.id, expires_at).await?;
    }
    Ok(())
}

#[derive(Debug, Deserialize)]
pub struct ChangePasswordRequest {
    pub current_password: String,
    pub new_password: String,
}
impl FieldAliases for ChangePasswordRequest {}

/// Changes the caller's password. Every session issued before the change stops working; the
/// answer carries a fresh token so the caller stays logged in.
#[utoipa::path(
    tag = "auth",
    summary = "Change own password",
    request_body(content = inline(crate::openapi::schemas::ChangePassword), content_type = "application/json"),
    responses((status = 200, description = "OK")),
    security(("session" = [])),
)]
#[post("/api/v1/auth/change-password")]
async fn change_password(
    state: web::Data<AppState>,
    session: Session,
    body: JsonBody<ChangePasswordRequest>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let verdict = check_password(
        Some(session.user.password_hash.clone()),
        body.current_password.clone(),
    )
    .await?;
    if verdict == Verification::Invalid {
        return Err(ApiError::from(Problem::WrongCurrentPassword));
    }
    if body.new_password.chars().count() < MIN_PASSWORD_LEN || body.new_password.len() > 256 {
        return Err(Problem::NewPasswordLength.into());
    }
    let password = body.new_password.clone();
    let hash = web::block(move || hash_password(&password))
        .await?
        .map_err(ApiError::internal)?;
    // Sessions issued before this moment stop working (compared in milliseconds; the token
    // issued below is later, so it stays valid).
    let user = usuarios::set_password(&state.db, session.user.clone(), hash).await?;
    revoke(&state, &session).await?;
    let issued = session::issue(
        &user,
        state.config.jwt_session_secret.expose_secret(),
        state.config.session_ttl,
    )
    .map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok().json(json!({
        "message": "Contraseña actualizada exitosamente",
        "access_token": issued.token,
        "expires_at": iso(issued.expires_at),
    })))
}
