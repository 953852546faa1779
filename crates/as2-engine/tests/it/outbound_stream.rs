//! The outbound worker streams a message from the payload store into the request: a 20 MiB
//! payload, signed and encrypted, with and without compression (the spooled case), goes out
//! under an exact `Content-Length` (never chunked) and decodes on the receiving side to the
//! payload, under the MIC recorded on the message; a payload that fails to read mid-stream
//! aborts the request (the partner sees an incomplete body) and the attempt is retried,
//! encoded again from the payload store under the same Message-ID. A send that outlasts the
//! job's lease keeps it (the worker renews the lease): another worker does not post it again.

use std::collections::HashMap;
use std::io::{self, Read};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use as2_core::cert::Certificate;
use as2_core::cms::DecryptionKey;
use as2_core::crypto::MicAlgStyle;
use as2_core::crypto::rust_crypto::DEFAULT_PROVIDER;
use as2_core::message::{InboundConfig, InboundMessage, parse_inbound};
use as2_core::mime::Headers;
use as2_core::{cert, keys};
use as2_domain::Mode;
use as2_domain::algorithms::MdnMode;
use as2_domain::certificate::CertificateInfo;
use as2_domain::destination::DestinationPolicy;
use as2_domain::id::MessageId;
use as2_domain::message::{Direction, MessageStatus};
use as2_domain::partner::PartnerSettings;
use as2_domain::plan::Plan;
use as2_domain::station::StationSettings;
use as2_engine::metrics::Metrics;
use as2_engine::{Worker, WorkerConfig};
use as2_store::Scope;
use as2_store::payload::{BackendWriter, ListedPayload, PayloadBackend, PayloadStore};
use as2_store::repo::certificates::NewCertificate;
use as2_store::repo::messages::NewMessage;
use as2_store::testing::TestDb;
use axum::Router;
use axum::body::Body;
use axum::http::HeaderMap;
use axum::routing::post;
use http_body_util::BodyExt;
use tokio::sync::mpsc;

const MIB: usize = 1024 * 1024;

struct Party {
    key: Box<dyn as2_core::crypto::PrivateKeyOps>,
    key_pem: Vec<u8>,
    cert: Certificate,
}

