//! Database connection and migrations (SQLite by default, PostgreSQL in production).

pub mod api_keys;
pub mod audit;
pub mod empresas;
pub mod productos;
pub mod purchases;
pub mod routers;
pub mod testing;
pub mod transacciones;
pub mod usuarios;
pub mod webhook_events;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
};
use sea_orm::sqlx::ConnectOptions as _;
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr, SqlxSqliteConnector};

/// How long a SQLite connection waits for a lock held by another connection.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// Connections in a file-backed SQLite pool (WAL: many readers, one writer at a time).
const SQLITE_MAX_CONNECTIONS: u32 = 8;
/// Connections in a PostgreSQL pool (per replica).
const PG_MAX_CONNECTIONS: u32 = 20;
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Whether `url` points at SQLite (`sqlite:…`).
pub fn is_sqlite_url(url: &str) -> bool {
    url.starts_with("sqlite:")
}

fn is_sqlite_memory(url: &str) -> bool {
    url.contains(":memory:") || url.contains("mode=memory")
}

/// Open a connection pool.
///
/// SQLite (`sqlite://path/to/file.db`, `sqlite:relative.db`, `sqlite::memory:`): the parent
/// directory and the file are created when missing, and every connection runs with
/// `foreign_keys=ON`, WAL journaling, `synchronous=NORMAL` and a busy timeout. An in-memory
/// database uses a single connection that is never recycled (each connection would otherwise
/// see its own empty database).
///
/// Anything else is handed to sea-orm (PostgreSQL: `postgres://user:pass@host:port/db`).
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    if is_sqlite_url(url) {
        connect_sqlite(url).await
    } else {
        let mut opts = ConnectOptions::new(url);
        opts.max_connections(PG_MAX_CONNECTIONS)
            .min_connections(1)
            .connect_timeout(CONNECT_TIMEOUT)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .sqlx_logging(false);
        Database::connect(opts).await
    }
}

async fn connect_sqlite(url: &str) -> Result<DatabaseConnection, DbErr> {
    let conn_err = |e: sea_orm::sqlx::Error| DbErr::Custom(format!("sqlite connect: {e}"));
    let memory = is_sqlite_memory(url);
    let mut opts = SqliteConnectOptions::from_str(url)
        .map_err(conn_err)?
        .create_if_missing(true)
        .foreign_keys(true)
        .busy_timeout(SQLITE_BUSY_TIMEOUT)
        .disable_statement_logging();
    if !memory {
        create_parent_dir(opts.get_filename())?;
        opts = opts
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal);
    }
    let pool_opts = if memory {
        SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
    } else {
        SqlitePoolOptions::new()
            .max_connections(SQLITE_MAX_CONNECTIONS)
            .min_connections(1)
    };
    // No ping on every acquire: a SQLite connection is a local file handle that cannot die
    // silently, and each ping is one more hop to the connection's worker thread (as costly as
    // a statement).
    let pool = pool_opts
        .test_before_acquire(false)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_with(opts)
        .await
        .map_err(conn_err)?;
    Ok(SqlxSqliteConnector::from_sqlx_sqlite_pool(pool))
}

fn create_parent_dir(file: &Path) -> Result<(), DbErr> {
    match file.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => std::fs::create_dir_all(dir).map_err(|e| {
            DbErr::Custom(format!(
                "cannot create database directory {}: {e}",
                dir.display()
            ))
        }),
        _ => Ok(()),
    }
}

/// Sets an active-model column when a patch carries a value for it.
pub(crate) fn set<T: Into<sea_orm::Value>>(col: &mut sea_orm::ActiveValue<T>, v: Option<T>) {
    if let Some(v) = v {
        *col = sea_orm::ActiveValue::Set(v);
    }
}

/// Apply every pending migration.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// Begins a transaction that is going to write. On SQLite it takes the write lock at once: a
/// deferred transaction that reads first and writes later fails with "database is locked"
/// (`SQLITE_BUSY_SNAPSHOT`, not retried by the busy timeout) whenever another connection
/// committed in between. Keep these transactions short (no password hashing inside).
pub async fn begin_write(
    db: &sea_orm::DatabaseConnection,
) -> Result<sea_orm::DatabaseTransaction, sea_orm::DbErr> {
    use sea_orm::{ConnectionTrait, TransactionTrait};
    #[allow(clippy::disallowed_methods)] // the one place a transaction is begun
    let txn = db.begin().await?;
    if db.get_database_backend() == sea_orm::DbBackend::Sqlite {
        // A no-op UPDATE still opens a write transaction.
        txn.execute_unprepared("UPDATE empresas SET id = id WHERE 1 = 0")
            .await?;
    }
    Ok(txn)
}

/// Rows per multi-row `INSERT` when rows are copied in bulk (well under SQLite's and
/// PostgreSQL's bound-parameter limits for the widest table).
const INSERT_CHUNK: usize = 100;

/// Inserts rows exactly as given (explicit ids included), in multi-row statements. For copying
/// rows from elsewhere (the importer), not for the service's own writes.
pub(crate) async fn insert_all<C, A>(db: &C, rows: Vec<A>) -> Result<(), DbErr>
where
    C: sea_orm::ConnectionTrait,
    A: sea_orm::ActiveModelTrait + Send,
    <A::Entity as sea_orm::EntityTrait>::Model: sea_orm::IntoActiveModel<A>,
{
    use sea_orm::EntityTrait;
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<A> = rows.by_ref().take(INSERT_CHUNK).collect();
        <A::Entity as EntityTrait>::insert_many(chunk)
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// The given columns of every row of `E`, as tuples (the importer's view of what is there).
pub(crate) async fn column_tuples<C, E, T>(
    db: &C,
    cols: impl IntoIterator<Item = E::Column>,
) -> Result<Vec<T>, DbErr>
where
    C: sea_orm::ConnectionTrait,
    E: sea_orm::EntityTrait,
    T: sea_orm::TryGetableMany,
{
    use sea_orm::QuerySelect;
    E::find()
        .select_only()
        .columns(cols)
        .into_tuple()
        .all(db)
        .await
}

/// Tables whose integer ids come from a sequence on PostgreSQL.
pub const SERIAL_TABLES: [&str; 3] = ["usuarios", "productos", "transacciones"];

/// After rows were inserted with explicit ids: moves each PostgreSQL id sequence of
/// [`SERIAL_TABLES`] past the largest id in its table, so the next row the service creates does
/// not collide. SQLite needs nothing (its `AUTOINCREMENT` counter follows explicit ids).
pub async fn move_sequences_past_ids<C: sea_orm::ConnectionTrait>(db: &C) -> Result<(), DbErr> {
    if db.get_database_backend() != sea_orm::DbBackend::Postgres {
        return Ok(());
    }
    for table in SERIAL_TABLES {
        db.execute_unprepared(&format!(
            "SELECT setval(pg_get_serial_sequence('{table}', 'id'), \
             (SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), false)"
        ))
        .await?;
    }
    Ok(())
}
