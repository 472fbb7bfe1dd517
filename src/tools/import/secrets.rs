//! The original's secrets: some columns hold plaintext, some a Fernet token (the Mercado Pago
//! token and webhook secret when set through one of its two config endpoints). A Fernet token is
//! recognised by its form (version byte `0x80`, at least 73 bytes of urlsafe base64); with the
//! original's key (`ENCRYPTION_KEY_MERCADO_PAGO`, given as `--fernet-key`) it is decrypted,
//! without it (or when it does not decrypt) the secret cannot be carried over and the operator
//! re-enters it.

use base64::Engine;

/// Shortest Fernet token: version, timestamp, IV, one AES block and the HMAC.
const MIN_TOKEN_BYTES: usize = 1 + 8 + 16 + 16 + 32;

/// What became of one secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Opened {
    /// No value (NULL or blank).
    Empty,
    /// Plaintext, as stored or after decryption.
    Plain(String),
    /// Encrypted and not recoverable here; the reason is for the report.
    Lost(&'static str),
}

/// Opens the original's secret values.
pub struct Unsealer {
    fernet: Option<fernet::Fernet>,
}

impl std::fmt::Debug for Unsealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Unsealer")
            .field("fernet_key", &self.fernet.is_some())
            .finish()
    }
}

impl Unsealer {
    /// With the original's Fernet key (44 characters of urlsafe base64), if any.
    pub fn new(key: Option<&str>) -> anyhow::Result<Self> {
        let fernet = match key.map(str::trim).filter(|k| !k.is_empty()) {
            None => None,
            Some(k) => Some(fernet::Fernet::new(k).ok_or_else(|| {
                anyhow::anyhow!(
                    "--fernet-key is not a Fernet key (32 bytes in urlsafe base64, 44 characters)"
                )
            })?),
        };
        Ok(Self { fernet })
    }

    /// Whether a Fernet key was given.
    pub fn has_key(&self) -> bool {
        self.fernet.is_some()
    }

    /// The plaintext of a stored value, as the original's `decrypt_if_needed` would have used it.
    pub fn open(&self, stored: Option<&str>) -> Opened {
        let Some(value) = stored.map(str::trim).filter(|v| !v.is_empty()) else {
            return Opened::Empty;
        };
        if !looks_like_fernet(value) {
            return Opened::Plain(value.to_string());
        }
        let Some(f) = &self.fernet else {
            return Opened::Lost("Fernet-encrypted and no --fernet-key given");
        };
        match f.decrypt(value) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) if !text.trim().is_empty() => Opened::Plain(text.trim().to_string()),
                Ok(_) => Opened::Empty,
                Err(_) => Opened::Lost("its Fernet plaintext is not text"),
            },
            Err(_) => Opened::Lost("does not decrypt with the given --fernet-key"),
        }
    }
}

/// Whether `value` has the form of a Fernet token.
pub fn looks_like_fernet(value: &str) -> bool {
    let engines = [
        base64::engine::general_purpose::URL_SAFE,
        base64::engine::general_purpose::URL_SAFE_NO_PAD,
    ];
    engines.iter().any(|engine| {
        engine
            .decode(value)
            .is_ok_and(|raw| raw.len() >= MIN_TOKEN_BYTES && raw[0] == 0x80)
    })
}

/// Encrypts `plaintext` as the original did (for fixtures and tests).
pub fn fernet_encrypt(key: &str, plaintext: &str) -> Option<String> {
    fernet::Fernet::new(key).map(|f| f.encrypt(plaintext.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    // The specification's test vector (github.com/fernet/spec, generate.json).
    const KEY: &str = "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=";
    const TOKEN: &str = "gAAAAAAdwJ6wAAECAwQFBgcICQoLDA0ODy021cpGVWKZ_eEwCGM4BLLF_5CV9dOPmrhuVUPgJobwOz7JcbmrR64jVmpU4IwqDA==";

    #[test]
    fn the_spec_vector_decrypts_whatever_its_age() {
        let u = Unsealer::new(Some(KEY)).unwrap();
        assert_eq!(u.open(Some(TOKEN)), Opened::Plain("hello".into()));
    }

    #[test]
    fn plaintext_passes_and_tokens_need_the_key() {
        let u = Unsealer::new(None).unwrap();
        assert_eq!(
            u.open(Some(" APP_USR-123-abc ")),
            Opened::Plain("APP_USR-123-abc".into())
        );
        assert_eq!(u.open(Some("  ")), Opened::Empty);
        assert_eq!(u.open(None), Opened::Empty);
        assert!(matches!(u.open(Some(TOKEN)), Opened::Lost(_)));
        let other = Unsealer::new(Some("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")).unwrap();
        assert!(matches!(other.open(Some(TOKEN)), Opened::Lost(_)));
        assert!(Unsealer::new(Some("not-a-key")).is_err());
    }

    #[test]
    fn round_trip_with_a_fresh_token() {
        let token = fernet_encrypt(KEY, "TEST-token").unwrap();
        assert!(looks_like_fernet(&token));
        assert!(!looks_like_fernet("TEST-1234567890-abcdef"));
        let u = Unsealer::new(Some(KEY)).unwrap();
        assert_eq!(u.open(Some(&token)), Opened::Plain("TEST-token".into()));
    }
}
