//! Secrets at rest: AES-256-GCM under the `MASTER_KEY`.
//!
//! Stored form: `v1:` + base64(nonce ‖ ciphertext ‖ tag). The version prefix names the key
//! generation, so a later key rotation can decrypt old rows and re-encrypt them. The field
//! label (e.g. `routers.password`) is bound as associated data, so a ciphertext copied into
//! another column does not decrypt.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use rand::RngCore;
use zeroize::Zeroizing;

use crate::config::MasterKey;

const PREFIX: &str = "v1:";
const NONCE_LEN: usize = 12;

/// Labels of the encrypted fields (bound as associated data).
pub mod field {
    pub const ROUTER_PASSWORD: &str = "routers.password";
    pub const CONEKTA_PRIVATE_KEY: &str = "empresas.conekta_private_key";
    pub const MP_ACCESS_TOKEN: &str = "empresas.mercado_pago_access_token";
    pub const MP_WEBHOOK_SECRET: &str = "empresas.mercado_pago_webhook_secret";
    pub const TELEGRAM_BOT_TOKEN: &str = "empresas.telegram_bot_token";
    pub const HOTSPOT_PASSWORD: &str = "hotspot.password";
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    #[error("stored secret has an unknown format")]
    Format,
    #[error("stored secret failed authentication (wrong key or tampered)")]
    Authentication,
}

/// Encrypts and decrypts field values.
pub struct SecretBox {
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox([redacted])")
    }
}

impl SecretBox {
    pub fn new(key: &MasterKey) -> Self {
        let cipher = Aes256Gcm::new(key.expose().into());
        Self { cipher }
    }

    /// Encrypts `plaintext` for the field `label`.
    pub fn encrypt(&self, label: &str, plaintext: &str) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let payload = Payload {
            msg: plaintext.as_bytes(),
            aad: label.as_bytes(),
        };
        // Encryption with a valid key and a 12-byte nonce cannot fail for inputs of this size.
        let ciphertext = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), payload)
            .unwrap_or_default();
        let mut out = Vec::with_capacity(NONCE_LEN + ciphertext.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ciphertext);
        format!(
            "{PREFIX}{}",
            base64::engine::general_purpose::STANDARD.encode(out)
        )
    }

    /// Decrypts a value stored by [`SecretBox::encrypt`] for the same field.
    pub fn decrypt(&self, label: &str, stored: &str) -> Result<Zeroizing<String>, CryptoError> {
        let body = stored.strip_prefix(PREFIX).ok_or(CryptoError::Format)?;
        let raw = base64::engine::general_purpose::STANDARD
            .decode(body)
            .map_err(|_| CryptoError::Format)?;
        if raw.len() < NONCE_LEN + 16 {
            return Err(CryptoError::Format);
        }
        let (nonce, ciphertext) = raw.split_at(NONCE_LEN);
        let plain = self
            .cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: label.as_bytes(),
                },
            )
            .map_err(|_| CryptoError::Authentication)?;
        String::from_utf8(plain)
            .map(Zeroizing::new)
            .map_err(|_| CryptoError::Format)
    }

    /// Decrypts an optional column.
    pub fn decrypt_opt(
        &self,
        label: &str,
        stored: Option<&str>,
    ) -> Result<Option<Zeroizing<String>>, CryptoError> {
        stored.map(|s| self.decrypt(label, s)).transpose()
    }
}

/// Masks a secret for display: `"********"` when set, as the original's masked reads did.
pub fn mask(value: Option<&str>) -> Option<&'static str> {
    value.filter(|v| !v.is_empty()).map(|_| "********")
}

/// Shows only the last four characters of a token (`"…abcd"` style), for the Telegram token.
pub fn mask_tail(value: &str) -> String {
    let tail: String = value
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("********{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sb() -> SecretBox {
        SecretBox::new(&MasterKey::from_bytes([7u8; 32]))
    }

    #[test]
    fn round_trip_and_randomised() {
        let b = sb();
        let a = b.encrypt(field::ROUTER_PASSWORD, "s3cret");
        let c = b.encrypt(field::ROUTER_PASSWORD, "s3cret");
        assert_ne!(a, c, "nonces must differ");
        assert!(!a.contains("s3cret"));
        assert_eq!(
            b.decrypt(field::ROUTER_PASSWORD, &a).unwrap().as_str(),
            "s3cret"
        );
    }

    #[test]
    fn wrong_label_key_or_tamper_fails() {
        let b = sb();
        let a = b.encrypt(field::ROUTER_PASSWORD, "s3cret");
        assert_eq!(
            b.decrypt(field::TELEGRAM_BOT_TOKEN, &a).unwrap_err(),
            CryptoError::Authentication
        );
        let other = SecretBox::new(&MasterKey::from_bytes([8u8; 32]));
        assert!(other.decrypt(field::ROUTER_PASSWORD, &a).is_err());
        let mut t = a.clone().into_bytes();
        let last = t.len() - 2;
        t[last] = if t[last] == b'A' { b'B' } else { b'A' };
        assert!(b
            .decrypt(field::ROUTER_PASSWORD, &String::from_utf8(t).unwrap())
            .is_err());
        assert_eq!(
            b.decrypt(field::ROUTER_PASSWORD, "plaintext").unwrap_err(),
            CryptoError::Format
        );
    }

    #[test]
    fn masks() {
        assert_eq!(mask(Some("x")), Some("********"));
        assert_eq!(mask(Some("")), None);
        assert_eq!(mask(None), None);
        assert_eq!(mask_tail("123456:ABCDEFG"), "********DEFG");
    }
}
