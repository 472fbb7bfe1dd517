//! `purchases` and `idempotency_keys` queries used by the saga, the reconciler and the webhooks.

use chrono::{DateTime, Utc};
use entity::purchase::{GatewayKind, SagaState};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder, QuerySelect, Set, TransactionTrait,
};
use serde_json::Value;

use entity::{idempotency_key, purchase};

/// How long an idempotency record is kept.
pub const IDEMPOTENCY_TTL_HOURS: i64 = 24;

fn chrono_dur(d: std::time::Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

/// Awaits a write whose failure must not stop the caller (the purchase stays where it was and
/// the reconciler retries it): a database error is logged with `what` and the purchase id, and
/// `None` is returned.
pub async fn best_effort<T>(
    what: &str,
    purchase_id: &str,
    write: impl std::future::Future<Output = Result<T, DbErr>>,
) -> Option<T> {
    match write.await {
        Ok(v) => Some(v),
        Err(e) => {
            tracing::warn!(purchase_id, what, error = %e, "purchase write failed; continuing");
            None
        }
    }
}

/// [`note_error`], best effort: the purchase as saved, or as it was if the write failed.
pub async fn retry_later<C: ConnectionTrait>(
    db: &C,
    p: purchase::Model,
    error: &str,
    retry_in: std::time::Duration,
) -> purchase::Model {
    let id = p.id.clone();
    best_effort(
        "note the error",
        &id,
        note_error(db, p.clone(), error, retry_in),
    )
    .await
    .unwrap_or(p)
}

/// [`release_key`], best effort.
pub async fn free_key<C: ConnectionTrait>(db: &C, p: &purchase::Model) {
    best_effort("release the idempotency key", &p.id, release_key(db, p)).await;
}

/// The result of trying to register a new purchase under an idempotency key.
pub enum Registered {
    /// The row was inserted; the caller runs the saga.
    New(Box<purchase::Model>),
    /// Another request holds this key.
    Existing {
        purchase_id: Option<String>,
        request_hash: String,
    },
}

/// Inserts the purchase and its idempotency record in one transaction. A unique violation on
/// either means another request (possibly concurrent) owns the key.
/// Whether a purchase is already registered under this idempotency key (read only).
pub async fn is_registered(
    db: &sea_orm::DatabaseConnection,
    scope: &str,
    key: &str,
) -> Result<bool, DbErr> {
    Ok(
        idempotency_key::Entity::find_by_id((scope.to_string(), key.to_string()))
            .one(db)
            .await?
            .is_some(),
    )
}

pub async fn register(
    db: &sea_orm::DatabaseConnection,
    model: purchase::Model,
    scope: &str,
    key: &str,
    request_hash: &str,
) -> Result<Registered, DbErr> {
    let now = Utc::now();
    // A plain (deferred) transaction is enough here, and saves `begin_write`'s extra statement
    // on every purchase: its first statement already writes, so it never reads a snapshot that
    // another connection's commit could make stale.
    #[allow(clippy::disallowed_methods)]
    let txn = db.begin().await?;
    let rec = idempotency_key::ActiveModel {
        scope: Set(scope.to_string()),
        key: Set(key.to_string()),
        request_hash: Set(request_hash.to_string()),
        purchase_id: Set(Some(model.id.clone())),
        response_status: Set(None),
        response_body: Set(None),
        created_at: Set(now),
        expires_at: Set(now + chrono::Duration::hours(IDEMPOTENCY_TTL_HOURS)),
    };
    let inserted = async {
        idempotency_key::Entity::insert(rec).exec(&txn).await?;
        purchase::Entity::insert(model.clone().into_active_model())
            .exec(&txn)
            .await?;
        Ok::<_, DbErr>(())
    }
    .await;
    match inserted {
        Ok(()) => {
            txn.commit().await?;
            Ok(Registered::New(Box::new(model)))
        }
        Err(e) if crate::error::is_unique_violation(&e) => {
            txn.rollback().await?;
            let existing =
                idempotency_key::Entity::find_by_id((scope.to_string(), key.to_string()))
                    .one(db)
                    .await?;
            match existing {
                Some(r) if r.expires_at < now => {
                    // Expired: forget it and try once more.
                    idempotency_key::Entity::delete_by_id((scope.to_string(), key.to_string()))
                        .exec(db)
                        .await?;
                    release_key_column(db, r.purchase_id.as_deref()).await?;
                    Box::pin(register(db, model, scope, key, request_hash)).await
                }
                Some(r) => Ok(Registered::Existing {
                    purchase_id: r.purchase_id,
                    request_hash: r.request_hash,
                }),
                None => {
                    // The key lives only in `purchases` (its record was released meanwhile): the
                    // purchase that held it keeps it.
                    let p = purchase::Entity::find()
                        .filter(purchase::Column::EmpresaId.eq(model.empresa_id.clone()))
                        .filter(purchase::Column::IdempotencyKey.eq(key))
                        .one(db)
                        .await?;
                    Ok(Registered::Existing {
                        purchase_id: p.map(|p| p.id),
                        request_hash: request_hash.to_string(),
                    })
                }
            }
        }
        Err(e) => Err(e),
    }
}

async fn release_key_column<C: ConnectionTrait>(db: &C, id: Option<&str>) -> Result<(), DbErr> {
    if let Some(id) = id {
        purchase::Entity::update_many()
            .col_expr(
                purchase::Column::IdempotencyKey,
                Expr::value(Option::<String>::None),
            )
            .filter(purchase::Column::Id.eq(id))
            .exec(db)
            .await?;
    }
    Ok(())
}

/// Inserts finished purchases as they are (the demo's seeded history).
pub async fn insert_history<C: ConnectionTrait>(
    db: &C,
    rows: Vec<purchase::Model>,
) -> Result<(), DbErr> {
    for chunk in rows.chunks(100) {
        purchase::Entity::insert_many(
            chunk
                .iter()
                .cloned()
                .map(IntoActiveModel::into_active_model),
        )
        .exec(db)
        .await?;
    }
    Ok(())
}

/// Frees the idempotency key of a purchase that failed before any money moved, so the portal
/// may retry with the same key.
pub async fn release_key<C: ConnectionTrait>(db: &C, p: &purchase::Model) -> Result<(), DbErr> {
    if let Some(key) = &p.idempotency_key {
        idempotency_key::Entity::delete_many()
            .filter(idempotency_key::Column::Scope.eq(scope(&p.empresa_id)))
            .filter(idempotency_key::Column::Key.eq(key.clone()))
            .exec(db)
            .await?;
    }
    release_key_column(db, Some(&p.id)).await
}

/// The idempotency scope of a company.
pub fn scope(empresa_id: &str) -> String {
    format!("purchase:{empresa_id}")
}

pub async fn find<C: ConnectionTrait>(db: &C, id: &str) -> Result<Option<purchase::Model>, DbErr> {
    purchase::Entity::find_by_id(id.to_string()).one(db).await
}

/// Writes the model's changes plus `updated_at`.
pub async fn save<C: ConnectionTrait>(
    db: &C,
    mut am: purchase::ActiveModel,
) -> Result<purchase::Model, DbErr> {
    am.updated_at = Set(Utc::now());
    am.update(db).await
}

/// Moves a purchase to `state`.
pub async fn set_state<C: ConnectionTrait>(
    db: &C,
    p: purchase::Model,
    state: SagaState,
) -> Result<purchase::Model, DbErr> {
    let mut am = p.into_active_model();
    am.state = Set(state);
    save(db, am).await
}

/// Records an error text (never a secret) and schedules the next reconciler attempt.
pub async fn note_error<C: ConnectionTrait>(
    db: &C,
    p: purchase::Model,
    error: &str,
    retry_in: std::time::Duration,
) -> Result<purchase::Model, DbErr> {
    let attempts = p.attempts;
    let mut am = p.into_active_model();
    am.last_error = Set(Some(error.chars().take(500).collect()));
    am.attempts = Set(attempts.saturating_add(1));
    am.next_attempt_at = Set(Some(Utc::now() + chrono_dur(retry_in)));
    save(db, am).await
}

/// Saves the response replayed to retries (the hotspot password is stripped: it is restored from
/// the encrypted column on replay).
pub async fn save_response<C: ConnectionTrait>(
    db: &C,
    p: purchase::Model,
    status: u16,
    body: &Value,
) -> Result<purchase::Model, DbErr> {
    save(db, response_model(p, status, body)).await
}

fn response_model(p: purchase::Model, status: u16, body: &Value) -> purchase::ActiveModel {
    let mut am = p.into_active_model();
    set_response(&mut am, status, body);
    am
}

/// Puts the response replayed to retries into `am` (the hotspot password stripped).
pub fn set_response(am: &mut purchase::ActiveModel, status: u16, body: &Value) {
    let mut stored = body.clone();
    if let Some(u) = stored
        .get_mut("usuario_hotspot")
        .and_then(Value::as_object_mut)
    {
        u.insert("contrasena".into(), Value::String(String::new()));
    }
    am.response_status = Set(Some(i32::from(status)));
    am.response_body = Set(Some(stored));
}

/// [`save_response`] for the saga's last write: it also gives the lease back, in the same
/// statement.
pub async fn finish_response<C: ConnectionTrait>(
    db: &C,
    p: purchase::Model,
    status: u16,
    body: &Value,
) -> Result<purchase::Model, DbErr> {
    let mut am = response_model(p, status, body);
    am.locked_until = Set(None);
    save(db, am).await
}

/// Takes the lease of a purchase: true when this caller now owns it until `now + lease`.
/// A conditional UPDATE, safe with several replicas on PostgreSQL and SQLite.
pub async fn claim<C: ConnectionTrait>(
    db: &C,
    id: &str,
    now: DateTime<Utc>,
    lease: std::time::Duration,
) -> Result<bool, DbErr> {
    lease_until(db, id, now + chrono_dur(lease), unleased(now)).await
}

/// Extends a lease its holder still has (unexpired): true when renewed. A lease that ran out
/// may belong to someone else by now and is left alone.
pub async fn renew_lease<C: ConnectionTrait>(
    db: &C,
    id: &str,
    now: DateTime<Utc>,
    lease: std::time::Duration,
) -> Result<bool, DbErr> {
    let held = purchase::Column::LockedUntil.gte(now);
    lease_until(db, id, now + chrono_dur(lease), held).await
}

/// Sets the purchase's lease to `until` when `condition` holds; whether it did.
async fn lease_until<C: ConnectionTrait>(
    db: &C,
    id: &str,
    until: DateTime<Utc>,
    condition: sea_orm::sea_query::SimpleExpr,
) -> Result<bool, DbErr> {
    let res = purchase::Entity::update_many()
        .col_expr(purchase::Column::LockedUntil, Expr::value(Some(until)))
        .filter(purchase::Column::Id.eq(id))
        .filter(condition)
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Gives the lease back.
pub async fn unlock<C: ConnectionTrait>(db: &C, id: &str) -> Result<(), DbErr> {
    purchase::Entity::update_many()
        .col_expr(
            purchase::Column::LockedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(purchase::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Completed purchases created since `since` (and after `after`, when given), oldest first.
pub async fn completed_since<C: ConnectionTrait>(
    db: &C,
    since: DateTime<Utc>,
    after: Option<DateTime<Utc>>,
    limit: u64,
) -> Result<Vec<purchase::Model>, DbErr> {
    let mut select = purchase::Entity::find()
        .filter(purchase::Column::State.eq(SagaState::Completed))
        .filter(purchase::Column::CreatedAt.gte(since));
    if let Some(a) = after {
        select = select.filter(purchase::Column::CreatedAt.gt(a));
    }
    select
        .order_by_asc(purchase::Column::CreatedAt)
        .order_by_asc(purchase::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// No lease on the purchase, or an expired one.
fn unleased(now: DateTime<Utc>) -> sea_orm::sea_query::SimpleExpr {
    purchase::Column::LockedUntil
        .is_null()
        .or(purchase::Column::LockedUntil.lt(now))
}

/// Purchases in an intermediate state, due for an attempt and not leased.
pub async fn due<C: ConnectionTrait>(
    db: &C,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<purchase::Model>, DbErr> {
    purchase::Entity::find()
        .filter(purchase::Column::State.is_in(SagaState::INTERMEDIATE))
        .filter(
            purchase::Column::NextAttemptAt
                .is_null()
                .or(purchase::Column::NextAttemptAt.lte(now)),
        )
        .filter(unleased(now))
        .order_by_asc(purchase::Column::CreatedAt)
        .limit(limit)
        .all(db)
        .await
}

/// The purchase whose gateway payment this is.
pub async fn by_gateway_payment<C: ConnectionTrait>(
    db: &C,
    empresa_id: &str,
    gateway: GatewayKind,
    payment_id: &str,
) -> Result<Option<purchase::Model>, DbErr> {
    purchase::Entity::find()
        .filter(purchase::Column::EmpresaId.eq(empresa_id))
        .filter(purchase::Column::Gateway.eq(gateway))
        .filter(purchase::Column::GatewayPaymentId.eq(payment_id))
        .one(db)
        .await
}

/// Completed purchases whose access has an end the service enforces (a validity or a budget),
/// not leased, oldest first.
pub async fn watched<C: ConnectionTrait>(
    db: &C,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<purchase::Model>, DbErr> {
    purchase::Entity::find()
        .filter(purchase::Column::State.eq(SagaState::Completed))
        .filter(
            purchase::Column::UsageMinutes
                .is_not_null()
                .or(purchase::Column::ValidityMinutes.is_not_null())
                .or(purchase::Column::DataLimitMb.is_not_null()),
        )
        .filter(unleased(now))
        .order_by_asc(purchase::Column::CreatedAt)
        .limit(limit)
        .all(db)
        .await
}

/// Records when a `primer_login` validity ends (once: only while it is unset).
pub async fn set_expires_at<C: ConnectionTrait>(
    db: &C,
    id: &str,
    at: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let res = purchase::Entity::update_many()
        .col_expr(purchase::Column::ExpiresAt, Expr::value(Some(at)))
        .filter(purchase::Column::Id.eq(id))
        .filter(purchase::Column::ExpiresAt.is_null())
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Moves a completed purchase to `expired` (ended at `at`) and gives its lease back; false when
/// it is no longer `completed` (a refund revoked it meanwhile).
pub async fn mark_expired<C: ConnectionTrait>(
    db: &C,
    id: &str,
    at: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let res = purchase::Entity::update_many()
        .col_expr(
            purchase::Column::State,
            Expr::value(SagaState::Expired.as_str()),
        )
        .col_expr(purchase::Column::EndedAt, Expr::value(Some(at)))
        .col_expr(purchase::Column::UpdatedAt, Expr::value(Utc::now()))
        .col_expr(
            purchase::Column::LockedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(purchase::Column::Id.eq(id))
        .filter(purchase::Column::State.eq(SagaState::Completed))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// The purchases of this router whose hotspot user is one of `names`.
pub async fn of_router_users<C: ConnectionTrait>(
    db: &C,
    router_id: &str,
    names: &[String],
) -> Result<Vec<purchase::Model>, DbErr> {
    if names.is_empty() {
        return Ok(Vec::new());
    }
    purchase::Entity::find()
        .filter(purchase::Column::RouterId.eq(router_id))
        .filter(purchase::Column::HotspotUsername.is_in(names.iter().cloned()))
        .all(db)
        .await
}

/// A request recorded under an `Idempotency-Key` outside the purchase flow (an admin refund).
pub enum KeyRecord {
    /// Recorded now: the caller does the work and saves its answer.
    New,
    /// Recorded before: its request hash and its answer, once saved.
    Existing {
        request_hash: String,
        response: Option<(i32, Value)>,
    },
}

/// Records `key` in `scope` for `purchase_id`, unless it is there already.
pub async fn record_key<C: ConnectionTrait>(
    db: &C,
    scope: &str,
    key: &str,
    request_hash: &str,
    purchase_id: &str,
) -> Result<KeyRecord, DbErr> {
    let now = Utc::now();
    let rec = idempotency_key::ActiveModel {
        scope: Set(scope.to_string()),
        key: Set(key.to_string()),
        request_hash: Set(request_hash.to_string()),
        purchase_id: Set(Some(purchase_id.to_string())),
        response_status: Set(None),
        response_body: Set(None),
        created_at: Set(now),
        expires_at: Set(now + chrono::Duration::hours(IDEMPOTENCY_TTL_HOURS)),
    };
    match idempotency_key::Entity::insert(rec).exec(db).await {
        Ok(_) => Ok(KeyRecord::New),
        Err(e) if crate::error::is_unique_violation(&e) => {
            let r = idempotency_key::Entity::find_by_id((scope.to_string(), key.to_string()))
                .one(db)
                .await?;
            Ok(match r {
                Some(r) => KeyRecord::Existing {
                    request_hash: r.request_hash,
                    response: r.response_status.zip(r.response_body),
                },
                None => KeyRecord::New,
            })
        }
        Err(e) => Err(e),
    }
}

/// Saves the answer replayed for a key [`record_key`] recorded.
pub async fn save_key_response<C: ConnectionTrait>(
    db: &C,
    scope: &str,
    key: &str,
    status: u16,
    body: &Value,
) -> Result<(), DbErr> {
    idempotency_key::Entity::update_many()
        .col_expr(
            idempotency_key::Column::ResponseStatus,
            Expr::value(Some(i32::from(status))),
        )
        .col_expr(
            idempotency_key::Column::ResponseBody,
            Expr::value(Some(body.clone())),
        )
        .filter(idempotency_key::Column::Scope.eq(scope))
        .filter(idempotency_key::Column::Key.eq(key))
        .exec(db)
        .await?;
    Ok(())
}

/// Forgets a key whose request failed before anything moved (the admin may retry with it).
pub async fn forget_key<C: ConnectionTrait>(db: &C, scope: &str, key: &str) -> Result<(), DbErr> {
    idempotency_key::Entity::delete_many()
        .filter(idempotency_key::Column::Scope.eq(scope))
        .filter(idempotency_key::Column::Key.eq(key))
        .exec(db)
        .await?;
    Ok(())
}

/// Records what the router showed the user consumed.
pub async fn set_usage<C: ConnectionTrait>(
    db: &C,
    id: &str,
    uptime_secs: i64,
    bytes: i64,
) -> Result<(), DbErr> {
    purchase::Entity::update_many()
        .col_expr(
            purchase::Column::UptimeUsedSecs,
            Expr::value(Some(uptime_secs)),
        )
        .col_expr(purchase::Column::BytesUsed, Expr::value(Some(bytes)))
        .filter(purchase::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// The purchases of a router in these states, oldest first.
pub async fn of_router_in<C: ConnectionTrait>(
    db: &C,
    router_id: &str,
    states: &[SagaState],
) -> Result<Vec<purchase::Model>, DbErr> {
    purchase::Entity::find()
        .filter(purchase::Column::RouterId.eq(router_id))
        .filter(purchase::Column::State.is_in(states.iter().copied()))
        .order_by_asc(purchase::Column::CreatedAt)
        .all(db)
        .await
}

/// The new `.id` of a purchase's user (re-created on its router).
pub async fn set_router_user_id<C: ConnectionTrait>(
    db: &C,
    id: &str,
    router_user_id: &str,
) -> Result<(), DbErr> {
    purchase::Entity::update_many()
        .col_expr(
            purchase::Column::RouterUserId,
            Expr::value(Some(router_user_id.to_string())),
        )
        .filter(purchase::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// The ids of every purchase made on the router.
pub async fn ids_of_router<C: ConnectionTrait>(
    db: &C,
    router_id: &str,
) -> Result<Vec<String>, DbErr> {
    purchase::Entity::find()
        .select_only()
        .column(purchase::Column::Id)
        .filter(purchase::Column::RouterId.eq(router_id))
        .into_tuple()
        .all(db)
        .await
}

/// The routers that have completed, revoked, refunded or expired purchases.
pub async fn routers_with_purchases<C: ConnectionTrait>(db: &C) -> Result<Vec<String>, DbErr> {
    purchase::Entity::find()
        .select_only()
        .column(purchase::Column::RouterId)
        .distinct()
        .filter(purchase::Column::State.is_in([
            SagaState::Completed,
            SagaState::Revoked,
            SagaState::Refunded,
            SagaState::Expired,
        ]))
        .into_tuple()
        .all(db)
        .await
}
