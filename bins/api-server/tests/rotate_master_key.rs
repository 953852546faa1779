//! `api-server rotate-master-key`, the real binary on a SQLite file: without the old key it
//! opens nothing and changes nothing; with it, SIGTERM between two batches stops the run
//! (non-zero, "run again to resume") and a second run finishes; then the new key alone
//! opens every secret, and no secret reaches the output.

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};

use as2_domain::Mode;
use as2_store::secrets::SecretBox;
use as2_store::{Database, PoolOptions, Scope, Store};

const OLD: &str = "0707070707070707070707070707070707070707070707070707070707070707";
const NEW: &str = "0808080808080808080808080808080808080808080808080808080808080808";
const WEBHOOK_SECRET: &str = "whsec_rotate_me_0123456789";
const TSA_KEY: &[u8] = b"tsa-private-key-bytes";

fn api_server(data: &Path, keys: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_api-server"));
    command
        .env("AS2_DATA_DIR", data)
        .env_remove("DATABASE_URL")
        .env_remove("AS2_MASTER_KEY")
        .env_remove("AS2_PREVIOUS_MASTER_KEYS")
        .env("RUST_LOG", "info");
    for (name, value) in keys {
        command.env(name, value);
    }
    command
}

fn run(data: &Path, keys: &[(&str, &str)], args: &[&str]) -> Output {
    api_server(data, keys).args(args).output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn store(data: &Path, keys: &str) -> Store {
    let url = format!("sqlite://{}", data.join("as2.sqlite3").display());
    Store::new(
        Database::connect(&url, &PoolOptions::default()).unwrap(),
        SecretBox::parse(keys).unwrap(),
    )
}

fn opens_everything(store: &Store, scope: Scope, webhook: as2_domain::id::WebhookEndpointId) {
    assert_eq!(
        store.webhooks().secret(scope, webhook).unwrap(),
        WEBHOOK_SECRET
    );
    let tsa = store.timestamp_authority().current().unwrap().unwrap();
    assert_eq!(tsa.private_key, TSA_KEY);
}

#[test]
fn rotation_is_interrupted_resumed_and_leaves_the_new_key_alone_needed() {
    let data = tempfile::tempdir().unwrap();
    let migrated = run(data.path(), &[("AS2_MASTER_KEY", OLD)], &["migrate"]);
    assert!(migrated.status.success(), "{}", text(&migrated.stderr));
    let old = store(data.path(), OLD);
    let boot = as2_api::bootstrap::bootstrap(&old, "AS2PLATFORM")
        .unwrap()
        .unwrap();
    let scope = Scope::new(boot.tenant_id, Mode::Test);
    let settings = as2_domain::webhook::WebhookSettings {
        url: "https://hooks.example/as2".into(),
        description: None,
        events: vec!["*".into()],
        active: true,
    };
    let webhook = old
        .webhooks()
        .create(scope, &settings, WEBHOOK_SECRET)
        .unwrap()
        .id;
    old.timestamp_authority()
        .create_if_absent(b"\x30\x00", TSA_KEY)
        .unwrap();

    // the new key without the old one: nothing opens, nothing is written
    let blind = run(
        data.path(),
        &[("AS2_MASTER_KEY", NEW)],
        &["rotate-master-key"],
    );
    assert!(!blind.status.success());
    let stdout = text(&blind.stdout);
    assert!(stdout.contains("webhook_endpoints.secret row"), "{stdout}");
    assert!(text(&blind.stderr).contains("AS2_PREVIOUS_MASTER_KEYS"));
    opens_everything(&old, scope, webhook);

    // one value per batch, a long pause after each (cut short by a signal): SIGTERM after
    // the first batch stops it before the second
    let both = [("AS2_MASTER_KEY", NEW), ("AS2_PREVIOUS_MASTER_KEYS", OLD)];
    let mut child = api_server(data.path(), &both)
        .args([
            "rotate-master-key",
            "--batch-size",
            "1",
            "--pause-ms",
            "60000",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut log = BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    loop {
        let mut line = String::new();
        assert!(
            log.read_line(&mut line).unwrap() > 0,
            "no batch logged: {seen}"
        );
        seen.push_str(&line);
        if line.contains("batch re-sealed") {
            break;
        }
    }
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut log, &mut rest).unwrap();
    let stopped = child.wait_with_output().unwrap();
    let stderr = seen + &rest;
    assert!(!stopped.status.success(), "{stderr}");
    assert!(
        stderr.contains("run the command again to resume"),
        "{stderr}"
    );
    // half way: both keys open everything, the old key alone no longer does
    opens_everything(&store(data.path(), &format!("{NEW},{OLD}")), scope, webhook);
    assert!(old.webhooks().secret(scope, webhook).is_err());

    let resumed = run(data.path(), &both, &["rotate-master-key"]);
    let stdout = text(&resumed.stdout);
    assert!(
        resumed.status.success(),
        "{stdout}{}",
        text(&resumed.stderr)
    );
    assert!(stdout.contains("done: 1 values re-sealed"), "{stdout}");
    for output in [&stdout, &text(&resumed.stderr), &text(&stopped.stdout)] {
        assert!(!output.contains(WEBHOOK_SECRET));
    }
    opens_everything(&store(data.path(), NEW), scope, webhook);

    let again = run(data.path(), &both, &["rotate-master-key"]);
    assert!(text(&again.stdout).contains("done: 0 values re-sealed"));
}
