//! The gateway's front door, attacked over real HTTP: test and live traffic arrive on their
//! own URLs and a station AS2 ID shared by two tenants of different modes reaches only its
//! mode's station; a stranger (unknown station, wrong basic auth, inactive partner, firewall,
//! too large) is answered from the headers, without the body being read or anything stored;
//! a chunked body is refused as soon as it passes the tenant's limit; async MDNs are admitted
//! like messages; the concurrency cap, the budget of buffered bytes and the body timeouts
//! refuse what is beyond them.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context as _, Result, ensure};
use as2_core::cms::{EncryptOptions, SignOptions};
use as2_core::crypto::DigestAlgorithm;
use as2_core::mdn::{MdnDisposition, MdnParams, build_mdn, parse_mdn};
use as2_core::message::{BuiltMessage, NotificationOptions, OutboundMessage, Signer};
use as2_core::mime::Headers;
use as2_domain::Mode;
use as2_domain::algorithms::MdnMode;
use as2_domain::message::{Direction, MessageStatus};
use as2_domain::partner::PartnerSettings;
use as2_e2e::raw::{Body, Exchange, exchange, head, open};
use as2_e2e::seed::{Identity, Seed, Seeded, identity, seed};
use as2_e2e::{Options, Platform};
use as2_engine::http::InboundLimits;
use as2_store::repo::messages::NewMessage;
use as2_store::testing::TestDb;
use as2_store::{Scope, Store};

/// A signed, encrypted message from `from` (key `sender`) to `to` (certificate of
/// `receiver`), asking for a signed sync MDN.
fn build(from: &str, to: &str, sender: &Identity, receiver: &Identity) -> BuiltMessage {
    let payload = format!("ISA*00*from {from} to {to}~");
    let mut out = OutboundMessage::new(
        &as2_core::crypto::rust_crypto::DEFAULT_PROVIDER,
        from,
        to,
        payload.as_bytes(),
        "application/edi-x12",
    );
    out.signer = Some(Signer::new(
        &sender.cert,
        sender.key.as_ref(),
        SignOptions::new(std::time::SystemTime::now()),
    ));
    out.encryption = Some(as2_core::message::Encryption::new(
        vec![&receiver.cert],
        EncryptOptions::default(),
    ));
    out.mdn_to = Some("as2@example".into());
    out.mdn_options = Some(NotificationOptions::signed(&[DigestAlgorithm::Sha256]));
    as2_core::message::build_outbound(&out).expect("build")
}

/// POSTs `built` to `url`; the status and, for a 200, the MDN's disposition.
async fn post(url: &str, built: &BuiltMessage) -> Result<(u16, String)> {
    let mut request = reqwest::Client::new().post(url).body(built.body.clone());
    for (name, value) in &built.headers {
        request = request.header(name, value);
    }
    let response = request.send().await?;
    let status = response.status().as_u16();
    let headers: Vec<(String, String)> = response
        .headers()
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or("").to_owned()))
        .collect();
    let body = response.bytes().await?;
    if status != 200 {
        return Ok((status, String::from_utf8_lossy(&body).into_owned()));
    }
    let mdn = parse_mdn(&Headers::from_pairs(headers), &body, &[])?;
    Ok((status, mdn.disposition.to_field()))
}

/// Messages recorded in `scope`.
fn count(store: &Store, scope: Scope) -> Result<i64> {
    Ok(store
        .messages()
        .list(scope, Default::default(), Default::default())?
        .1)
}

/// A raw exchange on the blocking pool.
async fn raw(addr: SocketAddr, head: String, body: Body, wait: Duration) -> Result<Exchange> {
    Ok(tokio::task::spawn_blocking(move || exchange(addr, &head, &body, wait)).await??)
}

/// AS2 headers from `from` to `to`, with `extra`.
fn as2_headers(from: &str, to: &str, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut headers = vec![
        ("AS2-Version".to_owned(), "1.2".to_owned()),
        ("AS2-From".to_owned(), from.to_owned()),
        ("AS2-To".to_owned(), to.to_owned()),
        ("Message-ID".to_owned(), format!("<{from}-{to}@front-door>")),
        (
            "Content-Type".to_owned(),
            "application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m".to_owned(),
        ),
    ];
    headers.extend(
        extra
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned())),
    );
    headers
}

