//! The real `as2-gateway` binary receiving large messages: a 512 MiB signed and encrypted
//! message streams from the socket through the decoder into the payload store with the
//! gateway's peak resident memory (`VmHWM`) far below the message's size, and a message whose
//! signature fails only at its end (a payload byte changed) leaves no payload, no inbox file
//! and no `message.received` webhook behind.

use std::io::Read;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use as2_core::cms::{EncryptOptions, SignOptions};
use as2_core::crypto::DigestAlgorithm;
use as2_core::crypto::rust_crypto::DEFAULT_PROVIDER;
use as2_core::message::{
    Encryption, NotificationOptions, OutboundEncoder, OutboundMessage, Signer, build_outbound,
};
use as2_domain::Mode;
use as2_domain::message::{Direction, MessageStatus};
use as2_domain::pagination::PageRequest;
use as2_domain::webhook::WebhookSettings;
use as2_e2e::process::{GatewayProcess, free_port, open_store};
use as2_e2e::seed::{Identity, Seed, Seeded, identity, seed};
use as2_store::Store;
use as2_store::payload::PayloadStore;
use sha2::{Digest, Sha256};

const MIB: u64 = 1 << 20;

/// What the gateway may hold at its peak while it receives a 512 MiB message.
const PEAK_BUDGET: u64 = 128 * MIB;

/// A store in `data` with one test tenant (station `BIG` holding `us`, partner `SENDER`
/// signing with `sender`) that accepts messages up to 1 GiB.
fn target(data: &Path, us: &Identity, sender: &Identity) -> (Store, Seeded) {
    let store = open_store(data);
    let seeded = seed(
        &store,
        &Seed {
            mode: Mode::Test,
            name: "big",
            ours: "BIG",
            theirs: "SENDER",
            me: us,
            them: sender,
            url: "https://127.0.0.1:9/x",
            basic_auth: None,
        },
    );
    store
        .accounts()
        .set_message_limit(seeded.account, seeded.scope.tenant_id, Some(1 << 30))
        .unwrap();
    (store, seeded)
}

/// The message from `sender` to `us`: signed, encrypted, asking for a signed sync MDN.
fn message<'a>(sender: &'a Identity, us: &'a Identity) -> OutboundMessage<'a> {
    let mut out = OutboundMessage::new(
        &DEFAULT_PROVIDER,
        "SENDER",
        "BIG",
        &[],
        "application/octet-stream",
    );
    out.signer = Some(Signer::new(
        &sender.cert,
        sender.key.as_ref(),
        SignOptions::new(SystemTime::now()),
    ));
    out.encryption = Some(Encryption::new(vec![&us.cert], EncryptOptions::default()));
    out.mdn_to = Some("as2@sender.example".into());
    out.mdn_options = Some(NotificationOptions::signed(&[DigestAlgorithm::Sha256]));
    out
}

/// The `n`th 64 KiB piece of the big payload (not all alike, so a misplaced piece shows).
fn piece(n: u64) -> Vec<u8> {
    let mut piece = vec![0u8; 64 * 1024];
    for (i, byte) in piece.iter_mut().enumerate() {
        *byte = (n as u8).wrapping_add((i % 251) as u8);
    }
    piece
}

/// A message body produced as it is read: the encoder fed piece after piece.
struct EncodedBody {
    encoder: Option<OutboundEncoder<'static>>,
    pieces: u64,
    next: u64,
    out: Vec<u8>,
    at: usize,
    payload_hash: Sha256,
    done: Option<std::sync::mpsc::Sender<Vec<u8>>>,
}

