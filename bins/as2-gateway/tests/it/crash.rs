//! The gateway killed with SIGKILL in the middle of receiving and of sending: after a restart
//! no acknowledged message is missing and the application (the inbox directory) never gets a
//! message twice. Runs the real `as2-gateway` binary on a SQLite file.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use as2_core::cms::{EncryptOptions, SignOptions};
use as2_core::crypto::DigestAlgorithm;
use as2_core::mdn::parse_mdn;
use as2_core::message::{self, NotificationOptions, OutboundMessage, Signer};
use as2_core::mime::Headers;
use as2_domain::algorithms::MdnMode;
use as2_domain::message::{Direction, MessageStatus};
use as2_store::Store;
use as2_store::payload::PayloadStore;
use as2_store::repo::messages::NewMessage;

use as2_e2e::process::{GatewayProcess, free_port, open_store};
use as2_e2e::seed::{OUTBOUND_ALLOW_LOOPBACK, identity, tenant};

/// The gateway on `port` over `data`, as the crash tests run it: workers on, a short job
/// lease, the inbox, loopback reachable.
fn start_gateway(data: &Path, port: u16) -> GatewayProcess {
    GatewayProcess::start(
        env!("CARGO_BIN_EXE_as2-gateway"),
        &["serve"],
        data,
        port,
        &[
            (
                "AS2_PUBLIC_AS2_URL",
                format!("http://127.0.0.1:{port}/as2/receive"),
            ),
            ("AS2_INBOX_DIR", data.join("inbox").display().to_string()),
            ("AS2_OUTBOUND_ALLOW", OUTBOUND_ALLOW_LOOPBACK.to_owned()),
            ("AS2_JOB_LEASE_SECS", "2".to_owned()),
        ],
    )
}

/// Inbox files (the application's view) under `dir`, by name, ignoring temporary files.
fn inbox_files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path: PathBuf = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if path.is_dir() {
                stack.push(path);
            } else if !name.starts_with('.') {
                files.insert(name, std::fs::read(&path).unwrap());
            }
        }
    }
    files
}

fn payload(n: usize) -> Vec<u8> {
    format!("ISA*00*crash test {n}~\r\n")
        .repeat(200 + n)
        .into_bytes()
}

#[test]
fn killed_while_receiving_loses_nothing_acknowledged_and_delivers_once() {
    let data = tempfile::tempdir().unwrap();
    let (us, partner) = (identity("us"), identity("partner"));
    let port = free_port();
    let store = open_store(data.path());
    let (scope, _, partner_id) = tenant(
        &store,
        "receiver",
        "US",
        "PARTNER",
        &us,
        &partner,
        "http://127.0.0.1:9/x",
    );

    let built: Vec<_> = (0..64)
        .map(|n| {
            let body = payload(n);
            let mut out = OutboundMessage::new(
                &as2_core::crypto::rust_crypto::DEFAULT_PROVIDER,
                "PARTNER",
                "US",
                &body,
                "application/edi-x12",
            );
            out.signer = Some(Signer::new(
                &partner.cert,
                partner.key.as_ref(),
                SignOptions::new(std::time::SystemTime::now()),
            ));
            out.encryption = Some(message::Encryption::new(
                vec![&us.cert],
                EncryptOptions::default(),
            ));
            out.mdn_to = Some("partner@example".into());
            out.mdn_options = Some(NotificationOptions::signed(&[DigestAlgorithm::Sha256]));
            message::build_outbound(&out).unwrap()
        })
        .collect();
    let url = format!("http://127.0.0.1:{port}/as2/test/receive");
    let post = |m: &message::BuiltMessage| -> Option<bool> {
        let mut request = blocking_post(&url, &m.headers, &m.body)?;
        let parsed = parse_mdn(
            &Headers::from_pairs(request.0.iter().map(|(n, v)| (n.as_str(), v.as_str()))),
            &std::mem::take(&mut request.1),
            std::slice::from_ref(&us.cert),
        )
        .ok()?;
        Some(parsed.is_delivered() && parsed.check(&m.message_id, Some(&m.mic), true).is_ok())
    };

    // First run: messages go out from four threads; the gateway is killed part way.
    let gateway = start_gateway(data.path(), port);
    let acknowledged = std::sync::Mutex::new(BTreeSet::new());
    std::thread::scope(|s| {
        for chunk in built.chunks(16) {
            let (acknowledged, post) = (&acknowledged, &post);
            s.spawn(move || {
                for m in chunk {
                    if post(m) == Some(true) {
                        acknowledged.lock().unwrap().insert(m.message_id.clone());
                    }
                }
            });
        }
        // Kill once a few messages are acknowledged: mid-stream, whatever the machine's speed.
        let deadline = Instant::now() + Duration::from_secs(30);
        while acknowledged.lock().unwrap().len() < 4 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(2));
        }
        gateway.kill();
    });
    let first_run = acknowledged.lock().unwrap().clone();
    assert!(
        first_run.len() < built.len(),
        "the kill came too late to test anything"
    );

    // After a restart the partner resends everything it holds no MDN for (and, to be sure,
    // a few it does): everything is acknowledged, once.
    let _gateway = start_gateway(data.path(), port);
    for m in &built {
        if !first_run.contains(&m.message_id) || m.message_id.ends_with('0') {
            assert_eq!(post(m), Some(true), "resend of {}", m.message_id);
        }
    }
    for (n, m) in built.iter().enumerate() {
        let row = store
            .messages()
            .find_by_as2_id(scope, partner_id, Direction::Inbound, &m.message_id)
            .unwrap()
            .unwrap_or_else(|| panic!("message {n} is missing"));
        assert_eq!(row.status, MessageStatus::Received, "message {n}");
        let payloads = PayloadStore::open(data.path().join("payloads")).unwrap();
        assert_eq!(
            payloads.read_ref(row.payload.as_ref().unwrap()).unwrap(),
            payload(n)
        );
    }
    let files = inbox_files(&data.path().join("inbox"));
    assert_eq!(
        files.len(),
        built.len(),
        "one inbox file per message: {:?}",
        files.keys()
    );
    for (n, m) in built.iter().enumerate() {
        let id = as2_engine::inbox::safe_name(&m.message_id);
        let matching: Vec<_> = files
            .iter()
            .filter(|(name, _)| name.starts_with(&id))
            .collect();
        assert_eq!(matching.len(), 1, "message {n}");
        assert_eq!(matching[0].1, &payload(n), "message {n}");
    }
}

