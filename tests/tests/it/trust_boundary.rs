//! The trust boundary, attacked over real HTTP: what a stranger who knows two AS2 IDs can
//! send is refused, and nothing of it is stored, delivered or acted on. Unauthenticated
//! payloads, unauthenticated receipts, an unauthenticated certificate exchange, async MDNs
//! to a URL a stranger chose, and a second tenant claiming a station's AS2 ID.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result, ensure};
use as2_core::cem::{CemRequest, CertUsage, TrustRequest, build_request};
use as2_core::cms::{EncryptOptions, SignOptions};
use as2_core::mdn::{MdnDisposition, MdnParams, build_mdn};
use as2_core::message::{OutboundMessage, Signer, build_outbound};
use as2_domain::message::{Direction, MessageStatus};
use as2_domain::pagination::PageRequest;
use as2_domain::webhook::WebhookSettings;
use as2_e2e::seed::{Identity, identity, tenant};
use as2_e2e::{Captured, Platform, capture_server};
use as2_store::Scope;
use as2_store::testing::TestDb;
use serde_json::json;

/// Every file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .flat_map(|e| {
            let path = e.path();
            if path.is_dir() {
                files_under(&path)
            } else {
                vec![path]
            }
        })
        .collect()
}

/// The inbound messages of `scope`, newest first.
fn inbound(p: &Platform, scope: Scope) -> Result<Vec<as2_domain::message::Message>> {
    let (rows, _) = p.db.store.messages().list(
        scope,
        Default::default(),
        PageRequest {
            page: 1,
            per_page: 100,
        },
    )?;
    Ok(rows
        .into_iter()
        .filter(|m| m.direction == Direction::Inbound)
        .collect())
}

