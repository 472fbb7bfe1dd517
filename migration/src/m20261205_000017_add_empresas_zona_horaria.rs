//! `empresas.zona_horaria`: the IANA time zone a company's days are counted in (the console's
//! per-day dashboard series). Existing rows get `America/Mexico_City`, the original's market.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Empresas::Table)
                    .add_column(
                        ColumnDef::new(Empresas::ZonaHoraria)
                            .string_len(64)
                            .not_null()
                            .default("America/Mexico_City"),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Empresas::Table)
                    .drop_column(Empresas::ZonaHoraria)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Empresas {
    Table,
    ZonaHoraria,
}
