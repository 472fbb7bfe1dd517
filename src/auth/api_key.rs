//! Router API keys, as the original issued them: `jwt_` + an HS256 JWT under
//! `JWT_APIKEY_SECRET`, looked up by the SHA-256 hex of the JWT. Keys the original issued
//! (with float `iat`/`exp`) still validate. Issuing and decoding only: the request extractors
//! are in [`super::portal_key`], the usage counters in [`super::key_usage`].

use chrono::{DateTime, TimeZone, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub const KEY_PREFIX: &str = "jwt_";
pub const ISSUER: &str = "mikrotik-payment-api";
pub const KEY_TYPE: &str = "router_api_key";

/// Claims of a router API key. `iat`/`exp` are floats in keys from the original system.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApiKeyClaims {
    pub jti: String,
    #[serde(default)]
    pub iss: Option<String>,
    pub sub: String,
    pub empresa: String,
    #[serde(default)]
    pub iat: Option<f64>,
    pub exp: f64,
    #[serde(rename = "type", default)]
    pub typ: Option<String>,
}

/// A newly issued key: the plaintext is shown once, only its hash is stored.
#[derive(Debug, Clone)]
pub struct IssuedKey {
    pub api_key: String,
    pub key_id: String,
    pub key_hash: String,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// `key_` + 16 lowercase hex characters.
pub fn new_key_id() -> String {
    let mut b = [0u8; 8];
    rand::rngs::OsRng.fill_bytes(&mut b);
    format!("key_{}", hex::encode(b))
}

/// SHA-256 hex of the JWT without its `jwt_` prefix.
pub fn hash_jwt(jwt: &str) -> String {
    hex::encode(Sha256::digest(jwt.as_bytes()))
}

pub fn issue(
    router_id: &str,
    empresa_id: &str,
    secret: &str,
    ttl: std::time::Duration,
) -> anyhow::Result<IssuedKey> {
    let issued_at = Utc::now();
    let expires_at = issued_at + chrono::Duration::from_std(ttl)?;
    let key_id = new_key_id();
    let claims = ApiKeyClaims {
        jti: key_id.clone(),
        iss: Some(ISSUER.into()),
        sub: router_id.into(),
        empresa: empresa_id.into(),
        iat: Some(issued_at.timestamp() as f64),
        exp: expires_at.timestamp() as f64,
        typ: Some(KEY_TYPE.into()),
    };
    let jwt = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )?;
    Ok(IssuedKey {
        key_hash: hash_jwt(&jwt),
        api_key: format!("{KEY_PREFIX}{jwt}"),
        key_id,
        issued_at,
        expires_at,
    })
}

/// Why a presented key was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum KeyDecodeError {
    Format,
    Expired,
    Invalid,
}

/// Verifies the signature (HS256 only) and the expiry, accepting float timestamps.
pub fn decode(
    credential: &str,
    secret: &str,
    now: DateTime<Utc>,
) -> Result<(String, ApiKeyClaims), KeyDecodeError> {
    let jwt = credential
        .strip_prefix(KEY_PREFIX)
        .ok_or(KeyDecodeError::Format)?;
    let mut validation = Validation::new(Algorithm::HS256);
    // Float `exp` is not accepted by jsonwebtoken's own check: verify it below.
    validation.validate_exp = false;
    validation.set_required_spec_claims::<&str>(&[]);
    let data = jsonwebtoken::decode::<ApiKeyClaims>(
        jwt,
        &DecodingKey::from_secret(secret.as_bytes()),
        &validation,
    )
    .map_err(|_| KeyDecodeError::Invalid)?;
    let claims = data.claims;
    if !claims.exp.is_finite() || claims.exp <= now.timestamp_millis() as f64 / 1000.0 {
        return Err(KeyDecodeError::Expired);
    }
    Ok((hash_jwt(jwt), claims))
}

