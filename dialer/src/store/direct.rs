//! The store as the dialer's runtime uses it: SQLite through an in-process connection on the
//! runtime's own thread, PostgreSQL through sqlx.
//!
//! Why not sqlx for SQLite here too: sqlx runs each SQLite connection on a worker thread and
//! hands every statement over and back, which costs 100-300 microseconds a statement on this
//! kind of machine (measured: an autocommit UPDATE took 134 us through sqlx and a transaction
//! of three updates 4.4 us through rusqlite). The runtime commits before every bridge and
//! journals every call step, and the simulator runs a day of 500 agents in seconds, so it
//! talks to SQLite directly. Both backends run the same [`Statement`]s.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::types::{ToSqlOutput, ValueRef};
use sqlx::postgres::PgRow;
use sqlx::{PgPool, Postgres, Row};

use super::Db;
use super::sql::{Kind, Param, Statement, Value, sqlite_time};

/// Why a runtime statement failed.
#[derive(Debug, thiserror::Error)]
pub enum DirectError {
    /// SQLite refused or failed.
    #[error("SQLite ({path}): {source}")]
    Sqlite {
        /// The database file.
        path: String,
        /// The failure.
        source: rusqlite::Error,
    },
    /// PostgreSQL refused or failed.
    #[error(transparent)]
    Postgres(#[from] sqlx::Error),
    /// An in-memory SQLite store cannot be shared with a second connection.
    #[error("the dialer runtime needs a SQLite file or a PostgreSQL server, not an in-memory database")]
    InMemory,
}

/// A runtime connection to the store.
pub enum DirectDb {
    /// An in-process SQLite connection to the store's file.
    Sqlite {
        /// The connection, shared with the runtime's journal writer (see
        /// [`DirectDb::shared`]): one connection keeps one page cache, where a second one
        /// would find its cache stale after each commit of the other.
        conn: Arc<Mutex<rusqlite::Connection>>,
        /// Its file, for messages.
        path: PathBuf,
    },
    /// The PostgreSQL pool.
    Postgres(PgPool),
}

impl std::fmt::Debug for DirectDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DirectDb::Sqlite { path, .. } => write!(f, "DirectDb::Sqlite({})", path.display()),
            DirectDb::Postgres(_) => f.write_str("DirectDb::Postgres"),
        }
    }
}

impl DirectDb {
    /// Opens a runtime connection to the same store as `db` (already migrated).
    pub fn open(db: &Db) -> Result<Self, DirectError> {
        match db {
            Db::Postgres(pool) => Ok(DirectDb::Postgres(pool.clone())),
            Db::Sqlite(pool) => {
                let options = pool.connect_options();
                let path = options.get_filename().to_path_buf();
                let name = path.to_string_lossy();
                if name.is_empty() || name.contains(":memory:") {
                    return Err(DirectError::InMemory);
                }
                let conn = open_sqlite(&path).map_err(|source| DirectError::Sqlite {
                    path: path.display().to_string(),
                    source,
                })?;
                Ok(DirectDb::Sqlite {
                    conn: Arc::new(Mutex::new(conn)),
                    path,
                })
            }
        }
    }

    /// Another handle on the same SQLite connection, for a thread that commits beside the
    /// runtime (each transaction holds the connection, so the two take turns); on PostgreSQL
    /// the same pool.
    pub fn shared(&self) -> Self {
        match self {
            DirectDb::Sqlite { conn, path } => DirectDb::Sqlite {
                conn: conn.clone(),
                path: path.clone(),
            },
            DirectDb::Postgres(pool) => DirectDb::Postgres(pool.clone()),
        }
    }

    /// Begins a write transaction (on SQLite it takes the write lock at once).
    pub async fn begin(&mut self) -> Result<DirectTx<'_>, DirectError> {
        self.begin_with("BEGIN IMMEDIATE").await
    }

    /// Begins a transaction for reading (on SQLite it takes no write lock and writes nothing
    /// at commit).
    pub async fn begin_read(&mut self) -> Result<DirectTx<'_>, DirectError> {
        self.begin_with("BEGIN DEFERRED").await
    }

    async fn begin_with(&mut self, begin: &str) -> Result<DirectTx<'_>, DirectError> {
        match self {
            DirectDb::Sqlite { conn, path } => {
                // A thread that panicked mid-transaction rolled it back as it unwound.
                let conn = conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                conn.prepare_cached(begin)
                    .and_then(|mut statement| statement.raw_execute())
                    .map_err(|source| DirectError::Sqlite {
                        path: path.display().to_string(),
                        source,
                    })?;
                Ok(DirectTx::Sqlite(SqliteTx { conn, path, open: true }))
            }
            DirectDb::Postgres(pool) => Ok(DirectTx::Postgres(pool.begin().await?)),
        }
    }
}

