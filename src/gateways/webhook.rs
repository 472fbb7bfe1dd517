//! Webhook signature verification.
//!
//! * Mercado Pago: `x-signature: ts=<unix seconds>,v1=<hex hmac>`; `v1 = HMAC-SHA256(secret,
//!   "id:<data.id>;request-id:<x-request-id>;ts:<ts>;")` (absent parts are left out), checked in constant time, with
//!   `ts` inside a tolerance window (stale notifications are rejected). Replays inside the window are caught by
//!   [`ReplayGuard`] (or by the unique index on the webhook events table).
//! * Conekta: the `Digest` header is an RSA PKCS#1 v1.5 SHA-256 signature of the raw body, base64 (an optional
//!   `sha256=`/`SHA-256=` prefix and hex are also accepted), verified with the company's webhook public key
//!   (`POST /webhook_keys` → `public_key`, PEM).

use std::time::Duration;

use base64::Engine as _;
use dashmap::DashMap;
use hmac::{Hmac, Mac};
use rsa::pkcs1::DecodeRsaPublicKey;
use rsa::pkcs1v15::{Signature, SigningKey, VerifyingKey};
use rsa::pkcs8::DecodePublicKey;
use rsa::signature::{SignatureEncoding, Signer, Verifier};
use rsa::{RsaPrivateKey, RsaPublicKey};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// Default tolerance between the signature timestamp and now (±5 minutes).
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    #[error("missing signature header")]
    MissingSignature,
    #[error("malformed signature header")]
    MalformedSignature,
    #[error("signature does not match")]
    BadSignature,
    #[error("signature timestamp outside the tolerance window")]
    Stale,
    #[error("notification already processed")]
    Replayed,
    #[error("invalid webhook key")]
    InvalidKey,
}

/// Parsed `x-signature`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MpSignature {
    /// Unix seconds (a millisecond value is normalised to seconds).
    pub ts: i64,
    /// The raw `ts` text, as signed.
    pub ts_raw: String,
    pub v1: String,
}

/// Parse `ts=…,v1=…` (keys case-insensitive, parts trimmed, unknown keys ignored).
pub fn parse_mp_signature(header: &str) -> Result<MpSignature, WebhookError> {
    let mut ts = None;
    let mut v1 = None;
    for part in header.split(',') {
        let Some((k, v)) = part.split_once('=') else {
            continue;
        };
        let (k, v) = (k.trim().to_ascii_lowercase(), v.trim());
        match k.as_str() {
            "ts" => ts = Some(v.to_owned()),
            "v1" => v1 = Some(v.to_ascii_lowercase()),
            _ => {}
        }
    }
    let ts_raw = ts.ok_or(WebhookError::MalformedSignature)?;
    let v1 = v1
        .filter(|v| !v.is_empty())
        .ok_or(WebhookError::MalformedSignature)?;
    let mut n: i64 = ts_raw
        .parse()
        .map_err(|_| WebhookError::MalformedSignature)?;
    if n > 100_000_000_000 {
        n /= 1000; // milliseconds
    }
    Ok(MpSignature { ts: n, ts_raw, v1 })
}

/// The signed manifest: `id:<data.id>;request-id:<x-request-id>;ts:<ts>;`, leaving out absent parts.
pub fn mp_manifest(data_id: Option<&str>, request_id: Option<&str>, ts: &str) -> String {
    let mut m = String::new();
    if let Some(id) = data_id.filter(|s| !s.is_empty()) {
        m.push_str(&format!("id:{id};"));
    }
    if let Some(r) = request_id.filter(|s| !s.is_empty()) {
        m.push_str(&format!("request-id:{r};"));
    }
    m.push_str(&format!("ts:{ts};"));
    m
}

/// Lowercase hex HMAC-SHA256 of the manifest.
pub fn mp_hmac_hex(secret: &[u8], manifest: &str) -> String {
    // HMAC accepts keys of any length; the error branch cannot happen.
    match Hmac::<Sha256>::new_from_slice(secret) {
        Ok(mut mac) => {
            mac.update(manifest.as_bytes());
            hex::encode(mac.finalize().into_bytes())
        }
        Err(_) => String::new(),
    }
}

