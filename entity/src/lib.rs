//! sea-orm entities (one module per table).
//!
//! The original tables keep their Spanish table and column names; the tables added by this
//! rewrite are English. Secret columns (`*_private_key`, `*_access_token`, `*_webhook_secret`,
//! `telegram_bot_token`, `password_encrypted`, `password_hotspot`, `hotspot_password`) hold
//! AES-256-GCM ciphertext produced by the service, never plaintext.

pub mod api_key;
pub mod audit_log;
pub mod empresa;
pub mod idempotency_key;
pub mod prelude;
pub mod producto;
pub mod purchase;
pub mod revoked_session;
pub mod router;
pub mod transaccion;
pub mod usuario;
pub mod webhook_event;