fn party(name: &str) -> Party {
    let key = keys::generate_rsa_key(&DEFAULT_PROVIDER, 2048).unwrap();
    let cert = cert::generate_self_signed(
        &DEFAULT_PROVIDER,
        &key,
        &format!("CN={name}"),
        SystemTime::now(),
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

/// What the partner's endpoint saw of one request.
struct Received {
    headers: HeaderMap,
    /// The body, or why it did not arrive whole.
    body: Result<Vec<u8>, String>,
}

/// A partner's endpoint on 127.0.0.1 answering 200 after reading the whole body; each
/// request it saw comes out of the receiver.
async fn partner_endpoint() -> (String, mpsc::UnboundedReceiver<Received>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let app = Router::new().route(
        "/as2",
        post(move |headers: HeaderMap, body: Body| {
            let tx = tx.clone();
            async move {
                let body = match body.collect().await {
                    Ok(collected) => Ok(collected.to_bytes().to_vec()),
                    Err(e) => Err(e.to_string()),
                };
                let _ = tx.send(Received { headers, body });
                "received"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://127.0.0.1:{port}/as2"), rx)
}

/// A partner's endpoint on 127.0.0.1 that reads the body, then takes `delay` to answer
/// (a slow partner); counts the requests it saw.
async fn slow_partner_endpoint(delay: Duration) -> (String, Arc<AtomicUsize>) {
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    let app = Router::new().route(
        "/as2",
        post(move |body: Body| {
            let counter = counter.clone();
            async move {
                let _ = body.collect().await;
                counter.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(delay).await;
                "received"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://127.0.0.1:{port}/as2"), seen)
}

/// How reading the payload breaks: after `after` bytes, on the first `times` reads.
#[derive(Debug, Clone, Copy)]
struct Breaks {
    after: usize,
    times: usize,
}

/// A payload backend in memory whose reads break as `breaks` says.
#[derive(Debug, Default)]
struct MemoryPayloads {
    objects: Arc<Mutex<HashMap<String, Vec<u8>>>>,
    breaks: Option<Breaks>,
    opened: AtomicUsize,
}

#[derive(Debug)]
struct MemoryWriter {
    key: String,
    bytes: Vec<u8>,
    objects: Arc<Mutex<HashMap<String, Vec<u8>>>>,
}

impl BackendWriter for MemoryWriter {
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.bytes.extend_from_slice(buf);
        Ok(())
    }

    fn finish(self: Box<Self>) -> io::Result<()> {
        self.objects.lock().unwrap().insert(self.key, self.bytes);
        Ok(())
    }
}

/// Gives its bytes, then fails (a disk or an S3 GET that breaks mid-read).
struct Breaking {
    bytes: io::Cursor<Vec<u8>>,
}

impl Read for Breaking {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.bytes.read(buf)? {
            0 => Err(io::Error::other("the payload's disk went away")),
            n => Ok(n),
        }
    }
}

impl PayloadBackend for MemoryPayloads {
    fn describe(&self) -> String {
        "memory".into()
    }

    fn begin(&self, key: &str) -> io::Result<Box<dyn BackendWriter>> {
        Ok(Box::new(MemoryWriter {
            key: key.to_owned(),
            bytes: Vec::new(),
            objects: self.objects.clone(),
        }))
    }

    fn open_read(&self, key: &str) -> io::Result<Box<dyn Read + Send>> {
        let bytes = self.read(key)?;
        let opened = self.opened.fetch_add(1, Ordering::SeqCst);
        Ok(match self.breaks {
            Some(Breaks { after, times }) if opened < times => Box::new(Breaking {
                bytes: io::Cursor::new(bytes[..after.min(bytes.len())].to_vec()),
            }),
            _ => Box::new(io::Cursor::new(bytes)),
        })
    }

    fn read(&self, key: &str) -> io::Result<Vec<u8>> {
        self.objects
            .lock()
            .unwrap()
            .get(key)
            .cloned()
            .ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))
    }

    fn delete_many(&self, keys: &[String]) -> io::Result<()> {
        let mut objects = self.objects.lock().unwrap();
        for key in keys {
            objects.remove(key);
        }
        Ok(())
    }

    fn list(&self, _shard: &str) -> io::Result<Vec<ListedPayload>> {
        Ok(Vec::new())
    }

    fn remove_stale_temporaries(&self, _cutoff: SystemTime) -> io::Result<usize> {
        Ok(0)
    }
}

/// A tenant with a station that signs and a partner at `url` that encrypts, one queued
/// message of `payload` to it, and a worker allowed to post to 127.0.0.1.
struct World {
    db: TestDb,
    scope: Scope,
    message: MessageId,
    us: Party,
    partner: Party,
    worker: Worker,
    /// A second worker on the same store and payloads (another gateway).
    rival: Worker,
}

fn world(url: &str, compress: bool, payload: &[u8], breaks: Option<Breaks>) -> World {
    world_leased(url, compress, payload, breaks, None)
}

/// [`world`] with the worker's lease set to `lease` (its default otherwise).
fn world_leased(
    url: &str,
    compress: bool,
    payload: &[u8],
    breaks: Option<Breaks>,
    lease: Option<Duration>,
) -> World {
    let (us, partner) = (party("us"), party("partner"));
    let db = TestDb::sqlite();
    let store = &db.store;
    let account = store.accounts().create_account("S", Plan::Starter).unwrap();
    let tenant = store.accounts().create_tenant(account.id, "S").unwrap();
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
                name: "S".into(),
                as2_id: "TENANT-S".into(),
                certificate_id: Some(ours.id),
                encryption_certificate_id: None,
                mdn_url: None,
                is_default: true,
            },
        )
        .unwrap();
    let mut settings = PartnerSettings::new("P".into(), "PARTNER-P".into(), url.into(), station.id);
    settings.certificate_id = Some(theirs.id);
    settings.compress = compress;
    settings.mdn_mode = MdnMode::None;
    // a retry is due a second after a failed attempt
    settings.retry_interval_secs = 1;
    let partner_row = store.partners().create(scope, &settings, None).unwrap();

    let payloads = PayloadStore::with_backend(Arc::new(MemoryPayloads {
        breaks,
        ..MemoryPayloads::default()
    }));
    // at most the inline limit (64 KiB) the payload is kept in the row, beyond it an object
    let mut spool = payloads.spool();
    io::Write::write_all(&mut spool, payload).unwrap();
    let stored = spool.finish().unwrap();
    let message = store
        .messages()
        .create_outbound(
            scope,
            &NewMessage {
                direction: Direction::Outbound,
                partner_id: partner_row.id,
                station_id: station.id,
                as2_message_id: "<streamed-1@tenant-s>",
                subject: Some("Orders"),
                filename: Some("orders.edi"),
                content_type: "application/edi-x12",
                bytes: i64::try_from(stored.size).unwrap(),
                sha256: &stored.sha256,
                payload: Some(&stored.payload),
                mdn_mode: MdnMode::None,
                status: MessageStatus::Queued,
                error: None,
                mic: None,
                destination_url: None,
            },
            3,
            None,
        )
        .unwrap();

    let mut config = WorkerConfig::new(&DEFAULT_PROVIDER);
    config.destinations = DestinationPolicy::loopback();
    if let Some(lease) = lease {
        config.lease = lease;
    }
    let worker = Worker::new(
        Arc::new(store.clone()),
        Arc::new(payloads.clone()),
        config.clone(),
        Arc::new(Metrics::default()),
    )
    .unwrap();
    let rival = Worker::new(
        Arc::new(store.clone()),
        Arc::new(payloads),
        config,
        Arc::new(Metrics::default()),
    )
    .unwrap();
    World {
        rival,
        db,
        scope,
        message: message.id,
        us,
        partner,
        worker,
    }
}

/// EDI-like lines that differ from one another, `len` bytes.
fn payload(len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 64);
    let mut i = 0u64;
    while out.len() < len {
        out.extend_from_slice(
            format!(
                "PO1*{i}*{}*EA*{}.95**BP*{:010}~\r\n",
                i % 97,
                i % 13,
                i * 7919
            )
            .as_bytes(),
        );
        i += 1;
    }
    out.truncate(len);
    out
}

async fn next(rx: &mut mpsc::UnboundedReceiver<Received>) -> Received {
    tokio::time::timeout(Duration::from_secs(60), rx.recv())
        .await
        .expect("the partner saw no request")
        .expect("the partner's endpoint stopped")
}

/// The partner's reading of a request that arrived whole: exactly `Content-Length` bytes,
/// not chunked, signed by us and encrypted for the partner.
fn decode(w: &World, received: &Received) -> InboundMessage {
    let body = received.body.as_ref().expect("the whole body arrives");
    let declared = received
        .headers
        .get("content-length")
        .expect("a Content-Length")
        .to_str()
        .unwrap();
    assert_eq!(declared, body.len().to_string());
    assert!(received.headers.get("transfer-encoding").is_none());
    let keys = [DecryptionKey {
        certificate: &w.partner.cert,
        key: w.partner.key.as_ref(),
    }];
    let trusted = [w.us.cert.clone()];
    let mut cfg = InboundConfig::new(&DEFAULT_PROVIDER, &keys, &trusted);
    cfg.require_signature = true;
    cfg.require_encryption = true;
    let headers = Headers::from_pairs(
        received
            .headers
            .iter()
            .map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap().to_owned())),
    );
    let parsed = parse_inbound(&headers, body, &cfg).unwrap();
    assert_eq!(
        headers.get("message-id").map(str::to_owned),
        Some("<streamed-1@tenant-s>".to_owned())
    );
    parsed
}

async fn sends_whole_under_its_content_length(compress: bool) {
    let (url, mut seen) = partner_endpoint().await;
    let data = payload(20 * MIB);
    let w = world(&url, compress, &data, None);
    assert!(w.worker.run_once().await.unwrap());
    // the partner decodes our payload back, under the MIC recorded on the message
    let parsed = decode(&w, &next(&mut seen).await);
    assert_eq!(parsed.compressed, compress);
    assert!(parsed.payload[..] == data[..], "the payload differs");
    let message = w.db.store.messages().get(w.scope, w.message).unwrap();
    assert_eq!(message.status, MessageStatus::Delivered);
    assert_eq!(
        message.mic,
        Some(parsed.mic.to_header_value(MicAlgStyle::Rfc5751))
    );
}

/// Issue 18: a small payload kept in its message's row goes out from there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_small_message_goes_out_from_its_row() {
    let (url, mut seen) = partner_endpoint().await;
    let data = payload(1024);
    let w = world(&url, false, &data, None);
    let queued = w.db.store.messages().get(w.scope, w.message).unwrap();
    assert_eq!(
        queued.payload,
        Some(as2_domain::message::PayloadRef::Inline(data.clone()))
    );
    assert!(w.worker.run_once().await.unwrap());
    let parsed = decode(&w, &next(&mut seen).await);
    assert_eq!(parsed.payload[..], data[..]);
    let message = w.db.store.messages().get(w.scope, w.message).unwrap();
    assert_eq!(message.status, MessageStatus::Delivered);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_message_goes_out_streamed_under_its_content_length() {
    sends_whole_under_its_content_length(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_compressed_large_message_is_spooled_and_sent_under_its_content_length() {
    sends_whole_under_its_content_length(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payload_failing_mid_stream_aborts_the_request_and_the_attempt_is_retried() {
    let (url, mut seen) = partner_endpoint().await;
    let data = payload(20 * MIB);
    let w = world(
        &url,
        false,
        &data,
        Some(Breaks {
            after: 5 * MIB,
            times: usize::MAX,
        }),
    );
    assert!(w.worker.run_once().await.unwrap());
    // the partner got the headers, part of the body, then the connection went
    let received = next(&mut seen).await;
    let declared: usize = received.headers["content-length"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(declared > data.len());
    assert!(received.body.is_err(), "the partner got a whole body");

    let message = w.db.store.messages().get(w.scope, w.message).unwrap();
    assert_eq!(message.status, MessageStatus::Queued);
    assert_eq!(message.mic, None);
    let sentence = message.error.unwrap().sentence;
    assert!(sentence.contains("payload store"), "{sentence}");
    assert!(sentence.contains("disk went away"), "{sentence}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payload_failing_while_spooled_sends_nothing_and_the_attempt_is_retried() {
    let (url, mut seen) = partner_endpoint().await;
    let data = payload(3 * MIB);
    let w = world(
        &url,
        true,
        &data,
        Some(Breaks {
            after: MIB,
            times: usize::MAX,
        }),
    );
    assert!(w.worker.run_once().await.unwrap());
    let message = w.db.store.messages().get(w.scope, w.message).unwrap();
    assert_eq!(message.status, MessageStatus::Queued);
    let sentence = message.error.unwrap().sentence;
    assert!(sentence.contains("disk went away"), "{sentence}");
    assert!(seen.try_recv().is_err(), "a request was made");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_retry_encodes_again_from_the_payload_store_under_the_same_message_id() {
    let (url, mut seen) = partner_endpoint().await;
    let data = payload(4 * MIB);
    let w = world(
        &url,
        false,
        &data,
        Some(Breaks {
            after: MIB,
            times: 1,
        }),
    );
    assert!(w.worker.run_once().await.unwrap());
    let first = next(&mut seen).await;
    assert!(first.body.is_err(), "the partner got a whole body");
    let queued = w.db.store.messages().get(w.scope, w.message).unwrap();
    assert_eq!(queued.status, MessageStatus::Queued);

    // the partner's retry interval is a second
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(w.worker.run_once().await.unwrap());
    let parsed = decode(&w, &next(&mut seen).await);
    assert!(parsed.payload[..] == data[..], "the payload differs");
    let message = w.db.store.messages().get(w.scope, w.message).unwrap();
    assert_eq!(message.status, MessageStatus::Delivered);
    assert_eq!(
        message.mic,
        Some(parsed.mic.to_header_value(MicAlgStyle::Rfc5751))
    );
    assert_eq!(
        first.headers["message-id"].to_str().unwrap(),
        "<streamed-1@tenant-s>"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partner_answering_before_reading_the_body_does_not_hold_the_job() {
    // answers 413 at once and never reads the body
    let app = Router::new().route(
        "/as2",
        post(|| async { (axum::http::StatusCode::PAYLOAD_TOO_LARGE, "too large") }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let data = payload(20 * MIB);
    let w = world(&format!("http://127.0.0.1:{port}/as2"), false, &data, None);
    let ran = tokio::time::timeout(Duration::from_secs(60), w.worker.run_once()).await;
    assert!(ran.expect("the job is held").unwrap());
    let message = w.db.store.messages().get(w.scope, w.message).unwrap();
    assert_eq!(message.status, MessageStatus::Queued);
    // which the client meets first is a race of the two sockets: the partner's 413, or the
    // connection it closed under the body still being written (EPIPE); either way the job
    // ends and the message waits for its retry
    let sentence = message.error.unwrap().sentence;
    assert!(
        sentence.contains("413") || sentence.contains("error writing a body"),
        "{sentence}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_longer_than_the_lease_keeps_its_job_and_is_not_sent_twice() {
    // the partner answers after 5 s; the lease is 2 s (renewed every 667 ms): without
    // renewal the rival worker would claim the job after two seconds and post the message
    // again. (A 1 s lease failed on a machine loaded by parallel builds: one renewal came
    // more than a second after the last.)
    let (url, seen) = slow_partner_endpoint(Duration::from_secs(5)).await;
    let w = world_leased(
        &url,
        false,
        &payload(4096),
        None,
        Some(Duration::from_secs(2)),
    );
    let running = tokio::spawn({
        let worker = w.worker.clone();
        async move { worker.run_once().await.unwrap() }
    });
    // the owner claims the job first: the rival starts once the partner has the request
    let claimed_by = tokio::time::Instant::now() + Duration::from_secs(30);
    while seen.load(Ordering::SeqCst) == 0 {
        assert!(
            tokio::time::Instant::now() < claimed_by,
            "the owner never sent"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // the rival polls until the owner is done; once it is, the delivery's follow-up jobs
    // (its webhook) are the rival's to claim
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !running.is_finished() && tokio::time::Instant::now() < deadline {
        if w.rival.run_once().await.unwrap() {
            assert!(
                running.is_finished(),
                "the rival claimed a job whose owner is still running it"
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(running.await.unwrap(), "the first worker ran the job");
    assert_eq!(
        seen.load(Ordering::SeqCst),
        1,
        "the partner got the message once"
    );
    let message = w.db.store.messages().get(w.scope, w.message).unwrap();
    assert_eq!(message.status, MessageStatus::Delivered);
}
