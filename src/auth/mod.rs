//! Authentication: admin sessions, router API keys, password hashing, rate limits.

pub mod api_key;
pub mod key_usage;
pub mod password;
pub mod portal_key;
pub mod rate_limit;
pub mod session;

use actix_web::http::header;
use actix_web::HttpRequest;

use crate::error::{ApiError, Problem};

/// Reads `Authorization: Bearer <credential>` with `HTTPBearer`'s 403 answers.
pub fn bearer(req: &HttpRequest) -> Result<&str, ApiError> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Err(ApiError::from(Problem::NotAuthenticated));
    };
    let value = value
        .to_str()
        .map_err(|_| ApiError::from(Problem::InvalidAuthScheme))?
        .trim();
    let (scheme, credential) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(ApiError::from(Problem::InvalidAuthScheme));
    }
    let credential = credential.trim();
    if credential.is_empty() {
        return Err(ApiError::from(Problem::NotAuthenticated));
    }
    Ok(credential)
}

/// The client address used for rate limits ([`rate_limit::address_key`]: per address for IPv4,
/// per /64 for IPv6): the peer address, or the first `X-Forwarded-For` hop when the service is
/// configured to trust its proxy.
pub fn client_ip(req: &HttpRequest, trust_forwarded: bool) -> String {
    if trust_forwarded {
        if let Some(ip) = req
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .and_then(|v| v.trim().parse::<std::net::IpAddr>().ok())
        {
            return rate_limit::address_key(ip);
        }
    }
    req.peer_addr()
        .map(|a| rate_limit::address_key(a.ip()))
        .unwrap_or_else(|| "unknown".into())
}
