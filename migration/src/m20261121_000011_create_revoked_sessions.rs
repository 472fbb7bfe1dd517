use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RevokedSessions::Table)
                    .col(
                        ColumnDef::new(RevokedSessions::Jti)
                            .string_len(64)
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(RevokedSessions::UsuarioId)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(RevokedSessions::RevokedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(RevokedSessions::ExpiresAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(RevokedSessions::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum RevokedSessions {
    Table,
    Jti,
    UsuarioId,
    RevokedAt,
    ExpiresAt,
}
