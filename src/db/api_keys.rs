//! `api_keys`: the tracking rows of routers' portal API keys (the key itself is never stored,
//! only its hash).

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, Set,
};

use entity::api_key::{ActiveModel, Column, Entity, Model};

use crate::auth::api_key::IssuedKey;
use crate::error::{ApiError, ApiResult, Problem};
use crate::ids::{EmpresaId, RouterId};

/// A key's tracking row.
pub type ApiKey = Model;

/// Stores the tracking row of a key issued for `router` of `empresa`.
pub async fn insert<C: ConnectionTrait>(
    db: &C,
    empresa: EmpresaId<'_>,
    router: RouterId<'_>,
    key: &IssuedKey,
) -> Result<Model, DbErr> {
    ActiveModel {
        key_id: Set(key.key_id.clone()),
        empresa_id: Set(empresa.as_str().to_string()),
        router_id: Set(router.as_str().to_string()),
        key_hash: Set(key.key_hash.clone()),
        issued_at: Set(key.issued_at),
        expires_at: Set(key.expires_at),
        revoked: Set(false),
        revoked_at: Set(None),
        last_used: Set(None),
        use_count: Set(0),
    }
    .insert(db)
    .await
}

/// The unrevoked key with this hash.
pub async fn find_active_by_hash<C: ConnectionTrait>(
    db: &C,
    hash: &str,
) -> Result<Option<Model>, DbErr> {
    Entity::find()
        .filter(Column::KeyHash.eq(hash))
        .filter(Column::Revoked.eq(false))
        .one(db)
        .await
}

/// The router's keys, newest first.
pub async fn list_for_router<C: ConnectionTrait>(
    db: &C,
    router: RouterId<'_>,
) -> Result<Vec<Model>, DbErr> {
    Entity::find()
        .filter(Column::RouterId.eq(router.as_str()))
        .order_by_desc(Column::IssuedAt)
        .order_by_desc(Column::KeyId)
        .all(db)
        .await
}

/// The router's newest unrevoked key.
pub async fn newest_active<C: ConnectionTrait>(
    db: &C,
    router: RouterId<'_>,
) -> Result<Option<Model>, DbErr> {
    Entity::find()
        .filter(Column::RouterId.eq(router.as_str()))
        .filter(Column::Revoked.eq(false))
        .order_by_desc(Column::IssuedAt)
        .order_by_desc(Column::KeyId)
        .one(db)
        .await
}

/// The router's key `key_id`, or 404 `"API Key no encontrada"`.
pub async fn get_for_router<C: ConnectionTrait>(
    db: &C,
    router: RouterId<'_>,
    key_id: &str,
) -> ApiResult<Model> {
    Entity::find_by_id(key_id.to_string())
        .filter(Column::RouterId.eq(router.as_str()))
        .one(db)
        .await?
        .ok_or_else(|| ApiError::from(Problem::ApiKeyNotFound))
}

/// Revokes one key unless it is revoked already; whether this call revoked it.
pub async fn revoke<C: ConnectionTrait>(
    db: &C,
    key_id: &str,
    at: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let res = Entity::update_many()
        .col_expr(Column::Revoked, Expr::value(true))
        .col_expr(Column::RevokedAt, Expr::value(at))
        .filter(Column::KeyId.eq(key_id))
        .filter(Column::Revoked.eq(false))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Revokes every unrevoked key of the router; how many.
pub async fn revoke_all_for_router<C: ConnectionTrait>(
    db: &C,
    router: RouterId<'_>,
    at: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let res = Entity::update_many()
        .col_expr(Column::Revoked, Expr::value(true))
        .col_expr(Column::RevokedAt, Expr::value(at))
        .filter(Column::RouterId.eq(router.as_str()))
        .filter(Column::Revoked.eq(false))
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}

/// Deletes every key row of the router; how many.
pub async fn delete_for_router<C: ConnectionTrait>(
    db: &C,
    router: RouterId<'_>,
) -> Result<u64, DbErr> {
    let res = Entity::delete_many()
        .filter(Column::RouterId.eq(router.as_str()))
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}

/// How many of the company's keys are unrevoked and unexpired.
pub async fn count_usable<C: ConnectionTrait>(
    db: &C,
    empresa: EmpresaId<'_>,
) -> Result<u64, DbErr> {
    Entity::find()
        .filter(Column::EmpresaId.eq(empresa.as_str()))
        .filter(Column::Revoked.eq(false))
        .filter(Column::ExpiresAt.gt(Utc::now()))
        .count(db)
        .await
}

/// Adds `count` uses to the key and sets its `last_used`.
pub async fn add_uses<C: ConnectionTrait>(
    db: &C,
    key_id: &str,
    count: i64,
    last: DateTime<Utc>,
) -> Result<(), DbErr> {
    Entity::update_many()
        .col_expr(Column::UseCount, Expr::col(Column::UseCount).add(count))
        .col_expr(Column::LastUsed, Expr::value(last))
        .filter(Column::KeyId.eq(key_id))
        .exec(db)
        .await?;
    Ok(())
}

/// `(key_id, empresa_id, key_hash, revoked)` of every key (the importer's "already there"
/// check).
pub async fn owners<C: ConnectionTrait>(
    db: &C,
) -> Result<Vec<(String, String, String, bool)>, DbErr> {
    let cols = [
        Column::KeyId,
        Column::EmpresaId,
        Column::KeyHash,
        Column::Revoked,
    ];
    super::column_tuples::<_, Entity, _>(db, cols).await
}

/// Inserts key tracking rows exactly as given (the same key ids and hashes).
pub async fn insert_imported<C: ConnectionTrait>(db: &C, rows: Vec<Model>) -> Result<(), DbErr> {
    super::insert_all(db, rows.into_iter().map(ActiveModel::from).collect()).await
}
