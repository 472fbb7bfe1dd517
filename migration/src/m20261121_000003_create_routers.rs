use sea_orm_migration::prelude::*;

use crate::m20261121_000001_create_empresas::Empresas;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Routers::Table)
                    .col(
                        ColumnDef::new(Routers::Id)
                            .string_len(50)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Routers::EmpresaId).string_len(50).not_null())
                    .col(ColumnDef::new(Routers::Nombre).string_len(100).not_null())
                    .col(ColumnDef::new(Routers::Host).string_len(255).not_null())
                    .col(
                        ColumnDef::new(Routers::Puerto)
                            .integer()
                            .not_null()
                            .default(8728),
                    )
                    .col(ColumnDef::new(Routers::Usuario).string_len(100).not_null())
                    .col(ColumnDef::new(Routers::PasswordEncrypted).text().not_null())
                    .col(ColumnDef::new(Routers::Ubicacion).string_len(200).null())
                    .col(
                        ColumnDef::new(Routers::ApiKeyHash)
                            .string_len(64)
                            .not_null()
                            .unique_key(),
                    )
                    .col(
                        ColumnDef::new(Routers::Activo)
                            .boolean()
                            .not_null()
                            .default(true),
                    )
                    .col(
                        ColumnDef::new(Routers::UseTls)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .col(
                        ColumnDef::new(Routers::TlsFingerprint)
                            .string_len(128)
                            .null(),
                    )
                    .col(
                        ColumnDef::new(Routers::CreadoEn)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Routers::ActualizadoEn)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_routers_empresa")
                            .from(Routers::Table, Routers::EmpresaId)
                            .to(Empresas::Table, Empresas::Id)
                            .on_delete(ForeignKeyAction::NoAction)
                            .on_update(ForeignKeyAction::NoAction),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uix_empresa_router")
                    .table(Routers::Table)
                    .col(Routers::EmpresaId)
                    .col(Routers::Id)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_routers_empresa_id")
                    .table(Routers::Table)
                    .col(Routers::EmpresaId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Routers::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
pub(crate) enum Routers {
    Table,
    Id,
    EmpresaId,
    Nombre,
    Host,
    Puerto,
    Usuario,
    PasswordEncrypted,
    Ubicacion,
    ApiKeyHash,
    Activo,
    UseTls,
    TlsFingerprint,
    CreadoEn,
    ActualizadoEn,
}
