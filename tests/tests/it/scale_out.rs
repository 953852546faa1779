//! Scale-out: two `api-server`s and three `as2-gateway`s (the real binaries, every gateway
//! with its workers) on one PostgreSQL database and one S3 bucket, the gateways behind a
//! round-robin proxy that is B's AS2 URL. 600 messages of 1 KiB from tenant A to tenant B are
//! submitted through both API servers in turn; a third of the way in one gateway is killed
//! with SIGKILL and another one started. Every message ends delivered with a verified MDN, B
//! receives each one exactly once with the bytes A sent, and after an orphan sweep without
//! grace the bucket holds exactly the objects the rows name. A burst of one Free key spread
//! over both API servers passes no more requests than the plan's burst and what it refills
//! meanwhile, and is refused with 429 beyond.
//!
//! Needs PostgreSQL (`AS2_TEST_POSTGRES_URL`), the S3 test server and both binaries built
//! (see `as2_e2e::cluster`): a missing one skips the test with a notice, or fails it under CI.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context as _, Result, bail, ensure};
use as2_api::bootstrap::{bootstrap, create_key};
use as2_domain::Mode;
use as2_domain::api_key::KeyKind;
use as2_domain::pagination::PageRequest;
use as2_domain::plan::Plan;
use as2_e2e::api::Api;
use as2_e2e::cluster::{Binaries, Cluster};
use as2_e2e::process::GatewayProcess;
use as2_payload_s3::S3Config;
use as2_store::payload::{PayloadStore, SHARDS};
use as2_store::repo::messages::MessageFilter;
use as2_store::testing::{POSTGRES_URL_VAR, TestDb};
use as2_store::{Scope, Store};
use as2_test_support::s3::S3Server;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

/// Messages sent from A to B.
const MESSAGES: usize = 600;
/// Each one's size.
const PAYLOAD_BYTES: usize = 1024;
/// Submitted messages before a gateway is killed.
const KILL_AFTER: usize = 200;
/// Clients submitting at once.
const SUBMITTERS: usize = 8;
/// How long all messages may take to be delivered.
const DELIVERY_PATIENCE: Duration = Duration::from_secs(360);
/// The gateways' job lease: how long the killed gateway's claimed jobs wait for another.
const JOB_LEASE_SECS: &str = "10";
/// The Free plan: a burst of 20, 100 requests a minute.
const FREE_BURST: usize = 20;
const FREE_PER_MINUTE: f64 = 100.0;

/// Message `n`'s payload: 1 KiB of X12-ish text naming it.
fn payload(n: usize) -> Vec<u8> {
    let mut bytes = format!("ISA*00*scale out {n:04}~")
        .repeat(PAYLOAD_BYTES / 20 + 1)
        .into_bytes();
    bytes.truncate(PAYLOAD_BYTES);
    bytes
}

/// A prerequisite is missing: under CI the test fails, elsewhere it is skipped loudly.
fn missing(what: &str) -> Result<()> {
    ensure!(
        std::env::var_os("CI").is_none(),
        "CI is set but {what}: the scale-out test must run in CI"
    );
    eprintln!("NOTICE: {what}; the scale-out test is skipped (a failure when CI is set)");
    Ok(())
}

/// The tenants: A (the bootstrap account, Enterprise), B (Enterprise) and a Free tenant for
/// the rate limit; their keys and A's and B's scopes.
struct Tenants {
    key_a: String,
    key_b: String,
    key_free: String,
    scope_a: Scope,
    scope_b: Scope,
}

fn tenants(store: &Store) -> Result<Tenants> {
    let boot = bootstrap(store, "TENANT-A")?.context("bootstrap on an empty database")?;
    let tenant = |name: &str, plan: Plan| -> Result<(String, Scope)> {
        let account = store.accounts().create_account(name, plan)?;
        let tenant = store.accounts().create_tenant(account.id, name)?;
        let key = create_key(
            store,
            account.id,
            Some(tenant.id),
            KeyKind::Tenant,
            Mode::Test,
            "scale-out",
        )?;
        Ok((key.secret, Scope::new(tenant.id, Mode::Test)))
    };
    let (key_b, scope_b) = tenant("B", Plan::Enterprise)?;
    let (key_free, _) = tenant("Free Co", Plan::Free)?;
    Ok(Tenants {
        key_a: boot.test_key,
        key_b,
        key_free,
        scope_a: Scope::new(boot.tenant_id, Mode::Test),
        scope_b,
    })
}

