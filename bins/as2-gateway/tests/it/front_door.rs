//! The real `as2-gateway` binary under the attacks its front door must survive: 256 MiB
//! bodies (chunked and with a Content-Length) for an unknown station and with a wrong basic
//! auth are refused without being read (the peak resident memory barely moves), clients that
//! send their headers or their body slowly are cut off after the timeouts set in the
//! environment, and `/metrics` answers on its own listener, not on the AS2 one.

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use as2_domain::Mode;
use as2_e2e::process::{GatewayProcess, free_port, open_store};
use as2_e2e::raw::{Body, Exchange, exchange, head};
use as2_e2e::seed::{Seed, identity, seed};
use as2_store::Store;

/// The gateway over `data` on a free port, without workers, with `env` on top.
fn start_gateway(data: &Path, env: &[(&str, String)]) -> GatewayProcess {
    GatewayProcess::start(
        env!("CARGO_BIN_EXE_as2-gateway"),
        &["serve", "--no-workers"],
        data,
        free_port(),
        env,
    )
}

/// A store in `data` with one test tenant: station `US`, partner `PARTNER` who must send
/// basic auth `partner:s3cret`, partner `OPEN` who sends none.
fn store(data: &Path) -> Store {
    let store = open_store(data);
    let (us, partner) = (identity("us"), identity("partner"));
    let seeded = seed(
        &store,
        &Seed {
            mode: Mode::Test,
            name: "receiver",
            ours: "US",
            theirs: "PARTNER",
            me: &us,
            them: &partner,
            url: "https://127.0.0.1:9/x",
            basic_auth: Some(("partner", "s3cret")),
        },
    );
    let open = as2_domain::partner::PartnerSettings::new(
        "OPEN".into(),
        "OPEN".into(),
        "https://127.0.0.1:9/x".into(),
        seeded.station,
    );
    store.partners().create(seeded.scope, &open, None).unwrap();
    store
}

fn messages(store: &Store) -> usize {
    store
        .messages()
        .count_by_status()
        .unwrap()
        .iter()
        .map(|(_, _, n)| usize::try_from(*n).unwrap())
        .sum()
}

fn as2_head(addr: SocketAddr, from: &str, to: &str, extra: &[(&str, String)]) -> String {
    let mut headers = vec![
        ("AS2-Version".to_owned(), "1.2".to_owned()),
        ("AS2-From".to_owned(), from.to_owned()),
        ("AS2-To".to_owned(), to.to_owned()),
        ("Message-ID".to_owned(), "<big@attacker>".to_owned()),
        (
            "Content-Type".to_owned(),
            "application/pkcs7-mime; smime-type=enveloped-data".to_owned(),
        ),
    ];
    headers.extend(extra.iter().map(|(n, v)| ((*n).to_owned(), v.clone())));
    head(addr, "/as2/test/receive", &headers)
}

const BIG: u64 = 256 << 20;
const MIB: u64 = 1 << 20;

/// Posts 256 MiB (chunked or with a Content-Length) from `from` to `to` with `extra` headers;
/// the exchange and how much the gateway's peak resident memory grew.
fn post_big(
    gateway: &GatewayProcess,
    from: &str,
    to: &str,
    extra: &[(&str, String)],
    chunked: bool,
) -> (Exchange, u64) {
    let mut extra = extra.to_vec();
    extra.push(if chunked {
        ("Transfer-Encoding", "chunked".to_owned())
    } else {
        ("Content-Length", BIG.to_string())
    });
    let before = gateway.peak_rss();
    let answer = exchange(
        gateway.addr,
        &as2_head(gateway.addr, from, to, &extra),
        &Body::Stream {
            total: BIG,
            chunked,
        },
        Duration::from_secs(5),
    )
    .unwrap();
    let after = gateway.peak_rss();
    (answer, after.saturating_sub(before))
}

