//! `transacciones.monto_reembolsado`: the amount the gateway reports as refunded (a partial
//! refund keeps the customer's access; a full refund or a chargeback revokes it). Nullable:
//! `NULL` means nothing was refunded; existing rows are unchanged.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Transacciones::Table)
                    .add_column(
                        ColumnDef::new(Transacciones::MontoReembolsado)
                            .decimal_len(10, 2)
                            .null(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Transacciones::Table)
                    .drop_column(Transacciones::MontoReembolsado)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Transacciones {
    Table,
    MontoReembolsado,
}