/// A burst of `key` over every server of `api` (two clients each: fewer in flight than the
/// Free plan's five); the statuses and how long it took.
async fn burst(api: &Api, key: &str, per_client: usize) -> Result<(Vec<u16>, Duration)> {
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for server in 0..api.servers.len() * 2 {
        let (api, key) = (api.clone(), key.to_owned());
        tasks.spawn(async move {
            let mut statuses = Vec::new();
            for _ in 0..per_client {
                let (status, _) = api
                    .call(server, &key, reqwest::Method::GET, "/v1/partners", None)
                    .await?;
                statuses.push(status);
            }
            anyhow::Ok(statuses)
        });
    }
    let mut statuses = Vec::new();
    while let Some(done) = tasks.join_next().await {
        statuses.extend(done??);
    }
    Ok((statuses, started.elapsed()))
}

/// The rate limit holds across both API servers.
async fn check_rate_limit(api: &Api, key: &str) -> Result<()> {
    let (statuses, elapsed) = burst(api, key, 20).await?;
    let passed = statuses.iter().filter(|s| (200..300).contains(*s)).count();
    let refused = statuses.iter().filter(|s| **s == 429).count();
    ensure!(
        passed + refused == statuses.len(),
        "only 2xx and 429 in a burst: {statuses:?}"
    );
    // the burst, and what the rate refilled meanwhile
    let allowed = FREE_BURST + (elapsed.as_secs_f64() * FREE_PER_MINUTE / 60.0).ceil() as usize;
    ensure!(
        (FREE_BURST..=allowed).contains(&passed),
        "{passed} of {} requests passed in {elapsed:?} over two API servers; the plan allows {allowed}",
        statuses.len()
    );
    ensure!(refused > 0, "no request of the burst was refused");
    eprintln!(
        "rate limit: {passed} of {} passed in {elapsed:?} (allowed {allowed}), {refused} refused with 429",
        statuses.len()
    );
    Ok(())
}

/// One submitted message: its index (its payload), its id and its AS2 Message-ID.
type Submitted = (usize, String, String);

/// Submits the messages from [`SUBMITTERS`] clients, the API servers in turn; `count` is the
/// number accepted so far.
fn submit_all(
    api: &Api,
    key: &str,
    partner: &str,
    count: &Arc<AtomicUsize>,
) -> tokio::task::JoinSet<Result<Vec<Submitted>>> {
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..SUBMITTERS {
        let (api, key, partner) = (api.clone(), key.to_owned(), partner.to_owned());
        let (next, count) = (next.clone(), count.clone());
        tasks.spawn(async move {
            let mut sent = Vec::new();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= MESSAGES {
                    return Ok(sent);
                }
                let body = json!({"partner_id": partner, "filename": format!("m{n:04}.edi"),
                                  "content": STANDARD.encode(payload(n))});
                let (status, reply) = api
                    .call(n, &key, reqwest::Method::POST, "/v1/messages", Some(body))
                    .await?;
                ensure!(status == 202, "message {n}: {status} {reply}");
                let id = reply["data"]["id"].as_str().context("message id")?;
                let as2_id = reply["data"]["message_id"].as_str().context("Message-ID")?;
                sent.push((n, id.to_owned(), as2_id.to_owned()));
                count.fetch_add(1, Ordering::Relaxed);
            }
        });
    }
    tasks
}

