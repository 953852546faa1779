//! A full certificate rollover between two tenants on one gateway, both ways at once:
//! tenant A replaces its signing key pair (B's partner record for A follows) and tenant B
//! replaces its decryption key pair (A's partner record for B follows).
//!
//! 1. scheduled with a window a few seconds ahead;
//! 2. during the overlap, messages signed with A's old or new key and encrypted to B's old
//!    or new certificate are all accepted;
//! 3. the gateway's scheduler activates at `activate_at`: A's outbound messages now use the
//!    new material and are delivered;
//! 4. it retires at `retire_at`: a message signed with A's old key, or encrypted to B's old
//!    certificate, is refused with the matching negative MDN;
//! 5. every timeline verifies, tokens included.

use std::time::Duration;

use anyhow::{Context, Result, ensure};
use as2_core::cert::Certificate;
use as2_core::cms::{EncryptOptions, SignOptions};
use as2_core::message::{OutboundMessage, Signer, build_outbound};
use as2_domain::id::CertificateId;
use as2_e2e::Platform;
use as2_store::Scope;
use as2_store::testing::TestDb;
use serde_json::{Value, json};

struct Material {
    certificate: Certificate,
    key: Box<dyn as2_core::crypto::PrivateKeyOps>,
}

fn material(p: &Platform, scope: Scope, id: &str) -> Result<Material> {
    let id: CertificateId = id.parse().map_err(|_| anyhow::anyhow!("certificate id"))?;
    let (der, _) = p.db.store.certificates().der(scope, id)?;
    let key = p.db.store.certificates().private_key(scope, id)?;
    Ok(Material {
        certificate: Certificate::from_der(&der)?,
        key: Box::new(as2_core::keys::load_private_key(&key, None)?),
    })
}

/// POSTs a message from A to B signed with `signer` and encrypted to `recipient`; the
/// disposition of B's synchronous MDN.
async fn send_raw(
    p: &Platform,
    n: usize,
    signer: &Material,
    recipient: &Certificate,
) -> Result<String> {
    let payload = format!("UNB+UNOA:2+A+B+{n}'").into_bytes();
    let mut out = OutboundMessage::new(
        &as2_core::crypto::rust_crypto::DEFAULT_PROVIDER,
        "TENANT-A",
        "TENANT-B",
        &payload,
        "application/edifact",
    );
    out.signer = Some(Signer::new(
        &signer.certificate,
        signer.key.as_ref(),
        SignOptions::new(std::time::SystemTime::now()),
    ));
    out.encryption = Some(as2_core::message::Encryption::new(
        vec![recipient],
        EncryptOptions::default(),
    ));
    out.mdn_to = Some("as2@tenant-a.example".into());
    p.post_as2(build_outbound(&out)?).await
}

