//! Hotspot credentials in the original system's formats, from the OS CSPRNG.
//!
//! * `usuario_contrasena`: `PT-` + 5 characters of `[A-Z0-9]`, password 4 digits (zero-padded).
//! * `pin`: `PT-` + 8 digits (10⁸ names, the original had 10⁵), empty password.

use rand::rngs::OsRng;
use rand::Rng;

/// The kind of credentials a purchase gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserType {
    UsuarioContrasena,
    Pin,
}

impl UserType {
    pub fn as_str(self) -> &'static str {
        match self {
            UserType::UsuarioContrasena => "usuario_contrasena",
            UserType::Pin => "pin",
        }
    }

    /// `None` (absent or `null`) is the default; anything but the two names is refused (422, as the original).
    pub fn parse(v: Option<&str>) -> Option<Self> {
        match v {
            None => Some(UserType::UsuarioContrasena),
            Some("usuario_contrasena") => Some(UserType::UsuarioContrasena),
            Some("pin") => Some(UserType::Pin),
            Some(_) => None,
        }
    }

    pub fn from_stored(v: &str) -> Self {
        if v == "pin" {
            UserType::Pin
        } else {
            UserType::UsuarioContrasena
        }
    }
}

/// A generated username and password (empty for a PIN).
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"***")
            .finish()
    }
}

/// The fixed prefix of every generated username.
pub const PREFIX: &str = "PT-";
const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// New random credentials of the given kind.
pub fn generate(kind: UserType) -> Credentials {
    let mut rng = OsRng;
    match kind {
        UserType::UsuarioContrasena => {
            let name: String = (0..5)
                .map(|_| char::from(ALNUM[rng.gen_range(0..ALNUM.len())]))
                .collect();
            Credentials {
                username: format!("{PREFIX}{name}"),
                password: format!("{:04}", rng.gen_range(0..10_000u32)),
            }
        }
        UserType::Pin => Credentials {
            username: format!("{PREFIX}{:08}", rng.gen_range(0..100_000_000u32)),
            password: String::new(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn formats_follow_the_original() {
        for _ in 0..200 {
            let c = generate(UserType::UsuarioContrasena);
            let rest = c.username.strip_prefix("PT-").unwrap();
            assert_eq!(rest.len(), 5);
            assert!(rest
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()));
            assert_eq!(c.password.len(), 4);
            assert!(c.password.bytes().all(|b| b.is_ascii_digit()));
            let p = generate(UserType::Pin);
            let digits = p.username.strip_prefix("PT-").unwrap();
            assert_eq!(digits.len(), 8);
            assert!(digits.bytes().all(|b| b.is_ascii_digit()));
            assert_eq!(p.password, "");
        }
    }

    #[test]
    fn names_spread_out() {
        let names: HashSet<String> = (0..500).map(|_| generate(UserType::Pin).username).collect();
        assert!(names.len() > 490, "8-digit PINs should rarely collide");
    }

    #[test]
    fn user_type_parsing() {
        assert_eq!(UserType::parse(None), Some(UserType::UsuarioContrasena));
        assert_eq!(UserType::parse(Some("pin")), Some(UserType::Pin));
        assert_eq!(UserType::parse(Some("PIN")), None);
        assert_eq!(UserType::parse(Some("")), None);
        assert_eq!(UserType::from_stored("pin").as_str(), "pin");
    }
}