/// Converts a float UNIX timestamp (as in the original's keys) to UTC.
pub fn from_float_ts(ts: f64) -> Option<DateTime<Utc>> {
    let secs = ts.trunc() as i64;
    let nanos = ((ts.fract()) * 1e9).round() as u32;
    Utc.timestamp_opt(secs, nanos.min(999_999_999)).single()
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use hmac::{Hmac, Mac};

    const SECRET: &str = "test-secret-test-secret";

    /// Signs arbitrary claims the way python-jose did (HS256, compact form).
    fn sign_raw(header: &str, claims: &str, secret: &str) -> String {
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let signing_input = format!("{}.{}", b64.encode(header), b64.encode(claims));
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(signing_input.as_bytes());
        format!(
            "{signing_input}.{}",
            b64.encode(mac.finalize().into_bytes())
        )
    }

    #[test]
    fn issued_key_round_trips() {
        let k = issue(
            "RTR_1",
            "EMP_1",
            SECRET,
            std::time::Duration::from_secs(3600),
        )
        .unwrap();
        assert!(k.api_key.starts_with("jwt_"));
        assert_eq!(k.key_hash.len(), 64);
        let (hash, claims) = decode(&k.api_key, SECRET, Utc::now()).unwrap();
        assert_eq!(hash, k.key_hash);
        assert_eq!(claims.sub, "RTR_1");
        assert_eq!(claims.jti, k.key_id);
    }

    #[test]
    fn original_keys_with_float_timestamps_validate() {
        let now = Utc::now().timestamp() as f64 + 0.123456;
        let claims = format!(
            r#"{{"jti":"key_0123456789abcdef","iss":"mikrotik-payment-api","sub":"RTR_2E0A7278","empresa":"EMP_6692D1F6DA","iat":{now},"exp":{},"type":"router_api_key"}}"#,
            now + 86400.0 * 365.0
        );
        let jwt = sign_raw(r#"{"alg":"HS256","typ":"JWT"}"#, &claims, SECRET);
        let (hash, c) = decode(&format!("jwt_{jwt}"), SECRET, Utc::now()).unwrap();
        assert_eq!(hash, hash_jwt(&jwt));
        assert_eq!(c.empresa, "EMP_6692D1F6DA");
        // and an expired one (float exp in the past)
        let old = format!(
            r#"{{"jti":"key_x","sub":"RTR_1","empresa":"EMP_1","iat":1000.5,"exp":{}}}"#,
            now - 10.5
        );
        let jwt = sign_raw(r#"{"alg":"HS256","typ":"JWT"}"#, &old, SECRET);
        assert_eq!(
            decode(&format!("jwt_{jwt}"), SECRET, Utc::now()).unwrap_err(),
            KeyDecodeError::Expired
        );
    }

    #[test]
    fn forged_alg_none_and_wrong_secret_are_invalid() {
        let claims = r#"{"jti":"key_x","sub":"RTR_1","empresa":"EMP_1","exp":99999999999}"#;
        let wrong = sign_raw(
            r#"{"alg":"HS256","typ":"JWT"}"#,
            claims,
            "another-secret-entirely",
        );
        assert_eq!(
            decode(&format!("jwt_{wrong}"), SECRET, Utc::now()).unwrap_err(),
            KeyDecodeError::Invalid
        );
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let none = format!(
            "{}.{}.",
            b64.encode(r#"{"alg":"none"}"#),
            b64.encode(claims)
        );
        assert_eq!(
            decode(&format!("jwt_{none}"), SECRET, Utc::now()).unwrap_err(),
            KeyDecodeError::Invalid
        );
        let hs512 = sign_raw(r#"{"alg":"HS512","typ":"JWT"}"#, claims, SECRET);
        assert_eq!(
            decode(&format!("jwt_{hs512}"), SECRET, Utc::now()).unwrap_err(),
            KeyDecodeError::Invalid
        );
        assert_eq!(
            decode("jwt_garbage", SECRET, Utc::now()).unwrap_err(),
            KeyDecodeError::Invalid
        );
        assert_eq!(
            decode("eyJhbGciOi", SECRET, Utc::now()).unwrap_err(),
            KeyDecodeError::Format
        );
    }

    #[test]
    fn float_timestamp_conversion() {
        let t = from_float_ts(1_700_000_000.5).unwrap();
        assert_eq!(t.timestamp(), 1_700_000_000);
        assert_eq!(t.timestamp_subsec_millis(), 500);
    }
}
