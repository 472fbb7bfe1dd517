//! Admin session tokens (HS256 JWT under `JWT_SESSION_SECRET`), as the original issued them,
//! plus a `jti` so that logout really revokes a token, and a password-change cut-off.

use std::future::Future;
use std::pin::Pin;

use actix_web::{web, FromRequest, HttpRequest};
use chrono::{DateTime, Utc};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};

use crate::db::empresas::Empresa;
use crate::db::usuarios::{self, Role, Usuario};
use crate::error::{ApiError, Problem};
use crate::state::AppState;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionClaims {
    /// The user id, as a string.
    pub sub: String,
    pub email: String,
    pub nombre: String,
    pub rol: String,
    pub empresa_id: Option<String>,
    pub exp: i64,
    pub iat: i64,
    #[serde(rename = "type", default)]
    pub typ: String,
    #[serde(default)]
    pub jti: Option<String>,
    /// Issue time in milliseconds (tokens of this service; the original's have only `iat`), so
    /// that a password change revokes a session issued earlier in the same second.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat_ms: Option<i64>,
}

impl SessionClaims {
    /// When the token was issued, in milliseconds; a token without `iat_ms` counts as issued
    /// at the start of its `iat` second (the stricter reading).
    pub fn issued_at_ms(&self) -> i64 {
        self.iat_ms.unwrap_or(self.iat.saturating_mul(1000))
    }
}

/// A freshly issued session token.
#[derive(Debug, Clone)]
pub struct IssuedSession {
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub jti: String,
}

pub fn issue(
    user: &Usuario,
    secret: &str,
    ttl: std::time::Duration,
) -> anyhow::Result<IssuedSession> {
    let now = Utc::now();
    let ttl = chrono::Duration::from_std(ttl)?;
    let expires_at = now + ttl;
    let jti = uuid::Uuid::new_v4().simple().to_string();
    let claims = SessionClaims {
        sub: user.id.to_string(),
        email: user.email.clone(),
        nombre: user.nombre.clone(),
        rol: user.rol.as_str().to_string(),
        empresa_id: user.empresa_id.clone(),
        exp: expires_at.timestamp(),
        iat: now.timestamp(),
        typ: "access_token".into(),
        jti: Some(jti.clone()),
        iat_ms: Some(now.timestamp_millis()),
    };
    let token = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )?;
    Ok(IssuedSession {
        token,
        expires_at,
        jti,
    })
}

/// Decodes and checks signature and expiry, with the original's 401 texts.
pub fn decode(token: &str, secret: &str) -> Result<SessionClaims, ApiError> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = 0;
    validation.set_required_spec_claims(&["exp", "sub"]);
    jsonwebtoken::decode::<SessionClaims>(
        token,
        &DecodingKey::from_secret(secret.as_bytes()),
        &validation,
    )
    .map(|d| d.claims)
    .map_err(|e| match e.kind() {
        ErrorKind::ExpiredSignature => ApiError::from(Problem::SessionExpired),
        _ => ApiError::from(Problem::SessionInvalid),
    })
}

/// Any active admin with a valid, unrevoked session.
#[derive(Debug, Clone)]
pub struct Session {
    pub user: Usuario,
    pub claims: SessionClaims,
}

impl Session {
    pub fn is_super_admin(&self) -> bool {
        self.user.rol == Role::SuperAdmin
    }
}

async fn authenticate(req: HttpRequest) -> Result<Session, ApiError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("AppState missing")))?
        .clone();
    let token = super::bearer(&req)?;
    let claims = decode(token, state.config.jwt_session_secret.expose_secret())?;
    let user_id: i32 = claims
        .sub
        .parse()
        .map_err(|_| ApiError::from(Problem::SessionInvalid))?;
    if let Some(jti) = &claims.jti {
        if usuarios::session_revoked(&state.db, jti).await? {
            return Err(ApiError::from(Problem::SessionRevoked));
        }
    }
    // The user and its company in one query.
    let (user, empresa) = usuarios::find_with_empresa(&state.db, user_id)
        .await?
        .filter(|(u, _)| u.activo)
        .ok_or_else(|| ApiError::from(Problem::SessionUserInactive))?;
    if !empresa_admits(&user, empresa.as_ref()) {
        return Err(ApiError::from(Problem::SessionEmpresaInactive));
    }
    if let Some(changed) = user.password_changed_at {
        if claims.issued_at_ms() < changed.timestamp_millis() {
            return Err(ApiError::from(Problem::SessionRevoked));
        }
    }
    tracing::Span::current().record("user_id", user.id);
    Ok(Session { user, claims })
}

/// Whether `user`'s company lets it in: an operator has none; a company admin's company must
/// be active. A deactivated company's admins are cut at once (sessions and logins), and work
/// again when it is reactivated.
pub fn empresa_admits(user: &Usuario, empresa: Option<&Empresa>) -> bool {
    user.empresa_id.is_none() || empresa.is_some_and(|e| e.activa)
}

impl FromRequest for Session {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        Box::pin(authenticate(req.clone()))
    }
}

/// A session of a super_admin (403 `"Se requiere rol SUPER_ADMIN"` otherwise).
#[derive(Debug, Clone)]
pub struct SuperAdmin(pub Session);

impl FromRequest for SuperAdmin {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let s = authenticate(req).await?;
            if s.user.rol != Role::SuperAdmin {
                return Err(ApiError::from(Problem::SuperAdminRequired));
            }
            Ok(SuperAdmin(s))
        })
    }
}

/// A session of a cliente_admin, with its company id
/// (403 `"Se requiere rol CLIENTE_ADMIN"` otherwise).
#[derive(Debug, Clone)]
pub struct ClienteAdmin {
    pub session: Session,
    pub empresa_id: String,
}

impl FromRequest for ClienteAdmin {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let s = authenticate(req).await?;
            if s.user.rol != Role::ClienteAdmin {
                return Err(ApiError::from(Problem::ClienteAdminRequired));
            }
            let empresa_id = s
                .user
                .empresa_id
                .clone()
                .ok_or_else(|| ApiError::from(Problem::UserWithoutEmpresa))?;
            tracing::Span::current().record("empresa_id", empresa_id.as_str());
            Ok(ClienteAdmin {
                session: s,
                empresa_id,
            })
        })
    }
}
