//! The portal's API-key extractors: [`PortalClaims`] (signature and expiry only, no database
//! read) and [`PortalKey`] (the key looked up, with its company and router). The key is read
//! from `X-API-Key` or from `Authorization: Bearer`.

use std::future::Future;
use std::pin::Pin;

use actix_web::{web, FromRequest, HttpRequest};
use chrono::Utc;
use secrecy::ExposeSecret;

use super::api_key::{decode, ApiKeyClaims, KeyDecodeError};
use crate::db::empresas::Empresa;
use crate::db::routers::Router;
use crate::db::{api_keys, routers};
use crate::error::{ApiError, Problem};
use crate::ids::{EmpresaId, RouterId};
use crate::state::AppState;

/// Reads the key from `X-API-Key`, else from `Authorization: Bearer`.
fn presented_key(req: &HttpRequest) -> Result<String, ApiError> {
    if let Some(v) = req.headers().get("x-api-key") {
        let v = v
            .to_str()
            .map_err(|_| ApiError::from(Problem::ApiKeyMalformed))?
            .trim();
        if !v.is_empty() {
            return Ok(v.to_string());
        }
    }
    super::bearer(req).map(str::to_string)
}

/// The portal's authenticated context: the key's company and router.
#[derive(Debug, Clone)]
pub struct PortalKey {
    pub empresa: Empresa,
    pub router: Router,
    pub key_id: String,
}

impl PortalKey {
    /// The key's company.
    pub fn empresa_id(&self) -> EmpresaId<'_> {
        EmpresaId(&self.empresa.id)
    }

    /// The key's router.
    pub fn router_id(&self) -> RouterId<'_> {
        RouterId(&self.router.id)
    }
}

/// A portal key whose signature and expiry are verified, before any database read. The payment
/// routes use it to answer a busy router at once; [`PortalClaims::authenticate`] does the rest.
pub struct PortalClaims {
    state: web::Data<AppState>,
    hash: String,
    pub claims: ApiKeyClaims,
}

impl PortalClaims {
    /// The router the key was issued for (signed, not yet checked against the database).
    pub fn router_id(&self) -> &str {
        &self.claims.sub
    }

    /// The company the key was issued for (signed, not yet checked against the database).
    pub fn empresa_id(&self) -> &str {
        &self.claims.empresa
    }

    /// Checks the key against the database: not revoked, its router and its active company.
    pub async fn authenticate(self) -> Result<PortalKey, ApiError> {
        load(&self.state, self.hash, &self.claims).await
    }
}

fn verify(req: &HttpRequest) -> Result<PortalClaims, ApiError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("AppState missing")))?
        .clone();
    let credential = presented_key(req)?;
    let (hash, claims) = decode(
        &credential,
        state.config.jwt_apikey_secret.expose_secret(),
        Utc::now(),
    )
    .map_err(|e| match e {
        KeyDecodeError::Format => ApiError::from(Problem::ApiKeyMalformed),
        KeyDecodeError::Expired => ApiError::from(Problem::ApiKeyExpired),
        KeyDecodeError::Invalid => ApiError::from(Problem::ApiKeyInvalid),
    })?;
    Ok(PortalClaims {
        state,
        hash,
        claims,
    })
}

async fn load(
    state: &AppState,
    hash: String,
    claims: &ApiKeyClaims,
) -> Result<PortalKey, ApiError> {
    let invalid = || ApiError::from(Problem::ApiKeyInvalid);
    let key = api_keys::find_active_by_hash(&state.db, &hash)
        .await?
        .ok_or_else(invalid)?;
    if key.router_id != claims.sub || key.empresa_id != claims.empresa {
        return Err(invalid());
    }
    // The router and its company in one query (the router belongs to the key's company).
    let (router, empresa) = routers::find_with_empresa(&state.db, RouterId(&key.router_id))
        .await?
        .ok_or_else(invalid)?;
    let empresa = empresa
        .filter(|e| e.id == key.empresa_id)
        .ok_or_else(invalid)?;
    if !empresa.activa {
        return Err(ApiError::from(Problem::ApiKeyEmpresaInactive));
    }
    state.key_usage.record(&key.key_id);
    let span = tracing::Span::current();
    span.record("empresa_id", empresa.id.as_str());
    span.record("router_id", router.id.as_str());
    Ok(PortalKey {
        empresa,
        router,
        key_id: key.key_id,
    })
}

impl FromRequest for PortalClaims {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        std::future::ready(verify(req))
    }
}

impl FromRequest for PortalKey {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let claims = verify(req);
        Box::pin(async move { claims?.authenticate().await })
    }
}
