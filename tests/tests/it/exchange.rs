//! Tenant A sends to tenant B through the platform's own gateway over real HTTP, for every
//! partner setting (sign × encrypt × compress × MDN mode and signing, the algorithms, the
//! plain MIC's coverage), on SQLite and on PostgreSQL: each message ends `delivered` with a
//! matching MIC, B holds the same bytes, and A's webhook receives `message.delivered` signed
//! with the endpoint's secret. Partners disagreeing on the plain MIC's coverage see a MIC
//! mismatch.

// A skipped backend or peer, and the matrix summary, are reported on stderr on purpose.

use anyhow::{Context as _, Result, ensure};
use as2_domain::webhook::verify_signature;
use as2_e2e::{Options, Platform, capture_server};
use as2_store::testing::TestDb;
use as2_test_support::s3::S3Server;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

/// One partner setting to exercise.
struct Case {
    sign: Option<&'static str>,
    encrypt: Option<&'static str>,
    compress: bool,
    mdn: &'static str,
    mdn_signed: bool,
    /// Signature scheme, key transport and compression order, when not the defaults.
    algorithms: Option<(&'static str, &'static str, &'static str)>,
    /// The `unsigned_mic` of A's partner for B and of B's partner for A, when not the
    /// default.
    unsigned_mic: Option<(&'static str, &'static str)>,
}

impl Case {
    fn new(sign: Option<&'static str>, encrypt: Option<&'static str>, compress: bool) -> Self {
        Self {
            sign,
            encrypt,
            compress,
            mdn: "sync",
            mdn_signed: sign.is_some(),
            algorithms: None,
            unsigned_mic: None,
        }
    }
}

fn cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for (sign, encrypt) in [
        (None, None),
        (Some("sha256"), None),
        (None, Some("aes256-cbc")),
        (Some("sha256"), Some("aes256-cbc")),
        (Some("sha1"), Some("3des")),
        (Some("sha512"), Some("aes128-gcm")),
        (Some("sha384"), Some("aes192-cbc")),
    ] {
        for compress in [false, true] {
            cases.push(Case::new(sign, encrypt, compress));
        }
    }
    for (mdn, mdn_signed) in [
        ("async", true),
        ("async", false),
        ("none", false),
        ("sync", false),
    ] {
        cases.push(Case {
            mdn,
            mdn_signed,
            ..Case::new(Some("sha256"), Some("aes128-cbc"), false)
        });
    }
    // every algorithm in both directions: what we send, our own gateway reads
    for (sign, encrypt, algorithms) in [
        (
            "sha256",
            "aes256-gcm",
            ("pss", "rsa-oaep-sha256", "after-signing"),
        ),
        (
            "sha384",
            "aes128-cbc",
            ("pss", "rsa-oaep-sha1", "before-signing"),
        ),
        (
            "sha256",
            "aes256-cbc",
            ("pkcs1v15", "rsa-oaep-sha256", "after-signing"),
        ),
    ] {
        cases.push(Case {
            algorithms: Some(algorithms),
            ..Case::new(Some(sign), Some(encrypt), true)
        });
    }
    // a plain message with a signed receipt, both sides hashing the entity's headers
    cases.push(Case {
        mdn_signed: true,
        unsigned_mic: Some(("with-headers", "with-headers")),
        ..Case::new(None, None, false)
    });
    cases
}

struct Tenants {
    a_cert_for_b: String,
    b_station_cert: String,
    a_station: String,
}

/// A's station signs with a key pair; B trusts A's certificate; A trusts B's.
async fn set_up(p: &Platform) -> Result<Tenants> {
    let (a_pair, a_pem) = p.key_pair(&p.key_a, "tenant-a").await?;
    let (b_pair, b_pem) = p.key_pair(&p.key_b, "tenant-b").await?;
    let stations = p.get(&p.key_a, "/v1/stations").await?;
    let a_station = stations["data"][0]["id"]
        .as_str()
        .context("A's station")?
        .to_owned();
    let (status, reply) = p
        .call(
            &p.key_a,
            reqwest::Method::PATCH,
            &format!("/v1/stations/{a_station}"),
            Some(json!({"certificate_id": a_pair})),
        )
        .await?;
    anyhow::ensure!(status == 200, "PATCH station: {status} {reply}");
    let a_cert_for_b = p.upload_certificate(&p.key_b, "tenant A", &a_pem).await?;
    let b_cert_for_a = p.upload_certificate(&p.key_a, "tenant B", &b_pem).await?;
    Ok(Tenants {
        a_cert_for_b,
        b_station_cert: format!("{b_pair}|{b_cert_for_a}"),
        a_station,
    })
}

