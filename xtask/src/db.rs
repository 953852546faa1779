//! `migrate`, `db reset` and `new-migration`.

use std::{fs, path::Path};

use anyhow::{Context, Result, bail};

use crate::paths::{database_url, project_root};

/// Applies every pending migration to the database named by the flag or the environment.
pub(crate) fn migrate(flag: Option<String>) -> Result<()> {
    let url = database_url(flag);
    prepare_sqlite_dir(&url)?;
    let applied =
        as2_store::migrate(&url).with_context(|| format!("migrating {}", redact(&url)))?;
    eprintln!("migrated {} ({applied} migration(s) applied)", redact(&url));
    Ok(())
}

/// Reverts every migration and applies them again.
pub(crate) fn reset(flag: Option<String>) -> Result<()> {
    let url = database_url(flag);
    prepare_sqlite_dir(&url)?;
    as2_store::revert_all(&url).with_context(|| format!("reverting {}", redact(&url)))?;
    let applied =
        as2_store::migrate(&url).with_context(|| format!("migrating {}", redact(&url)))?;
    eprintln!("reset {} ({applied} migration(s) applied)", redact(&url));
    Ok(())
}

/// Writes `up.sql` and `down.sql` for a new migration in both backend folders, with the same
/// directory name so the two schemas keep the same history.
pub(crate) fn new_migration(name: &str) -> Result<()> {
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        bail!("migration name must be snake_case ASCII (a-z, 0-9, _), got {name:?}");
    }
    let stamp = chrono::Utc::now().format("%Y-%m-%d-%H%M%S");
    let dir_name = format!("{stamp}_{name}");
    for backend in ["sqlite", "postgres"] {
        let dir = project_root()
            .join("migrations")
            .join(backend)
            .join(&dir_name);
        fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        fs::write(
            dir.join("up.sql"),
            format!("-- {name} ({backend}): apply\n"),
        )?;
        fs::write(
            dir.join("down.sql"),
            format!("-- {name} ({backend}): revert\n"),
        )?;
        eprintln!("wrote {}", dir.display());
    }
    Ok(())
}

fn prepare_sqlite_dir(url: &str) -> Result<()> {
    let Some(path) = url.strip_prefix("sqlite://") else {
        return Ok(());
    };
    if let Some(parent) = Path::new(path)
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
    {
        fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    }
    Ok(())
}

/// Hides a password in a PostgreSQL URL before it is printed.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(
            redact("sqlite://data/as2.sqlite3"),
            "sqlite://data/as2.sqlite3"
        );
    }
}
