use sea_orm_migration::prelude::*;

use crate::m20261121_000001_create_empresas::Empresas;
use crate::m20261121_000003_create_routers::Routers;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
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
                    .name("uix_empresa_router_perfil")
                    .table(Productos::Table)
                    .col(Productos::EmpresaId)
                    .col(Productos::RouterId)
                    .col(Productos::PerfilMikrotikId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("idx_productos_activo", Productos::Activo),
            ("idx_productos_router_id", Productos::RouterId),
            ("idx_productos_empresa_id", Productos::EmpresaId),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Productos::Table)
                        .col(col)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Productos::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Productos {
    Table,
    Id,
    EmpresaId,
    RouterId,
    PerfilMikrotikId,
    PerfilMikrotikNombre,
    NombreVenta,
    Descripcion,
    ImagenUrl,
    Precio,
    Moneda,
    Detalles,
    Activo,
    OrdenVisual,
    Destacado,
    CreadoEn,
}

/// The table, its key and its first columns.
fn first_columns(t: &mut TableCreateStatement) {
    t.table(Productos::Table)
        .col(
            ColumnDef::new(Productos::Id)
                .integer()
                .not_null()
                .auto_increment()
                .primary_key(),
        )
        .col(
            ColumnDef::new(Productos::EmpresaId)
                .string_len(50)
                .not_null(),
        )
        .col(
            ColumnDef::new(Productos::RouterId)
                .string_len(50)
                .not_null(),
        )
        .col(
            ColumnDef::new(Productos::PerfilMikrotikId)
                .string_len(100)
                .not_null(),
        )
        .col(
            ColumnDef::new(Productos::PerfilMikrotikNombre)
                .string_len(100)
                .not_null(),
        )
        .col(
            ColumnDef::new(Productos::NombreVenta)
                .string_len(100)
                .not_null(),
        )
        .col(ColumnDef::new(Productos::Descripcion).text().null())
        .col(ColumnDef::new(Productos::ImagenUrl).string_len(500).null());
}

/// The remaining columns and constraints.
fn other_columns(t: &mut TableCreateStatement) {
    t.col(
        ColumnDef::new(Productos::Precio)
            .decimal_len(10, 2)
            .not_null(),
    )
    .col(
        ColumnDef::new(Productos::Moneda)
            .string_len(3)
            .not_null()
            .default("MXN"),
    )
    .col(
        ColumnDef::new(Productos::Detalles)
            .json()
            .not_null()
            .default("[]"),
    )
    .col(
        ColumnDef::new(Productos::Activo)
            .boolean()
            .not_null()
            .default(true),
    )
    .col(
        ColumnDef::new(Productos::OrdenVisual)
            .integer()
            .not_null()
            .default(0),
    )
    .col(
        ColumnDef::new(Productos::Destacado)
            .boolean()
            .not_null()
            .default(false),
    )
    .col(
        ColumnDef::new(Productos::CreadoEn)
            .timestamp_with_time_zone()
            .not_null(),
    )
    .foreign_key(
        ForeignKey::create()
            .name("fk_productos_empresa")
            .from(Productos::Table, Productos::EmpresaId)
            .to(Empresas::Table, Empresas::Id)
            .on_delete(ForeignKeyAction::NoAction)
            .on_update(ForeignKeyAction::NoAction),
    )
    .foreign_key(
        ForeignKey::create()
            .name("fk_productos_router")
            .from(Productos::Table, Productos::RouterId)
            .to(Routers::Table, Routers::Id)
            .on_delete(ForeignKeyAction::NoAction)
            .on_update(ForeignKeyAction::NoAction),
    );
}
