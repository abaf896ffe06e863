//! Storage: one [`Db`] handle over either backend, and the migrations that shape it.
//!
//! The default backend is a SQLite file in WAL mode, created and migrated on first use;
//! PostgreSQL serves several dialer nodes sharing one store. Queries are written once, in the
//! SQL both backends accept (`$1` placeholders, `RETURNING`, `ON CONFLICT`), and run on either
//! pool through [`with_db!`](crate::with_db). SQL that only one backend speaks stays in this
//! module (see [`WriteTx`]).

pub mod direct;
pub mod sql;
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
            .pragma("cache_size", "-65536")
            // Statement journals (kept while a multi-row statement may still fail) stay in memory.
            .pragma("temp_store", "memory");
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

    /// Refreshes the query planner's statistics after a bulk change (a sample import), so
    /// that the dialer's selections use the indexes that suit the data (on SQLite the
    /// planner otherwise cannot tell that few records are assigned to agents).
    pub async fn refresh_statistics(&self) -> Result<(), sqlx::Error> {
        match self {
            Db::Sqlite(pool) => sqlx::query("PRAGMA optimize").execute(pool).await.map(drop),
            Db::Postgres(pool) => sqlx::query("ANALYZE records, record_phones")
                .execute(pool)
                .await
                .map(drop),
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

/// The SQL that differs between the backends, kept here in one place.
pub mod dialect {
    use super::Backend;

    /// Locks a campaign's row until the transaction ends, keeping other writers of the same
    /// campaign waiting (PostgreSQL); `None` for SQLite, whose write transaction already
    /// excludes every other writer. Binds the campaign id as `$1`.
    pub fn lock_campaign(backend: Backend) -> Option<&'static str> {
        match backend {
            Backend::Sqlite => None,
            Backend::Postgres => Some("SELECT id FROM campaigns WHERE id = $1 FOR UPDATE"),
        }
    }

    /// The highest id of a table, to count new ids from while holding SQLite's write lock;
    /// `None` for PostgreSQL, which hands out ids from the table's sequence instead.
    pub fn max_id(backend: Backend, table: &'static str) -> Option<&'static str> {
        match (backend, table) {
            (Backend::Sqlite, "records") => Some("SELECT COALESCE(MAX(id), 0) FROM records"),
            _ => None,
        }
    }

    /// Inserts records from a JSON array (`$1`: `[n, key, source_row, tz, tz_source, fields]`
    /// each) into campaign `$2` for import `$3` at `$4` with status `$5` and ids from `$6`, made by
    /// [`ids_param`].
    pub fn insert_records_from_json(backend: Backend) -> &'static str {
        match backend {
            Backend::Sqlite => {
                "INSERT OR ROLLBACK INTO records (id, campaign_id, dedupe_key, import_id, source_row, status, priority, time_zone,
                    time_zone_source, fields, created_at, updated_at)
                 SELECT CAST($6 AS INTEGER) + (j.value ->> 0), $2, j.value ->> 1, $3, j.value ->> 2, $5, 0,
                    j.value ->> 3, j.value ->> 4, j.value -> 5, $4, $4
                 FROM jsonb_each($1) AS j"
            }
            Backend::Postgres => {
                "INSERT INTO records (id, campaign_id, dedupe_key, import_id, source_row, status, priority, time_zone,
                    time_zone_source, fields, created_at, updated_at)
                 SELECT ($6::text::bigint[])[(r ->> 0)::int + 1], $2, r ->> 1, $3, (r ->> 2)::bigint, $5, 0, r ->> 3,
                    r ->> 4, r -> 5, $4, $4
                 FROM jsonb_array_elements($1::jsonb) AS r"
            }
        }
    }

    /// Inserts record phones from a JSON array (`$1`: `[n, position, field, e164, number_type,
    /// region]` each), `n` being the record's place in its batch; `$2` the batch's ids as for
    /// [`insert_records_from_json`].
    pub fn insert_phones_from_json(backend: Backend) -> &'static str {
        match backend {
            Backend::Sqlite => {
                "INSERT OR ROLLBACK INTO record_phones (record_id, position, field, e164, number_type, region)
                 SELECT CAST($2 AS INTEGER) + (j.value ->> 0), j.value ->> 1, j.value ->> 2, j.value ->> 3, j.value ->> 4,
                    j.value ->> 5
                 FROM jsonb_each($1) AS j"
            }
            Backend::Postgres => {
                "INSERT INTO record_phones (record_id, position, field, e164, number_type, region)
                 SELECT ($2::text::bigint[])[(p ->> 0)::int + 1], (p ->> 1)::int, p ->> 2, p ->> 3, p ->> 4, p ->> 5
                 FROM jsonb_array_elements($1::jsonb) AS p"
            }
        }
    }

    /// The ids of a batch as one text parameter, the same Rust type for both backends: on
    /// SQLite the first id (record `n` takes first + n, as ids are counted under the write
    /// lock); on PostgreSQL the reserved ids as an array literal.
    pub fn ids_param(backend: Backend, ids: &[i64]) -> String {
        match backend {
            Backend::Sqlite => ids.first().copied().unwrap_or(0).to_string(),
            Backend::Postgres => {
                let listed: Vec<String> = ids.iter().map(i64::to_string).collect();
                format!("{{{}}}", listed.join(","))
            }
        }
    }

    /// Reserves `$1` new ids of a table from its sequence (PostgreSQL); `None` for SQLite.
    pub fn reserve_ids(backend: Backend, table: &'static str) -> Option<&'static str> {
        match (backend, table) {
            (Backend::Postgres, "records") => {
                Some("SELECT nextval(pg_get_serial_sequence('records', 'id')) FROM generate_series(1, $1)")
            }
            _ => None,
        }
    }
}

/// Whether an error is a unique-constraint violation (same meaning on both backends).
pub fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(e) if e.is_unique_violation())
}
