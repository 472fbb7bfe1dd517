//! Access lifecycle (issue 16): plan validity on products, what a purchase bought of it, when its
//! access ends, and what a company does with an expired user. Every column is additive and
//! nullable or defaulted: existing products behave as before (no validity), existing purchases
//! are not watched, existing companies remove expired users (`al_expirar = 'eliminar'`).
//!
//! One `ALTER TABLE` per column: SQLite adds a single column per statement.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The added columns, as `(table, column definition)`.
fn columns() -> Vec<(DynIden, ColumnDef)> {
    let p = || Productos::Table.into_iden();
    let c = || Purchases::Table.into_iden();
    vec![
        (
            p(),
            ColumnDef::new(Productos::MinutosUso)
                .integer()
                .null()
                .to_owned(),
        ),
        (
            p(),
            ColumnDef::new(Productos::VigenciaMinutos)
                .integer()
                .null()
                .to_owned(),
        ),
        (
            p(),
            ColumnDef::new(Productos::VigenciaDesde)
                .string_len(20)
                .null()
                .to_owned(),
        ),
        (
            p(),
            ColumnDef::new(Productos::LimiteMb)
                .big_integer()
                .null()
                .to_owned(),
        ),
        (
            Empresas::Table.into_iden(),
            ColumnDef::new(Empresas::AlExpirar)
                .string_len(20)
                .not_null()
                .default("eliminar")
                .to_owned(),
        ),
        (
            c(),
            ColumnDef::new(Purchases::UsageMinutes)
                .integer()
                .null()
                .to_owned(),
        ),
        (
            c(),
            ColumnDef::new(Purchases::ValidityMinutes)
                .integer()
                .null()
                .to_owned(),
        ),
        (
            c(),
            ColumnDef::new(Purchases::ValidityFrom)
                .string_len(20)
                .null()
                .to_owned(),
        ),
        (
            c(),
            ColumnDef::new(Purchases::DataLimitMb)
                .big_integer()
                .null()
                .to_owned(),
        ),
        (
            c(),
            ColumnDef::new(Purchases::ExpiresAt)
                .timestamp_with_time_zone()
                .null()
                .to_owned(),
        ),
        (
            c(),
            ColumnDef::new(Purchases::EndedAt)
                .timestamp_with_time_zone()
                .null()
                .to_owned(),
        ),
        (
            c(),
            ColumnDef::new(Purchases::UptimeUsedSecs)
                .big_integer()
                .null()
                .to_owned(),
        ),
        (
            c(),
            ColumnDef::new(Purchases::BytesUsed)
                .big_integer()
                .null()
                .to_owned(),
        ),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, mut col) in columns() {
            manager
                .alter_table(Table::alter().table(table).add_column(&mut col).to_owned())
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, col) in columns().into_iter().rev() {
            let name = col.get_column_name();
            manager
                .alter_table(
                    Table::alter()
                        .table(table)
                        .drop_column(Alias::new(name))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Productos {
    Table,
    MinutosUso,
    VigenciaMinutos,
    VigenciaDesde,
    LimiteMb,
}

#[derive(DeriveIden)]
enum Empresas {
    Table,
    AlExpirar,
}

#[derive(DeriveIden)]
enum Purchases {
    Table,
    UsageMinutes,
    ValidityMinutes,
    ValidityFrom,
    DataLimitMb,
    ExpiresAt,
    EndedAt,
    UptimeUsedSecs,
    BytesUsed,
}
