//! The inbound pipeline against the real store (both backends): a partner's signed and
//! encrypted message is stored and answered with a signed MDN that verifies; duplicates get the
//! original MDN; tampering and wrong keys get the right negative MDN and a failed message.

use std::time::Duration;

use as2_core::cert::Certificate;
use as2_core::cms::{DecryptionKey, EncryptOptions, SignOptions};
use as2_core::crypto::DigestAlgorithm;
use as2_core::mdn::parse_mdn;
use as2_core::message::{self, NotificationOptions, OutboundMessage, Signer};
use as2_core::mime::Headers;
use as2_core::{cert, keys};
use as2_domain::Mode;
use as2_domain::certificate::CertificateInfo;
use as2_domain::message::{Direction, ErrorKind, MessageStatus};
use as2_domain::partner::PartnerSettings;
use as2_domain::plan::Plan;
use as2_domain::station::StationSettings;
use as2_engine::{InboundRequest, receive};
use as2_store::payload::PayloadStore;
use as2_store::repo::certificates::NewCertificate;
use as2_store::testing::TestDb;
use as2_store::{Scope, Store};

struct Party {
    key: Box<dyn as2_core::crypto::PrivateKeyOps>,
    key_pem: Vec<u8>,
    cert: Certificate,
}

impl Party {
    /// The same key pair again (the world keeps its own).
    fn again(&self) -> Self {
        Self {
            key: Box::new(keys::load_private_key(&self.key_pem, None).unwrap()),
            key_pem: self.key_pem.clone(),
            cert: self.cert.clone(),
        }
    }
}

fn party(name: &str) -> Party {
    let key =
        keys::generate_rsa_key(&as2_core::crypto::rust_crypto::DEFAULT_PROVIDER, 2048).unwrap();
    let cert = cert::generate_self_signed(
        &as2_core::crypto::rust_crypto::DEFAULT_PROVIDER,
        &key,
        &format!("CN={name}"),
        std::time::SystemTime::now(),
        Duration::from_secs(86_400 * 30),
    )
    .unwrap();
    let key_pem = keys::private_key_to_pem(&key).unwrap().as_bytes().to_vec();
    Party {
        key: Box::new(key),
        key_pem,
        cert,
    }
}

fn info(cert: &Certificate) -> CertificateInfo {
    CertificateInfo {
        subject: cert.subject(),
        issuer: cert.issuer(),
        serial: cert.serial_hex(),
        fingerprint_sha256: cert.fingerprint_sha256_hex(),
        not_before: cert.not_before().into(),
        not_after: cert.not_after().into(),
        key_usage: vec![],
    }
}

struct World {
    db: TestDb,
    payloads: PayloadStore,
    dir: tempfile::TempDir,
    scope: Scope,
    account: as2_domain::id::AccountId,
    us: Party,
    partner: Party,
}

fn world(db: TestDb, us: Party, partner: Party) -> World {
    let store: &Store = &db.store;
    let account = store.accounts().create_account("B", Plan::Starter).unwrap();
    let tenant = store.accounts().create_tenant(account.id, "B").unwrap();
    let scope = Scope::new(tenant.id, Mode::Test);
    let ours = store
        .certificates()
        .create(
            scope,
            &NewCertificate {
                name: "us",
                info: &info(&us.cert),
                der: us.cert.der(),
                chain_der: None,
                private_key_der: Some(&us.key_pem),
            },
        )
        .unwrap();
    let theirs = store
        .certificates()
        .create(
            scope,
            &NewCertificate {
                name: "partner",
                info: &info(&partner.cert),
                der: partner.cert.der(),
                chain_der: None,
                private_key_der: None,
            },
        )
        .unwrap();
    let station = store
        .stations()
        .create(
            scope,
            &StationSettings {
                name: "B".into(),
                as2_id: "TENANT-B".into(),
                certificate_id: Some(ours.id),
                encryption_certificate_id: None,
                mdn_url: None,
                is_default: true,
            },
        )
        .unwrap();
    let mut settings = PartnerSettings::new(
        "A".into(),
        "PARTNER-A".into(),
        "http://127.0.0.1:1/as2".into(),
        station.id,
    );
    settings.certificate_id = Some(theirs.id);
    store.partners().create(scope, &settings, None).unwrap();
    let dir = tempfile::tempdir().unwrap();
    World {
        payloads: PayloadStore::open(dir.path()).unwrap(),
        dir,
        db,
        scope,
        account: account.id,
        us,
        partner,
    }
}