fn open_sqlite(path: &Path) -> rusqlite::Result<rusqlite::Connection> {
    let conn = rusqlite::Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(30))?;
    // The same settings as the sqlx pool (see `Db::connect`).
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;
         PRAGMA temp_store = MEMORY;",
    )?;
    // The runtime commits small transactions often. SQLite sweeps its page cache at each
    // commit, so a cache of 8 MiB beats a large one here; and a WAL of up to 10,000 pages
    // before a checkpoint writes hot pages (queue indexes, agent states) back once per
    // checkpoint instead of once per thousand pages.
    conn.execute_batch("PRAGMA cache_size = -8192; PRAGMA wal_autocheckpoint = 10000;")?;
    // Statistics for tables that lack them (a sample generated or imported since): without
    // them SQLite picks the queue index over the assignment indexes for agents' records.
    conn.execute_batch("PRAGMA optimize = 0x10002;")?;
    // One plan per statement whatever values are bound: otherwise SQLite compiles a
    // statement again whenever a bound value its plan looked at changes (a value matched
    // against a partial index's condition, a histogram sample), which the hot loop's
    // statements did thousands of times an hour.
    conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    // Room for every statement of the hot loop, including the do-not-call and reservation
    // statements prepared per list length.
    conn.set_prepared_statement_cache_capacity(512);
    Ok(conn)
}

/// An open write transaction; dropped without [`DirectTx::commit`], it rolls back.
pub enum DirectTx<'a> {
    /// On SQLite.
    Sqlite(SqliteTx<'a>),
    /// On PostgreSQL.
    Postgres(sqlx::Transaction<'static, Postgres>),
}

/// An open SQLite transaction on the runtime's connection, which it holds until it ends.
pub struct SqliteTx<'a> {
    conn: MutexGuard<'a, rusqlite::Connection>,
    path: &'a Path,
    open: bool,
}

impl SqliteTx<'_> {
    fn fail(&self, source: rusqlite::Error) -> DirectError {
        DirectError::Sqlite {
            path: self.path.display().to_string(),
            source,
        }
    }
}

impl DirectTx<'_> {
    /// Runs a statement; returns the rows it changed.
    pub async fn execute(&mut self, statement: &Statement) -> Result<u64, DirectError> {
        match self {
            DirectTx::Sqlite(tx) => sqlite_execute(&tx.conn, statement).map_err(|e| tx.fail(e)),
            DirectTx::Postgres(tx) => Ok(pg_query(statement).execute(&mut **tx).await?.rows_affected()),
        }
    }

    /// Runs a query; each row's columns are read as `kinds` says.
    pub async fn query(&mut self, statement: &Statement, kinds: &[Kind]) -> Result<Vec<Vec<Value>>, DirectError> {
        match self {
            DirectTx::Sqlite(tx) => sqlite_query(&tx.conn, statement, kinds.len()).map_err(|e| tx.fail(e)),
            DirectTx::Postgres(tx) => {
                let rows = pg_query(statement).fetch_all(&mut **tx).await?;
                rows.iter().map(|row| pg_row(row, kinds)).collect()
            }
        }
    }

    /// Makes everything done in the transaction durable.
    pub async fn commit(self) -> Result<(), DirectError> {
        match self {
            DirectTx::Sqlite(mut tx) => {
                // On failure the transaction is still open, and dropping `tx` rolls it back.
                tx.conn
                    .prepare_cached("COMMIT")
                    .and_then(|mut statement| statement.raw_execute())
                    .map_err(|e| tx.fail(e))?;
                tx.open = false;
                Ok(())
            }
            DirectTx::Postgres(tx) => Ok(tx.commit().await?),
        }
    }
}

impl Drop for SqliteTx<'_> {
    fn drop(&mut self) {
        if self.open {
            // A failed statement or an early return: undo everything, as sqlx does.
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }
}

