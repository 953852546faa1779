//! `api-server create-key`: how an operator gets the first live key (no test key can create
//! one through the API). The real binary on a SQLite file: the secret is printed once on
//! stdout, never logged, and works against the API in its mode; bad input fails with a
//! sentence and creates nothing.

use std::path::Path;
use std::process::{Command, Output};

use as2_api::{ApiConfig, AppState};
use as2_store::payload::PayloadStore;
use as2_store::{Database, PoolOptions, Store};
use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode};
use tower::ServiceExt;

const MASTER_KEY: &str = "0707070707070707070707070707070707070707070707070707070707070707";

fn api_server(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_api-server"))
        .args(args)
        .env("AS2_DATA_DIR", data)
        .env("AS2_MASTER_KEY", MASTER_KEY)
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "info")
        .output()
        .unwrap()
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

/// Status and JSON body of `GET path` with `key`.
async fn get(state: &AppState, key: &str, path: &str) -> (StatusCode, serde_json::Value) {
    let response = as2_api::router(state.clone())
        .oneshot(
            Request::get(path)
                .header("authorization", format!("Bearer {key}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let status = response.status();
    let bytes = to_bytes(response.into_body(), usize::MAX).await.unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
    )
}

#[tokio::test]
async fn the_operator_creates_the_first_live_key() {
    let data = tempfile::tempdir().unwrap();
    let migrated = api_server(data.path(), &["migrate"]);
    assert!(migrated.status.success(), "{}", text(&migrated.stderr));
    let store = store(data.path());
    let boot = as2_api::bootstrap::bootstrap(&store, "AS2PLATFORM")
        .unwrap()
        .unwrap();
    let tenant = boot.tenant_id.to_string();

    let made = api_server(
        data.path(),
        &[
            "create-key",
            "--tenant",
            &tenant,
            "--mode",
            "live",
            "--kind",
            "tk",
            "--name",
            "ops",
        ],
    );
    assert!(made.status.success(), "{}", text(&made.stderr));
    let stdout = text(&made.stdout);
    let secrets: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("tk_live_"))
        .collect();
    assert_eq!(secrets.len(), 1, "{stdout}");
    let secret = secrets[0].trim();
    assert!(
        !text(&made.stderr).contains(secret),
        "the secret is in the logs"
    );

    let payloads = tempfile::tempdir().unwrap();
    let state = AppState::new(
        store.clone(),
        PayloadStore::open(payloads.path()).unwrap(),
        ApiConfig::default(),
    );
    let (status, current) = get(&state, secret, "/v1/tenants/current").await;
    assert_eq!(status, StatusCode::OK, "{current}");
    assert_eq!(current["data"]["id"], tenant.as_str());
    let (status, keys) = get(&state, secret, "/v1/api-keys").await;
    assert_eq!(status, StatusCode::OK, "{keys}");
    let ops: Vec<_> = keys["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["name"] == "ops")
        .collect();
    assert_eq!(ops.len(), 1, "{keys}");
    assert_eq!(ops[0]["mode"], "live");
    assert_eq!(ops[0]["kind"], "tk");
    assert_eq!(ops[0]["scopes"].as_array().unwrap().len(), 4);
    assert!(ops[0].get("secret").is_none());
    // the live key sees live data only: the bootstrap test key is not among its keys
    assert!(
        keys["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|k| k["mode"] == "live")
    );

    // an account key too
    let account = api_server(
        data.path(),
        &[
            "create-key",
            "--tenant",
            &tenant,
            "--mode",
            "live",
            "--kind",
            "pk",
            "--name",
            "ops-account",
        ],
    );
    assert!(account.status.success(), "{}", text(&account.stderr));
    assert!(
        text(&account.stdout)
            .lines()
            .any(|l| l.starts_with("pk_live_")),
        "{}",
        text(&account.stdout)
    );
}

#[test]
fn bad_input_fails_with_a_sentence_and_creates_nothing() {
    let data = tempfile::tempdir().unwrap();
    let migrated = api_server(data.path(), &["migrate"]);
    assert!(migrated.status.success(), "{}", text(&migrated.stderr));
    let store = store(data.path());
    let boot = as2_api::bootstrap::bootstrap(&store, "AS2PLATFORM")
        .unwrap()
        .unwrap();
    let tenant = boot.tenant_id.to_string();
    let cases: [(Vec<&str>, &str); 5] = [
        (
            vec!["--tenant", "tnt_999999", "--mode", "live", "--name", "x"],
            "there is no tenant tnt_999999",
        ),
        (
            vec!["--tenant", "prt_000001", "--mode", "live", "--name", "x"],
            "--tenant",
        ),
        (
            vec!["--tenant", &tenant, "--mode", "prod", "--name", "x"],
            "--mode must be `test` or `live`",
        ),
        (
            vec![
                "--tenant", &tenant, "--mode", "live", "--kind", "zz", "--name", "x",
            ],
            "--kind must be",
        ),
        (
            vec!["--tenant", &tenant, "--mode", "live", "--name", " "],
            "the key name must be",
        ),
    ];
    for (args, expected) in cases {
        let mut all = vec!["create-key"];
        all.extend(args.iter().copied());
        let out = api_server(data.path(), &all);
        assert!(!out.status.success(), "{args:?}");
        assert!(
            text(&out.stderr).contains(expected),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert!(!text(&out.stdout).contains("_live_"), "{args:?}");
    }
    let keys = store
        .api_keys()
        .list(
            boot.account_id,
            as2_domain::Mode::Live,
            None,
            as2_domain::pagination::PageRequest::default(),
        )
        .unwrap();
    assert_eq!(keys.1, 0, "no live key was created");
}
