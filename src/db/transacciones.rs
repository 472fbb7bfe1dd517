//! `transacciones`: the original's payment records, one per purchase, read by the company
//! admin's reports (the saga writes them through [`crate::purchase::store`]).

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use entity::transaccion::{Column, Entity, Model};

use crate::ids::EmpresaId;

/// A transaction row.
pub type Transaccion = Model;

/// Filters of the company's transaction list.
#[derive(Debug, Clone, Default)]
pub struct TxFilter<'a> {
    /// `creada_en >= desde`.
    pub desde: Option<DateTime<Utc>>,
    /// `creada_en < hasta`.
    pub hasta: Option<DateTime<Utc>>,
    /// Exact `estado_pago`.
    pub estado: Option<&'a str>,
}

/// One page of the company's transactions, newest first, and how many match in all.
pub async fn page<C: ConnectionTrait>(
    db: &C,
    empresa: EmpresaId<'_>,
    filter: &TxFilter<'_>,
    limit: u64,
    offset: u64,
) -> Result<(u64, Vec<Model>), DbErr> {
    let mut select = Entity::find().filter(Column::EmpresaId.eq(empresa.as_str()));
    if let Some(d) = filter.desde {
        select = select.filter(Column::CreadaEn.gte(d));
    }
    if let Some(h) = filter.hasta {
        select = select.filter(Column::CreadaEn.lt(h));
    }
    if let Some(estado) = filter.estado {
        select = select.filter(Column::EstadoPago.eq(estado));
    }
    let total = select.clone().count(db).await?;
    let rows = select
        .order_by_desc(Column::CreadaEn)
        .order_by_desc(Column::Id)
        .limit(limit)
        .offset(offset)
        .all(db)
        .await?;
    Ok((total, rows))
}

/// Amount and payment state of every transaction of the company (money is summed in Rust:
/// SQLite stores `numeric` as REAL).
pub async fn amounts<C: ConnectionTrait>(
    db: &C,
    empresa: EmpresaId<'_>,
) -> Result<Vec<(Decimal, String)>, DbErr> {
    Entity::find()
        .select_only()
        .column(Column::Monto)
        .column(Column::EstadoPago)
        .filter(Column::EmpresaId.eq(empresa.as_str()))
        .into_tuple()
        .all(db)
        .await
}

/// How many transactions the company has.
pub async fn count<C: ConnectionTrait>(db: &C, empresa: EmpresaId<'_>) -> Result<u64, DbErr> {
    Entity::find()
        .filter(Column::EmpresaId.eq(empresa.as_str()))
        .count(db)
        .await
}

/// The company's transaction with this external reference.
pub async fn find_by_reference<C: ConnectionTrait>(
    db: &C,
    empresa: EmpresaId<'_>,
    external_reference: &str,
) -> Result<Option<Model>, DbErr> {
    Entity::find()
        .filter(Column::ExternalReference.eq(external_reference))
        .filter(Column::EmpresaId.eq(empresa.as_str()))
        .one(db)
        .await
}
