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

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use diesel::prelude::*;
    use diesel::sql_types::Text;

    use crate::db::DbConn;
    use crate::testing::TestDb;

    #[derive(QueryableByName)]
    struct Column {
        #[diesel(sql_type = Text)]
        name: String,
    }

    /// `table.column` of every column `schema.rs` declares (it is kept by hand).
    fn declared() -> BTreeSet<String> {
        let mut columns = BTreeSet::new();
        let mut table = None;
        for line in include_str!("schema.rs").lines().map(str::trim) {
            if let Some((name, _)) = line.split_once(" (").filter(|_| line.ends_with('{')) {
                table = Some(name.to_owned());
            } else if let (Some(table), Some((column, _))) = (&table, line.split_once(" -> ")) {
                columns.insert(format!("{table}.{column}"));
            } else if line == "}" {
                table = None;
            }
        }
        columns
    }

    /// `table.column` of every column the migrations create.
    fn migrated(db: &TestDb) -> BTreeSet<String> {
        let mut conn = db.store.db().conn().unwrap();
        let rows: Vec<Column> = match &mut conn {
            DbConn::Sqlite(c) => diesel::sql_query(
                "SELECT m.name || '.' || p.name AS name FROM sqlite_master m \
                 JOIN pragma_table_info(m.name) p WHERE m.type = 'table' \
                 AND m.name NOT LIKE 'sqlite_%' AND m.name <> '__diesel_schema_migrations'",
            )
            .load(&mut **c)
            .unwrap(),
            DbConn::Postgres(c) => diesel::sql_query(
                "SELECT table_name || '.' || column_name AS name FROM information_schema.columns \
                 WHERE table_schema = current_schema() \
                 AND table_name <> '__diesel_schema_migrations'",
            )
            .load(&mut ***c)
            .unwrap(),
        };
        rows.into_iter().map(|r| r.name).collect()
    }

    /// The hand-kept `schema.rs` names exactly the columns the migrations make, on both
    /// backends: a migration without its schema change (or the reverse) fails here.
    #[test]
    fn schema_rs_matches_the_migrations() {
        let declared = declared();
        assert!(declared.contains("messages.as2_message_id"), "{declared:?}");
        for db in TestDb::all() {
            let migrated = migrated(&db);
            let missing: Vec<_> = migrated.difference(&declared).collect();
            let extra: Vec<_> = declared.difference(&migrated).collect();
            assert!(
                missing.is_empty() && extra.is_empty(),
                "{}: columns not in schema.rs {missing:?}; in schema.rs but not migrated {extra:?}",
                db.url
            );
        }
    }

    /// Every migration has a version of its own on each backend: diesel keys applied
    /// migrations by the part before the first `_`, so two branches that pick the same
    /// timestamp would silently skip one of them.
    #[test]
    fn migration_versions_are_unique() {
        for backend in ["sqlite", "postgres"] {
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../migrations")
                .join(backend);
            let mut seen = BTreeSet::new();
            for entry in std::fs::read_dir(&dir).unwrap() {
                let name = entry.unwrap().file_name().to_string_lossy().into_owned();
                let version = name.split('_').next().unwrap_or_default().to_owned();
                assert!(
                    seen.insert(version.clone()),
                    "{backend}: two migrations have version {version} ({name}); give one a later time"
                );
            }
        }
    }
}
