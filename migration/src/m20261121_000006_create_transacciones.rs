use sea_orm_migration::prelude::*;

use crate::m20261121_000001_create_empresas::Empresas;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // `router_id` and `producto_id` have no foreign key on purpose: the payment history
        // must survive the deletion of a router or a product.
        manager
            .create_table({
                let mut t = Table::create();
                first_columns(&mut t);
                other_columns(&mut t);
                t
            })
            .await?;
        for (name, col) in [
            ("idx_transacciones_empresa_id", Transacciones::EmpresaId),
            ("idx_transacciones_router_id", Transacciones::RouterId),
            ("idx_transacciones_estado_pago", Transacciones::EstadoPago),
            ("idx_transacciones_creada_en", Transacciones::CreadaEn),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Transacciones::Table)
                        .col(col)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Transacciones::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Transacciones {
    Table,
    Id,
    TransaccionId,
    ExternalReference,
    EmpresaId,
    RouterId,
    ProductoId,
    PurchaseId,
    Gateway,
    Monto,
    Moneda,
    ClienteNombre,
    ClienteEmail,
    ClienteTelefono,
    UsuarioHotspot,
    PasswordHotspot,
    ExpiracionHotspot,
    EstadoPago,
    EstadoHotspot,
    NotificationId,
    WebhookProcessed,
    MetadataJson,
    ApiKeyUsada,
    CreadaEn,
    PagadaEn,
    UsuarioCreadoEn,
    WebhookReceivedAt,
}

/// The table, its key and its first columns.
fn first_columns(t: &mut TableCreateStatement) {
    t.table(Transacciones::Table)
        .col(
            ColumnDef::new(Transacciones::Id)
                .integer()
                .not_null()
                .auto_increment()
                .primary_key(),
        )
        .col(
            ColumnDef::new(Transacciones::TransaccionId)
                .string_len(100)
                .null()
                .unique_key(),
        )
        .col(
            ColumnDef::new(Transacciones::ExternalReference)
                .string_len(256)
                .null()
                .unique_key(),
        )
        .col(
            ColumnDef::new(Transacciones::EmpresaId)
                .string_len(50)
                .not_null(),
        )
        .col(
            ColumnDef::new(Transacciones::RouterId)
                .string_len(50)
                .not_null(),
        )
        .col(ColumnDef::new(Transacciones::ProductoId).integer().null())
        .col(
            ColumnDef::new(Transacciones::PurchaseId)
                .string_len(36)
                .null()
                .unique_key(),
        )
        .col(ColumnDef::new(Transacciones::Gateway).string_len(20).null())
        .col(
            ColumnDef::new(Transacciones::Monto)
                .decimal_len(10, 2)
                .not_null(),
        )
        .col(
            ColumnDef::new(Transacciones::Moneda)
                .string_len(3)
                .not_null()
                .default("MXN"),
        )
        .col(
            ColumnDef::new(Transacciones::ClienteNombre)
                .string_len(100)
                .null(),
        )
        .col(
            ColumnDef::new(Transacciones::ClienteEmail)
                .string_len(100)
                .null(),
        )
        .col(
            ColumnDef::new(Transacciones::ClienteTelefono)
                .string_len(20)
                .null(),
        );
}

/// The remaining columns and constraints.
fn other_columns(t: &mut TableCreateStatement) {
    t.col(
        ColumnDef::new(Transacciones::UsuarioHotspot)
            .string_len(50)
            .null(),
    )
    .col(ColumnDef::new(Transacciones::PasswordHotspot).text().null())
    .col(
        ColumnDef::new(Transacciones::ExpiracionHotspot)
            .timestamp_with_time_zone()
            .null(),
    )
    .col(
        ColumnDef::new(Transacciones::EstadoPago)
            .string_len(20)
            .not_null()
            .default("pending"),
    )
    .col(
        ColumnDef::new(Transacciones::EstadoHotspot)
            .string_len(20)
            .not_null()
            .default("pending"),
    )
    .col(
        ColumnDef::new(Transacciones::NotificationId)
            .string_len(100)
            .null(),
    )
    .col(
        ColumnDef::new(Transacciones::WebhookProcessed)
            .boolean()
            .not_null()
            .default(false),
    )
    .col(
        ColumnDef::new(Transacciones::MetadataJson)
            .json()
            .not_null()
            .default("{}"),
    )
    .col(
        ColumnDef::new(Transacciones::ApiKeyUsada)
            .string_len(64)
            .null(),
    )
    .col(
        ColumnDef::new(Transacciones::CreadaEn)
            .timestamp_with_time_zone()
            .not_null(),
    )
    .col(
        ColumnDef::new(Transacciones::PagadaEn)
            .timestamp_with_time_zone()
            .null(),
    )
    .col(
        ColumnDef::new(Transacciones::UsuarioCreadoEn)
            .timestamp_with_time_zone()
            .null(),
    )
    .col(
        ColumnDef::new(Transacciones::WebhookReceivedAt)
            .timestamp_with_time_zone()
            .null(),
    )
    .foreign_key(
        ForeignKey::create()
            .name("fk_transacciones_empresa")
            .from(Transacciones::Table, Transacciones::EmpresaId)
            .to(Empresas::Table, Empresas::Id)
            .on_delete(ForeignKeyAction::NoAction)
            .on_update(ForeignKeyAction::NoAction),
    );
}