/// Waits until every message of A is delivered; fails at once when one failed.
async fn wait_delivered(api: &Api, key: &str) -> Result<()> {
    let deadline = Instant::now() + DELIVERY_PATIENCE;
    loop {
        let delivered = api
            .count(0, key, "direction=outbound&status=delivered")
            .await?;
        if delivered == MESSAGES as u64 {
            return Ok(());
        }
        let failed = api
            .count(1, key, "direction=outbound&status=failed")
            .await?;
        if failed > 0 {
            let list = api
                .get(
                    0,
                    key,
                    "/v1/messages?direction=outbound&status=failed&per_page=5",
                )
                .await?;
            bail!("{failed} messages failed, among them: {}", list["data"]);
        }
        if Instant::now() > deadline {
            let mut statuses = BTreeMap::new();
            for status in ["queued", "processing", "sent"] {
                let n = api
                    .count(0, key, &format!("direction=outbound&status={status}"))
                    .await?;
                statuses.insert(status, n);
            }
            bail!(
                "only {delivered} of {MESSAGES} delivered after {DELIVERY_PATIENCE:?}; the others: {statuses:?}"
            );
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// A's messages: all delivered, each MDN signed, verified, positive, with a matching MIC;
/// the index of each by its AS2 Message-ID, and how many took more than one attempt.
fn check_outbound(
    outbound: &[Value],
    sent: &[Submitted],
) -> Result<(HashMap<String, usize>, usize)> {
    ensure!(
        outbound.len() == MESSAGES,
        "A has {} outbound messages, not {MESSAGES}",
        outbound.len()
    );
    let by_id: HashMap<&str, usize> = sent.iter().map(|(n, id, _)| (id.as_str(), *n)).collect();
    let mut by_as2_id = HashMap::new();
    let mut retried = 0;
    for m in outbound {
        let id = m["id"].as_str().context("id")?;
        let n = *by_id
            .get(id)
            .with_context(|| format!("{id} was not sent: {m}"))?;
        ensure!(m["status"] == "delivered", "{id}: {m}");
        let mdn = &m["mdn"];
        ensure!(
            mdn["signed"] == true && mdn["verified"] == true && mdn["mic_matched"] == true,
            "{id}: the MDN is not signed, verified and matching: {m}"
        );
        let disposition = mdn["disposition"].as_str().context("disposition")?;
        ensure!(
            disposition.ends_with("processed"),
            "{id}: disposition {disposition}"
        );
        if m["attempts"].as_i64().unwrap_or(0) > 1 {
            retried += 1;
        }
        let as2_id = m["message_id"].as_str().context("message_id")?.to_owned();
        ensure!(
            by_as2_id.insert(as2_id, n).is_none(),
            "{id}: a Message-ID twice"
        );
    }
    Ok((by_as2_id, retried))
}

/// How many of `messages` (of `key`'s tenant) have an event `kind` in their timeline.
async fn with_event(api: &Api, key: &str, messages: &[Value], kind: &'static str) -> Result<usize> {
    let mut found = 0;
    let mut tasks = tokio::task::JoinSet::new();
    for (i, m) in messages.iter().enumerate() {
        let id = m["id"].as_str().context("id")?.to_owned();
        let (api, key) = (api.clone(), key.to_owned());
        tasks.spawn(async move {
            let events = api
                .get(i, &key, &format!("/v1/messages/{id}/events"))
                .await?;
            let data = events["data"].as_array().context("the events")?;
            anyhow::Ok(data.iter().any(|e| e["type"] == kind))
        });
        if tasks.len() >= 8
            && let Some(done) = tasks.join_next().await
        {
            found += usize::from(done??);
        }
    }
    while let Some(done) = tasks.join_next().await {
        found += usize::from(done??);
    }
    Ok(found)
}

/// B's messages: exactly one per message A sent, each received with the SHA-256 of what A
/// sent, and the payload the API serves is those bytes.
async fn check_inbound(
    api: &Api,
    key_b: &str,
    inbound: &[Value],
    by_as2_id: &HashMap<String, usize>,
) -> Result<()> {
    let distinct: BTreeSet<&str> = inbound
        .iter()
        .filter_map(|m| m["message_id"].as_str())
        .collect();
    ensure!(
        inbound.len() == MESSAGES && distinct.len() == MESSAGES,
        "B has {} inbound messages with {} distinct Message-IDs, not {MESSAGES}",
        inbound.len(),
        distinct.len()
    );
    let mut tasks = tokio::task::JoinSet::new();
    for (i, m) in inbound.iter().enumerate() {
        let id = m["id"].as_str().context("id")?.to_owned();
        let as2_id = m["message_id"].as_str().context("message_id")?;
        let n = *by_as2_id
            .get(as2_id)
            .with_context(|| format!("B received {as2_id}, which A did not send"))?;
        ensure!(m["status"] == "received", "{id}: {m}");
        ensure!(
            m["bytes"].as_u64() == Some(PAYLOAD_BYTES as u64),
            "{id}: {} bytes",
            m["bytes"]
        );
        let (api, key) = (api.clone(), key_b.to_owned());
        tasks.spawn(async move {
            let body = api
                .download(i, &key, &format!("/v1/messages/{id}/payload"))
                .await?;
            ensure!(body == payload(n), "{id}: not the bytes of message {n}");
            anyhow::Ok(())
        });
        // a few downloads at once
        if tasks.len() >= 8
            && let Some(done) = tasks.join_next().await
        {
            done??;
        }
    }
    while let Some(done) = tasks.join_next().await {
        done??;
    }
    Ok(())
}

/// Every finished payload in the store.
fn listed(payloads: &PayloadStore) -> Result<BTreeSet<String>> {
    let mut keys = BTreeSet::new();
    for shard in 0..SHARDS {
        let shard = u8::try_from(shard)?;
        keys.extend(payloads.list_shard(shard)?.into_iter().map(|p| p.key));
    }
    Ok(keys)
}

/// The payload keys the rows of `scopes` name: the messages' payloads and the partners' MDNs.
fn named(store: &Store, scopes: &[Scope]) -> Result<BTreeSet<String>> {
    let mut keys = BTreeSet::new();
    for scope in scopes {
        for page in 1.. {
            let (rows, _) = store.messages().list_with_mdns(
                *scope,
                MessageFilter::default(),
                PageRequest {
                    page,
                    per_page: 100,
                },
            )?;
            if rows.is_empty() {
                break;
            }
            for (message, mdn) in rows {
                keys.extend(
                    message
                        .payload
                        .and_then(|p| p.object_key().map(str::to_owned)),
                );
                keys.extend(mdn.and_then(|m| m.raw_key));
            }
        }
    }
    Ok(keys)
}

/// The orphan sweep with no grace, over every shard; afterwards the bucket holds exactly the
/// objects the rows name (none without a row, none of a row missing) and nothing else in the
/// database names one that is gone.
fn check_orphans(store: &Store, payloads: &PayloadStore, scopes: &[Scope]) -> Result<()> {
    let before = listed(payloads)?;
    let rows = named(store, scopes)?;
    let orphans = before.difference(&rows).count();
    let cutoff = SystemTime::now();
    let mut deleted = 0;
    for shard in 0..SHARDS {
        let swept =
            as2_store::orphans::sweep_shard(store, payloads, u8::try_from(shard)?, cutoff, true)?;
        deleted += swept.orphans_deleted;
    }
    let after = listed(payloads)?;
    ensure!(
        deleted == orphans,
        "the sweep deleted {deleted} objects, {orphans} were orphans"
    );
    let unnamed: Vec<_> = after.difference(&rows).collect();
    ensure!(unnamed.is_empty(), "objects no row names: {unnamed:?}");
    let missing: Vec<_> = rows.difference(&after).collect();
    ensure!(missing.is_empty(), "rows name missing objects: {missing:?}");
    let keys: Vec<String> = after.iter().cloned().collect();
    let referenced = store.payload_refs().referenced(&keys)?;
    ensure!(
        referenced.len() == keys.len(),
        "objects the whole database does not name"
    );
    eprintln!(
        "orphans: {orphans} objects without a row before the sweep (deleted), {} objects afterwards, each named by a row",
        after.len()
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn scale_out_two_apis_three_gateways_one_killed() -> Result<()> {
    let Some(pg) = std::env::var(POSTGRES_URL_VAR)
        .ok()
        .filter(|u| !u.is_empty())
    else {
        return missing(&format!("{POSTGRES_URL_VAR} is not set"));
    };
    let binaries = match Binaries::find() {
        Ok(binaries) => binaries,
        Err(what) => return missing(&what),
    };
    let Some(s3) = tokio::task::spawn_blocking(S3Server::start).await? else {
        return Ok(());
    };
    let started = Instant::now();
    let db = tokio::task::spawn_blocking(move || TestDb::postgres_on(&pg)).await?;
    let t = tenants(&db.store)?;
    let bucket = format!("as2-scale-{}", std::process::id());
    s3.create_bucket(&bucket);
    let cluster = Cluster::new(binaries, &db.url, &s3, &bucket, "scale").await?;
    let lease = [("AS2_JOB_LEASE_SECS", JOB_LEASE_SECS.to_owned())];
    let (apis, mut gateways) = tokio::task::block_in_place(|| {
        let apis: Vec<(GatewayProcess, String)> = (0..2).map(|_| cluster.start_api()).collect();
        let gateways: Vec<GatewayProcess> = (0..3).map(|_| cluster.start_gateway(&lease)).collect();
        (apis, gateways)
    });
    let api = Api::new(apis.iter().map(|(_, url)| url.clone()).collect())?;
    let partner = api.link(&t.key_a, &t.key_b, &cluster.as2_url).await?;
    check_rate_limit(&api, &t.key_free).await?;
    eprintln!("setup: {:?}", started.elapsed());

    // 600 messages through both API servers; a gateway killed a third of the way in
    let sending = Instant::now();
    let count = Arc::new(AtomicUsize::new(0));
    let mut submitters = submit_all(&api, &t.key_a, &partner, &count);
    while count.load(Ordering::Relaxed) < KILL_AFTER {
        ensure!(
            sending.elapsed() < Duration::from_secs(120),
            "{KILL_AFTER} messages were not accepted in two minutes"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let victim = gateways.remove(1);
    let victim_addr = victim.addr;
    tokio::task::block_in_place(|| victim.kill());
    let at_kill = api
        .count(0, &t.key_a, "direction=outbound&status=delivered")
        .await?;
    eprintln!(
        "gateway killed after {:?}: {} accepted, {at_kill} delivered",
        sending.elapsed(),
        count.load(Ordering::Relaxed)
    );
    gateways.push(tokio::task::block_in_place(|| {
        cluster.start_gateway(&lease)
    }));
    let mut sent = Vec::new();
    while let Some(done) = submitters.join_next().await {
        sent.extend(done??);
    }
    ensure!(sent.len() == MESSAGES, "{} messages accepted", sent.len());
    eprintln!("{MESSAGES} messages accepted in {:?}", sending.elapsed());
    wait_delivered(&api, &t.key_a).await?;
    eprintln!("{MESSAGES} messages delivered in {:?}", sending.elapsed());
    ensure!(
        at_kill < MESSAGES as u64,
        "everything was delivered before the kill: it tested nothing"
    );

    // the proxy spread the posts over every gateway that was in its rotation from the start
    let spread: Vec<usize> = gateways
        .iter()
        .map(|g| g.addr)
        .chain([victim_addr])
        .map(|addr| cluster.proxy.connections_to(addr))
        .collect();
    eprintln!(
        "connections through the proxy: {spread:?} (the two survivors, the new gateway, the killed one)"
    );
    ensure!(
        spread[0] > 0 && spread[1] > 0 && spread[3] > 0,
        "a gateway got no connection: {spread:?}"
    );

    // exactly once, every MDN verified, the bytes A sent
    let outbound = api.all(&t.key_a, "direction=outbound").await?;
    let (by_as2_id, retried) = check_outbound(&outbound, &sent)?;
    let inbound = api.all(&t.key_b, "direction=inbound").await?;
    check_inbound(&api, &t.key_b, &inbound, &by_as2_id).await?;
    // what the kill interrupted: sends the killed gateway had claimed (taken over by another
    // once their lease ran out), posts cut off (sent again), resends B had already received
    let resumed = with_event(&api, &t.key_a, &outbound, "resumed").await?;
    let duplicates = with_event(&api, &t.key_b, &inbound, "duplicate_received").await?;
    eprintln!(
        "after the kill: {resumed} sends resumed, {retried} messages took more than one attempt, B answered {duplicates} resends with the original MDN"
    );
    ensure!(
        resumed + retried > 0,
        "the kill interrupted no send: it tested nothing"
    );

    // no process left to write: the sweep sees the bucket as it stays
    drop(gateways);
    drop(apis);
    let payloads = as2_payload_s3::open_s3(S3Config::from_url(
        &format!("s3://{bucket}/scale"),
        |name| s3.var(name),
    )?)?;
    let store = db.store.clone();
    let scopes = [t.scope_a, t.scope_b];
    tokio::task::spawn_blocking(move || check_orphans(&store, &payloads, &scopes)).await??;
    eprintln!(
        "scale-out test: {:?} in all; {} GETs of the checks were sent again after a transport error, {} requests after a 429",
        started.elapsed(),
        api.resent.load(Ordering::Relaxed),
        api.throttled.load(Ordering::Relaxed)
    );
    Ok(())
}
