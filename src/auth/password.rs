//! Admin password hashing: argon2id for new hashes; the original's bcrypt hashes are still
//! accepted and re-hashed on the next successful login.

use std::sync::OnceLock;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

/// Shortest admin password accepted.
pub const MIN_PASSWORD_LEN: usize = 8;

/// Result of checking a password against a stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verification {
    /// Correct; `rehash` says the stored hash is a legacy one to replace.
    Valid {
        rehash: bool,
    },
    Invalid,
}

/// Hashes with argon2id (the crate's defaults: m=19 MiB, t=2, p=1).
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("argon2 hashing failed: {e}"))
}

/// Checks `password` against an argon2 or bcrypt (`$2a$`, `$2b$`, `$2y$`) hash.
/// Malformed hashes are simply invalid.
pub fn verify_password(stored: &str, password: &str) -> Verification {
    if stored.starts_with("$2") {
        return match bcrypt::verify(password, stored) {
            Ok(true) => Verification::Valid { rehash: true },
            _ => Verification::Invalid,
        };
    }
    let Ok(parsed) = PasswordHash::new(stored) else {
        return Verification::Invalid;
    };
    match Argon2::default().verify_password(password.as_bytes(), &parsed) {
        Ok(()) => Verification::Valid { rehash: false },
        Err(_) => Verification::Invalid,
    }
}

/// Spends the same work as a real check, for unknown accounts (no timing oracle).
pub fn verify_dummy(password: &str) {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let hash = DUMMY.get_or_init(|| hash_password("dummy-password-for-timing").unwrap_or_default());
    let _ = verify_password(hash, password);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argon2_round_trip() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert_eq!(
            verify_password(&h, "correct horse"),
            Verification::Valid { rehash: false }
        );
        assert_eq!(verify_password(&h, "wrong"), Verification::Invalid);
    }

    #[test]
    fn legacy_bcrypt_is_accepted_and_flagged_for_rehash() {
        // Produced by Python's bcrypt.hashpw(b"admin123", bcrypt.gensalt(4)), as the original stored.
        let legacy = bcrypt::hash_with_result("admin123", 4)
            .unwrap()
            .format_for_version(bcrypt::Version::TwoB);
        assert!(legacy.starts_with("$2b$04$"));
        assert_eq!(
            verify_password(&legacy, "admin123"),
            Verification::Valid { rehash: true }
        );
        assert_eq!(verify_password(&legacy, "admin124"), Verification::Invalid);
    }

    #[test]
    fn garbage_hash_is_invalid_not_a_panic() {
        assert_eq!(verify_password("", "x"), Verification::Invalid);
        assert_eq!(verify_password("$2b$nonsense", "x"), Verification::Invalid);
        assert_eq!(
            verify_password("$argon2id$v=19$garbage", "x"),
            Verification::Invalid
        );
    }
}