fn build(w: &World, payload: &[u8], signed_mdn: bool) -> message::BuiltMessage {
    let mut out = OutboundMessage::new(
        &as2_core::crypto::rust_crypto::DEFAULT_PROVIDER,
        "PARTNER-A",
        "TENANT-B",
        payload,
        "application/edi-x12",
    );
    out.signer = Some(Signer::new(
        &w.partner.cert,
        w.partner.key.as_ref(),
        SignOptions::new(std::time::SystemTime::now()),
    ));
    out.encryption = Some(message::Encryption::new(
        vec![&w.us.cert],
        EncryptOptions::default(),
    ));
    out.mdn_to = Some("as2@partner.example".into());
    out.mdn_options = Some(if signed_mdn {
        NotificationOptions::signed(&[DigestAlgorithm::Sha256])
    } else {
        NotificationOptions::parse("")
    });
    message::build_outbound(&out).unwrap()
}

fn send(w: &World, headers: &[(String, String)], body: &[u8]) -> as2_engine::HttpAnswer {
    send_in(w, Mode::Test, headers, body)
}

fn send_in(
    w: &World,
    mode: Mode,
    headers: &[(String, String)],
    body: &[u8],
) -> as2_engine::HttpAnswer {
    receive(
        &w.db.store,
        &w.payloads,
        as2_engine::inbound::ReceiveOptions::new(&as2_core::crypto::rust_crypto::DEFAULT_PROVIDER),
        &InboundRequest {
            headers,
            body,
            remote: None,
            mode,
        },
    )
}

#[test]
fn signed_encrypted_message_is_stored_and_answered_with_a_verified_mdn() {
    let (us, partner) = (party("tenant-b"), party("partner-a"));
    for db in TestDb::all() {
        let w = world(db, us.again(), partner.again());
        let built = build(&w, b"ISA*00*~GS*PO~", true);
        let answer = send(&w, &built.headers, &built.body);
        assert_eq!(answer.status, 200);
        let mdn = parse_mdn(
            &Headers::from_pairs(answer.headers.clone()),
            &answer.body,
            std::slice::from_ref(&w.us.cert),
        )
        .unwrap();
        mdn.check(&built.message_id, Some(&built.mic), true)
            .unwrap();

        let stored =
            w.db.store
                .messages()
                .find_by_as2_id(
                    w.scope,
                    as2_domain::id::PartnerId(1),
                    Direction::Inbound,
                    &built.message_id,
                )
                .unwrap()
                .unwrap();
        assert_eq!(stored.status, MessageStatus::Received);
        assert_eq!(
            w.payloads
                .read_ref(stored.payload.as_ref().unwrap())
                .unwrap(),
            b"ISA*00*~GS*PO~"
        );
        assert_eq!(stored.bytes, 14);
        let record =
            w.db.store
                .messages()
                .mdn(w.scope, stored.id)
                .unwrap()
                .unwrap();
        assert!(record.positive && record.signed);

        // the partner sends it again: the same MDN, no second message
        let again = send(&w, &built.headers, &built.body);
        assert_eq!(again.body, answer.body);
        let events: Vec<_> =
            w.db.store
                .messages()
                .events(w.scope, stored.id)
                .unwrap()
                .into_iter()
                .map(|e| e.event_type)
                .collect();
        assert!(
            events.contains(&"duplicate_received".to_owned()),
            "{events:?}"
        );
    }
}

