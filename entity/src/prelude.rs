//! Entity type aliases: `use entity::prelude::*;`.

pub use super::api_key::Entity as ApiKey;
pub use super::audit_log::Entity as AuditLog;
pub use super::empresa::Entity as Empresa;
pub use super::idempotency_key::Entity as IdempotencyKey;
pub use super::producto::Entity as Producto;
pub use super::purchase::Entity as Purchase;
pub use super::revoked_session::Entity as RevokedSession;
pub use super::router::Entity as Router;
pub use super::transaccion::Entity as Transaccion;
pub use super::usuario::Entity as Usuario;
pub use super::webhook_event::Entity as WebhookEvent;
