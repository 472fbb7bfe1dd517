use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // No foreign keys: a purchase (and its saga state) outlives its router and product.
        manager
            .create_table({
                let mut t = Table::create();
                first_columns(&mut t);
                other_columns(&mut t);
                t
            })
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uix_purchases_empresa_idempotency_key")
                    .table(Purchases::Table)
                    .col(Purchases::EmpresaId)
                    .col(Purchases::IdempotencyKey)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_purchases_state_next_attempt_at")
                    .table(Purchases::Table)
                    .col(Purchases::State)
                    .col(Purchases::NextAttemptAt)
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("idx_purchases_card_token_hash", Purchases::CardTokenHash),
            (
                "idx_purchases_gateway_payment_id",
                Purchases::GatewayPaymentId,
            ),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Purchases::Table)
                        .col(col)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Purchases::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Purchases {
    Table,
    Id,
    EmpresaId,
    RouterId,
    ProductoId,
    Gateway,
    State,
    Amount,
    Currency,
    UserType,
    HotspotUsername,
    HotspotPassword,
    RouterUserId,
    CustomerName,
    CustomerEmail,
    CustomerPhone,
    MacAddress,
    IpAddress,
    AutoConnect,
    IdempotencyKey,
    CardTokenHash,
    GatewayReference,
    GatewayPaymentId,
    GatewayStatus,
    ResponseStatus,
    ResponseBody,
    LastError,
    Attempts,
    NextAttemptAt,
    LockedUntil,
    CreatedAt,
    UpdatedAt,
}

/// The table, its key and its first columns.
fn first_columns(t: &mut TableCreateStatement) {
    t.table(Purchases::Table)
        .col(
            ColumnDef::new(Purchases::Id)
                .string_len(36)
                .not_null()
                .primary_key(),
        )
        .col(
            ColumnDef::new(Purchases::EmpresaId)
                .string_len(50)
                .not_null(),
        )
        .col(
            ColumnDef::new(Purchases::RouterId)
                .string_len(50)
                .not_null(),
        )
        .col(ColumnDef::new(Purchases::ProductoId).integer().not_null())
        .col(ColumnDef::new(Purchases::Gateway).string_len(20).not_null())
        .col(ColumnDef::new(Purchases::State).string_len(32).not_null())
        .col(
            ColumnDef::new(Purchases::Amount)
                .decimal_len(10, 2)
                .not_null(),
        )
        .col(ColumnDef::new(Purchases::Currency).string_len(3).not_null())
        .col(
            ColumnDef::new(Purchases::UserType)
                .string_len(20)
                .not_null(),
        )
        .col(
            ColumnDef::new(Purchases::HotspotUsername)
                .string_len(50)
                .null(),
        )
        .col(ColumnDef::new(Purchases::HotspotPassword).text().null())
        .col(
            ColumnDef::new(Purchases::RouterUserId)
                .string_len(32)
                .null(),
        )
        .col(
            ColumnDef::new(Purchases::CustomerName)
                .string_len(100)
                .not_null(),
        )
        .col(
            ColumnDef::new(Purchases::CustomerEmail)
                .string_len(100)
                .not_null(),
        )
        .col(
            ColumnDef::new(Purchases::CustomerPhone)
                .string_len(20)
                .null(),
        );
}

/// The remaining columns and constraints.
fn other_columns(t: &mut TableCreateStatement) {
    t.col(ColumnDef::new(Purchases::MacAddress).string_len(17).null())
        .col(ColumnDef::new(Purchases::IpAddress).string_len(45).null())
        .col(
            ColumnDef::new(Purchases::AutoConnect)
                .boolean()
                .not_null()
                .default(false),
        )
        .col(
            ColumnDef::new(Purchases::IdempotencyKey)
                .string_len(255)
                .null(),
        )
        .col(
            ColumnDef::new(Purchases::CardTokenHash)
                .string_len(64)
                .null(),
        )
        .col(
            ColumnDef::new(Purchases::GatewayReference)
                .string_len(64)
                .null(),
        )
        .col(
            ColumnDef::new(Purchases::GatewayPaymentId)
                .string_len(100)
                .null(),
        )
        .col(
            ColumnDef::new(Purchases::GatewayStatus)
                .string_len(32)
                .null(),
        )
        .col(ColumnDef::new(Purchases::ResponseStatus).integer().null())
        .col(ColumnDef::new(Purchases::ResponseBody).json().null())
        .col(ColumnDef::new(Purchases::LastError).text().null())
        .col(
            ColumnDef::new(Purchases::Attempts)
                .integer()
                .not_null()
                .default(0),
        )
        .col(
            ColumnDef::new(Purchases::NextAttemptAt)
                .timestamp_with_time_zone()
                .null(),
        )
        .col(
            ColumnDef::new(Purchases::LockedUntil)
                .timestamp_with_time_zone()
                .null(),
        )
        .col(
            ColumnDef::new(Purchases::CreatedAt)
                .timestamp_with_time_zone()
                .not_null(),
        )
        .col(
            ColumnDef::new(Purchases::UpdatedAt)
                .timestamp_with_time_zone()
                .not_null(),
        );
}