#[test]
#[allow(clippy::print_stderr)] // the figures are the point of the test
fn big_bodies_from_strangers_are_refused_without_being_read() {
    let data = tempfile::tempdir().unwrap();
    let store = store(data.path());
    let gateway = start_gateway(data.path(), &[]);
    // A first refused request, so that what the process sets up once is behind us.
    let warm_up = exchange(
        gateway.addr,
        &as2_head(
            gateway.addr,
            "PARTNER",
            "NOBODY",
            &[("Content-Length", "0".into())],
        ),
        &Body::Nothing,
        Duration::from_secs(5),
    )
    .unwrap();
    assert_eq!(warm_up.status, Some(404), "{warm_up:?}");
    let baseline = gateway.peak_rss();
    let wrong = ("Authorization", "Basic cGFydG5lcjpndWVzcw==".to_owned()); // partner:guess
    for (what, from, to, extra, status) in [
        ("unknown station", "PARTNER", "NOBODY", vec![], 404),
        ("no basic auth", "PARTNER", "US", vec![], 401),
        (
            "wrong basic auth",
            "PARTNER",
            "US",
            vec![wrong.clone()],
            401,
        ),
    ] {
        for chunked in [false, true] {
            let (answer, growth) = post_big(&gateway, from, to, &extra, chunked);
            eprintln!(
                "{what}, {}: answer {:?}, client sent {} MiB before the gateway stopped reading, peak RSS grew {} KiB (baseline {} MiB)",
                if chunked { "chunked" } else { "Content-Length" },
                answer.status,
                answer.sent / MIB,
                growth / 1024,
                baseline / MIB
            );
            assert!(
                answer.status == Some(status) || (answer.status.is_none() && answer.reset),
                "{what}: expected {status} or a reset: {answer:?}"
            );
            assert!(
                answer.sent < BIG,
                "{what}: the gateway read the whole body ({answer:?})"
            );
            assert!(
                growth < 64 * MIB,
                "{what}: the gateway's peak RSS grew by {} MiB",
                growth / MIB
            );
        }
    }
    assert!(
        gateway.peak_rss() < baseline + 64 * MIB,
        "the peak RSS over all attacks: {} MiB over the baseline",
        (gateway.peak_rss() - baseline) / MIB
    );
    assert_eq!(messages(&store), 0, "nothing was stored");
}

#[test]
fn slow_headers_and_slow_bodies_are_cut_off() {
    let data = tempfile::tempdir().unwrap();
    let store = store(data.path());
    let gateway = start_gateway(
        data.path(),
        &[
            ("AS2_HEADER_TIMEOUT_SECS", "1".into()),
            ("AS2_BODY_TIMEOUT_SECS", "2".into()),
        ],
    );
    // Headers trickled a line every 300 ms: the connection is closed after a second.
    let answer = exchange(
        gateway.addr,
        "POST /as2/test/receive HTTP/1.1\r\n",
        &Body::Trickle {
            piece: b"X-Slow: loris\r\n".to_vec(),
            every: Duration::from_millis(300),
            times: 40,
        },
        Duration::from_secs(3),
    )
    .unwrap();
    assert!(answer.closed, "slow headers: {answer:?}");
    assert!(
        answer.elapsed >= Duration::from_millis(900) && answer.elapsed < Duration::from_secs(5),
        "slow headers are cut off after the header timeout: {answer:?}"
    );
    // A connection that sends nothing at all is closed too.
    let answer = exchange(gateway.addr, "", &Body::Nothing, Duration::from_secs(4)).unwrap();
    assert!(
        answer.closed && answer.elapsed < Duration::from_secs(4),
        "a silent connection: {answer:?}"
    );
    // An admitted body trickled a byte every 300 ms: 408 once the body timeout has passed,
    // whether it is small enough to be read whole before its pipeline starts or streamed
    // into it.
    for declared in [1000, 100_000] {
        let answer = exchange(
            gateway.addr,
            &as2_head(
                gateway.addr,
                "OPEN",
                "US",
                &[("Content-Length", declared.to_string())],
            ),
            &Body::Trickle {
                piece: b"x".to_vec(),
                every: Duration::from_millis(300),
                times: 40,
            },
            Duration::from_secs(3),
        )
        .unwrap();
        assert_eq!(
            answer.status,
            Some(408),
            "slow body of {declared}: {answer:?}"
        );
        assert!(
            answer.elapsed >= Duration::from_millis(1900)
                && answer.elapsed < Duration::from_secs(6),
            "the slow body of {declared} is cut off after the body timeout: {answer:?}"
        );
    }
    assert_eq!(messages(&store), 0, "nothing was stored");
}