#[test]
fn failures_get_the_right_negative_mdn_and_a_failed_message() {
    let (us, partner, stranger) = (party("tenant-b"), party("partner-a"), party("stranger"));
    let w = world(TestDb::sqlite(), us, partner);
    // signed by someone else's key: authentication-failed
    let mut out = OutboundMessage::new(
        &as2_core::crypto::rust_crypto::DEFAULT_PROVIDER,
        "PARTNER-A",
        "TENANT-B",
        b"data",
        "application/edi-x12",
    );
    out.signer = Some(Signer::new(
        &stranger.cert,
        stranger.key.as_ref(),
        SignOptions::new(std::time::SystemTime::now()),
    ));
    out.encryption = Some(message::Encryption::new(
        vec![&w.us.cert],
        EncryptOptions::default(),
    ));
    out.mdn_to = Some("as2@partner.example".into());
    out.mdn_options = Some(NotificationOptions::signed(&[DigestAlgorithm::Sha256]));
    let built = message::build_outbound(&out).unwrap();
    let answer = send(&w, &built.headers, &built.body);
    let mdn = parse_mdn(
        &Headers::from_pairs(answer.headers.clone()),
        &answer.body,
        std::slice::from_ref(&w.us.cert),
    )
    .unwrap();
    assert!(
        mdn.disposition_raw.contains("authentication-failed"),
        "{}",
        mdn.disposition_raw
    );
    let failed =
        w.db.store
            .messages()
            .find_by_as2_id(
                w.scope,
                as2_domain::id::PartnerId(1),
                Direction::Inbound,
                &built.message_id,
            )
            .unwrap()
            .unwrap();
    assert_eq!(failed.status, MessageStatus::Failed);
    assert_eq!(failed.error.unwrap().kind, ErrorKind::AuthenticationFailed);

    // encrypted to another certificate: decryption-failed
    out.signer = Some(Signer::new(
        &w.partner.cert,
        w.partner.key.as_ref(),
        SignOptions::new(std::time::SystemTime::now()),
    ));
    out.encryption = Some(message::Encryption::new(
        vec![&stranger.cert],
        EncryptOptions::default(),
    ));
    let built = message::build_outbound(&out).unwrap();
    let answer = send(&w, &built.headers, &built.body);
    let mdn = parse_mdn(
        &Headers::from_pairs(answer.headers.clone()),
        &answer.body,
        std::slice::from_ref(&w.us.cert),
    )
    .unwrap();
    assert!(
        mdn.disposition_raw.contains("decryption-failed"),
        "{}",
        mdn.disposition_raw
    );

    // truncated body of a good message
    let good = build(&w, b"payload", true);
    let answer = send(&w, &good.headers, &good.body[..good.body.len() / 2]);
    let mdn = parse_mdn(
        &Headers::from_pairs(answer.headers.clone()),
        &answer.body,
        std::slice::from_ref(&w.us.cert),
    )
    .unwrap();
    assert!(!mdn.disposition.is_delivered());
    // the resend of the complete message is processed and the failed row becomes received
    let answer = send(&w, &good.headers, &good.body);
    let mdn = parse_mdn(
        &Headers::from_pairs(answer.headers.clone()),
        &answer.body,
        std::slice::from_ref(&w.us.cert),
    )
    .unwrap();
    assert!(mdn.disposition.is_delivered(), "{}", mdn.disposition_raw);
    let _ = DecryptionKey {
        certificate: &w.us.cert,
        key: w.us.key.as_ref(),
    };
}