/// B gets a station `as2_id` and a partner for A on it; A gets a partner for it.
async fn pair_for(p: &Platform, t: &Tenants, n: usize, case: &Case) -> Result<String> {
    let (b_pair, b_cert_for_a) = t.b_station_cert.split_once('|').context("certs")?;
    let as2_id = format!("TENANT-B-{n}");
    let station = p
        .create(
            &p.key_b,
            "/v1/stations",
            json!({"name": as2_id, "as2_id": as2_id, "certificate_id": b_pair}),
        )
        .await?;
    p.create(
        &p.key_b,
        "/v1/partners",
        json!({
            "name": format!("Tenant A via {n}"), "as2_id": "TENANT-A", "url": "http://127.0.0.1:9/unused",
            "station_id": station["id"], "certificate_id": t.a_cert_for_b, "encrypt": false,
            // B demands what this case sends, no less
            "require_signed": case.sign.is_some(), "require_encrypted": case.encrypt.is_some(),
            "unsigned_mic": case.unsigned_mic.map_or("content-only", |(_, b)| b),
        }),
    )
    .await?;
    let mut settings = json!({
        "name": format!("Tenant B {n}"), "as2_id": as2_id, "url": p.as2_url,
        "station_id": t.a_station, "certificate_id": b_cert_for_a,
        "sign": case.sign.is_some(), "sign_algorithm": case.sign.unwrap_or("sha256"),
        "encrypt": case.encrypt.is_some(), "encrypt_algorithm": case.encrypt.unwrap_or("aes256-cbc"),
        "compress": case.compress, "mdn_mode": case.mdn, "mdn_signed": case.mdn_signed,
        "unsigned_mic": case.unsigned_mic.map_or("content-only", |(a, _)| a),
    });
    if let Some((scheme, transport, order)) = case.algorithms {
        settings["signature_scheme"] = json!(scheme);
        settings["key_transport"] = json!(transport);
        settings["compression_order"] = json!(order);
    }
    let partner = p.create(&p.key_a, "/v1/partners", settings).await?;
    if let Some((scheme, transport, order)) = case.algorithms {
        ensure!(
            partner["signature_scheme"] == scheme
                && partner["key_transport"] == transport
                && partner["compression_order"] == order,
            "the partner shows its algorithms: {partner}"
        );
    }
    Ok(partner["id"].as_str().context("partner id")?.to_owned())
}

fn payload(n: usize) -> Vec<u8> {
    let mut bytes =
        format!("ISA*00*          *00*          *ZZ*TENANTA *ZZ*TENANTB *{n:06}~\r\n").into_bytes();
    bytes.extend((0..=255u8).cycle().take(2000 + n));
    bytes
}

async fn exchange(db: TestDb) -> Result<()> {
    exchange_with(db, Options::default()).await
}

