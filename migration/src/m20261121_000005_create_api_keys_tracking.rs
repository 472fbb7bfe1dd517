use sea_orm_migration::prelude::*;

use crate::m20261121_000001_create_empresas::Empresas;
use crate::m20261121_000003_create_routers::Routers;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ApiKeysTracking::Table)
                    .col(
                        ColumnDef::new(ApiKeysTracking::KeyId)
                            .string_len(50)
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(ApiKeysTracking::EmpresaId)
                            .string_len(50)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ApiKeysTracking::RouterId)
                            .string_len(50)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ApiKeysTracking::KeyHash)
                            .string_len(64)
                            .not_null()
                            .unique_key(),
                    )
                    .col(
                        ColumnDef::new(ApiKeysTracking::IssuedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ApiKeysTracking::ExpiresAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ApiKeysTracking::Revoked)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .col(
                        ColumnDef::new(ApiKeysTracking::RevokedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(ApiKeysTracking::LastUsed)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(ApiKeysTracking::UseCount)
                            .big_integer()
                            .not_null()
                            .default(0),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_api_keys_tracking_empresa")
                            .from(ApiKeysTracking::Table, ApiKeysTracking::EmpresaId)
                            .to(Empresas::Table, Empresas::Id)
                            .on_delete(ForeignKeyAction::NoAction)
                            .on_update(ForeignKeyAction::NoAction),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_api_keys_tracking_router")
                            .from(ApiKeysTracking::Table, ApiKeysTracking::RouterId)
                            .to(Routers::Table, Routers::Id)
                            .on_delete(ForeignKeyAction::Cascade)
                            .on_update(ForeignKeyAction::NoAction),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("idx_api_keys_tracking_router_id", ApiKeysTracking::RouterId),
            (
                "idx_api_keys_tracking_empresa_id",
                ApiKeysTracking::EmpresaId,
            ),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(ApiKeysTracking::Table)
                        .col(col)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ApiKeysTracking::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum ApiKeysTracking {
    Table,
    KeyId,
    EmpresaId,
    RouterId,
    KeyHash,
    IssuedAt,
    ExpiresAt,
    Revoked,
    RevokedAt,
    LastUsed,
    UseCount,
}
