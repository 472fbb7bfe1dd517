//! Where the broker reads its routers from. The application implements [`RouterSource`] over
//! its own storage and holds the key that reveals the passwords; the broker never sees more
//! than a [`RouterRecord`].

use futures_util::future::BoxFuture;
use zeroize::Zeroizing;

/// A router as the broker needs it: where to connect, as whom, and whether it may.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouterRecord {
    pub id: String,
    pub empresa_id: String,
    pub nombre: String,
    pub host: String,
    pub puerto: i32,
    pub usuario: String,
    /// The password in the application's stored (encrypted) form; see [`RouterSource::reveal`].
    pub password_encrypted: String,
    pub activo: bool,
    pub use_tls: bool,
    /// SHA-256 of the router's certificate (hex), pinned when set.
    pub tls_fingerprint: Option<String>,
}

/// A failure of the application's storage (logged by the broker, never shown to a client).
pub type SourceError = Box<dyn std::error::Error + Send + Sync>;

/// The application's routers.
pub trait RouterSource: Send + Sync + 'static {
    /// The router, if it exists.
    fn load<'a>(
        &'a self,
        router_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<RouterRecord>, SourceError>>;

    /// Every router, by company, then id.
    fn all(&self) -> BoxFuture<'_, Result<Vec<RouterRecord>, SourceError>>;

    /// The plain password from its stored form, or `None` when it cannot be decrypted. It is
    /// only ever put in connection options, never logged.
    fn reveal(&self, stored: &str) -> Option<Zeroizing<String>>;
}