#[test]
fn unknown_pairs_and_non_as2_requests_are_refused_without_storing() {
    let w = world(TestDb::sqlite(), party("b"), party("a"));
    let answer = send(
        &w,
        &[("Content-Type".into(), "text/plain".into())],
        b"hello",
    );
    assert_eq!(answer.status, 400);
    let headers = vec![
        ("AS2-From".into(), "SOMEONE".into()),
        ("AS2-To".into(), "TENANT-B".into()),
        ("Message-ID".into(), "<x@y>".into()),
        ("Content-Type".into(), "text/plain".into()),
    ];
    let answer = send(&w, &headers, b"hello");
    assert_eq!(answer.status, 404);
    assert!(String::from_utf8_lossy(&answer.body).contains("SOMEONE"));
    // the right pair, but the test station is not reached in live mode
    let good = build(&w, b"ISA*00*~", false);
    let answer = send_in(&w, Mode::Live, &good.headers, &good.body);
    assert_eq!(
        answer.status,
        404,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    assert!(String::from_utf8_lossy(&answer.body).contains("live mode"));
    let (_, total) =
        w.db.store
            .messages()
            .list(w.scope, Default::default(), Default::default())
            .unwrap();
    assert_eq!(total, 0);
}

#[test]
fn a_message_over_the_tenant_limit_is_refused_with_413_and_not_stored() {
    let w = world(TestDb::sqlite(), party("b"), party("a"));
    // the limit belongs to the receiving tenant: set it through the store as the API does
    let (owner, tenant) = (w.account, w.scope.tenant_id);
    w.db.store
        .accounts()
        .set_message_limit(owner, tenant, Some(8192))
        .unwrap();
    let big = build(&w, &vec![b'x'; 20_000], false);
    let answer = send(&w, &big.headers, &big.body);
    assert_eq!(
        answer.status,
        413,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    assert!(String::from_utf8_lossy(&answer.body).contains("8192"));
    let small = build(&w, b"ISA*00*~", false);
    assert_eq!(send(&w, &small.headers, &small.body).status, 200);
    let (_, total) =
        w.db.store
            .messages()
            .list(w.scope, Default::default(), Default::default())
            .unwrap();
    assert_eq!(total, 1, "only the small message is recorded");
    // removing the limit lets the big one through
    w.db.store
        .accounts()
        .set_message_limit(owner, tenant, None)
        .unwrap();
    assert_eq!(send(&w, &big.headers, &big.body).status, 200);
}

/// A message stored before the process stopped, without its MDN: a resend gets the MDN it
/// never had, but its async URL is used only when the resend itself is authenticated (its
/// headers are not signed, so anyone could replay them with their own URL).
#[test]
fn a_resend_of_an_unanswered_message_is_authenticated_before_its_async_url_is_trusted() {
    let (us, partner) = (party("tenant-b"), party("partner-a"));
    let db = TestDb::sqlite();
    let w = world(db, us.again(), partner.again());
    let asynchronous = |signed: bool, url: &str| {
        let mut out = OutboundMessage::new(
            &as2_core::crypto::rust_crypto::DEFAULT_PROVIDER,
            "PARTNER-A",
            "TENANT-B",
            b"ISA*00*~GS*IN~",
            "application/edi-x12",
        );
        out.message_id = Some("<unanswered@partner-a>".into());
        if signed {
            out.signer = Some(Signer::new(
                &w.partner.cert,
                w.partner.key.as_ref(),
                SignOptions::new(std::time::SystemTime::now()),
            ));
        }
        out.encryption = Some(message::Encryption::new(
            vec![&w.us.cert],
            EncryptOptions::default(),
        ));
        out.mdn_to = Some("as2@partner.example".into());
        out.mdn_options = Some(NotificationOptions::signed(&[DigestAlgorithm::Sha256]));
        out.receipt_delivery_option = Some(url.to_owned());
        message::build_outbound(&out).unwrap()
    };
    let first = asynchronous(true, "https://partner.example/mdn");
    assert_eq!(send(&w, &first.headers, &first.body).status, 200);
    // the process stopped after the payload was stored and before the MDN went anywhere
    w.db.execute(
        "DELETE FROM mdns; DELETE FROM jobs WHERE kind = 'send_mdn'; \
         DELETE FROM message_events WHERE event_type = 'mdn_async_queued';",
    );
    let queued = |w: &World| {
        let stored =
            w.db.store
                .messages()
                .find_by_as2_id(
                    w.scope,
                    as2_domain::id::PartnerId(1),
                    Direction::Inbound,
                    "<unanswered@partner-a>",
                )
                .unwrap()
                .unwrap();
        let events: Vec<_> =
            w.db.store
                .messages()
                .events(w.scope, stored.id)
                .unwrap()
                .into_iter()
                .map(|e| (e.event_type, e.detail))
                .collect();
        events
    };
    // a stranger replays the Message-ID, unsigned, with an async URL of their own
    let forged = asynchronous(false, "https://attacker.example/collect");
    assert_eq!(send(&w, &forged.headers, &forged.body).status, 200);
    let events = queued(&w);
    assert!(
        events.iter().any(|(e, _)| e == "mdn_async_withheld"),
        "{events:?}"
    );
    assert!(
        !events.iter().any(|(e, _)| e == "mdn_async_queued"),
        "{events:?}"
    );
    // again, now that its MDN is recorded (the replay path): still withheld
    assert_eq!(send(&w, &forged.headers, &forged.body).status, 200);
    let events = queued(&w);
    assert_eq!(
        events
            .iter()
            .filter(|(e, _)| e == "mdn_async_withheld")
            .count(),
        2,
        "{events:?}"
    );
    assert!(
        !events.iter().any(|(e, _)| e == "mdn_async_queued"),
        "{events:?}"
    );
    // the partner's own, signed resend gets its MDN queued to its URL
    let genuine = asynchronous(true, "https://partner.example/mdn");
    assert_eq!(send(&w, &genuine.headers, &genuine.body).status, 200);
    let events = queued(&w);
    assert!(
        events
            .iter()
            .any(|(e, d)| e == "mdn_async_queued"
                && d.as_deref() == Some("https://partner.example/mdn")),
        "{events:?}"
    );
}

/// Files under the payload store's `objects/`.
fn objects(w: &World) -> usize {
    fn walk(path: &std::path::Path) -> usize {
        std::fs::read_dir(path).map_or(0, |entries| {
            entries
                .flatten()
                .map(|e| {
                    if e.path().is_dir() {
                        walk(&e.path())
                    } else {
                        1
                    }
                })
                .sum()
        })
    }
    walk(&w.dir.path().join("objects"))
}

fn received(w: &World, message_id: &str) -> as2_domain::message::Message {
    w.db.store
        .messages()
        .find_by_as2_id(
            w.scope,
            as2_domain::id::PartnerId(1),
            Direction::Inbound,
            message_id,
        )
        .unwrap()
        .unwrap()
}

/// Issue 18: a payload at most the inline limit (64 KiB by default) goes into its row and
/// leaves no file in the payload directory; a larger one is a file, as before.
#[test]
fn a_small_payload_is_kept_in_its_row_and_a_large_one_in_the_payload_store() {
    let (us, partner) = (party("tenant-b"), party("partner-a"));
    for db in TestDb::all() {
        let w = world(db, us.again(), partner.again());
        let small: Vec<u8> = b"ISA*00*~".iter().copied().cycle().take(1024).collect();
        let built = build(&w, &small, true);
        assert_eq!(send(&w, &built.headers, &built.body).status, 200);
        let row = received(&w, &built.message_id);
        assert_eq!(
            row.payload,
            Some(as2_domain::message::PayloadRef::Inline(small.clone()))
        );
        assert_eq!(objects(&w), 0, "a 1 KiB payload left a file");
        assert!(
            w.db.store
                .messages()
                .mdn(w.scope, row.id)
                .unwrap()
                .is_some()
        );

        let large: Vec<u8> = b"ISA*01*~"
            .iter()
            .copied()
            .cycle()
            .take(200 * 1024)
            .collect();
        let built = build(&w, &large, true);
        assert_eq!(send(&w, &built.headers, &built.body).status, 200);
        let row = received(&w, &built.message_id);
        let Some(as2_domain::message::PayloadRef::Object(key)) = &row.payload else {
            panic!("a 200 KiB payload is not an object: {:?}", row.payload);
        };
        assert_eq!(w.payloads.read(key).unwrap(), large);
        assert_eq!(objects(&w), 1);
        assert_eq!(row.bytes, 200 * 1024);
    }
}

/// With the inline limit at 0 every payload is a file again (the "before" of the benchmark).
#[test]
fn an_inline_limit_of_zero_keeps_every_payload_in_the_payload_store() {
    let (us, partner) = (party("tenant-b"), party("partner-a"));
    let db = TestDb::sqlite();
    let mut w = world(db, us.again(), partner.again());
    w.payloads = w.payloads.clone().with_inline_limit(0);
    let built = build(&w, b"ISA*00*~", true);
    assert_eq!(send(&w, &built.headers, &built.body).status, 200);
    let row = received(&w, &built.message_id);
    assert!(
        matches!(
            row.payload,
            Some(as2_domain::message::PayloadRef::Object(_))
        ),
        "{:?}",
        row.payload
    );
    assert_eq!(objects(&w), 1);
}

/// Issue 18: the certificates and keys a received message loads are kept by id for the
/// next message, never for another store: two databases of one process hold other key pairs
/// under the same certificate ids, and each receives with its own.
#[test]
fn loaded_certificates_never_serve_another_store() {
    let first = world(TestDb::sqlite(), party("tenant-b"), party("partner-a"));
    let second = world(TestDb::sqlite(), party("tenant-b"), party("partner-a"));
    let ids = |w: &World| {
        let partner =
            w.db.store
                .partners()
                .get(w.scope, as2_domain::id::PartnerId(1))
                .unwrap();
        (w.scope, partner.settings.certificate_id)
    };
    assert_eq!(
        ids(&first),
        ids(&second),
        "the same tenant and certificate ids"
    );
    for w in [&first, &second, &first, &second] {
        let built = build(w, b"ISA*00*~", true);
        assert_eq!(send(w, &built.headers, &built.body).status, 200);
        let row = received(w, &built.message_id);
        assert_eq!(row.status, MessageStatus::Received, "{:?}", row.error);
    }
}

/// Issue 18: the statements one received message costs (signed and encrypted, signed sync
/// MDN, a new Message-ID), so that they cannot creep back: admission (with the duplicate
/// check and the trust records), then the row, its event, its webhook outbox and its MDN in
/// one transaction; the certificates were loaded with the first message.
#[test]
fn receiving_one_message_runs_a_bounded_number_of_statements() {
    let (us, partner) = (party("tenant-b"), party("partner-a"));
    for db in TestDb::all() {
        let w = world(db, us.again(), partner.again());
        // a first message warms nothing in the store; count the second
        let first = build(&w, b"ISA*00*~", true);
        assert_eq!(send(&w, &first.headers, &first.body).status, 200);
        let built = build(&w, b"ISA*01*~", true);
        let before = w.db.store.db().statements_run();
        assert_eq!(send(&w, &built.headers, &built.body).status, 200);
        let ran = w.db.store.db().statements_run() - before;
        eprintln!("{}: {ran} statements for one received message", w.db.url);
        let max = match w.db.store.db().backend() {
            as2_store::Backend::Sqlite => MAX_STATEMENTS_PER_RECEIVE_SQLITE,
            as2_store::Backend::Postgres => MAX_STATEMENTS_PER_RECEIVE_POSTGRES,
        };
        assert!(
            ran <= max,
            "{}: receiving one message ran {ran} statements (at most {max})",
            w.db.url
        );
    }
}

/// Measured on 2026-12-06 (session 16): 5 on PostgreSQL (admission's one query for the
/// station, the partner, the tenant's limit, whether the Message-ID was received before and
/// both trust records; no certificate, the process loaded them with the first message; then
/// one transaction: BEGIN, the row with its event and its MDN in one statement, the outbox's
/// event returning the endpoints, COMMIT). Before: 7 (the trust records in one query of their
/// own and the certificates in one more), 11 before that (the duplicate check a query of its
/// own, the row, its event, its MDN, the endpoints and the event each one), and 15 before that.
const MAX_STATEMENTS_PER_RECEIVE_POSTGRES: u64 = 5;

/// 8 on SQLite: the same, but the row, its event, its MDN, the endpoints and the event each
/// by their own statement (SQLite has no round trips). Before: 12 (the trust records and the
/// certificates each by its own cached statement).
const MAX_STATEMENTS_PER_RECEIVE_SQLITE: u64 = 8;

/// Issue 18: on SQLite the connections that commit received messages never checkpoint; the
/// pool's thread does, and truncates the WAL once it is over its limit, while the gateway
/// goes on receiving: the WAL file's size falls back.
#[test]
fn the_wal_is_checkpointed_while_messages_are_received() {
    let db = TestDb::sqlite_with(&as2_store::PoolOptions {
        wal_checkpoints: Some(as2_store::WalCheckpoints {
            interval: Duration::from_millis(5),
            truncate_above: 16 * 1024,
        }),
        ..as2_store::PoolOptions::default()
    });
    let wal =
        std::path::PathBuf::from(format!("{}-wal", db.url.strip_prefix("sqlite://").unwrap()));
    let w = world(db, party("tenant-b"), party("partner-a"));
    let messages: Vec<_> = (0..20)
        .map(|n| build(&w, format!("ISA*{n:02}*~").as_bytes(), true))
        .collect();
    let len = || std::fs::metadata(&wal).map_or(0, |m| m.len());
    // the WAL's size sampled every millisecond while the messages are received
    let receiving = std::sync::atomic::AtomicBool::new(true);
    let (peak, fell) = std::thread::scope(|s| {
        let sampler = s.spawn(|| {
            let (mut peak, mut fell) = (0, false);
            while receiving.load(std::sync::atomic::Ordering::Relaxed) {
                let now = len();
                fell |= now < peak;
                peak = peak.max(now);
                std::thread::sleep(Duration::from_millis(1));
            }
            (peak, fell)
        });
        let statuses: Vec<u16> = messages
            .iter()
            .map(|built| send(&w, &built.headers, &built.body).status)
            .collect();
        receiving.store(false, std::sync::atomic::Ordering::Relaxed);
        assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
        sampler.join().unwrap()
    });
    assert!(
        peak > 16 * 1024,
        "the WAL never passed its limit: {peak} bytes"
    );
    assert!(
        fell,
        "the WAL never fell back while receiving (peak {peak} bytes)"
    );
}