async fn wait_state(p: &Platform, key: &str, path: &str, state: &str) -> Result<Value> {
    for _ in 0..200 {
        let record = p.get(key, path).await?;
        if record["data"]["state"] == state {
            return Ok(record["data"].clone());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("{path} never reached {state}")
}

async fn rollover(db: TestDb) -> Result<()> {
    let p = Platform::start(db).await?;
    let (a_scope, b_scope) = (p.scope_of(&p.key_a).await?, p.scope_of(&p.key_b).await?);
    // A's and B's current key pairs, and each one's certificate at the other side
    let (a_old, a_old_pem) = p.key_pair(&p.key_a, "a-old").await?;
    let (a_new, a_new_pem) = p.key_pair(&p.key_a, "a-new").await?;
    let (b_old, b_old_pem) = p.key_pair(&p.key_b, "b-old").await?;
    let (b_new, b_new_pem) = p.key_pair(&p.key_b, "b-new").await?;
    let (a_station, b_station) = p.stations(&a_old, &b_old).await?;
    let a_old_at_b = p.upload_certificate(&p.key_b, "A old", &a_old_pem).await?;
    let a_new_at_b = p.upload_certificate(&p.key_b, "A new", &a_new_pem).await?;
    let b_old_at_a = p.upload_certificate(&p.key_a, "B old", &b_old_pem).await?;
    let b_new_at_a = p.upload_certificate(&p.key_a, "B new", &b_new_pem).await?;
    let a_at_b = p
        .create(
            &p.key_b,
            "/v1/partners",
            json!({"name": "A", "as2_id": "TENANT-A", "url": "http://127.0.0.1:9/unused",
                   "station_id": b_station, "certificate_id": a_old_at_b, "encrypt": false}),
        )
        .await?["id"]
        .as_str()
        .context("partner A")?
        .to_owned();
    let b_at_a = p
        .create(
            &p.key_a,
            "/v1/partners",
            json!({"name": "B", "as2_id": "TENANT-B", "url": p.as2_url, "station_id": a_station,
                   "certificate_id": b_old_at_a, "sign": true, "encrypt": true,
                   "mdn_mode": "sync", "mdn_signed": true}),
        )
        .await?["id"]
        .as_str()
        .context("partner B")?
        .to_owned();

    // 1. the same window everywhere: activation in 3 s, retirement in 6 s
    let now = chrono::Utc::now();
    let window = |next: &str| {
        json!({"certificate_id": next,
               "activate_at": (now + chrono::Duration::seconds(3)).to_rfc3339(),
               "retire_at": (now + chrono::Duration::seconds(6)).to_rfc3339()})
    };
    let records = [
        (&p.key_a, format!("/v1/stations/{a_station}/trust"), &a_new),
        (
            &p.key_a,
            format!("/v1/partners/{b_at_a}/trust"),
            &b_new_at_a,
        ),
        (&p.key_b, format!("/v1/stations/{b_station}/trust"), &b_new),
        (
            &p.key_b,
            format!("/v1/partners/{a_at_b}/trust"),
            &a_new_at_b,
        ),
    ];
    for (key, path, next) in &records {
        let scheduled = p
            .create(key, &format!("{path}/rollover"), window(next))
            .await?;
        ensure!(scheduled["state"] == "rollover_scheduled", "{scheduled}");
    }

    // 2. the overlap: old and new material both accepted
    let a_old_m = material(&p, a_scope, &a_old)?;
    let a_new_m = material(&p, a_scope, &a_new)?;
    let b_old_cert = material(&p, b_scope, &b_old)?.certificate;
    let b_new_cert = material(&p, b_scope, &b_new)?.certificate;
    for (n, (signer, recipient)) in [
        (&a_old_m, &b_old_cert),
        (&a_new_m, &b_new_cert),
        (&a_old_m, &b_new_cert),
        (&a_new_m, &b_old_cert),
    ]
    .into_iter()
    .enumerate()
    {
        let disposition = send_raw(&p, n, signer, recipient).await?;
        ensure!(
            disposition.ends_with("processed"),
            "overlap message {n}: {disposition}"
        );
    }

    // 3. activation at the scheduled time, by the gateway's scheduler
    for (key, path, next) in &records {
        let record = wait_state(&p, key, path, "activated").await?;
        ensure!(record["current"]["id"] == next.as_str(), "{record}");
    }
    let events = p
        .get(&p.key_b, &format!("/v1/partners/{a_at_b}/trust/events"))
        .await?;
    ensure!(events["data"][1]["actor"] == "scheduler", "{events}");
    // A's outbound now signs with its new key and encrypts to B's new certificate
    let sent = p
        .create(
            &p.key_a,
            "/v1/messages",
            json!({"partner_id": b_at_a, "content": "SVNBKjAwKg==", "filename": "after.edi"}),
        )
        .await?;
    let sent = p
        .wait_final(&p.key_a, sent["id"].as_str().context("id")?)
        .await?;
    ensure!(sent["status"] == "delivered", "after activation: {sent}");

    // 4. retirement: the old material is refused
    for (key, path, _) in &records {
        wait_state(&p, key, path, "active").await?;
    }
    let disposition = send_raw(&p, 10, &a_old_m, &b_new_cert).await?;
    ensure!(
        disposition.contains("authentication-failed")
            || disposition.contains("integrity-check-failed"),
        "signed with A's retired key: {disposition}"
    );
    let disposition = send_raw(&p, 11, &a_new_m, &b_old_cert).await?;
    ensure!(
        disposition.contains("decryption-failed"),
        "encrypted to B's retired certificate: {disposition}"
    );
    let disposition = send_raw(&p, 12, &a_new_m, &b_new_cert).await?;
    ensure!(
        disposition.ends_with("processed"),
        "new material: {disposition}"
    );

    // 5. evidence: every timeline verifies
    for (key, path, _) in &records {
        let verified = p.get(key, &format!("{path}/verify")).await?;
        ensure!(
            verified["data"]["valid"] == true && verified["data"]["events"] == 3,
            "{path}: {verified}"
        );
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rollover_on_sqlite() -> Result<()> {
    rollover(TestDb::sqlite()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rollover_on_postgres() -> Result<()> {
    let Some(db) = TestDb::postgres() else {
        eprintln!("AS2_TEST_POSTGRES_URL is not set: skipping");
        return Ok(());
    };
    rollover(db).await
}
