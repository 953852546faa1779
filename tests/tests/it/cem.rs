//! Certificate Exchange Messaging between two tenants on one gateway: tenant A offers its
//! new key pair to B through the API; the request travels as a real AS2 message; B's gateway
//! validates it, stores the certificate as A's next one and (policy: accept valid
//! certificates) answers Accepted with another AS2 message; A's gateway records the answer.
//! A malformed CEM document gets an error MDN.

use std::time::Duration;

use anyhow::{Context, Result, ensure};
use as2_core::cert::Certificate;
use as2_core::cms::{EncryptOptions, SignOptions};
use as2_core::message::{OutboundMessage, Signer, build_outbound};
use as2_domain::id::CertificateId;
use as2_e2e::Platform;
use as2_store::testing::TestDb;
use serde_json::{Value, json};

async fn eventually<F, Fut>(what: &str, mut check: F) -> Result<Value>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<Value>>>,
{
    for _ in 0..300 {
        if let Some(found) = check().await? {
            return Ok(found);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("timed out waiting for {what}")
}

async fn exchange(db: TestDb) -> Result<()> {
    let p = Platform::start(db).await?;
    let a_scope = p.scope_of(&p.key_a).await?;
    let (a_old, a_old_pem) = p.key_pair(&p.key_a, "a-old").await?;
    let (a_new, _) = p.key_pair(&p.key_a, "a-new").await?;
    let (b_key, b_pem) = p.key_pair(&p.key_b, "b").await?;
    let (a_station, b_station) = p.stations(&a_old, &b_key).await?;
    let a_at_b = p.upload_certificate(&p.key_b, "A", &a_old_pem).await?;
    let b_at_a = p.upload_certificate(&p.key_a, "B", &b_pem).await?;
    let partner_a = p
        .create(
            &p.key_b,
            "/v1/partners",
            json!({"name": "A", "as2_id": "TENANT-A", "url": p.as2_url, "station_id": b_station,
                   "certificate_id": a_at_b, "sign": true, "encrypt": true,
                   "mdn_mode": "sync", "mdn_signed": true}),
        )
        .await?["id"]
        .as_str()
        .context("partner A")?
        .to_owned();
    let partner_b = p
        .create(
            &p.key_a,
            "/v1/partners",
            json!({"name": "B", "as2_id": "TENANT-B", "url": p.as2_url, "station_id": a_station,
                   "certificate_id": b_at_a, "sign": true, "encrypt": true,
                   "mdn_mode": "sync", "mdn_signed": true}),
        )
        .await?["id"]
        .as_str()
        .context("partner B")?
        .to_owned();

    // A offers its new key pair
    let respond_by = chrono::Utc::now() + chrono::Duration::days(1);
    let offered = p
        .create(
            &p.key_a,
            &format!("/v1/partners/{partner_b}/trust/cem"),
            json!({"certificate_id": a_new, "usages": ["keyEncipherment", "digitalSignature"],
                   "respond_by": respond_by.to_rfc3339()}),
        )
        .await?;
    ensure!(
        offered["direction"] == "outbound" && offered["status"] == "pending",
        "{offered}"
    );
    let carrier = offered["message_id"].as_str().context("carrier message")?;
    let sent = p.wait_final(&p.key_a, carrier).await?;
    ensure!(sent["status"] == "delivered", "CEM request message: {sent}");
    // A's own rollover is scheduled for the respond-by date
    let a_trust = p
        .get(&p.key_a, &format!("/v1/stations/{a_station}/trust"))
        .await?;
    ensure!(
        a_trust["data"]["state"] == "rollover_scheduled"
            && a_trust["data"]["next"]["id"] == a_new.as_str(),
        "{a_trust}"
    );

    // B received it, stored A's new certificate as next and accepted it
    let received = eventually("B's inbound CEM request", || async {
        let list = p
            .get(&p.key_b, &format!("/v1/partners/{partner_a}/trust/cem"))
            .await?;
        Ok(list["data"]
            .as_array()
            .and_then(|l| l.iter().find(|r| r["direction"] == "inbound").cloned()))
    })
    .await?;
    ensure!(received["status"] == "accepted", "{received}");
    ensure!(
        received["request_id"] == offered["request_id"],
        "{received} vs {offered}"
    );
    let b_trust = p
        .get(&p.key_b, &format!("/v1/partners/{partner_a}/trust"))
        .await?;
    let a_new_cert = p
        .get(&p.key_a, &format!("/v1/certificates/{a_new}"))
        .await?;
    ensure!(
        b_trust["data"]["state"] == "rollover_scheduled"
            && b_trust["data"]["next"]["fingerprint_sha256"]
                == a_new_cert["data"]["fingerprint_sha256"],
        "{b_trust}"
    );
    let partner_now = p
        .get(&p.key_b, &format!("/v1/partners/{partner_a}"))
        .await?;
    ensure!(
        partner_now["data"]["encryption_certificate_id"] == received["certificate_id"],
        "encryption switches once accepted: {partner_now}"
    );

    // B's answer reached A
    eventually("A's offer to be accepted", || async {
        let list = p
            .get(&p.key_a, &format!("/v1/partners/{partner_b}/trust/cem"))
            .await?;
        Ok(list["data"]
            .as_array()
            .and_then(|l| l.iter().find(|r| r["status"] == "accepted").cloned()))
    })
    .await?;
    // …and after the switch B encrypts to A's new certificate, which A decrypts (next key)
    let after = p
        .create(
            &p.key_b,
            "/v1/messages",
            json!({"partner_id": partner_a, "content": "SVNBKjAwKg==", "filename": "after-cem.edi"}),
        )
        .await?;
    let after = p
        .wait_final(&p.key_b, after["id"].as_str().context("id")?)
        .await?;
    ensure!(
        after["status"] == "delivered",
        "B to A after the CEM: {after}"
    );

    // both timelines show the exchange and verify once stamped
    for (key, path, expected) in [
        (
            &p.key_a,
            format!("/v1/partners/{partner_b}/trust"),
            ["cem_request_sent", "cem_response_accepted"],
        ),
        (
            &p.key_b,
            format!("/v1/partners/{partner_a}/trust"),
            ["cem_request_received", "cem_request_accepted"],
        ),
    ] {
        let events = p.get(key, &format!("{path}/events")).await?;
        let types: Vec<&str> = events["data"]
            .as_array()
            .context("events")?
            .iter()
            .filter_map(|e| e["type"].as_str())
            .collect();
        for kind in expected {
            ensure!(types.contains(&kind), "{path}: {types:?} lacks {kind}");
        }
        eventually("a verified timeline", || async {
            let verified = p.get(key, &format!("{path}/verify")).await?;
            Ok((verified["data"]["valid"] == true).then_some(verified))
        })
        .await?;
    }

    // a malformed CEM document is refused with an error MDN
    let b_cert = {
        let b_scope = p.scope_of(&p.key_b).await?;
        let id: CertificateId = b_key.parse().map_err(|_| anyhow::anyhow!("id"))?;
        Certificate::from_der(&p.db.store.certificates().der(b_scope, id)?.0)?
    };
    let a_id: CertificateId = a_old.parse().map_err(|_| anyhow::anyhow!("id"))?;
    let a_cert = Certificate::from_der(&p.db.store.certificates().der(a_scope, a_id)?.0)?;
    let a_key = as2_core::keys::load_private_key(
        &p.db.store.certificates().private_key(a_scope, a_id)?,
        None,
    )?;
    let broken = b"--b1\r\nContent-Type: application/ediint-cert-exchange+xml\r\nContent-ID: <x>\r\n\r\n<EDIINTCertificateExchangeRequest requestId=\"1\"><oops>\r\n--b1--\r\n";
    let mut out = OutboundMessage::new(
        &as2_core::crypto::rust_crypto::DEFAULT_PROVIDER,
        "TENANT-A",
        "TENANT-B",
        broken,
        "multipart/related; boundary=\"b1\"; type=\"application/ediint-cert-exchange+xml\"",
    );
    out.signer = Some(Signer::new(
        &a_cert,
        &a_key,
        SignOptions::new(std::time::SystemTime::now()),
    ));
    out.encryption = Some(as2_core::message::Encryption::new(
        vec![&b_cert],
        EncryptOptions::default(),
    ));
    out.mdn_to = Some("as2@tenant-a.example".into());
    let disposition = p.post_as2(build_outbound(&out)?).await?;
    ensure!(
        disposition.contains("error") && disposition.contains("unexpected-processing-error"),
        "malformed CEM: {disposition}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cem_between_tenants_on_sqlite() -> Result<()> {
    exchange(TestDb::sqlite()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cem_between_tenants_on_postgres() -> Result<()> {
    let Some(db) = TestDb::postgres() else {
        eprintln!("AS2_TEST_POSTGRES_URL is not set: skipping");
        return Ok(());
    };
    exchange(db).await
}
