//! Migrations up, down and up again leave the same schema, on both backends.

use as2_store::testing::TestDb;
use as2_store::{Database, DbConn};
use diesel::prelude::*;
use diesel::sql_types::Text;

#[derive(QueryableByName, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Line {
    #[diesel(sql_type = Text)]
    line: String,
}

/// Tables, columns, types, nullability and indexes, one sorted line each.
fn schema_of(db: &Database) -> Vec<String> {
    let mut conn = db.conn().unwrap();
    let mut lines: Vec<Line> = match &mut conn {
        DbConn::Sqlite(c) => diesel::sql_query(
            "SELECT m.name || '.' || p.name || ' ' || p.type || ' ' || p.\"notnull\" || ' ' || p.pk AS line \
             FROM sqlite_master m JOIN pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> '__diesel_schema_migrations' \
             UNION ALL SELECT 'index ' || name || ' ' || coalesce(sql, '') FROM sqlite_master \
             WHERE type = 'index' AND name NOT LIKE 'sqlite_autoindex%'",
        )
        .load(&mut **c)
        .unwrap(),
        DbConn::Postgres(c) => diesel::sql_query(
            "SELECT table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable AS line \
             FROM information_schema.columns WHERE table_schema = current_schema() \
             AND table_name <> '__diesel_schema_migrations' \
             UNION ALL SELECT 'index ' || indexname || ' ' || indexdef FROM pg_indexes \
             WHERE schemaname = current_schema() AND tablename <> '__diesel_schema_migrations'",
        )
        .load(&mut ***c)
        .unwrap(),
    };
    lines.sort();
    lines.into_iter().map(|l| l.line).collect()
}

#[test]
fn up_down_up_gives_the_same_schema() {
    for test_db in TestDb::all() {
        let db = test_db.store.db();
        let first = schema_of(db);
        assert!(
            first.iter().any(|l| l.starts_with("partners.as2_id")),
            "{first:?}"
        );
        assert!(first.iter().any(|l| l.starts_with("index jobs_ready")));
        assert!(db.revert_all().unwrap() >= 1);
        assert!(
            schema_of(db).is_empty(),
            "tables left after revert: {:?}",
            schema_of(db)
        );
        assert_eq!(db.pending_migrations().unwrap(), db.migrate().unwrap());
        assert_eq!(schema_of(db), first);
        assert_eq!(db.pending_migrations().unwrap(), 0);
    }
}

#[test]
fn both_backends_have_the_same_tables_and_columns() {
    let Some(pg) = TestDb::postgres() else { return };
    let sqlite = TestDb::sqlite();
    let columns = |db: &Database| -> Vec<String> {
        schema_of(db)
            .into_iter()
            .filter(|l| !l.starts_with("index "))
            .map(|l| l.split(' ').next().unwrap_or_default().to_owned())
            .collect()
    };
    assert_eq!(columns(sqlite.store.db()), columns(pg.store.db()));
}
