//! Fresh, migrated stores for tests, on the backend the environment asks for.
//!
//! With `PACELINE_TEST_DATABASE_URL=postgres://HOST/DB` every [`TestDb`] is a new database on
//! that server (created from the connection to `DB`, dropped when the `TestDb` is dropped);
//! without it, a SQLite file in a new temporary directory. The same tests thus prove both
//! backends (rule 6 of the house).

use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::Connection;

use super::{Backend, Db};

/// The variable naming the PostgreSQL server to test against.
pub const TEST_DATABASE_URL: &str = "PACELINE_TEST_DATABASE_URL";

/// A fresh store that cleans up after itself.
pub struct TestDb {
    /// The migrated store.
    pub db: Db,
    /// The URL another process (the CLI under test) can open the same store with.
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    Dir(#[allow(dead_code)] tempfile::TempDir),
    PgDatabase { admin_url: String, name: String },
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

impl TestDb {
    /// Creates and migrates a fresh store.
    pub async fn new() -> Self {
        let test = Self::empty().await;
        test.db.migrate().await.expect("migrating the test database");
        test
    }

    /// Creates a fresh store without migrating it.
    pub async fn empty() -> Self {
        match std::env::var(TEST_DATABASE_URL) {
            Ok(admin_url) if !admin_url.is_empty() => Self::postgres(admin_url).await,
            _ => Self::sqlite().await,
        }
    }

    /// The backend the tests run on.
    pub fn backend(&self) -> Backend {
        self.db.backend()
    }

    async fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("creating a temporary directory");
        let path = dir.path().join("paceline.db");
        let url = format!("sqlite://{}", path.display());
        let db = Db::connect(&url).await.expect("opening the SQLite test database");
        Self {
            db,
            url,
            cleanup: Cleanup::Dir(dir),
        }
    }

    async fn postgres(admin_url: String) -> Self {
        let (base, admin_db) = admin_url
            .rsplit_once('/')
            .expect("PACELINE_TEST_DATABASE_URL must end in /DATABASE");
        let admin_db = admin_db.split('?').next().unwrap_or(admin_db);
        let name = format!(
            "{}_t{}_{}",
            admin_db.chars().take(30).collect::<String>(),
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let mut admin = sqlx::PgConnection::connect(&admin_url)
            .await
            .expect("connecting to PACELINE_TEST_DATABASE_URL");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
            .execute(&mut admin)
            .await
            .expect("creating a test database");
        admin.close().await.ok();
        let url = format!("{base}/{name}");
        let db = Db::connect(&url).await.expect("connecting to the test database");
        Self {
            db,
            url,
            cleanup: Cleanup::PgDatabase { admin_url, name },
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Cleanup::PgDatabase { admin_url, name } = &self.cleanup else {
            return;
        };
        let (admin_url, name) = (admin_url.clone(), name.clone());
        // Drop runs outside async; a short-lived runtime on its own thread does the SQL.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
            let Ok(runtime) = runtime else { return };
            runtime.block_on(async {
                if let Ok(mut admin) = sqlx::PgConnection::connect(&admin_url).await {
                    let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
                    let _ = sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut admin).await;
                }
            });
        })
        .join();
    }
}