#[test]
fn metrics_are_served_on_their_own_listener_only() {
    let data = tempfile::tempdir().unwrap();
    let _store = store(data.path());
    let metrics_port = free_port();
    let gateway = start_gateway(
        data.path(),
        &[
            ("AS2_METRICS_LISTEN", format!("127.0.0.1:{metrics_port}")),
            ("AS2_METRICS_REFRESH_SECS", "1".into()),
        ],
    );
    let client = reqwest::blocking::Client::new();
    let on_as2 = client
        .get(format!("http://{}/metrics", gateway.addr))
        .send()
        .unwrap();
    assert_eq!(
        on_as2.status().as_u16(),
        404,
        "/metrics on the AS2 listener"
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let response = client
            .get(format!("http://127.0.0.1:{metrics_port}/metrics"))
            .send()
            .unwrap();
        assert_eq!(response.status().as_u16(), 200);
        let text = response.text().unwrap();
        assert!(text.contains("as2_inbound_requests_total"), "{text}");
        // the database gauges appear once the periodic task has read them
        if text.contains("# TYPE as2_queue_depth gauge")
            && text.contains("# TYPE as2_messages gauge")
        {
            break;
        }
        assert!(Instant::now() < deadline, "no database gauges: {text}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A tenant of its own whose messages are at most 8 MiB, with station `BOMBED` (key pair
/// `us`) and partner `SENDER`, who must sign and encrypt; the store keeps the rows.
fn bomb_target(data: &Path, us: &as2_e2e::seed::Identity) -> Store {
    let store = open_store(data);
    let seeded = seed(
        &store,
        &Seed {
            mode: Mode::Test,
            name: "bombed",
            ours: "BOMBED",
            theirs: "SENDER",
            me: us,
            them: &identity("sender"),
            url: "https://127.0.0.1:9/x",
            basic_auth: None,
        },
    );
    store
        .accounts()
        .set_message_limit(seeded.account, seeded.scope.tenant_id, Some(8 << 20))
        .unwrap();
    store
}

#[test]
#[allow(clippy::print_stderr)] // the figures are the point of the test
fn a_compression_bomb_is_stopped_by_the_budget_before_it_costs_memory() {
    let data = tempfile::tempdir().unwrap();
    let us = identity("bombed");
    let store = bomb_target(data.path(), &us);
    // ~100 KB that inflate to 96 MiB of `a:` header lines, inside a CompressedData entity,
    // encrypted to the station (so it passes the partner's demand for encryption and is
    // decrypted and inflated before any signature could be checked)
    let lines = b"a:\n".repeat((96 << 20) / 3);
    let compressed = as2_core::cms::compress(&lines).unwrap();
    drop(lines);
    let mut entity = b"Content-Type: application/pkcs7-mime; smime-type=compressed-data\r\nContent-Transfer-Encoding: binary\r\n\r\n".to_vec();
    entity.extend_from_slice(&compressed);
    let encrypt = |entity: &[u8]| {
        as2_core::cms::encrypt(
            &as2_core::crypto::rust_crypto::DEFAULT_PROVIDER,
            entity,
            &[&us.cert],
            as2_core::cms::EncryptOptions::default(),
        )
        .unwrap()
    };
    let body = encrypt(&entity);
    let harmless = encrypt(b"Content-Type: text/plain\r\n\r\nhello");
    assert!(
        body.len() < 200_000,
        "a small request: {} bytes",
        body.len()
    );
    let gateway = start_gateway(data.path(), &[]);
    let client = reqwest::blocking::Client::new();
    let post = |body: &[u8]| {
        client
            .post(format!("http://{}/as2/test/receive", gateway.addr))
            .header("AS2-Version", "1.2")
            .header("AS2-From", "SENDER")
            .header("AS2-To", "BOMBED")
            .header("Message-ID", "<bomb@attacker>")
            .header("Disposition-Notification-To", "bomb@attacker")
            .header(
                "Content-Type",
                "application/pkcs7-mime; smime-type=enveloped-data",
            )
            .body(body.to_vec())
            .send()
            .unwrap()
    };
    // a first, harmless message (refused: not signed) through the same path, so that what
    // the process sets up once is behind us
    let first = post(&harmless).text().unwrap();
    assert!(first.contains("insufficient-message-security"), "{first}");
    let baseline = gateway.peak_rss();
    let answer = post(&body).text().unwrap();
    let growth = gateway.peak_rss().saturating_sub(baseline);
    eprintln!(
        "compression bomb ({} bytes inflating to 96 MiB): peak RSS grew {} KiB (baseline {} MiB)",
        body.len(),
        growth >> 10,
        baseline >> 20
    );
    assert!(
        answer.contains("decompression-failed"),
        "the MDN says decompression-failed: {answer}"
    );
    assert!(growth < 64 * MIB, "peak RSS grew {} MiB", growth >> 20);
    // both under one Message-ID: one row, failed (the second attempt is an event on it)
    let statuses = store.messages().count_by_status().unwrap();
    assert_eq!(
        statuses,
        vec![("inbound".to_owned(), "failed".to_owned(), 1)],
        "recorded as failed, nothing received"
    );
}

#[test]
fn connections_beyond_the_cap_wait_unread_until_one_ends() {
    use std::io::{Read as _, Write as _};
    let data = tempfile::tempdir().unwrap();
    let _store = store(data.path());
    let gateway = start_gateway(data.path(), &[("AS2_MAX_CONNECTIONS", "2".into())]);
    // two connections that send nothing hold both slots
    let idle: Vec<_> = (0..2)
        .map(|_| std::net::TcpStream::connect(gateway.addr).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    let mut third = std::net::TcpStream::connect(gateway.addr).unwrap();
    third
        .write_all(
            as2_head(
                gateway.addr,
                "PARTNER",
                "NOBODY",
                &[("Content-Length", "0".into())],
            )
            .as_bytes(),
        )
        .unwrap();
    third
        .set_read_timeout(Some(Duration::from_millis(700)))
        .unwrap();
    let mut buffer = [0u8; 512];
    let waited = third.read(&mut buffer);
    assert!(
        waited.is_err(),
        "the third connection is not served while two are open: {waited:?}"
    );
    // one ends: the third is accepted and answered
    drop(idle);
    third
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let n = third.read(&mut buffer).unwrap();
    let answer = String::from_utf8_lossy(&buffer[..n]);
    assert!(answer.starts_with("HTTP/1.1 404"), "{answer}");
}
