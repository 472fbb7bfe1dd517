//! Schema migrations (SQLite and PostgreSQL).
pub use sea_orm_migration::prelude::*;

mod m20261121_000001_create_empresas;
mod m20261121_000002_create_usuarios;
mod m20261121_000003_create_routers;
mod m20261121_000004_create_productos;
mod m20261121_000005_create_api_keys_tracking;
mod m20261121_000006_create_transacciones;
mod m20261121_000007_create_purchases;
mod m20261121_000008_create_idempotency_keys;
mod m20261121_000009_create_webhook_events;
mod m20261121_000010_create_audit_log;
mod m20261121_000011_create_revoked_sessions;
mod m20261205_000001_add_transacciones_monto_reembolsado;
mod m20261205_000002_add_access_lifecycle;
mod m20261205_000017_add_empresas_zona_horaria;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261121_000001_create_empresas::Migration),
            Box::new(m20261121_000002_create_usuarios::Migration),
            Box::new(m20261121_000003_create_routers::Migration),
            Box::new(m20261121_000004_create_productos::Migration),
            Box::new(m20261121_000005_create_api_keys_tracking::Migration),
            Box::new(m20261121_000006_create_transacciones::Migration),
            Box::new(m20261121_000007_create_purchases::Migration),
            Box::new(m20261121_000008_create_idempotency_keys::Migration),
            Box::new(m20261121_000009_create_webhook_events::Migration),
            Box::new(m20261121_000010_create_audit_log::Migration),
            Box::new(m20261121_000011_create_revoked_sessions::Migration),
            Box::new(m20261205_000001_add_transacciones_monto_reembolsado::Migration),
            Box::new(m20261205_000002_add_access_lifecycle::Migration),
            Box::new(m20261205_000017_add_empresas_zona_horaria::Migration),
        ]
    }
}