impl Read for EncodedBody {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.at == self.out.len() {
            self.out.clear();
            self.at = 0;
            let Some(encoder) = self.encoder.as_mut() else {
                return Ok(0);
            };
            if self.next < self.pieces {
                let piece = piece(self.next);
                self.payload_hash.update(&piece);
                encoder
                    .push(&piece, &mut self.out)
                    .map_err(std::io::Error::other)?;
                self.next += 1;
            } else if let Some(encoder) = self.encoder.take() {
                encoder
                    .finish(&mut self.out)
                    .map_err(std::io::Error::other)?;
                // the payload's hash goes back once all of it was pushed
                if let Some(done) = self.done.take() {
                    let hash = std::mem::take(&mut self.payload_hash).finalize();
                    let _ = done.send(hash.to_vec());
                }
            }
        }
        let n = buf.len().min(self.out.len() - self.at);
        buf[..n].copy_from_slice(&self.out[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

fn start_gateway(data: &Path, env: &[(&str, String)]) -> GatewayProcess {
    GatewayProcess::start(
        env!("CARGO_BIN_EXE_as2-gateway"),
        &["serve", "--no-workers"],
        data,
        free_port(),
        env,
    )
}

#[test]
fn a_512_mib_message_is_received_in_bounded_memory() {
    let data = tempfile::tempdir().unwrap();
    // the identities live as long as the body that borrows them, which reqwest wants 'static
    let us: &'static Identity = Box::leak(Box::new(identity("big")));
    let sender: &'static Identity = Box::leak(Box::new(identity("sender")));
    let (store, seeded) = target(data.path(), us, sender);
    let gateway = start_gateway(data.path(), &[]);
    let pieces = 512 * MIB / (64 * 1024);
    let outbound: &'static OutboundMessage<'static> = Box::leak(Box::new(message(sender, us)));
    let encoder = OutboundEncoder::new(outbound, Some(pieces * 64 * 1024)).unwrap();
    let length = encoder
        .content_length()
        .expect("signed and encrypted: length known");
    let headers = encoder.headers().to_vec();
    let (body_tx, body_rx) = std::sync::mpsc::channel();
    let body = EncodedBody {
        encoder: Some(encoder),
        pieces,
        next: 0,
        out: Vec::new(),
        at: 0,
        payload_hash: Sha256::new(),
        done: Some(body_tx),
    };
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(900))
        .build()
        .unwrap();
    let mut request = client
        .post(format!("http://{}/as2/test/receive", gateway.addr))
        .body(reqwest::blocking::Body::sized(body, length));
    for (name, value) in &headers {
        request = request.header(name.as_str(), value.as_str());
    }
    let started = Instant::now();
    let answer = request.send().unwrap();
    let status = answer.status().as_u16();
    let mdn = answer.text().unwrap();
    let elapsed = started.elapsed();
    let peak = gateway.peak_rss();
    eprintln!(
        "512 MiB signed + encrypted received in {:.1} s, gateway peak RSS {} MiB",
        elapsed.as_secs_f64(),
        peak / MIB
    );
    assert_eq!(status, 200, "{mdn}");
    assert!(
        mdn.contains("processed") && !mdn.contains("processed/error"),
        "a positive MDN: {mdn}"
    );
    let expected = hex(&body_rx.recv().unwrap());
    let (messages, _) = store
        .messages()
        .list(seeded.scope, Default::default(), PageRequest::default())
        .unwrap();
    let received = messages
        .iter()
        .find(|m| m.direction == Direction::Inbound)
        .expect("the message is recorded");
    assert_eq!(received.status, MessageStatus::Received);
    assert_eq!(received.bytes, i64::try_from(512 * MIB).unwrap());
    assert_eq!(
        received.sha256, expected,
        "the stored payload is the one sent"
    );
    assert!(
        peak < PEAK_BUDGET,
        "the gateway's peak RSS is {} MiB, over {} MiB",
        peak / MIB,
        PEAK_BUDGET / MIB
    );
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn a_signature_failing_at_the_end_leaves_no_payload_inbox_file_or_webhook() {
    let data = tempfile::tempdir().unwrap();
    let inbox = data.path().join("inbox");
    let (us, sender) = (identity("big"), identity("sender"));
    let (store, seeded) = target(data.path(), &us, &sender);
    let endpoint = store
        .webhooks()
        .create(
            seeded.scope,
            &WebhookSettings {
                url: "https://127.0.0.1:9/hook".into(),
                description: None,
                events: vec!["*".into()],
                active: true,
            },
            "whsec_test",
        )
        .unwrap();
    let gateway = start_gateway(
        data.path(),
        &[("AS2_INBOX_DIR", inbox.display().to_string())],
    );
    // 4 MiB of payload, many pieces spooled before the end shows the signature is wrong
    let payload: Vec<u8> = (0..64).flat_map(piece).collect();
    let mut out = message(&sender, &us);
    out.payload = &payload;
    let built = build_outbound(&out).unwrap();
    let mut body = built.body.clone();
    // a byte of ciphertext three quarters in: CBC garbles that block of the payload, the
    // padding at the end stays right, and only the signature over the whole entity fails
    let at = body.len() * 3 / 4;
    body[at] ^= 0x5a;
    let client = reqwest::blocking::Client::new();
    let mut request = client
        .post(format!("http://{}/as2/test/receive", gateway.addr))
        .body(body);
    for (name, value) in &built.headers {
        request = request.header(name.as_str(), value.as_str());
    }
    let answer = request.send().unwrap();
    assert_eq!(answer.status().as_u16(), 200);
    let mdn = answer.text().unwrap();
    assert!(
        mdn.contains("processed/error") || mdn.contains("failed/failure"),
        "a negative MDN: {mdn}"
    );
    let statuses = store.messages().count_by_status().unwrap();
    assert_eq!(
        statuses,
        vec![("inbound".to_owned(), "failed".to_owned(), 1)],
        "recorded as failed, nothing received"
    );
    let payloads = PayloadStore::open(data.path().join("payloads")).unwrap();
    let stored: usize = (0..=255u8)
        .map(|shard| payloads.list_shard(shard).unwrap().len())
        .sum();
    assert_eq!(stored, 0, "no payload is kept");
    let spooled = std::fs::read_dir(data.path().join("payloads").join("tmp"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(spooled, 0, "no spool file is left");
    let inbox_files = walk(&inbox);
    assert!(inbox_files.is_empty(), "no inbox file: {inbox_files:?}");
    let (deliveries, _) = store
        .webhooks()
        .deliveries(seeded.scope, endpoint.id, PageRequest::default())
        .unwrap();
    let events: Vec<&str> = deliveries.iter().map(|d| d.event_type.as_str()).collect();
    assert_eq!(events, ["message.failed"], "only the failure is announced");
}

/// Every file under `dir` (none when it does not exist).
fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .flat_map(|e| {
            let path = e.path();
            if path.is_dir() {
                walk(&path)
            } else {
                vec![path]
            }
        })
        .collect()
}