/// Event names posted to a capture server.
fn posted_events(seen: &Captured) -> Vec<String> {
    seen.lock()
        .map(|r| {
            r.iter()
                .filter_map(|(_, body)| serde_json::from_slice::<serde_json::Value>(body).ok())
                .filter_map(|v| v["event"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Sets what the partner's inbound messages must be (`require_signed`, `require_encrypted`).
fn demand(
    p: &Platform,
    scope: Scope,
    partner: as2_domain::id::PartnerId,
    signed: bool,
    encrypted: bool,
) -> Result<()> {
    let mut settings = p.db.store.partners().get(scope, partner)?.settings;
    settings.require_signed = signed;
    settings.require_encrypted = encrypted;
    p.db.store.partners().update(
        scope,
        partner,
        &settings,
        as2_store::repo::partners::PasswordChange::Keep,
    )?;
    Ok(())
}

/// A message from the partner to us with the protection given.
fn message<'a>(
    payload: &'a [u8],
    signer: Option<&'a Identity>,
    encrypt_to: Option<&'a Identity>,
) -> OutboundMessage<'a> {
    let mut out = OutboundMessage::new(
        &as2_core::crypto::rust_crypto::DEFAULT_PROVIDER,
        "TB-PARTNER",
        "TB-US",
        payload,
        "application/edi-x12",
    );
    out.signer = signer.map(|s| {
        Signer::new(
            &s.cert,
            s.key.as_ref(),
            SignOptions::new(std::time::SystemTime::now()),
        )
    });
    out.encryption = encrypt_to
        .map(|us| as2_core::message::Encryption::new(vec![&us.cert], EncryptOptions::default()));
    out.mdn_to = Some("as2@partner.example".into());
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsigned_or_unencrypted_messages_are_refused_and_nothing_is_kept() -> Result<()> {
    let p = Platform::start(TestDb::sqlite()).await?;
    let (us, partner, stranger) = (identity("tb-us"), identity("tb-partner"), identity("x"));
    let (scope, _, _) = tenant(
        &p.db.store,
        "tb",
        "TB-US",
        "TB-PARTNER",
        &us,
        &partner,
        "http://127.0.0.1:9/x",
    );
    let (hook, seen) = capture_server().await?;
    p.db.store.webhooks().create(
        scope,
        &WebhookSettings {
            url: hook,
            description: None,
            events: vec!["*".into()],
            active: true,
        },
        "whsec_trust_boundary",
    )?;
    let payload = b"ISA*00*not-for-strangers~";
    let cases: [(&str, Option<&Identity>, Option<&Identity>); 4] = [
        ("neither signed nor encrypted", None, None),
        ("signed, not encrypted", Some(&partner), None),
        ("encrypted, not signed", None, Some(&us)),
        // a stranger's signature is an authentication failure, not a weaker message
        ("signed by a stranger", Some(&stranger), Some(&us)),
    ];
    for (case, signer, encrypt_to) in cases {
        let disposition = p
            .post_as2(build_outbound(&message(payload, signer, encrypt_to))?)
            .await?;
        let expected = if case == "signed by a stranger" {
            "authentication-failed"
        } else {
            "insufficient-message-security"
        };
        ensure!(
            disposition.contains("processed/error") && disposition.contains(expected),
            "{case}: {disposition}"
        );
    }
    let rows = inbound(&p, scope)?;
    ensure!(rows.len() == 4, "four refused messages recorded: {rows:?}");
    for row in &rows {
        ensure!(row.status == MessageStatus::Failed, "{row:?}");
        ensure!(
            row.payload.is_none() && row.bytes == 0,
            "no payload stored: {row:?}"
        );
    }
    let sentences: Vec<String> = rows
        .iter()
        .filter_map(|m| m.error.as_ref().map(|e| e.sentence.clone()))
        .collect();
    ensure!(
        sentences.iter().any(|s| s.contains("not signed"))
            && sentences.iter().any(|s| s.contains("not encrypted")),
        "the sentences say what was missing: {sentences:?}"
    );
    ensure!(
        files_under(&p.inbox).is_empty(),
        "nothing reached the inbox: {:?}",
        files_under(&p.inbox)
    );

    // the same partner's signed and encrypted message is received: the refusals were the
    // policy, not a broken set-up
    let disposition = p
        .post_as2(build_outbound(&message(
            payload,
            Some(&partner),
            Some(&us),
        ))?)
        .await?;
    ensure!(
        !disposition.contains("error"),
        "a protected message: {disposition}"
    );
    for _ in 0..100 {
        if posted_events(&seen).contains(&"message.received".to_owned()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let events = posted_events(&seen);
    ensure!(
        events.iter().filter(|e| *e == "message.received").count() == 1,
        "exactly one message.received, for the protected message: {events:?}"
    );
    ensure!(
        files_under(&p.inbox).len() == 1,
        "only the protected message reached the inbox"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partner_may_accept_unprotected_messages_when_its_settings_say_so() -> Result<()> {
    let p = Platform::start(TestDb::sqlite()).await?;
    let (us, partner) = (identity("tb-us"), identity("tb-partner"));
    let (scope, _, partner_id) = tenant(
        &p.db.store,
        "tb",
        "TB-US",
        "TB-PARTNER",
        &us,
        &partner,
        "http://127.0.0.1:9/x",
    );
    demand(&p, scope, partner_id, false, false)?;
    let disposition = p
        .post_as2(build_outbound(&message(b"ISA*00*plain~", None, None))?)
        .await?;
    ensure!(!disposition.contains("error"), "{disposition}");
    let rows = inbound(&p, scope)?;
    ensure!(rows.len() == 1 && rows[0].status == MessageStatus::Received);
    Ok(())
}

/// Tenant A's partner `PARTNER-X` (certificate `partner`), sending to `url` with async
/// signed MDNs; the id of a message that reached `sent`.
async fn message_awaiting_mdn(p: &Platform, partner: &Identity, url: &str) -> Result<String> {
    let cert = p
        .upload_certificate(&p.key_a, "partner-x", &partner.cert.to_pem())
        .await?;
    let (pair, _) = p.key_pair(&p.key_a, "a").await?;
    let station = p.get(&p.key_a, "/v1/stations").await?["data"][0]["id"]
        .as_str()
        .context("station")?
        .to_owned();
    let (status, reply) = p
        .call(
            &p.key_a,
            reqwest::Method::PATCH,
            &format!("/v1/stations/{station}"),
            Some(json!({"certificate_id": pair})),
        )
        .await?;
    ensure!(status == 200, "{reply}");
    let partner_id = p
        .create(
            &p.key_a,
            "/v1/partners",
            json!({"name": "X", "as2_id": "PARTNER-X", "url": url, "certificate_id": cert,
                   "mdn_mode": "async", "mdn_signed": true}),
        )
        .await?["id"]
        .as_str()
        .context("partner")?
        .to_owned();
    let id = p
        .create(
            &p.key_a,
            "/v1/messages",
            json!({"partner_id": partner_id, "filename": "po.edi", "content": "SVNBKjAwKn4="}),
        )
        .await?["id"]
        .as_str()
        .context("message")?
        .to_owned();
    for _ in 0..200 {
        let m = p.get(&p.key_a, &format!("/v1/messages/{id}")).await?;
        if m["data"]["status"] == "sent" {
            return Ok(id);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    anyhow::bail!("message {id} never reached sent")
}

/// POSTs an MDN to the gateway's MDN endpoint; the status and the text answered.
async fn post_mdn(
    p: &Platform,
    built: &as2_core::mdn::BuiltMdn,
    from: &str,
    to: &str,
) -> Result<(u16, String)> {
    let url = p.as2_url.replace("/receive", "/mdn");
    let mut request = reqwest::Client::new()
        .post(url)
        .header("AS2-From", from)
        .header("AS2-To", to)
        .header("AS2-Version", "1.2")
        .body(built.body.clone());
    for (name, value) in &built.headers {
        request = request.header(name, value);
    }
    let response = request.send().await?;
    Ok((response.status().as_u16(), response.text().await?))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsigned_or_badly_signed_mdns_never_change_a_message() -> Result<()> {
    let p = Platform::start(TestDb::sqlite()).await?;
    let (partner, stranger) = (identity("partner-x"), identity("stranger"));
    let (sink, _) = capture_server().await?;
    let id = message_awaiting_mdn(&p, &partner, &sink).await?;
    let message = p.get(&p.key_a, &format!("/v1/messages/{id}")).await?["data"].clone();
    let original = message["message_id"].as_str().context("Message-ID")?;
    let us = p.get(&p.key_a, "/v1/stations").await?["data"][0]["as2_id"]
        .as_str()
        .context("our AS2 ID")?
        .to_owned();

    // a stranger answers "failed" without a signature, then with their own signature
    let refusal = MdnDisposition::from(&as2_core::Error::Decryption);
    let unsigned = build_mdn(&MdnParams::new(
        &as2_core::crypto::rust_crypto::DEFAULT_PROVIDER,
        "PARTNER-X",
        &us,
        original,
        refusal.clone(),
    ))?;
    let mut forged = MdnParams::new(
        &as2_core::crypto::rust_crypto::DEFAULT_PROVIDER,
        "PARTNER-X",
        &us,
        original,
        refusal,
    );
    forged.signer = Some(Signer::new(
        &stranger.cert,
        stranger.key.as_ref(),
        SignOptions::new(std::time::SystemTime::now()),
    ));
    let forged = build_mdn(&forged)?;
    for (case, mdn) in [("unsigned", &unsigned), ("signed by a stranger", &forged)] {
        let (status, text) = post_mdn(&p, mdn, "PARTNER-X", &us).await?;
        ensure!(status == 403, "{case}: {status} {text}");
        let now = p.get(&p.key_a, &format!("/v1/messages/{id}")).await?["data"].clone();
        ensure!(now["status"] == "sent", "{case} changed the message: {now}");
    }
    let events = p
        .get(&p.key_a, &format!("/v1/messages/{id}/events"))
        .await?;
    let refused = events["data"]
        .as_array()
        .context("events")?
        .iter()
        .filter(|e| e["type"] == "mdn_refused")
        .count();
    ensure!(refused == 2, "both refusals are on the timeline: {events}");
    let (status, _) = p
        .call(
            &p.key_a,
            reqwest::Method::GET,
            &format!("/v1/messages/{id}/mdn"),
            None,
        )
        .await?;
    ensure!(status == 404, "no MDN was recorded: {status}");

    // the partner's own signed MDN is applied
    let scope = p.scope_of(&p.key_a).await?;
    let row_id = id.parse().map_err(|_| anyhow::anyhow!("message id"))?;
    let sent_mic = p.db.store.messages().get(scope, row_id)?.mic;
    let mut genuine = MdnParams::new(
        &as2_core::crypto::rust_crypto::DEFAULT_PROVIDER,
        "PARTNER-X",
        &us,
        original,
        MdnDisposition::Processed,
    );
    genuine.mic = sent_mic
        .as_deref()
        .and_then(|m| as2_core::message::Mic::parse(m).ok());
    genuine.signer = Some(Signer::new(
        &partner.cert,
        partner.key.as_ref(),
        SignOptions::new(std::time::SystemTime::now()),
    ));
    let (status, text) = post_mdn(&p, &build_mdn(&genuine)?, "PARTNER-X", &us).await?;
    ensure!(status == 200, "the genuine MDN: {status} {text}");
    let now = p.get(&p.key_a, &format!("/v1/messages/{id}")).await?["data"].clone();
    ensure!(now["status"] == "delivered", "{now}");
    Ok(())
}

/// A CEM request offering `new` for signing and encryption, from `TB-PARTNER`.
fn cem_request(new: &Identity) -> Result<as2_core::cem::BuiltCem> {
    cem_request_for(
        new,
        vec![CertUsage::KeyEncipherment, CertUsage::DigitalSignature],
    )
}

/// A CEM request offering `new` for `usages`, from `TB-PARTNER`.
fn cem_request_for(new: &Identity, usages: Vec<CertUsage>) -> Result<as2_core::cem::BuiltCem> {
    let respond_by = std::time::SystemTime::now() + Duration::from_secs(3600);
    Ok(build_request(
        &as2_core::crypto::rust_crypto::DEFAULT_PROVIDER,
        &CemRequest {
            request_id: "takeover-1".into(),
            sender_as2_id: "TB-PARTNER".into(),
            message_originated: std::time::SystemTime::now(),
            requests: vec![TrustRequest::new(
                new.cert.clone(),
                usages,
                respond_by,
                "http://127.0.0.1:9/cem",
                "takeover@evil.example",
            )],
        },
    )?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unsigned_certificate_exchange_cannot_take_over_a_partner() -> Result<()> {
    let p = Platform::start(TestDb::sqlite()).await?;
    let (us, partner, attacker) = (identity("tb-us"), identity("tb-partner"), identity("evil"));
    let (scope, _, partner_id) = tenant(
        &p.db.store,
        "tb",
        "TB-US",
        "TB-PARTNER",
        &us,
        &partner,
        "http://127.0.0.1:9/x",
    );
    // even a partner that accepts unsigned messages accepts no unsigned CEM
    demand(&p, scope, partner_id, false, true)?;
    let before = p.db.store.partners().get(scope, partner_id)?.settings;
    let cem = cem_request(&attacker)?;
    let mut out = OutboundMessage::new(
        &as2_core::crypto::rust_crypto::DEFAULT_PROVIDER,
        "TB-PARTNER",
        "TB-US",
        &cem.body,
        &cem.content_type,
    );
    out.encryption = Some(as2_core::message::Encryption::new(
        vec![&us.cert],
        EncryptOptions::default(),
    ));
    out.mdn_to = Some("as2@partner.example".into());
    let disposition = p.post_as2(build_outbound(&out)?).await?;
    ensure!(
        disposition.contains("insufficient-message-security"),
        "an unsigned CEM: {disposition}"
    );
    let after = p.db.store.partners().get(scope, partner_id)?.settings;
    ensure!(
        after.certificate_id == before.certificate_id
            && after.encryption_certificate_id == before.encryption_certificate_id,
        "the partner's certificates did not change"
    );
    let requests = p.db.store.cem().list(scope, partner_id)?;
    ensure!(requests.is_empty(), "no CEM request recorded: {requests:?}");
    let rows = inbound(&p, scope)?;
    ensure!(
        rows.len() == 1
            && rows[0].status == MessageStatus::Failed
            && rows[0]
                .error
                .as_ref()
                .is_some_and(|e| e.sentence.contains("certificate exchange")),
        "recorded for the operator: {rows:?}"
    );
    ensure!(files_under(&p.inbox).is_empty(), "nothing in the inbox");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tls_only_certificate_exchange_from_a_stranger_rolls_no_tls_certificate_over()
-> Result<()> {
    let p = Platform::start(TestDb::sqlite()).await?;
    let (us, partner, attacker) = (identity("tb-us"), identity("tb-partner"), identity("evil"));
    let (scope, _, partner_id) = tenant(
        &p.db.store,
        "tb",
        "TB-US",
        "TB-PARTNER",
        &us,
        &partner,
        "http://127.0.0.1:9/x",
    );
    demand(&p, scope, partner_id, false, true)?;
    // the partner pins its server key: a tlsServer rollover would move the pin
    let mut settings = p.db.store.partners().get(scope, partner_id)?.settings;
    settings.tls.pin_sha256 = Some(as2_domain::partner_tls::TlsPin([7; 32]));
    p.db.store.partners().update(
        scope,
        partner_id,
        &settings,
        as2_store::repo::partners::PasswordChange::Keep,
    )?;
    let cem = cem_request_for(&attacker, vec![CertUsage::TlsClient, CertUsage::TlsServer])?;
    // unsigned, then signed by the attacker's own key
    for signer in [None, Some(&attacker)] {
        let mut out = OutboundMessage::new(
            &as2_core::crypto::rust_crypto::DEFAULT_PROVIDER,
            "TB-PARTNER",
            "TB-US",
            &cem.body,
            &cem.content_type,
        );
        out.signer = signer.map(|s| {
            Signer::new(
                &s.cert,
                s.key.as_ref(),
                SignOptions::new(std::time::SystemTime::now()),
            )
        });
        out.encryption = Some(as2_core::message::Encryption::new(
            vec![&us.cert],
            EncryptOptions::default(),
        ));
        out.mdn_to = Some("as2@partner.example".into());
        let disposition = p.post_as2(build_outbound(&out)?).await?;
        ensure!(
            disposition.contains("error") || disposition.contains("failed"),
            "a stranger's CEM: {disposition}"
        );
    }
    let after = p.db.store.partners().get(scope, partner_id)?.settings;
    ensure!(
        after.tls == settings.tls,
        "the partner's TLS settings did not change"
    );
    ensure!(
        p.db.store.cem().list(scope, partner_id)?.is_empty(),
        "no CEM request recorded"
    );
    for subject in [
        as2_domain::trust::TrustSubject::PartnerTlsClient,
        as2_domain::trust::TrustSubject::PartnerTlsServer,
    ] {
        ensure!(
            p.db.store
                .trust()
                .events(scope, subject, partner_id.0)?
                .is_empty(),
            "no {} rollover",
            subject.as_str()
        );
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_mdns_go_only_to_authenticated_senders_and_once() -> Result<()> {
    let p = Platform::start(TestDb::sqlite()).await?;
    let (us, partner, stranger) = (identity("tb-us"), identity("tb-partner"), identity("x"));
    let (scope, _, _) = tenant(
        &p.db.store,
        "tb",
        "TB-US",
        "TB-PARTNER",
        &us,
        &partner,
        "http://127.0.0.1:9/x",
    );
    let (first_url, first) = capture_server().await?;
    let (second_url, second) = capture_server().await?;
    let payload = b"ISA*00*async~";

    // a stranger's message asking for an async MDN to a URL of their choice: nothing is sent
    let mut forged = message(payload, Some(&stranger), Some(&us));
    forged.mdn_to = Some("as2@x.example".into());
    forged.receipt_delivery_option = Some(first_url.clone());
    let built = build_outbound(&forged)?;
    post_raw(&p, &built).await?;

    // the partner's genuine message, then the same message again naming another URL
    let mut genuine = message(payload, Some(&partner), Some(&us));
    genuine.receipt_delivery_option = Some(first_url.clone());
    let built = build_outbound(&genuine)?;
    post_raw(&p, &built).await?;
    let mut resend = built.clone();
    for (name, value) in &mut resend.headers {
        if name.eq_ignore_ascii_case("Receipt-Delivery-Option") {
            value.clone_from(&second_url);
        }
    }
    post_raw(&p, &resend).await?;

    for _ in 0..100 {
        if !first.lock().map(|r| r.is_empty()).unwrap_or(true) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let to_first = first.lock().map(|r| r.len()).unwrap_or(0);
    let to_second = second.lock().map(|r| r.len()).unwrap_or(0);
    ensure!(
        to_first == 1,
        "one MDN, for the genuine message: {to_first}"
    );
    ensure!(to_second == 0, "the resend's URL got nothing: {to_second}");
    let rows = inbound(&p, scope)?;
    let refused = rows
        .iter()
        .find(|m| m.status == MessageStatus::Failed)
        .context("the stranger's message")?;
    let events = p.db.store.messages().events(scope, refused.id)?;
    ensure!(
        events.iter().any(|e| e.event_type == "mdn_async_withheld"),
        "{events:?}"
    );
    Ok(())
}

/// POSTs a built message to the gateway and expects a 2xx answer.
async fn post_raw(p: &Platform, built: &as2_core::message::BuiltMessage) -> Result<()> {
    let mut request = reqwest::Client::new()
        .post(&p.as2_url)
        .body(built.body.clone());
    for (name, value) in &built.headers {
        request = request.header(name, value);
    }
    let response = request.send().await?;
    ensure!(
        response.status().is_success(),
        "the gateway answered {}",
        response.status()
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_station_as2_id_belongs_to_one_tenant_per_mode() -> Result<()> {
    let p = Platform::start(TestDb::sqlite()).await?;
    let a = p.get(&p.key_a, "/v1/stations").await?["data"][0].clone();
    let taken = a["as2_id"].as_str().context("A's AS2 ID")?;
    ensure!(
        a["as2_url"]
            .as_str()
            .is_some_and(|u| u.ends_with("/as2/test/receive")),
        "a test station shows the test URL: {a}"
    );
    // tenant B tries to register tenant A's AS2 ID (to receive A's traffic)
    let (status, reply) = p
        .call(
            &p.key_b,
            reqwest::Method::POST,
            "/v1/stations",
            Some(json!({"name": "mine", "as2_id": taken})),
        )
        .await?;
    ensure!(status == 409, "{status} {reply}");
    ensure!(
        reply["message"]
            .as_str()
            .is_some_and(|m| m.contains("AS2 ID")),
        "the sentence names the AS2 ID: {reply}"
    );
    // and renaming an existing station to it is refused the same way
    let b = p
        .create(
            &p.key_b,
            "/v1/stations",
            json!({"name": "B", "as2_id": "TENANT-B-OWN"}),
        )
        .await?;
    let (status, reply) = p
        .call(
            &p.key_b,
            reqwest::Method::PATCH,
            &format!("/v1/stations/{}", b["id"].as_str().context("id")?),
            Some(json!({"as2_id": taken})),
        )
        .await?;
    ensure!(status == 409, "{status} {reply}");
    ensure!(
        b["as2_url"]
            .as_str()
            .is_some_and(|u| u.ends_with("/as2/test/receive")),
        "{b}"
    );
    Ok(())
}