async fn exchange_with(db: TestDb, options: Options) -> Result<()> {
    let inline_limit = options.inline_payload_bytes;
    let p = Platform::start_with(db, options).await?;
    let t = set_up(&p).await?;
    let (hook_url, seen) = capture_server().await?;
    let hook = p
        .create(
            &p.key_a,
            "/v1/webhook-endpoints",
            json!({"url": hook_url, "events": ["message.delivered"]}),
        )
        .await?;
    let secret = hook["secret"].as_str().context("secret")?.to_owned();

    let mut sent = Vec::new();
    for (n, case) in cases().iter().enumerate() {
        let partner = pair_for(&p, &t, n, case).await?;
        let message = p
            .create(
                &p.key_a,
                "/v1/messages",
                json!({"partner_id": partner, "content": STANDARD.encode(payload(n)), "filename": format!("po-{n}.edi")}),
            )
            .await?;
        sent.push((n, message["id"].as_str().context("id")?.to_owned()));
    }
    for (n, id) in &sent {
        let case = &cases()[*n];
        let done = p.wait_final(&p.key_a, id).await?;
        let label = format!(
            "case {n} sign={:?} encrypt={:?} compress={} mdn={} signed={}",
            case.sign, case.encrypt, case.compress, case.mdn, case.mdn_signed
        );
        assert_eq!(done["status"], "delivered", "{label}: {done}");
        if case.mdn != "none" {
            let mdn = p.get(&p.key_a, &format!("/v1/messages/{id}/mdn")).await?;
            let mdn = &mdn["data"];
            assert!(
                mdn["disposition"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("processed"),
                "{label}: {mdn}"
            );
            // a signed message's receipt carries its MIC; any MIC a receipt carries matches
            if case.sign.is_some() || !mdn["mic"].is_null() {
                assert_eq!(mdn["mic_matched"], true, "{label}: {mdn}");
            }
            assert_eq!(mdn["signed"], case.mdn_signed, "{label}: {mdn}");
            assert_eq!(mdn["verified"], case.mdn_signed, "{label}: {mdn}");
        }
        // B holds the same bytes under the same Message-ID.
        let as2_id = done["message_id"].as_str().context("message_id")?;
        let inbound = p
            .get(&p.key_b, "/v1/messages?direction=inbound&per_page=100")
            .await?;
        let received = inbound["data"]
            .as_array()
            .context("list")?
            .iter()
            .find(|m| m["message_id"] == as2_id)
            .cloned()
            .unwrap_or(Value::Null);
        assert_eq!(received["status"], "received", "{label}: {received}");
        let rid = received["id"].as_str().context("received id")?;
        let bytes = p
            .download(&p.key_b, &format!("/v1/messages/{rid}/payload"))
            .await?;
        assert_eq!(bytes, payload(*n), "{label}: payload differs");
    }
    // A's outbound and B's inbound payload of every message above the inline limit are in
    // the store the platform was given (a bucket, with S3); one under it is in its row, and
    // the store then holds at most A's copies of B's MDNs.
    let stored: usize = (0..=255u8)
        .map(|shard| p.payloads.list_shard(shard).map(|l| l.len()))
        .sum::<std::io::Result<usize>>()?;
    let objects = sent
        .iter()
        .filter(|(n, _)| payload(*n).len() as u64 > inline_limit)
        .count();
    assert!(
        stored >= 2 * objects,
        "{stored} payloads stored for {objects} messages above the inline limit"
    );
    if objects == 0 {
        assert!(
            stored <= sent.len(),
            "{stored} objects for {} messages kept inline",
            sent.len()
        );
    }

    // Every delivery was announced, signed with the endpoint's secret.
    for _ in 0..200 {
        if seen.lock().map(|s| s.len()).unwrap_or(0) >= sent.len() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let seen = seen.lock().map(|s| s.clone()).unwrap_or_default();
    assert_eq!(seen.len(), sent.len(), "one webhook per delivered message");
    for (headers, body) in &seen {
        let signature = headers
            .get("x-signature")
            .and_then(|v| v.to_str().ok())
            .context("X-Signature")?;
        assert!(
            verify_signature(&secret, signature, body, chrono_now(), 300),
            "bad signature {signature}"
        );
        let event: Value = serde_json::from_slice(body)?;
        assert_eq!(event["event"], "message.delivered");
        assert!(
            event["id"].as_str().unwrap_or_default().starts_with("evt_"),
            "{event}"
        );
        assert!(
            sent.iter()
                .any(|(_, id)| event["data"]["id"] == id.as_str()),
            "{event}"
        );
    }
    Ok(())
}

fn chrono_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(0))
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tenant_to_tenant_on_sqlite() -> Result<()> {
    exchange(TestDb::sqlite()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tenant_to_tenant_on_postgres() -> Result<()> {
    let Some(db) = TestDb::postgres() else {
        eprintln!("AS2_TEST_POSTGRES_URL is not set: PostgreSQL case skipped");
        return Ok(());
    };
    exchange(db).await
}

/// The same exchange with the payloads in S3 (a real server on 127.0.0.1): what the API
/// stores, what the gateway receives and every partner MDN go to the bucket and are read
/// back from it (no payload inline in its row here).
async fn exchange_on_s3(db: TestDb) -> Result<()> {
    let Some(server) = S3Server::start() else {
        return Ok(());
    };
    let options = Options {
        s3: Some(std::sync::Arc::new(server)),
        // every payload an object, so the bucket is what is read back
        inline_payload_bytes: 0,
        ..Options::default()
    };
    exchange_with(db, options).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tenant_to_tenant_on_sqlite_with_s3_payloads() -> Result<()> {
    exchange_on_s3(TestDb::sqlite()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tenant_to_tenant_on_postgres_with_s3_payloads() -> Result<()> {
    let Some(db) = TestDb::postgres() else {
        eprintln!("AS2_TEST_POSTGRES_URL is not set: PostgreSQL case skipped");
        return Ok(());
    };
    exchange_on_s3(db).await
}

/// What our messages advertise in `EDIINT-Features` is what we implement: CEM, and not
/// multiple attachments (a partner that believed it would send several documents in one
/// message, stored as one).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_messages_advertise_only_what_we_implement() -> Result<()> {
    let p = Platform::start(TestDb::sqlite()).await?;
    let (hook, seen) = capture_server().await?;
    let partner = p
        .create(
            &p.key_a,
            "/v1/partners",
            json!({"name": "Capture", "as2_id": "CAPTURE", "url": hook,
                   "sign": false, "encrypt": false, "mdn_mode": "none"}),
        )
        .await?;
    let message = p
        .create(
            &p.key_a,
            "/v1/messages",
            json!({"partner_id": partner["id"], "filename": "po.edi",
                   "content": STANDARD.encode(b"ISA*00*features~")}),
        )
        .await?;
    let id = message["id"].as_str().context("message id")?;
    let done = p.wait_final(&p.key_a, id).await?;
    assert_eq!(done["status"], "delivered", "{done}");
    let requests = seen.lock().map_err(|_| anyhow::anyhow!("lock"))?;
    let (headers, _) = requests
        .first()
        .context("the message reached the partner")?;
    let features = headers
        .get("ediint-features")
        .and_then(|v| v.to_str().ok())
        .context("EDIINT-Features")?;
    assert_eq!(features, "CEM");
    Ok(())
}

/// A plain message between partners that disagree on what its MIC covers (A expects the
/// entity with its headers, B follows the RFC, and the other way round): B's signed receipt
/// carries a MIC that A reports as a mismatch, so the setting reaches both the MIC we expect
/// and the MIC we return.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partners_disagreeing_on_the_plain_mic_see_a_mismatch() -> Result<()> {
    let p = Platform::start(TestDb::sqlite()).await?;
    let t = set_up(&p).await?;
    for (n, sides) in [
        ("with-headers", "content-only"),
        ("content-only", "with-headers"),
    ]
    .into_iter()
    .enumerate()
    {
        let case = Case {
            mdn_signed: true,
            unsigned_mic: Some(sides),
            ..Case::new(None, None, false)
        };
        let partner = pair_for(&p, &t, 100 + n, &case).await?;
        let message = p
            .create(
                &p.key_a,
                "/v1/messages",
                json!({"partner_id": partner, "content": STANDARD.encode(payload(n)), "filename": "po.edi"}),
            )
            .await?;
        let id = message["id"].as_str().context("id")?;
        let done = p.wait_final(&p.key_a, id).await?;
        assert_eq!(done["status"], "failed", "{sides:?}: {done}");
        let mdn = p.get(&p.key_a, &format!("/v1/messages/{id}/mdn")).await?;
        assert_eq!(mdn["data"]["mic_matched"], false, "{sides:?}: {mdn}");
        assert_eq!(done["error"]["type"], "mic_mismatch", "{sides:?}: {done}");
    }
    Ok(())
}
