//! Storage: one [`Db`] handle over either backend, and the migrations that shape it.
//!
//! The default backend is a SQLite file in WAL mode, created and migrated on first use;
//! PostgreSQL serves several dialer nodes sharing one store. Queries are written once, in the
//! SQL both backends accept (`$1` placeholders, `RETURNING`, `ON CONFLICT`), and run on either
//! pool through [`with_db!`](crate::with_db). SQL that only one backend speaks stays in this
//! module (see [`WriteTx`]).

#[cfg(feature = "testing")]
pub mod testing;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, Postgres, Sqlite, SqlitePool, Transaction};

/// Errors from opening or migrating the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database URL or path could not be understood.
    #[error("cannot use database '{url}': {reason}")]
    BadUrl {
        /// The URL as given.
        url: String,
        /// Why it was refused.
        reason: String,
    },
    /// The database refused a connection or a statement.
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
    /// A migration failed; the database is left at the last migration that succeeded.
    #[error("migrating the database failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// Which backend a [`Db`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// An embedded SQLite file (or memory).
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

/// A connection pool on either backend; cheap to clone.
#[derive(Debug, Clone)]
pub enum Db {
    /// SQLite, the embedded default.
    Sqlite(SqlitePool),
    /// PostgreSQL, for several nodes.
    Postgres(PgPool),
}

/// Runs the same code on whichever pool a [`Db`] holds.
///
/// The body is compiled once per backend, so every query in it must be valid for both, and
/// every bound and decoded type must be supported by both.
#[macro_export]
macro_rules! with_db {
    ($db:expr, |$pool:ident| $body:expr) => {
        match $db {
            $crate::store::Db::Sqlite($pool) => $body,
            $crate::store::Db::Postgres($pool) => $body,
        }
    };
}

impl Db {
    /// Opens (creating if needed) and migrates the store named by `url`.
    ///
    /// `url` is `sqlite://PATH`, `sqlite::memory:`, `postgres://...` / `postgresql://...`,
    /// or a plain file path, which means a SQLite file.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let db = Self::connect(url).await?;
        db.migrate().await?;
        Ok(db)
    }

    /// Connects without migrating.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let bad = |reason: String| StoreError::BadUrl {
            url: url.to_string(),
            reason,
        };
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options = PgConnectOptions::from_str(url).map_err(|e| bad(e.to_string()))?;
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(30))
                .connect_with(options)
                .await?;
            return Ok(Db::Postgres(pool));
        }
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        let options = if url.starts_with("sqlite:") {
            SqliteConnectOptions::from_str(url).map_err(|e| bad(e.to_string()))?
        } else if url.contains("://") {
            return Err(bad("only sqlite:// and postgres:// URLs are supported".into()));
        } else {
            SqliteConnectOptions::new().filename(Path::new(url))
        };
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(30))
            .pragma("cache_size", "-65536");
        // Every connection to ":memory:" is its own database, so a memory store gets one.
        let max = if in_memory { 1 } else { 4 };
        let pool = SqlitePoolOptions::new()
            .max_connections(max)
            .min_connections(if in_memory { 1 } else { 0 })
            .idle_timeout(if in_memory {
                None
            } else {
                Some(Duration::from_secs(600))
            })
            .max_lifetime(if in_memory {
                None
            } else {
                Some(Duration::from_secs(3600))
            })
            .connect_with(options)
            .await?;
        Ok(Db::Sqlite(pool))
    }

    /// Brings the schema up to date; safe to run on every start.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match self {
            Db::Sqlite(pool) => sqlx::migrate!("../migrations/sqlite").run(pool).await?,
            Db::Postgres(pool) => sqlx::migrate!("../migrations/postgres").run(pool).await?,
        }
        Ok(())
    }

    /// The backend this handle talks to.
    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// Closes every connection; pending work finishes first.
    pub async fn close(&self) {
        with_db!(self, |pool| pool.close().await)
    }
}

/// Opening a transaction that will write.
///
/// SQLite's plain `BEGIN` takes the write lock only at the first write, and a transaction that
/// read first may then fail at once with "database is locked"; `BEGIN IMMEDIATE` takes it up
/// front and waits its turn (busy timeout). PostgreSQL's `BEGIN` is right as it is.
pub trait WriteTx {
    /// The backend of the transaction.
    type Database: sqlx::Database;
    /// Begins a transaction that holds the right to write from its first statement.
    fn begin_write(&self) -> impl Future<Output = Result<Transaction<'static, Self::Database>, sqlx::Error>> + Send;
}

impl WriteTx for SqlitePool {
    type Database = Sqlite;
    async fn begin_write(&self) -> Result<Transaction<'static, Sqlite>, sqlx::Error> {
        self.begin_with("BEGIN IMMEDIATE").await
    }
}

impl WriteTx for PgPool {
    type Database = Postgres;
    async fn begin_write(&self) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
        self.begin().await
    }
}

/// Whether an error is a unique-constraint violation (same meaning on both backends).
pub fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(e) if e.is_unique_violation())
}
