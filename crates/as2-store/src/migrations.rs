//! The embedded migrations of both backends (`migrations/sqlite`, `migrations/postgres`).

use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::db::{Database, PoolOptions};
use crate::error::{StoreError, StoreResult};
use crate::with_conn;

const SQLITE: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");
const POSTGRES: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");

fn failed(error: impl std::fmt::Display) -> StoreError {
    StoreError::Migration(error.to_string())
}

impl Database {
    /// Applies every pending migration; returns how many ran.
    pub fn migrate(&self) -> StoreResult<usize> {
        let mut conn = self.conn()?;
        with_conn!(&mut conn, |c| {
            let source = c.migrations();
            c.run_pending_migrations(source)
                .map(|v| v.len())
                .map_err(failed)
        })
    }

    /// Reverts every applied migration (an empty database); returns how many were reverted.
    pub fn revert_all(&self) -> StoreResult<usize> {
        let mut conn = self.conn()?;
        with_conn!(&mut conn, |c| {
            let source = c.migrations();
            c.revert_all_migrations(source)
                .map(|v| v.len())
                .map_err(failed)
        })
    }

    /// Migrations not applied yet.
    pub fn pending_migrations(&self) -> StoreResult<usize> {
        let mut conn = self.conn()?;
        with_conn!(&mut conn, |c| {
            let source = c.migrations();
            c.pending_migrations(source)
                .map(|v| v.len())
                .map_err(failed)
        })
    }
}

/// The migration set of the connection's backend.
trait BackendMigrations {
    fn migrations(&self) -> EmbeddedMigrations;
}

impl BackendMigrations for diesel::PgConnection {
    fn migrations(&self) -> EmbeddedMigrations {
        POSTGRES
    }
}

impl BackendMigrations for diesel::SqliteConnection {
    fn migrations(&self) -> EmbeddedMigrations {
        SQLITE
    }
}

/// Connects to `url` and applies pending migrations (what `xtask migrate` and the binaries'
/// `migrate` subcommands call); returns how many ran.
pub fn migrate(url: &str) -> StoreResult<usize> {
    Database::connect(
        url,
        &PoolOptions {
            max_connections: 1,
            ..PoolOptions::default()
        },
    )?
    .migrate()
}

/// Connects to `url` and reverts every migration; returns how many were reverted.
pub fn revert_all(url: &str) -> StoreResult<usize> {
    Database::connect(
        url,
        &PoolOptions {
            max_connections: 1,
            ..PoolOptions::default()
        },
    )?
    .revert_all()
}
