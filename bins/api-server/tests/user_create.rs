//! `api-server user create`: how an operator makes console users. The real binary on a
//! SQLite file: a generated password is printed once on stdout and never logged, one given on
//! standard input is used as given, the role is set in the tenant; bad input fails with a
//! sentence and creates nothing.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use as2_domain::user::{Role, password};
use as2_store::{Database, PoolOptions, Store, StoreError};

const MASTER_KEY: &str = "0707070707070707070707070707070707070707070707070707070707070707";

fn api_server(data: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_api-server"))
        .args(args)
        .env("AS2_DATA_DIR", data)
        .env("AS2_MASTER_KEY", MASTER_KEY)
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "info")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn store(data: &Path) -> Store {
    let url = format!("sqlite://{}", data.join("as2.sqlite3").display());
    Store::new(
        Database::connect(&url, &PoolOptions::default()).unwrap(),
        as2_store::secrets::SecretBox::parse(MASTER_KEY).unwrap(),
    )
}

/// A migrated, bootstrapped installation: its store and first tenant.
fn installation(data: &Path) -> (Store, String) {
    let migrated = api_server(data, &["migrate"], None);
    assert!(migrated.status.success(), "{}", text(&migrated.stderr));
    let store = store(data);
    let boot = as2_api::bootstrap::bootstrap(&store, "AS2PLATFORM")
        .unwrap()
        .unwrap();
    (store, boot.tenant_id.to_string())
}

#[test]
fn a_generated_password_is_printed_once_and_signs_in() {
    let data = tempfile::tempdir().unwrap();
    let (store, tenant) = installation(data.path());
    let made = api_server(
        data.path(),
        &[
            "user",
            "create",
            "--email",
            "Ops@Example.com",
            "--role",
            "admin",
            "--tenant",
            &tenant,
        ],
        None,
    );
    assert!(made.status.success(), "{}", text(&made.stderr));
    let stdout = text(&made.stdout);
    let secret = stdout
        .lines()
        .find_map(|l| l.strip_prefix("Password (shown once, store it now): "))
        .unwrap_or_else(|| panic!("no password line: {stdout}"))
        .to_owned();
    assert!(secret.len() >= 12, "{secret}");
    assert!(stdout.contains("ops@example.com"), "{stdout}");
    assert!(
        !text(&made.stderr).contains(&secret),
        "the password is never logged"
    );
    let (user, hash) = store.users().credentials("ops@example.com").unwrap();
    assert!(password::verify(&secret, &hash));
    let memberships = store.users().memberships(user.id).unwrap();
    assert_eq!(memberships.len(), 1);
    assert_eq!(memberships[0].tenant_id.to_string(), tenant);
    assert_eq!(memberships[0].role, Role::Admin);

    // the same email again is refused
    let again = api_server(
        data.path(),
        &[
            "user",
            "create",
            "--email",
            "ops@example.com",
            "--role",
            "viewer",
            "--tenant",
            &tenant,
        ],
        None,
    );
    assert!(!again.status.success());
    assert!(
        text(&again.stderr).contains("a user with this email exists"),
        "{}",
        text(&again.stderr)
    );
}

#[test]
fn a_password_on_standard_input_is_used_as_given() {
    let data = tempfile::tempdir().unwrap();
    let (store, tenant) = installation(data.path());
    let chosen = "a long enough passphrase";
    let made = api_server(
        data.path(),
        &[
            "user",
            "create",
            "--email",
            "vic@example.com",
            "--role",
            "viewer",
            "--tenant",
            &tenant,
            "--password-stdin",
        ],
        Some(&format!("{chosen}\n")),
    );
    assert!(made.status.success(), "{}", text(&made.stderr));
    assert!(!text(&made.stdout).contains("Password"), "nothing to show");
    let (_, hash) = store.users().credentials("vic@example.com").unwrap();
    assert!(password::verify(chosen, &hash));
}

#[test]
fn bad_input_is_named_and_creates_nothing() {
    let data = tempfile::tempdir().unwrap();
    let (store, tenant) = installation(data.path());
    for (args, says) in [
        (
            vec![
                "--email",
                "a@example.com",
                "--role",
                "king",
                "--tenant",
                tenant.as_str(),
            ],
            "--role must be",
        ),
        (
            vec![
                "--email",
                "a@example.com",
                "--role",
                "viewer",
                "--tenant",
                "tnt_x",
            ],
            "--tenant",
        ),
        (
            vec![
                "--email",
                "a@example.com",
                "--role",
                "viewer",
                "--tenant",
                "tnt_000999",
            ],
            "no tenant tnt_000999",
        ),
        (
            vec![
                "--email",
                "not-an-email",
                "--role",
                "viewer",
                "--tenant",
                tenant.as_str(),
            ],
            "email",
        ),
    ] {
        let mut full = vec!["user", "create"];
        full.extend(args);
        let failed = api_server(data.path(), &full, None);
        assert!(!failed.status.success(), "{full:?}");
        assert!(
            text(&failed.stderr).contains(says),
            "{full:?}: {}",
            text(&failed.stderr)
        );
    }
    let short = api_server(
        data.path(),
        &[
            "user",
            "create",
            "--email",
            "b@example.com",
            "--role",
            "viewer",
            "--tenant",
            &tenant,
            "--password-stdin",
        ],
        Some("short\n"),
    );
    assert!(!short.status.success());
    for email in ["a@example.com", "not-an-email", "b@example.com"] {
        assert!(matches!(
            store.users().credentials(email),
            Err(StoreError::NotFound)
        ));
    }
}
