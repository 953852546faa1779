//! Fresh, isolated databases for tests on both backends: a new SQLite file, or a new
//! PostgreSQL schema on `AS2_TEST_POSTGRES_URL`; dropped when the test ends.

use std::path::PathBuf;

use diesel::Connection;
use diesel::connection::SimpleConnection;
use rand::RngExt;

use crate::db::{Database, PoolOptions};
use crate::secrets::{MasterKey, SecretBox};
use crate::store::Store;

/// The environment variable naming the PostgreSQL server tests use.
pub const POSTGRES_URL_VAR: &str = "AS2_TEST_POSTGRES_URL";

/// A migrated database that is removed on drop.
#[derive(Debug)]
pub struct TestDb {
    /// The store over it (with a fixed test master key).
    pub store: Store,
    /// The URL a second pool (another "process") can connect with.
    pub url: String,
    cleanup: Cleanup,
}

#[derive(Debug)]
enum Cleanup {
    Sqlite(PathBuf),
    Postgres { admin_url: String, schema: String },
}

fn random_suffix() -> String {
    let bytes: [u8; 8] = rand::rng().random();
    hex::encode(bytes)
}

/// The master key tests seal with.
pub fn test_secrets() -> SecretBox {
    SecretBox::new(MasterKey::from_bytes(&[7; 32]))
}

impl TestDb {
    /// A fresh SQLite database in a temporary directory.
    ///
    /// # Panics
    /// When the database cannot be created or migrated (a test setup failure).
    pub fn sqlite() -> Self {
        Self::sqlite_with(&PoolOptions::default())
    }

    /// A fresh SQLite database in a temporary directory, its pool opened with `options`.
    ///
    /// # Panics
    /// When the database cannot be created or migrated (a test setup failure).
    pub fn sqlite_with(options: &PoolOptions) -> Self {
        let dir = std::env::temp_dir().join(format!("as2-test-{}", random_suffix()));
        let url = format!("sqlite://{}", dir.join("as2.sqlite3").display());
        let db = Database::connect(&url, options).expect("open test SQLite");
        db.migrate().expect("migrate test SQLite");
        Self {
            store: Store::new(db, test_secrets()),
            url,
            cleanup: Cleanup::Sqlite(dir),
        }
    }

    /// A fresh schema on the test PostgreSQL server, `None` when none is configured.
    pub fn postgres() -> Option<Self> {
        let admin_url = std::env::var(POSTGRES_URL_VAR)
            .ok()
            .filter(|u| !u.is_empty())?;
        Some(Self::postgres_on(&admin_url))
    }

    /// A fresh schema on the PostgreSQL server of `admin_url` (a private one, say).
    ///
    /// # Panics
    /// When the server cannot be reached or migrated (a test setup failure).
    pub fn postgres_on(admin_url: &str) -> Self {
        let admin_url = admin_url.to_owned();
        let schema = format!("t_{}", random_suffix());
        let mut admin =
            diesel::PgConnection::establish(&admin_url).expect("connect to the test PostgreSQL");
        admin
            .batch_execute(&format!("CREATE SCHEMA {schema}"))
            .expect("create test schema");
        let separator = if admin_url.contains('?') { '&' } else { '?' };
        let url = format!("{admin_url}{separator}options=-c%20search_path%3D{schema}");
        let db = Database::connect(&url, &PoolOptions::default()).expect("open test PostgreSQL");
        db.migrate().expect("migrate test PostgreSQL");
        Self {
            store: Store::new(db, test_secrets()),
            url,
            cleanup: Cleanup::Postgres { admin_url, schema },
        }
    }

    /// Runs raw SQL on the database: tests use it to tamper with rows the way an intruder
    /// with database access would, and check that the product notices.
    ///
    /// # Panics
    /// When the SQL fails (a test bug).
    pub fn execute(&self, sql: &str) {
        let mut conn = self.store.db().conn().expect("a test connection");
        crate::with_conn!(&mut conn, |c| c.batch_execute(sql)).expect("test SQL");
    }

    /// One fresh database per available backend: SQLite always, PostgreSQL when configured.
    pub fn all() -> Vec<Self> {
        let mut dbs = vec![Self::sqlite()];
        dbs.extend(Self::postgres());
        dbs
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::Sqlite(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::Postgres { admin_url, schema } => {
                if let Ok(mut admin) = diesel::PgConnection::establish(admin_url) {
                    let _ = admin.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
                }
            }
        }
    }
}
