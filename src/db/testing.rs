//! Per-test databases, for this crate's and other crates' integration tests.
//!
//! `fresh_database().await` gives every test its own, migrated database:
//! * with `TEST_DATABASE_URL` set (e.g. `postgres://postgres@127.0.0.1:5432/test`), a new
//!   PostgreSQL database `test_<unix seconds>_<uuid>` created through that server. Databases are
//!   not dropped when the test ends (dropping must not block); instead, the first call in a
//!   process drops `test_*` databases older than an hour, best-effort.
//! * otherwise, a new SQLite file in a temporary directory that lives as long as the
//!   [`TestDb`].
//!
//! These helpers panic on failure: they are test fixtures.
#![allow(clippy::expect_used)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, Statement};

/// Which database engine a [`TestDb`] runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A migrated database owned by one test.
pub struct TestDb {
    pub db: DatabaseConnection,
    /// A URL that [`super::connect`] (or the service's `DATABASE_URL`) accepts for this database.
    pub url: String,
    pub kind: Backend,
    /// Keeps the SQLite file's directory alive.
    _dir: Option<tempfile::TempDir>,
}

impl std::fmt::Debug for TestDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestDb")
            .field("url", &self.url)
            .field("kind", &self.kind)
            .finish()
    }
}

/// Environment variable naming the PostgreSQL server (any existing database on it) to create
/// per-test databases on.
pub const TEST_DATABASE_URL: &str = "TEST_DATABASE_URL";

/// Seconds after which a leftover `test_*` PostgreSQL database is dropped.
const STALE_AFTER_SECS: u64 = 3600;

static CLEANED: AtomicBool = AtomicBool::new(false);

/// A fresh, migrated database for one test (see the module docs).
pub async fn fresh_database() -> TestDb {
    let t = fresh_unmigrated_database().await;
    super::migrate(&t.db)
        .await
        .expect("migrating the test database");
    t
}

/// Like [`fresh_database`] but without running the migrations.
pub async fn fresh_unmigrated_database() -> TestDb {
    match std::env::var(TEST_DATABASE_URL) {
        Ok(admin_url) if !admin_url.trim().is_empty() => fresh_postgres(admin_url.trim()).await,
        _ => fresh_sqlite().await,
    }
}

async fn fresh_sqlite() -> TestDb {
    let dir = tempfile::Builder::new()
        .prefix("pagos-hotspot-test-")
        .tempdir()
        .expect("creating a temp dir for the test database");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display());
    let db = super::connect(&url)
        .await
        .expect("opening the SQLite test database");
    TestDb {
        db,
        url,
        kind: Backend::Sqlite,
        _dir: Some(dir),
    }
}

/// A new, empty (unmigrated) PostgreSQL database `test_<unix seconds>_<uuid>` on the server of
/// `admin_url`, whatever `TEST_DATABASE_URL` says (e.g. a source database for the importer).
pub async fn fresh_postgres(admin_url: &str) -> TestDb {
    let admin = super::connect(admin_url)
        .await
        .expect("connecting to TEST_DATABASE_URL");
    if !CLEANED.swap(true, Ordering::SeqCst) {
        // Best-effort: a failure here must not fail the test.
        let _ = drop_stale_databases(&admin).await;
    }
    let name = format!("test_{}_{}", unix_now(), uuid::Uuid::new_v4().simple());
    admin
        .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
        .await
        .expect("CREATE DATABASE for the test");
    // The pool is closed when `admin` is dropped.
    drop(admin);
    let url = with_database_name(admin_url, &name);
    let db = super::connect(&url)
        .await
        .expect("connecting to the new test database");
    TestDb {
        db,
        url,
        kind: Backend::Postgres,
        _dir: None,
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Drop `test_<unix seconds>_…` databases created more than an hour ago.
async fn drop_stale_databases(admin: &DatabaseConnection) -> Result<(), DbErr> {
    let rows = admin
        .query_all(Statement::from_string(
            admin.get_database_backend(),
            "SELECT datname FROM pg_database WHERE datname LIKE 'test\\_%'",
        ))
        .await?;
    let now = unix_now();
    for row in rows {
        let name: String = row.try_get("", "datname")?;
        let Some(created) = name
            .strip_prefix("test_")
            .and_then(|rest| rest.split('_').next())
            .and_then(|secs| secs.parse::<u64>().ok())
        else {
            continue;
        };
        let is_ours = name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if is_ours && now.saturating_sub(created) > STALE_AFTER_SECS {
            let _ = admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .await;
        }
    }
    Ok(())
}

/// Replace the database name (the URL path) of a PostgreSQL URL, keeping its query string.
fn with_database_name(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let authority_start = base.find("://").map(|i| i + 3).unwrap_or(0);
    let prefix = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{prefix}/{name}?{q}"),
        None => format!("{prefix}/{name}"),
    }
}

#[cfg(test)]
mod tests {
    use super::with_database_name;

    #[test]
    fn replaces_the_database_name() {
        assert_eq!(
            with_database_name("postgres://postgres@127.0.0.1:5432/test", "test_1_ab"),
            "postgres://postgres@127.0.0.1:5432/test_1_ab"
        );
        assert_eq!(
            with_database_name("postgres://u:p@h/db?sslmode=disable", "x"),
            "postgres://u:p@h/x?sslmode=disable"
        );
        assert_eq!(
            with_database_name("postgres://h:5432", "x"),
            "postgres://h:5432/x"
        );
    }
}
