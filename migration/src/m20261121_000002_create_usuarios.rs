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
                    .table(Usuarios::Table)
                    .col(
                        ColumnDef::new(Usuarios::Id)
                            .integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Usuarios::Rol).string_len(20).not_null())
                    .col(ColumnDef::new(Usuarios::EmpresaId).string_len(50).null())
                    .col(
                        ColumnDef::new(Usuarios::Email)
                            .string_len(100)
                            .not_null()
                            .unique_key(),
                    )
                    .col(
                        ColumnDef::new(Usuarios::PasswordHash)
                            .string_len(255)
                            .not_null(),
                    )
                    .col(ColumnDef::new(Usuarios::Nombre).string_len(100).not_null())
                    .col(
                        ColumnDef::new(Usuarios::Activo)
                            .boolean()
                            .not_null()
                            .default(true),
                    )
                    .col(
                        ColumnDef::new(Usuarios::UltimoLogin)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(Usuarios::CreadoEn)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Usuarios::PasswordChangedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_usuarios_empresa")
                            .from(Usuarios::Table, Usuarios::EmpresaId)
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
                    .name("idx_usuarios_empresa_id")
                    .table(Usuarios::Table)
                    .col(Usuarios::EmpresaId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_usuarios_rol")
                    .table(Usuarios::Table)
                    .col(Usuarios::Rol)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Usuarios::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Usuarios {
    Table,
    Id,
    Rol,
    EmpresaId,
    Email,
    PasswordHash,
    Nombre,
    Activo,
    UltimoLogin,
    CreadoEn,
    PasswordChangedAt,
}
