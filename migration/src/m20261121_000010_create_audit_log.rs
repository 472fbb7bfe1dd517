use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AuditLog::Table)
                    .col(
                        ColumnDef::new(AuditLog::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(AuditLog::At)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(AuditLog::ActorUserId).integer().null())
                    .col(ColumnDef::new(AuditLog::ActorEmail).string_len(100).null())
                    .col(ColumnDef::new(AuditLog::ActorRole).string_len(20).null())
                    .col(ColumnDef::new(AuditLog::EmpresaId).string_len(50).null())
                    .col(ColumnDef::new(AuditLog::Action).string_len(64).not_null())
                    .col(
                        ColumnDef::new(AuditLog::TargetType)
                            .string_len(32)
                            .not_null(),
                    )
                    .col(ColumnDef::new(AuditLog::TargetId).string_len(64).null())
                    .col(ColumnDef::new(AuditLog::Details).json().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_audit_log_empresa_id_at")
                    .table(AuditLog::Table)
                    .col(AuditLog::EmpresaId)
                    .col(AuditLog::At)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AuditLog::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    At,
    ActorUserId,
    ActorEmail,
    ActorRole,
    EmpresaId,
    Action,
    TargetType,
    TargetId,
    Details,
}