/// The `x-signature` header value for a notification (used by the sandbox).
pub fn sign_mercado_pago(
    secret: &[u8],
    data_id: Option<&str>,
    request_id: Option<&str>,
    ts: i64,
) -> String {
    let ts = ts.to_string();
    format!(
        "ts={ts},v1={}",
        mp_hmac_hex(secret, &mp_manifest(data_id, request_id, &ts))
    )
}

/// Verify a Mercado Pago notification. `data_id` is the `data.id` query parameter (as received), `now` Unix seconds.
/// Returns the parsed signature (its `ts` and `v1` make a replay key).
pub fn verify_mercado_pago(
    secret: &[u8],
    x_signature: Option<&str>,
    x_request_id: Option<&str>,
    data_id: Option<&str>,
    now: i64,
    tolerance: Duration,
) -> Result<MpSignature, WebhookError> {
    if secret.is_empty() {
        return Err(WebhookError::InvalidKey);
    }
    let sig = parse_mp_signature(x_signature.ok_or(WebhookError::MissingSignature)?)?;
    let matches = |id: Option<&str>| {
        let expected = mp_hmac_hex(secret, &mp_manifest(id, x_request_id, &sig.ts_raw));
        bool::from(expected.as_bytes().ct_eq(sig.v1.as_bytes()))
    };
    // Mercado Pago signs `data.id` as received; older documentation lowercased alphanumeric ids, so accept that too.
    let lowered = data_id.map(str::to_lowercase);
    let ok = matches(data_id) || (lowered.as_deref() != data_id && matches(lowered.as_deref()));
    if !ok {
        return Err(WebhookError::BadSignature);
    }
    let tol = i64::try_from(tolerance.as_secs()).unwrap_or(i64::MAX);
    if (now - sig.ts).abs() > tol {
        return Err(WebhookError::Stale);
    }
    Ok(sig)
}

/// Parse a Conekta webhook public key (`-----BEGIN PUBLIC KEY-----` SPKI, or PKCS#1 `RSA PUBLIC KEY`).
pub fn parse_public_key(pem: &str) -> Result<RsaPublicKey, WebhookError> {
    let pem = pem.trim();
    RsaPublicKey::from_public_key_pem(pem)
        .or_else(|_| RsaPublicKey::from_pkcs1_pem(pem))
        .map_err(|_| WebhookError::InvalidKey)
}

fn decode_digest(header: &str) -> Option<Vec<u8>> {
    let h = header.trim();
    let h = match h.split_once('=') {
        Some((alg, rest))
            if alg.eq_ignore_ascii_case("sha256") || alg.eq_ignore_ascii_case("sha-256") =>
        {
            rest
        }
        _ => h,
    };
    let b64 = base64::engine::general_purpose::STANDARD;
    if h.len() % 2 == 0 && h.bytes().all(|b| b.is_ascii_hexdigit()) {
        if let Ok(v) = hex::decode(h) {
            return Some(v);
        }
    }
    b64.decode(h).ok()
}

/// Verify a Conekta `Digest` header over the raw body bytes.
pub fn verify_conekta(
    public_key: &RsaPublicKey,
    body: &[u8],
    digest: Option<&str>,
) -> Result<(), WebhookError> {
    let raw = decode_digest(digest.ok_or(WebhookError::MissingSignature)?)
        .ok_or(WebhookError::MalformedSignature)?;
    let sig = Signature::try_from(raw.as_slice()).map_err(|_| WebhookError::MalformedSignature)?;
    VerifyingKey::<Sha256>::new(public_key.clone())
        .verify(body, &sig)
        .map_err(|_| WebhookError::BadSignature)
}

/// The `Digest` header value for a body (used by the sandbox): base64 of the RSA PKCS#1 v1.5 SHA-256 signature.
pub fn sign_conekta(private_key: &RsaPrivateKey, body: &[u8]) -> String {
    let sig = SigningKey::<Sha256>::new(private_key.clone()).sign(body);
    base64::engine::general_purpose::STANDARD.encode(sig.to_bytes())
}

