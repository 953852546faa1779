//! Where things are: the workspace root and the default database location.

use std::path::PathBuf;

/// The workspace root (the parent of this crate's directory).
pub(crate) fn project_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(PathBuf::from).unwrap_or(manifest)
}

/// The database URL to use: the flag, else `DATABASE_URL`, else SQLite under `AS2_DATA_DIR`
/// (default `./data`), the same default the binaries use.
pub(crate) fn database_url(flag: Option<String>) -> String {
    flag.or_else(|| std::env::var("DATABASE_URL").ok())
        .unwrap_or_else(|| {
            let dir = std::env::var("AS2_DATA_DIR").unwrap_or_else(|_| "data".to_owned());
            format!("sqlite://{dir}/as2.sqlite3")
        })
}
