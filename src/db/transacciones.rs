//! `transacciones`: the original's payment records, one per purchase, read by the company
//! admin's reports; the saga writes them when a purchase completes, is notified or revoked.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use serde_json::json;

use entity::transaccion::{ActiveModel, Column, Entity, Model};

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
    /// Exact `gateway` (`conekta`, `mercado_pago`).
    pub gateway: Option<&'a str>,
    /// Exact `router_id`.
    pub router_id: Option<&'a str>,
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
    if let Some(gateway) = filter.gateway {
        select = select.filter(Column::Gateway.eq(gateway));
    }
    if let Some(router_id) = filter.router_id {
        select = select.filter(Column::RouterId.eq(router_id));
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

/// One transaction of the day series: when, how much, its state, gateway and router.
pub type SeriesRow = (DateTime<Utc>, Decimal, String, Option<String>, String);

/// The company's transactions created at or after `desde` (for the per-day series).
pub async fn since<C: ConnectionTrait>(
    db: &C,
    empresa: EmpresaId<'_>,
    desde: DateTime<Utc>,
) -> Result<Vec<SeriesRow>, DbErr> {
    Entity::find()
        .select_only()
        .column(Column::CreadaEn)
        .column(Column::Monto)
        .column(Column::EstadoPago)
        .column(Column::Gateway)
        .column(Column::RouterId)
        .filter(Column::EmpresaId.eq(empresa.as_str()))
        .filter(Column::CreadaEn.gte(desde))
        .into_tuple()
        .all(db)
        .await
}

/// Inserts payment records as they are, with new ids (the demo's seeded history).
pub async fn insert_history<C: ConnectionTrait>(db: &C, rows: Vec<Model>) -> Result<(), DbErr> {
    for chunk in rows.chunks(100) {
        let models = chunk.iter().cloned().map(|m| {
            let mut am: ActiveModel = m.into_active_model();
            am.id = sea_orm::ActiveValue::NotSet;
            am
        });
        Entity::insert_many(models).exec(db).await?;
    }
    Ok(())
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

/// What a completed purchase records in its payment history.
#[derive(Debug, Clone, Copy)]
pub struct PaidPurchase<'a> {
    pub purchase: &'a entity::purchase::Model,
    /// The gateway's own status text (`paid`, `approved`).
    pub raw_status: &'a str,
    pub status_detail: Option<&'a str>,
    pub installments: Option<&'a serde_json::Value>,
    /// The API key the portal paid with.
    pub key_id: Option<&'a str>,
    pub paid_at: DateTime<Utc>,
}

/// Inserts the purchase's `transacciones` row once: `purchase_id` is unique, a second insert
/// does nothing (the saga's completion may be retried after a crash).
pub async fn insert_once<C: ConnectionTrait>(db: &C, paid: PaidPurchase<'_>) -> Result<(), DbErr> {
    let p = paid.purchase;
    let is_mp = p.gateway == entity::purchase::GatewayKind::MercadoPago;
    let row = ActiveModel {
        transaccion_id: Set(p.gateway_payment_id.clone()),
        external_reference: Set(is_mp.then(|| p.id.clone())),
        empresa_id: Set(p.empresa_id.clone()),
        router_id: Set(p.router_id.clone()),
        producto_id: Set(Some(p.producto_id)),
        purchase_id: Set(Some(p.id.clone())),
        gateway: Set(Some(p.gateway.as_str().to_string())),
        monto: Set(p.amount),
        moneda: Set(p.currency.clone()),
        cliente_nombre: Set(Some(p.customer_name.clone())),
        cliente_email: Set(Some(p.customer_email.clone())),
        cliente_telefono: Set(p.customer_phone.clone()),
        usuario_hotspot: Set(p.hotspot_username.clone()),
        password_hotspot: Set(p.hotspot_password.clone()),
        expiracion_hotspot: Set(p.expires_at),
        estado_pago: Set(paid.raw_status.chars().take(20).collect()),
        estado_hotspot: Set("active".into()),
        notification_id: Set(None),
        webhook_processed: Set(false),
        metadata_json: Set(json!({
            "gateway": p.gateway,
            "purchase_id": p.id,
            "status_detail": paid.status_detail,
            "installments": paid.installments,
        })),
        api_key_usada: Set(paid.key_id.map(str::to_string)),
        creada_en: Set(p.created_at),
        pagada_en: Set(Some(paid.paid_at)),
        usuario_creado_en: Set(Some(p.created_at)),
        webhook_received_at: Set(None),
        ..Default::default()
    };
    Entity::insert(row)
        .on_conflict(
            OnConflict::column(Column::PurchaseId)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Keeps the purchase's payment history in step with the gateway after a notification: its
/// status, the refunded amount (when any; a partial refund keeps the access) and when the
/// notification was processed.
pub async fn sync_payment<C: ConnectionTrait>(
    db: &C,
    purchase_id: &str,
    raw_status: &str,
    amount_refunded: Decimal,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    let mut history = Entity::update_many().col_expr(
        Column::EstadoPago,
        Expr::value(raw_status.chars().take(20).collect::<String>()),
    );
    if amount_refunded > Decimal::ZERO {
        history = history.col_expr(
            Column::MontoReembolsado,
            Expr::value(Some(amount_refunded.round_dp(2))),
        );
    }
    history
        .col_expr(Column::WebhookProcessed, Expr::value(true))
        .col_expr(Column::WebhookReceivedAt, Expr::value(Some(at)))
        .filter(Column::PurchaseId.eq(purchase_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Marks the purchase's access as revoked in its payment history.
pub async fn mark_revoked<C: ConnectionTrait>(db: &C, purchase_id: &str) -> Result<(), DbErr> {
    set_hotspot_state(db, purchase_id, "revoked").await
}

/// Writes the purchase's `estado_hotspot`.
async fn set_hotspot_state<C: ConnectionTrait>(
    db: &C,
    purchase_id: &str,
    estado: &'static str,
) -> Result<(), DbErr> {
    Entity::update_many()
        .col_expr(Column::EstadoHotspot, Expr::value(estado))
        .filter(Column::PurchaseId.eq(purchase_id))
        .exec(db)
        .await?;
    Ok(())
}

/// `(id, empresa_id, transaccion_id, external_reference)` of every transaction (the importer's
/// "already there" check; the last two are unique).
pub async fn index<C: ConnectionTrait>(
    db: &C,
) -> Result<Vec<(i32, String, Option<String>, Option<String>)>, DbErr> {
    super::column_tuples::<_, Entity, _>(
        db,
        [
            Column::Id,
            Column::EmpresaId,
            Column::TransaccionId,
            Column::ExternalReference,
        ],
    )
    .await
}

/// Inserts history rows exactly as given (ids kept; hotspot passwords must be ciphertext).
pub async fn insert_imported<C: ConnectionTrait>(db: &C, rows: Vec<Model>) -> Result<(), DbErr> {
    super::insert_all(db, rows.into_iter().map(ActiveModel::from).collect()).await
}

/// Records when the purchase's access ends (a `primer_login` validity, once the first login is
/// seen).
pub async fn set_expiry<C: ConnectionTrait>(
    db: &C,
    purchase_id: &str,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    Entity::update_many()
        .col_expr(Column::ExpiracionHotspot, Expr::value(Some(at)))
        .filter(Column::PurchaseId.eq(purchase_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Marks the purchase's access as expired in its payment history.
pub async fn mark_expired<C: ConnectionTrait>(db: &C, purchase_id: &str) -> Result<(), DbErr> {
    set_hotspot_state(db, purchase_id, "expired").await
}

/// The company's transaction with this `id`.
pub async fn find_owned<C: ConnectionTrait>(
    db: &C,
    empresa: EmpresaId<'_>,
    id: i32,
) -> Result<Option<Model>, DbErr> {
    Entity::find_by_id(id)
        .filter(Column::EmpresaId.eq(empresa.as_str()))
        .one(db)
        .await
}

/// The transaction of this purchase.
pub async fn of_purchase<C: ConnectionTrait>(
    db: &C,
    purchase_id: &str,
) -> Result<Option<Model>, DbErr> {
    Entity::find()
        .filter(Column::PurchaseId.eq(purchase_id))
        .one(db)
        .await
}