/// In-memory replay guard: remembers event keys for the tolerance window. One process only; across replicas the
/// unique index on the webhook events table (provider, event id) does the same job.
pub struct ReplayGuard {
    seen: DashMap<String, i64>,
    window: i64,
}

impl ReplayGuard {
    pub fn new(window: Duration) -> Self {
        ReplayGuard {
            seen: DashMap::new(),
            window: i64::try_from(window.as_secs()).unwrap_or(i64::MAX),
        }
    }
    /// Record `key` seen at `now` (Unix seconds). `Err(Replayed)` if it was already seen inside the window.
    pub fn check(&self, key: &str, now: i64) -> Result<(), WebhookError> {
        let window = self.window;
        self.seen
            .retain(|_, t| now - *t <= window.saturating_mul(2));
        match self.seen.entry(key.to_owned()) {
            dashmap::mapref::entry::Entry::Occupied(e)
                if now - *e.get() <= window.saturating_mul(2) =>
            {
                Err(WebhookError::Replayed)
            }
            dashmap::mapref::entry::Entry::Occupied(mut e) => {
                e.insert(now);
                Ok(())
            }
            dashmap::mapref::entry::Entry::Vacant(e) => {
                e.insert(now);
                Ok(())
            }
        }
    }
    pub fn len(&self) -> usize {
        self.seen.len()
    }
    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }
}

/// Replay key of a verified Mercado Pago notification.
pub fn mp_replay_key(data_id: Option<&str>, request_id: Option<&str>, sig: &MpSignature) -> String {
    format!(
        "mp:{}:{}:{}",
        data_id.unwrap_or(""),
        request_id.unwrap_or(""),
        sig.ts_raw
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_drops_absent_parts() {
        assert_eq!(
            mp_manifest(Some("1"), Some("r"), "5"),
            "id:1;request-id:r;ts:5;"
        );
        assert_eq!(mp_manifest(None, Some("r"), "5"), "request-id:r;ts:5;");
        assert_eq!(mp_manifest(None, None, "5"), "ts:5;");
    }

    #[test]
    fn parse_is_lenient_on_spacing_and_case() {
        let s = parse_mp_signature(" TS=1704908010 , V1=ABcd, v2=zz").unwrap();
        assert_eq!(s.ts, 1704908010);
        assert_eq!(s.v1, "abcd");
        assert_eq!(
            parse_mp_signature("v1=ab"),
            Err(WebhookError::MalformedSignature)
        );
        assert_eq!(
            parse_mp_signature("ts=x,v1=ab"),
            Err(WebhookError::MalformedSignature)
        );
        assert_eq!(
            parse_mp_signature("ts=1704908010123,v1=ab").unwrap().ts,
            1704908010
        );
    }

    #[test]
    fn lowercased_alphanumeric_ids_are_accepted() {
        let header = sign_mercado_pago(b"k", Some("ord01abc"), Some("r"), 100);
        assert!(verify_mercado_pago(
            b"k",
            Some(&header),
            Some("r"),
            Some("ORD01ABC"),
            100,
            DEFAULT_TOLERANCE
        )
        .is_ok());
        assert_eq!(
            verify_mercado_pago(
                b"k",
                Some(&header),
                Some("r"),
                Some("ORD01ABD"),
                100,
                DEFAULT_TOLERANCE
            ),
            Err(WebhookError::BadSignature)
        );
    }

    #[test]
    fn replay_guard_rejects_second_sighting() {
        let g = ReplayGuard::new(Duration::from_secs(300));
        assert!(g.check("a", 1000).is_ok());
        assert_eq!(g.check("a", 1010), Err(WebhookError::Replayed));
        assert!(g.check("b", 1010).is_ok());
        // Far outside the window the entry is forgotten (the timestamp check rejects it as stale anyway).
        assert!(g.check("a", 5000).is_ok());
    }
}