#[test]
fn killed_while_sending_delivers_everything_exactly_once() {
    let data = tempfile::tempdir().unwrap();
    let (a, b) = (identity("a"), identity("b"));
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/as2/test/receive");
    let store = open_store(data.path());
    // Tenant A sends to tenant B through the same gateway.
    let (scope_a, station_a, partner_b) = tenant(&store, "A", "A-ID", "B-ID", &a, &b, &url);
    let _ = tenant(&store, "B", "B-ID", "A-ID", &b, &a, &url);
    let payloads = PayloadStore::open(data.path().join("payloads")).unwrap();
    let count = 30;
    let mut ids = Vec::new();
    for n in 0..count {
        let stored = payloads.put_bytes(&payload(n)).unwrap();
        let as2_id = format!("<crash-send-{n}@a.example>");
        let message = store
            .messages()
            .create_outbound(
                scope_a,
                &NewMessage {
                    direction: Direction::Outbound,
                    partner_id: partner_b,
                    station_id: station_a,
                    as2_message_id: &as2_id,
                    subject: None,
                    filename: Some(&format!("po-{n}.edi")),
                    content_type: "application/edi-x12",
                    bytes: i64::try_from(stored.size).unwrap(),
                    sha256: &stored.sha256,
                    payload: Some(&as2_domain::message::PayloadRef::Object(stored.key.clone())),
                    mdn_mode: MdnMode::Sync,
                    status: MessageStatus::Queued,
                    error: None,
                    mic: None,
                    destination_url: None,
                },
                21,
                None,
            )
            .unwrap();
        ids.push(message.id);
    }
    let delivered = |store: &Store| {
        ids.iter()
            .filter(|id| {
                store.messages().get(scope_a, **id).unwrap().status == MessageStatus::Delivered
            })
            .count()
    };

    let gateway = start_gateway(data.path(), port);
    let deadline = Instant::now() + Duration::from_secs(60);
    while delivered(&store) < 3 {
        assert!(Instant::now() < deadline, "nothing was delivered");
        std::thread::sleep(Duration::from_millis(20));
    }
    gateway.kill();
    let at_kill = delivered(&store);
    assert!(at_kill < count, "the kill came too late to test anything");

    let _gateway = start_gateway(data.path(), port);
    let deadline = Instant::now() + Duration::from_secs(120);
    while delivered(&store) < count {
        assert!(
            Instant::now() < deadline,
            "only {} of {count} delivered after the restart",
            delivered(&store)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let files = inbox_files(&data.path().join("inbox"));
    assert_eq!(
        files.len(),
        count,
        "one inbox file per message: {:?}",
        files.keys()
    );
    for n in 0..count {
        let id = as2_engine::inbox::safe_name(&format!("<crash-send-{n}@a.example>"));
        let matching: Vec<_> = files
            .iter()
            .filter(|(name, _)| name.starts_with(&format!("{id}__")))
            .collect();
        assert_eq!(matching.len(), 1, "message {n}");
        assert_eq!(matching[0].1, &payload(n), "message {n}");
    }
}

/// An HTTP answer: headers and body.
type Answer = (Vec<(String, String)>, Vec<u8>);

/// A blocking POST; the answer, or `None` when the connection failed or it was not 2xx.
fn blocking_post(url: &str, headers: &[(String, String)], body: &[u8]) -> Option<Answer> {
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .ok()?;
    let mut request = client.post(url).body(body.to_vec());
    for (n, v) in headers {
        request = request.header(n.as_str(), v.as_str());
    }
    let response = request.send().ok()?;
    if !response.status().is_success() {
        return None;
    }
    let headers = response
        .headers()
        .iter()
        .filter_map(|(n, v)| Some((n.as_str().to_owned(), v.to_str().ok()?.to_owned())))
        .collect();
    Some((headers, response.bytes().ok()?.to_vec()))
}