fn seeded(store: &Store, mode: Mode, name: &str, ours: &str, theirs: &str) -> Seeded {
    let (me, them) = (
        identity(&format!("{name}-us")),
        identity(&format!("{name}-them")),
    );
    seed(
        store,
        &Seed {
            mode,
            name,
            ours,
            theirs,
            me: &me,
            them: &them,
            url: "https://127.0.0.1:9/x",
            basic_auth: None,
        },
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_mode_has_its_url_and_a_shared_station_id_reaches_only_its_mode() -> Result<()> {
    let p = Platform::start(TestDb::sqlite()).await?;
    let store = &p.db.store;
    let sender = identity("sender");
    let (live_key, test_key) = (identity("live-station"), identity("test-station"));
    // Two tenants, one live and one test, whose stations share an AS2 ID and a partner.
    let station = |mode, name, me| Seed {
        mode,
        name,
        ours: "SHARED-ID",
        theirs: "SENDER",
        me,
        them: &sender,
        url: "https://127.0.0.1:9/x",
        basic_auth: None,
    };
    let live = seed(store, &station(Mode::Live, "live-co", &live_key));
    let test = seed(store, &station(Mode::Test, "test-co", &test_key));

    // Live traffic on the live URL reaches the live station only (and decrypts with its key).
    let to_live = build("SENDER", "SHARED-ID", &sender, &live_key);
    let (status, disposition) = post(&p.live_as2_url, &to_live).await?;
    ensure!(status == 200, "live URL: {status} {disposition}");
    ensure!(
        disposition.ends_with("processed"),
        "live URL: {disposition}"
    );
    ensure!(count(store, live.scope)? == 1 && count(store, test.scope)? == 0);
    let received = store
        .messages()
        .find_by_as2_id(
            live.scope,
            live.partner,
            Direction::Inbound,
            &to_live.message_id,
        )?
        .context("the live message is the live tenant's")?;
    ensure!(received.status == MessageStatus::Received);

    // Test traffic on the test URL reaches the test station only.
    let to_test = build("SENDER", "SHARED-ID", &sender, &test_key);
    let (status, disposition) = post(&p.as2_url, &to_test).await?;
    ensure!(
        status == 200 && disposition.ends_with("processed"),
        "test URL: {status} {disposition}"
    );
    ensure!(count(store, live.scope)? == 1 && count(store, test.scope)? == 1);
    ensure!(
        store
            .messages()
            .find_by_as2_id(
                test.scope,
                test.partner,
                Direction::Inbound,
                &to_test.message_id
            )?
            .is_some()
    );

    // A station that exists in one mode only is unknown on the other mode's URL.
    let live_only = seeded(store, Mode::Live, "live-only", "LIVE-ONLY", "SENDER");
    let test_only = seeded(store, Mode::Test, "test-only", "TEST-ONLY", "SENDER");
    let to_live_only = build("SENDER", "LIVE-ONLY", &sender, &live_key);
    let (status, text) = post(&p.as2_url, &to_live_only).await?;
    ensure!(
        status == 404 && text.contains("LIVE-ONLY") && text.contains("test mode"),
        "a live station on the test URL: {status} {text}"
    );
    let to_test_only = build("SENDER", "TEST-ONLY", &sender, &test_key);
    let (status, text) = post(&p.live_as2_url, &to_test_only).await?;
    ensure!(
        status == 404 && text.contains("TEST-ONLY") && text.contains("live mode"),
        "a test station on the live URL: {status} {text}"
    );
    ensure!(count(store, live_only.scope)? == 0 && count(store, test_only.scope)? == 0);
    Ok(())
}

/// Request headers, the status expected and a word of the sentence expected.
type Case = (Vec<(String, String)>, u16, &'static str);

/// A partner of `station` with `settings` changed by `change`.
fn partner(
    store: &Store,
    scope: Scope,
    station: as2_domain::id::StationId,
    as2_id: &str,
    change: impl FnOnce(&mut PartnerSettings),
) -> Result<()> {
    let mut settings = PartnerSettings::new(
        as2_id.into(),
        as2_id.into(),
        "https://127.0.0.1:9/x".into(),
        station,
    );
    change(&mut settings);
    store.partners().create(scope, &settings, None)?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strangers_are_answered_from_the_headers_and_the_body_is_never_read() -> Result<()> {
    let p = Platform::start(TestDb::sqlite()).await?;
    let store = &p.db.store;
    let (me, them) = (identity("door-us"), identity("door-them"));
    let door = seed(
        store,
        &Seed {
            mode: Mode::Test,
            name: "door",
            ours: "DOOR",
            theirs: "SENDER",
            me: &me,
            them: &them,
            url: "https://127.0.0.1:9/x",
            basic_auth: Some(("sender", "s3cret")),
        },
    );
    partner(store, door.scope, door.station, "INACTIVE", |s| {
        s.active = false;
    })?;
    partner(store, door.scope, door.station, "FENCED", |s| {
        s.firewall = true;
        s.allowed_networks = vec!["10.0.0.0/8".parse().expect("network")];
    })?;
    partner(store, door.scope, door.station, "OPEN", |_| {})?;
    store
        .accounts()
        .set_message_limit(door.account, door.scope.tenant_id, Some(8192))?;

    // Each announces a 1 GiB body and waits for `100 Continue` before sending it: the answer
    // must come from the headers alone, without asking for the body.
    let announce = [("Content-Length", "1073741824"), ("Expect", "100-continue")];
    let wrong = as2_engine::basic_auth::header("sender", "guess");
    let cases: Vec<Case> = vec![
        (
            vec![("Content-Length".into(), "1073741824".into())],
            400,
            "AS2-From",
        ),
        (as2_headers("SENDER", "NOBODY", &announce), 404, "NOBODY"),
        (as2_headers("STRANGER", "DOOR", &announce), 404, "STRANGER"),
        (
            as2_headers("SENDER", "DOOR", &announce),
            401,
            "basic authentication",
        ),
        (
            as2_headers(
                "SENDER",
                "DOOR",
                &[announce[0], announce[1], ("Authorization", wrong.as_str())],
            ),
            401,
            "basic authentication",
        ),
        (as2_headers("INACTIVE", "DOOR", &announce), 403, "inactive"),
        (as2_headers("FENCED", "DOOR", &announce), 403, "address"),
        (as2_headers("OPEN", "DOOR", &announce), 413, "8192"),
    ];
    for (headers, status, sentence) in cases {
        let head = head(p.gateway_addr, "/as2/test/receive", &headers);
        let answer = raw(p.gateway_addr, head, Body::Nothing, Duration::from_secs(5)).await?;
        ensure!(
            answer.status == Some(status),
            "expected {status} for {headers:?}: {answer:?}"
        );
        ensure!(
            !answer.continued,
            "the body was asked for before the refusal: {answer:?}"
        );
        ensure!(
            answer.body().contains(sentence),
            "the refusal says why: {answer:?}"
        );
        ensure!(
            answer.closed && answer.elapsed < Duration::from_secs(5),
            "the refusal closes the connection at once: {answer:?}"
        );
        if status == 401 {
            ensure!(answer.header("WWW-Authenticate").is_some(), "{answer:?}");
        }
    }
    ensure!(count(store, door.scope)? == 0, "nothing was stored");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chunked_body_is_refused_as_soon_as_it_passes_the_tenants_limit() -> Result<()> {
    let p = Platform::start(TestDb::sqlite()).await?;
    let store = &p.db.store;
    let limited = seeded(store, Mode::Test, "limited", "LIMITED", "SENDER");
    store
        .accounts()
        .set_message_limit(limited.account, limited.scope.tenant_id, Some(8192))?;
    let headers = as2_headers("SENDER", "LIMITED", &[("Transfer-Encoding", "chunked")]);
    // 12 KiB in three chunks, and then the body stays open: the answer cannot wait for its end.
    let mut chunks = Vec::new();
    for _ in 0..3 {
        chunks.extend_from_slice(b"1000\r\n");
        chunks.extend_from_slice(&[b'x'; 4096]);
        chunks.extend_from_slice(b"\r\n");
    }
    let answer = raw(
        p.gateway_addr,
        head(p.gateway_addr, "/as2/test/receive", &headers),
        Body::Partial(chunks),
        Duration::from_secs(5),
    )
    .await?;
    ensure!(answer.status == Some(413), "{answer:?}");
    ensure!(
        answer.body().contains("8192") && answer.closed,
        "{answer:?}"
    );
    ensure!(count(store, limited.scope)? == 0, "nothing was stored");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_mdns_are_admitted_like_messages() -> Result<()> {
    let p = Platform::start(TestDb::sqlite()).await?;
    let store = &p.db.store;
    let (me, them) = (identity("mdn-us"), identity("mdn-them"));
    let ours = seed(
        store,
        &Seed {
            mode: Mode::Test,
            name: "mdn",
            ours: "MDN-US",
            theirs: "MDN-PARTNER",
            me: &me,
            them: &them,
            url: "https://127.0.0.1:9/x",
            basic_auth: Some(("partner", "s3cret")),
        },
    );
    // Our message to the partner, sent and awaiting its async MDN.
    let original = "<out-1@mdn-us>";
    let sent = store.messages().create(
        ours.scope,
        &NewMessage {
            direction: Direction::Outbound,
            partner_id: ours.partner,
            station_id: ours.station,
            as2_message_id: original,
            subject: None,
            filename: Some("po.edi"),
            content_type: "application/edi-x12",
            bytes: 3,
            sha256: "",
            payload: None,
            mdn_mode: MdnMode::Async,
            status: MessageStatus::Sent,
            error: None,
            mic: None,
            destination_url: None,
        },
        None,
    )?;
    // signed by the partner, as we asked: only the admission is in question here
    let mut params = MdnParams::new(
        &as2_core::crypto::rust_crypto::DEFAULT_PROVIDER,
        "MDN-PARTNER",
        "MDN-US",
        original,
        MdnDisposition::Processed,
    );
    params.signer = Some(Signer::new(
        &them.cert,
        them.key.as_ref(),
        SignOptions::new(std::time::SystemTime::now()),
    ));
    let mdn = build_mdn(&params)?;
    let gateway = format!("http://{}", p.gateway_addr);
    let post_mdn = |path: &str, auth: Option<&str>| {
        let mut request = reqwest::Client::new()
            .post(format!("{gateway}{path}"))
            .body(mdn.body.clone());
        for (name, value) in &mdn.headers {
            request = request.header(name, value);
        }
        if let Some(auth) = auth {
            request = request.header("Authorization", auth);
        }
        async move {
            let response = request.send().await?;
            let status = response.status().as_u16();
            anyhow::Ok((status, response.text().await?))
        }
    };
    let untouched = |what: &str| -> Result<()> {
        let message = store.messages().get(ours.scope, sent.id)?;
        ensure!(
            message.status == MessageStatus::Sent,
            "{what}: {:?}",
            message.status
        );
        ensure!(
            store.messages().mdn(ours.scope, sent.id)?.is_none(),
            "{what}: an MDN was recorded"
        );
        Ok(())
    };
    let right = as2_engine::basic_auth::header("partner", "s3cret");
    let wrong = as2_engine::basic_auth::header("partner", "guess");
    for (path, auth, status) in [
        ("/as2/test/mdn", None, 401),
        ("/as2/test/mdn", Some(wrong.as_str()), 401),
        // recognised as an MDN on the message URL: the same admission
        ("/as2/test/receive", None, 401),
        // the live URLs do not know the test station
        ("/as2/mdn", Some(right.as_str()), 404),
        ("/as2/receive", Some(right.as_str()), 404),
    ] {
        let (got, text) = post_mdn(path, auth).await?;
        ensure!(got == status, "{path} {auth:?}: {got} {text}");
        untouched(path)?;
    }
    // with the partner's credentials on the test MDN URL, the MDN is applied
    let (got, text) = post_mdn("/as2/test/mdn", Some(&right)).await?;
    ensure!(got == 200, "{got} {text}");
    let message = store.messages().get(ours.scope, sent.id)?;
    ensure!(
        message.status != MessageStatus::Sent,
        "the admitted MDN was applied"
    );
    Ok(())
}

fn limited(limits: InboundLimits) -> Options {
    Options {
        limits,
        ..Options::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_beyond_the_concurrency_cap_get_503_with_retry_after() -> Result<()> {
    let p = Platform::start_with(
        TestDb::sqlite(),
        limited(InboundLimits {
            max_concurrent_requests: 1,
            ..Options::default().limits
        }),
    )
    .await?;
    let store = &p.db.store;
    let busy = seeded(store, Mode::Test, "busy", "BUSY", "SENDER");
    let addr = p.gateway_addr;
    // One admitted request whose body is still coming holds the only slot.
    let holding = head(
        addr,
        "/as2/test/receive",
        &as2_headers("SENDER", "BUSY", &[("Content-Length", "1000")]),
    );
    let first = tokio::task::spawn_blocking(move || open(addr, holding.as_bytes())).await??;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let stranger = head(
        addr,
        "/as2/test/receive",
        &as2_headers("SENDER", "NOBODY", &[("Content-Length", "10")]),
    );
    let answer = raw(
        addr,
        stranger.clone(),
        Body::Nothing,
        Duration::from_secs(5),
    )
    .await?;
    ensure!(answer.status == Some(503), "{answer:?}");
    ensure!(
        answer.header("Retry-After").is_some() && answer.body().contains("at once"),
        "{answer:?}"
    );
    // The slot is free again once the first request has ended.
    drop(first);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let answer = raw(addr, stranger, Body::Nothing, Duration::from_secs(5)).await?;
    ensure!(answer.status == Some(404), "{answer:?}");
    ensure!(count(store, busy.scope)? == 0);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_beyond_the_buffered_bytes_budget_get_503() -> Result<()> {
    // each message in flight reserves a fixed share (its decoder's buffer and the channel),
    // whatever its size; the budget holds one and a half of those
    let limits = InboundLimits {
        message_buffer_bytes: 64 * 1024,
        ..Options::default().limits
    };
    let share = limits.per_message_bytes();
    let p = Platform::start_with(
        TestDb::sqlite(),
        limited(InboundLimits {
            max_buffered_bytes: share + share / 2,
            ..limits
        }),
    )
    .await?;
    let store = &p.db.store;
    seeded(store, Mode::Test, "full", "FULL", "SENDER");
    let addr = p.gateway_addr;
    let declared = |n: usize| {
        head(
            addr,
            "/as2/test/receive",
            &as2_headers("SENDER", "FULL", &[("Content-Length", &n.to_string())]),
        )
    };
    // A small message whose body is slow to come holds its share.
    let holding = declared(80_000);
    let first = tokio::task::spawn_blocking(move || open(addr, holding.as_bytes())).await??;
    tokio::time::sleep(Duration::from_millis(500)).await;
    // A second message, however small, would exceed the budget: refused before it is read.
    let answer = raw(addr, declared(100), Body::Nothing, Duration::from_secs(5)).await?;
    ensure!(answer.status == Some(503), "{answer:?}");
    ensure!(
        answer.header("Retry-After").is_some()
            && answer.body().contains("as much data as it can hold"),
        "{answer:?}"
    );
    // An MDN is read whole: a chunked one is refused when what it has sent passes what is
    // left of the budget.
    let mut chunks = Vec::new();
    for _ in 0..16 {
        chunks.extend_from_slice(format!("{:x}\r\n", 100_000).as_bytes());
        chunks.extend_from_slice(&[b'x'; 100_000]);
        chunks.extend_from_slice(b"\r\n");
    }
    let chunked = head(
        addr,
        "/as2/test/mdn",
        &as2_headers("SENDER", "FULL", &[("Transfer-Encoding", "chunked")]),
    );
    let answer = raw(addr, chunked, Body::Partial(chunks), Duration::from_secs(5)).await?;
    ensure!(answer.status == Some(503), "{answer:?}");
    // Once the first request is gone its share is back: the next message is read and
    // processed (refused as garbage by the codec, not for the budget).
    drop(first);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let answer = raw(
        addr,
        declared(50_000),
        Body::Partial(vec![b'x'; 50_000]),
        Duration::from_secs(10),
    )
    .await?;
    ensure!(
        answer.status.is_some_and(|s| s != 503),
        "the budget was given back: {answer:?}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_or_trickled_body_is_cut_off() -> Result<()> {
    let p = Platform::start_with(
        TestDb::sqlite(),
        limited(InboundLimits {
            body_idle_timeout: Duration::from_secs(1),
            body_timeout: Duration::from_secs(3),
            ..Options::default().limits
        }),
    )
    .await?;
    let store = &p.db.store;
    let slow = seeded(store, Mode::Test, "slow", "SLOW", "SENDER");
    let addr = p.gateway_addr;
    let request = head(
        addr,
        "/as2/test/receive",
        &as2_headers("SENDER", "SLOW", &[("Content-Length", "1000")]),
    );
    // Ten bytes, then silence: cut off after the idle timeout.
    let answer = raw(
        addr,
        request.clone(),
        Body::Partial(vec![b'x'; 10]),
        Duration::from_secs(6),
    )
    .await?;
    ensure!(answer.status == Some(408), "{answer:?}");
    ensure!(
        answer.elapsed >= Duration::from_millis(900) && answer.elapsed < Duration::from_secs(3),
        "after the idle second: {answer:?}"
    );
    // A byte every 400 ms never pauses a second, but the whole body takes too long.
    let answer = raw(
        addr,
        request,
        Body::Trickle {
            piece: vec![b'x'],
            every: Duration::from_millis(400),
            times: 25,
        },
        Duration::from_secs(6),
    )
    .await?;
    ensure!(answer.status == Some(408), "{answer:?}");
    ensure!(
        answer.elapsed >= Duration::from_millis(2900) && answer.elapsed < Duration::from_secs(8),
        "after the whole-body timeout: {answer:?}"
    );
    ensure!(answer.body().contains("in time"), "{answer:?}");
    ensure!(count(store, slow.scope)? == 0, "nothing was stored");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_answers_from_a_cached_verdict() -> Result<()> {
    let p = Platform::start(TestDb::sqlite()).await?;
    let url = format!("http://{}/readyz", p.gateway_addr);
    let client = reqwest::Client::new();
    // a burst of strangers' probes: every one answered, ready
    let mut probes = tokio::task::JoinSet::new();
    for _ in 0..50 {
        probes.spawn(client.get(&url).send());
    }
    while let Some(probe) = probes.join_next().await {
        let response = probe??;
        ensure!(response.status() == 200, "{}", response.status());
        let body: serde_json::Value = serde_json::from_slice(&response.bytes().await?)?;
        ensure!(body["status"] == "ready", "{body}");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_mdn_announced_beyond_what_the_gateway_reads_is_refused_unread() -> Result<()> {
    let p = Platform::start(TestDb::sqlite()).await?;
    seeded(&p.db.store, Mode::Test, "mdns", "MDNS", "SENDER");
    // 5 MiB announced to the MDN endpoint (an MDN is read whole, at most 4 MiB): 413 from the
    // headers, before any body byte is sent
    let head = head(
        p.gateway_addr,
        "/as2/test/mdn",
        &as2_headers(
            "SENDER",
            "MDNS",
            &[("Content-Length", &(5 << 20).to_string())],
        ),
    );
    let answer = raw(p.gateway_addr, head, Body::Nothing, Duration::from_secs(5)).await?;
    ensure!(answer.status == Some(413), "{answer:?}");
    ensure!(answer.body().contains("4194304 bytes"), "{answer:?}");
    Ok(())
}