impl rusqlite::ToSql for Param {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Param::Null(_) => ToSqlOutput::Borrowed(ValueRef::Null),
            Param::Int(v) => ToSqlOutput::Owned(rusqlite::types::Value::Integer(*v)),
            Param::Real(v) => ToSqlOutput::Owned(rusqlite::types::Value::Real(*v)),
            Param::Text(v) | Param::Json(v) => ToSqlOutput::Borrowed(ValueRef::Text(v.as_bytes())),
            Param::Bool(v) => ToSqlOutput::Owned(rusqlite::types::Value::Integer(i64::from(*v))),
            Param::Time(v) => ToSqlOutput::Owned(rusqlite::types::Value::Text(sqlite_time(*v))),
        })
    }
}

/// Binds `$1`... by name: SQLite numbers named parameters in order of first appearance,
/// which need not be `$1` first.
fn sqlite_bind(statement: &mut rusqlite::CachedStatement<'_>, params: &[Param]) -> rusqlite::Result<()> {
    for (i, param) in params.iter().enumerate() {
        let name = format!("${}", i + 1);
        let Some(index) = statement.parameter_index(&name)? else {
            return Err(rusqlite::Error::InvalidParameterName(name));
        };
        statement.raw_bind_parameter(index, param)?;
    }
    Ok(())
}

fn sqlite_execute(conn: &rusqlite::Connection, statement: &Statement) -> rusqlite::Result<u64> {
    let mut prepared = conn.prepare_cached(&statement.sql)?;
    sqlite_bind(&mut prepared, &statement.params)?;
    Ok(prepared.raw_execute()? as u64)
}

fn sqlite_query(
    conn: &rusqlite::Connection,
    statement: &Statement,
    columns: usize,
) -> rusqlite::Result<Vec<Vec<Value>>> {
    let mut prepared = conn.prepare_cached(&statement.sql)?;
    sqlite_bind(&mut prepared, &statement.params)?;
    let mut rows = prepared.raw_query();
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let mut values = Vec::with_capacity(columns);
        for i in 0..columns {
            values.push(match row.get_ref(i)? {
                ValueRef::Null => Value::Null,
                ValueRef::Integer(v) => Value::Int(v),
                ValueRef::Real(v) => Value::Real(v),
                ValueRef::Text(v) | ValueRef::Blob(v) => Value::Text(String::from_utf8_lossy(v).into_owned()),
            });
        }
        out.push(values);
    }
    Ok(out)
}

fn pg_query(statement: &Statement) -> sqlx::query::Query<'_, Postgres, sqlx::postgres::PgArguments> {
    let mut query = sqlx::query(sqlx::AssertSqlSafe(statement.sql.as_ref()));
    for param in &statement.params {
        query = match param {
            Param::Null(Kind::Int) => query.bind(None::<i64>),
            Param::Null(Kind::Real) => query.bind(None::<f64>),
            Param::Null(Kind::Text) => query.bind(None::<String>),
            Param::Null(Kind::Bool) => query.bind(None::<bool>),
            Param::Null(Kind::Time) => query.bind(None::<chrono::DateTime<chrono::Utc>>),
            Param::Null(Kind::Json) => query.bind(None::<sqlx::types::Json<serde_json::Value>>),
            Param::Int(v) => query.bind(*v),
            Param::Real(v) => query.bind(*v),
            Param::Text(v) => query.bind(v.as_str()),
            Param::Bool(v) => query.bind(*v),
            Param::Time(v) => query.bind(*v),
            Param::Json(v) => query.bind(sqlx::types::Json(
                serde_json::from_str::<serde_json::Value>(v).unwrap_or(serde_json::Value::Null),
            )),
        };
    }
    query
}

fn pg_row(row: &PgRow, kinds: &[Kind]) -> Result<Vec<Value>, DirectError> {
    kinds
        .iter()
        .enumerate()
        .map(|(i, kind)| {
            Ok(match kind {
                Kind::Int => row.try_get::<Option<i64>, _>(i)?.map_or(Value::Null, Value::Int),
                Kind::Real => row.try_get::<Option<f64>, _>(i)?.map_or(Value::Null, Value::Real),
                Kind::Text => row.try_get::<Option<String>, _>(i)?.map_or(Value::Null, Value::Text),
                Kind::Bool => row.try_get::<Option<bool>, _>(i)?.map_or(Value::Null, Value::Bool),
                Kind::Time => row
                    .try_get::<Option<chrono::DateTime<chrono::Utc>>, _>(i)?
                    .map_or(Value::Null, Value::Time),
                Kind::Json => row
                    .try_get::<Option<serde_json::Value>, _>(i)?
                    .map_or(Value::Null, |v| Value::Text(v.to_string())),
            })
        })
        .collect()
}
