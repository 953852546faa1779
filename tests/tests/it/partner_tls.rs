//! A partner's own TLS settings through the whole platform (issue 12): the send worker posts
//! over real TLS on 127.0.0.1 to a partner whose certificate a private CA issued, checks a
//! pinned key (a wrong pin fails the message with a sentence naming the pin) and presents the
//! tenant's key pair to a partner that requires a client certificate; an async MDN we owe the
//! partner goes over the same TLS. Inbound, a partner that must present its TLS client
//! certificate to our listener is refused (403) without it or with another; after a CEM
//! `tlsClient` request from it, its next certificate is accepted beside the old one until the
//! RespondByDate, and only the new one after it. A connection test (`POST
//! /v1/partners/{id}/test`) goes through the same TLS settings and reports each step.

use std::sync::{Arc, Mutex};

use anyhow::{Context, Result, ensure};
use as2_core::cms::{EncryptOptions, SignOptions};
use as2_core::message::{OutboundMessage, Signer, build_outbound};
use as2_domain::destination::DestinationPolicy;
use as2_domain::pagination::PageRequest;
use as2_domain::partner_tls::{PartnerTls, TlsPin};
use as2_e2e::seed::{Identity, identity, tenant};
use as2_e2e::{Options, Platform};
use as2_engine::http_client::OutboundClient;
use as2_engine::serve::{ServeOptions, Transport, serve_with};
use as2_engine::tls::outbound::SpkiPin;
use as2_engine::tls::outbound::{ClientIdentity, PartnerTls as EngineTls, Roots};
use as2_engine::tls::requesting_acceptor;
use as2_engine::tls::{ReloadingCertificate, TlsAcceptor, acceptor, crypto_provider};
use as2_store::repo::messages::MessageFilter;
use as2_store::repo::partners::PasswordChange;
use as2_store::testing::TestDb;
use as2_test_support::tls::{TestCa, TestPair};
use base64::Engine as _;
use rustls::client::danger::HandshakeSignatureValid;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, SignatureScheme};
use serde_json::{Value, json};

/// The client certificates a partner's server was shown, leaf DER each.
type Presented = Arc<Mutex<Vec<Vec<u8>>>>;

/// A partner server that requires a client certificate and records it (whether the partner
/// trusts it is the partner's business; here it is what was presented that counts).
#[derive(Debug)]
struct Recording {
    presented: Presented,
}

impl ClientCertVerifier for Recording {
    fn client_auth_mandatory(&self) -> bool {
        true
    }
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }
    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        if let Ok(mut p) = self.presented.lock() {
            p.push(end_entity.to_vec());
        }
        Ok(ClientCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &crypto_provider().signature_verification_algorithms,
        )
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &crypto_provider().signature_verification_algorithms,
        )
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        crypto_provider()
            .signature_verification_algorithms
            .supported_schemes()
    }
}

struct Partner {
    url: String,
    ca: TestCa,
    server: TestPair,
    received: Arc<Mutex<Vec<Vec<u8>>>>,
    presented: Presented,
    _dir: tempfile::TempDir,
}

/// A partner's HTTPS endpoint (`/as2`, answering 200) with a certificate from a private CA;
/// with `mutual`, it requires a client certificate.
async fn partner(mutual: bool) -> Result<Partner> {
    let dir = tempfile::tempdir()?;
    let ca = TestCa::new("Partner private CA");
    let server = ca.server("partner");
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    server.write(&cert, &key)?;
    let certificate = ReloadingCertificate::load(&cert, &key)?;
    let presented = Presented::default();
    let tls = if mutual {
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(crypto_provider()))
            .with_safe_default_protocol_versions()?
            .with_client_cert_verifier(Arc::new(Recording {
                presented: presented.clone(),
            }))
            .with_cert_resolver(certificate);
        TlsAcceptor::from(Arc::new(config))
    } else {
        acceptor(certificate)?
    };
    let received: Arc<Mutex<Vec<Vec<u8>>>> = Arc::default();
    let record = received.clone();
    let app = axum::Router::new().route(
        "/as2",
        axum::routing::post(move |body: axum::body::Bytes| {
            let record = record.clone();
            async move {
                if let Ok(mut r) = record.lock() {
                    r.push(body.to_vec());
                }
                "received"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    tokio::spawn(serve_with(
        listener,
        app,
        ServeOptions::default(),
        Transport {
            tls: Some(tls),
            ..Transport::default()
        },
        std::future::pending(),
    ));
    Ok(Partner {
        url: format!("https://localhost:{port}/as2"),
        ca,
        server,
        received,
        presented,
        _dir: dir,
    })
}

fn leaf_pin(pair: &TestPair) -> Result<SpkiPin> {
    let leaf = CertificateDer::pem_slice_iter(pair.chain_pem.as_bytes())
        .next()
        .context("no leaf")??;
    Ok(SpkiPin::of_certificate(&leaf)?)
}

/// Tenant A's partner at `url` (no signing, encryption or MDN, one attempt) with `tls`.
async fn partner_at(p: &Platform, url: &str, tls: &Value) -> Result<String> {
    let mut body = json!({"name": "Private PKI", "as2_id": "PRIVATE-PKI", "url": url,
        "sign": false, "encrypt": false, "mdn_mode": "none", "retry_attempts": 0});
    if let (Some(body), Some(tls)) = (body.as_object_mut(), tls.as_object()) {
        body.extend(tls.clone());
    }
    let partner = p.create(&p.key_a, "/v1/partners", body).await?;
    Ok(partner["id"].as_str().context("partner id")?.to_owned())
}

/// Sends a small file to `partner`; the message once final.
async fn send(p: &Platform, partner: &str) -> Result<Value> {
    let content = base64::engine::general_purpose::STANDARD.encode(b"ISA*00*private pki~");
    let message = p
        .create(
            &p.key_a,
            "/v1/messages",
            json!({"partner_id": partner, "filename": "po.edi", "content": content}),
        )
        .await?;
    p.wait_final(&p.key_a, message["id"].as_str().context("message id")?)
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partner_with_a_private_ca_and_a_pin_receives_and_a_wrong_pin_is_named() -> Result<()> {
    let p = Platform::start(TestDb::sqlite()).await?;
    let target = partner(false).await?;
    let right = leaf_pin(&target.server)?;
    let partner = partner_at(
        &p,
        &target.url,
        &json!({"tls_ca_bundle": target.ca.cert_pem, "tls_ca_only": true,
                "tls_pin_sha256": right.to_string()}),
    )
    .await?;
    let message = send(&p, &partner).await?;
    ensure!(message["status"] == "delivered", "{message}");
    ensure!(
        target.received.lock().map(|r| r.len()).unwrap_or(0) == 1,
        "the partner did not receive the message"
    );

    // a wrong pin: the change takes effect on the next send, which fails naming the pin
    let wrong = leaf_pin(&target.ca.server("someone else"))?;
    let (status, body) = p
        .call(
            &p.key_a,
            reqwest::Method::PATCH,
            &format!("/v1/partners/{partner}"),
            Some(json!({"tls_pin_sha256": wrong.to_string()})),
        )
        .await?;
    ensure!(status == 200, "{status} {body}");
    let message = send(&p, &partner).await?;
    ensure!(message["status"] == "failed", "{message}");
    let sentence = message["error"]["message"].as_str().unwrap_or_default();
    ensure!(
        sentence.contains(&format!("is not the pinned key {wrong}")),
        "the failure does not name the pin: {message}"
    );
    ensure!(
        target.received.lock().map(|r| r.len()).unwrap_or(0) == 1,
        "the partner received a message despite the wrong pin"
    );

    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partner_requiring_a_client_certificate_is_shown_the_tenant_s_key_pair() -> Result<()> {
    let p = Platform::start(TestDb::sqlite()).await?;
    let target = partner(true).await?;
    let (pair, pair_pem) = p.key_pair(&p.key_a, "tls-client").await?;
    let ours = CertificateDer::pem_slice_iter(pair_pem.as_bytes())
        .next()
        .context("no certificate")??;
    let partner = partner_at(
        &p,
        &target.url,
        &json!({"tls_ca_bundle": target.ca.cert_pem, "tls_client_certificate_id": pair}),
    )
    .await?;
    let message = send(&p, &partner).await?;
    ensure!(message["status"] == "delivered", "{message}");
    let presented = target
        .presented
        .lock()
        .map(|p| p.clone())
        .unwrap_or_default();
    ensure!(
        presented.iter().any(|c| c.as_slice() == ours.as_ref()),
        "the tenant's certificate was not presented ({} certificates)",
        presented.len()
    );

    // without it, the partner's server refuses the handshake
    let (status, body) = p
        .call(
            &p.key_a,
            reqwest::Method::PATCH,
            &format!("/v1/partners/{partner}"),
            Some(json!({"tls_client_certificate_id": ""})),
        )
        .await?;
    ensure!(status == 200, "{status} {body}");
    let message = send(&p, &partner).await?;
    ensure!(message["status"] == "failed", "{message}");
    ensure!(
        target.received.lock().map(|r| r.len()).unwrap_or(0) == 1,
        "received without a client certificate"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_async_mdn_goes_to_the_partner_over_its_private_ca() -> Result<()> {
    let p = Platform::start(TestDb::sqlite()).await?;
    let target = partner(false).await?;
    let (us, them) = (identity("pki-us"), identity("pki-partner"));
    let (scope, _, partner_id) = tenant(
        &p.db.store,
        "pki",
        "PKI-US",
        "PKI-PARTNER",
        &us,
        &them,
        &target.url,
    );
    let mut partner = p.db.store.partners().get(scope, partner_id)?;
    partner.settings.tls = PartnerTls {
        ca_bundle: Some(target.ca.cert_pem.clone()),
        ca_only: true,
        pin_sha256: Some(TlsPin(leaf_pin(&target.server)?.0)),
        client_certificate_id: None,
    };
    p.db.store
        .partners()
        .update(scope, partner_id, &partner.settings, PasswordChange::Keep)?;

    let mut out = OutboundMessage::new(
        &as2_core::crypto::rust_crypto::DEFAULT_PROVIDER,
        "PKI-PARTNER",
        "PKI-US",
        b"ISA*00*async over a private CA~",
        "application/edi-x12",
    );
    out.signer = Some(Signer::new(
        &them.cert,
        them.key.as_ref(),
        SignOptions::new(std::time::SystemTime::now()),
    ));
    out.encryption = Some(as2_core::message::Encryption::new(
        vec![&us.cert],
        EncryptOptions::default(),
    ));
    out.mdn_to = Some("as2@partner.example".into());
    out.receipt_delivery_option = Some(target.url.clone());
    let built = build_outbound(&out)?;
    let mut request = reqwest::Client::new().post(&p.as2_url).body(built.body);
    for (name, value) in &built.headers {
        request = request.header(name, value);
    }
    let answer = request.send().await?;
    ensure!(answer.status().is_success(), "{}", answer.status());

    let (messages, _) =
        p.db.store
            .messages()
            .list(scope, MessageFilter::default(), PageRequest::default())?;
    let message = messages.first().context("the message was not recorded")?;
    for _ in 0..200 {
        let events = p.db.store.messages().events(scope, message.id)?;
        if events.iter().any(|e| e.event_type == "mdn_async_sent") {
            ensure!(
                target.received.lock().map(|r| r.len()).unwrap_or(0) == 1,
                "the partner did not receive the MDN"
            );
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let events = p.db.store.messages().events(scope, message.id)?;
    anyhow::bail!("the async MDN was not sent: {events:?}")
}

/// Posts a signed, encrypted message from `them` to `us` at `url` through `client`: the
/// status, or the transport error.
async fn post_inbound(
    client: &OutboundClient,
    url: &str,
    us: &Identity,
    them: &Identity,
) -> Result<u16> {
    let mut out = OutboundMessage::new(
        &as2_core::crypto::rust_crypto::DEFAULT_PROVIDER,
        "MTLS-PARTNER",
        "MTLS-US",
        b"ISA*00*mutual tls~",
        "application/edi-x12",
    );
    out.signer = Some(Signer::new(
        &them.cert,
        them.key.as_ref(),
        SignOptions::new(std::time::SystemTime::now()),
    ));
    out.encryption = Some(as2_core::message::Encryption::new(
        vec![&us.cert],
        EncryptOptions::default(),
    ));
    let built = build_outbound(&out)?;
    let mut request = client
        .post(url)
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .body(built.body);
    for (name, value) in &built.headers {
        request = request.header(name, value);
    }
    Ok(request.send().await?.status().as_u16())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partner_must_present_its_tls_client_certificate_to_our_listener() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let ca = TestCa::new("gateway CA");
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    ca.server("platform").write(&cert, &key)?;
    let p = Platform::start_with(
        TestDb::sqlite(),
        Options {
            transport: Transport {
                tls: Some(requesting_acceptor(ReloadingCertificate::load(
                    &cert, &key,
                )?)?),
                ..Transport::default()
            },
            ca_pem: Some(ca.cert_pem.clone()),
            ..Options::default()
        },
    )
    .await?;
    let (us, them) = (identity("mtls-us"), identity("mtls-partner"));
    let (scope, _, partner_id) = tenant(
        &p.db.store,
        "mtls",
        "MTLS-US",
        "MTLS-PARTNER",
        &us,
        &them,
        "https://partner.example/as2",
    );
    // the partner's TLS client certificate, as the tenant would upload it
    let client_ca = TestCa::new("partner client CA");
    let (right, wrong) = (client_ca.client("right"), client_ca.client("wrong"));
    let right_leaf = CertificateDer::pem_slice_iter(right.chain_pem.as_bytes())
        .next()
        .context("leaf")??;
    let now = chrono::Utc::now();
    let fingerprint: String = as2_core::crypto::DigestAlgorithm::Sha256
        .digest(right_leaf.as_ref())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let info = as2_domain::certificate::CertificateInfo {
        subject: "CN=right".into(),
        issuer: "CN=partner client CA".into(),
        serial: "01".into(),
        fingerprint_sha256: fingerprint,
        not_before: now - chrono::Duration::days(1),
        not_after: now + chrono::Duration::days(30),
        key_usage: vec!["digitalSignature".into()],
    };
    let stored = p.db.store.certificates().create(
        scope,
        &as2_store::repo::certificates::NewCertificate {
            name: "partner TLS client",
            info: &info,
            der: right_leaf.as_ref(),
            chain_der: None,
            private_key_der: None,
        },
    )?;
    let mut partner = p.db.store.partners().get(scope, partner_id)?;
    partner.settings.tls_inbound_client_certificate_id = Some(stored.id);
    p.db.store
        .partners()
        .update(scope, partner_id, &partner.settings, PasswordChange::Keep)?;

    let base = OutboundClient::new(
        DestinationPolicy::loopback(),
        "as2-test",
        std::time::Duration::from_secs(5),
    )?;
    let with = |pair: Option<&TestPair>| -> Result<OutboundClient> {
        Ok(base.with_partner_tls(&EngineTls {
            roots: Roots::Only(ca.cert_pem.clone()),
            pin: None,
            also_pins: Vec::new(),
            client: pair
                .map(|p| ClientIdentity::from_pem(p.chain_pem.as_bytes(), p.key_pem.as_bytes()))
                .transpose()?,
        })?)
    };
    let url = p.as2_url.clone();
    ensure!(
        post_inbound(&with(None)?, &url, &us, &them).await? == 403,
        "no certificate"
    );
    ensure!(
        post_inbound(&with(Some(&wrong))?, &url, &us, &them).await? == 403,
        "another certificate"
    );
    ensure!(
        post_inbound(&with(Some(&right))?, &url, &us, &them).await? == 200,
        "the partner's certificate"
    );
    let (messages, total) =
        p.db.store
            .messages()
            .list(scope, MessageFilter::default(), PageRequest::default())?;
    ensure!(
        total == 1 && messages.len() == 1,
        "only the admitted message is recorded"
    );
    Ok(())
}

/// Stores the leaf of `pair` as a partner's certificate, as the tenant would upload it.
fn store_leaf(
    p: &Platform,
    scope: as2_store::Scope,
    pair: &TestPair,
) -> Result<as2_domain::id::CertificateId> {
    let leaf = CertificateDer::pem_slice_iter(pair.chain_pem.as_bytes())
        .next()
        .context("leaf")??;
    let cert = as2_core::cert::Certificate::from_der(leaf.as_ref())?;
    let stored = p.db.store.certificates().create(
        scope,
        &as2_store::repo::certificates::NewCertificate {
            name: "partner TLS client",
            info: &as2_trust::certificate::info(&cert),
            der: leaf.as_ref(),
            chain_der: None,
            private_key_der: None,
        },
    )?;
    Ok(stored.id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cem_tls_client_rollover_admits_both_certificates_until_the_respond_by_date() -> Result<()>
{
    let dir = tempfile::tempdir()?;
    let ca = TestCa::new("gateway CA");
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    ca.server("platform").write(&cert, &key)?;
    let p = Platform::start_with(
        TestDb::sqlite(),
        Options {
            transport: Transport {
                tls: Some(requesting_acceptor(ReloadingCertificate::load(
                    &cert, &key,
                )?)?),
                ..Transport::default()
            },
            ca_pem: Some(ca.cert_pem.clone()),
            ..Options::default()
        },
    )
    .await?;
    let (us, them) = (identity("mtls-us"), identity("mtls-partner"));
    let (scope, station_id, partner_id) = tenant(
        &p.db.store,
        "mtls",
        "MTLS-US",
        "MTLS-PARTNER",
        &us,
        &them,
        "https://partner.example/as2",
    );
    let client_ca = TestCa::new("partner client CA");
    let (old, new) = (client_ca.client("tls 2026"), client_ca.client("tls 2027"));
    let old_id = store_leaf(&p, scope, &old)?;
    let mut partner = p.db.store.partners().get(scope, partner_id)?;
    partner.settings.tls_inbound_client_certificate_id = Some(old_id);
    let partner =
        p.db.store
            .partners()
            .update(scope, partner_id, &partner.settings, PasswordChange::Keep)?;
    let base = OutboundClient::new(
        DestinationPolicy::loopback(),
        "as2-test",
        std::time::Duration::from_secs(5),
    )?;
    let with = |pair: &TestPair| -> Result<OutboundClient> {
        Ok(base.with_partner_tls(&EngineTls {
            roots: Roots::Only(ca.cert_pem.clone()),
            client: Some(ClientIdentity::from_pem(
                pair.chain_pem.as_bytes(),
                pair.key_pem.as_bytes(),
            )?),
            ..EngineTls::default()
        })?)
    };
    let url = p.as2_url.clone();
    ensure!(
        post_inbound(&with(&new)?, &url, &us, &them).await? == 403,
        "not yet"
    );

    // the partner's CEM request (authenticated: the gateway checks that before this step)
    let new_leaf = CertificateDer::pem_slice_iter(new.chain_pem.as_bytes())
        .next()
        .context("leaf")??;
    let offered = as2_core::cert::Certificate::from_der(new_leaf.as_ref())?;
    let respond_by = chrono::Utc::now() + chrono::Duration::days(2);
    let built = as2_core::cem::build_request(
        &as2_core::crypto::rust_crypto::DEFAULT_PROVIDER,
        &as2_core::cem::CemRequest {
            request_id: "tls-client-rollover".into(),
            sender_as2_id: "MTLS-PARTNER".into(),
            message_originated: std::time::SystemTime::now(),
            requests: vec![as2_core::cem::TrustRequest::new(
                offered,
                vec![as2_core::cem::CertUsage::TlsClient],
                respond_by.into(),
                "https://partner.example/as2",
                "tls@partner.example",
            )],
        },
    )?;
    let station = p.db.store.stations().get(scope, station_id)?;
    let payloads = as2_store::payload::PayloadStore::open(dir.path().join("payloads"))?;
    let effects = as2_trust::cem::receive(
        &p.db.store,
        &payloads,
        scope,
        &partner,
        &station,
        &built.content_type,
        &built.body,
        as2_trust::cem::CemPolicy::AcceptValid,
        chrono::Utc::now(),
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    ensure!(
        effects.requests.len() == 1
            && effects.requests[0].status == as2_domain::cem::CemStatus::Accepted,
        "accepted: {:?}",
        effects.requests
    );
    // during the overlap: both
    ensure!(
        post_inbound(&with(&old)?, &url, &us, &them).await? == 200,
        "old, overlap"
    );
    ensure!(
        post_inbound(&with(&new)?, &url, &us, &them).await? == 200,
        "new, overlap"
    );
    // after the RespondByDate: only the new one
    let stamper = as2_trust::stamper::Stamper::new(
        p.db.store.clone(),
        as2_trust::stamper::TsaConfig::BuiltIn,
    );
    ensure!(
        as2_trust::scheduler::run_due(
            &p.db.store,
            &stamper,
            respond_by + chrono::Duration::seconds(1)
        )
        .await
            == 1,
        "the switch is made"
    );
    ensure!(
        post_inbound(&with(&old)?, &url, &us, &them).await? == 403,
        "old, after"
    );
    ensure!(
        post_inbound(&with(&new)?, &url, &us, &them).await? == 200,
        "new, after"
    );
    let events = p.db.store.trust().events(
        scope,
        as2_domain::trust::TrustSubject::PartnerTlsClient,
        partner_id.0,
    )?;
    let types: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
    ensure!(types == ["rollover_scheduled", "activated"], "{types:?}");
    ensure!(
        events[1].timestamp_token.is_some(),
        "the scheduler's switch is time-stamped"
    );
    Ok(())
}

/// `POST /v1/partners/{id}/test` (issue 15): with the partner's private CA every step passes
/// and the report names the certificate and its pin; without the CA the TLS step fails with a
/// sentence naming `tls_ca_bundle`; a closed port fails at `connect`; nothing is ever posted
/// to the partner; an unknown partner is a 404.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_test_reports_each_step_and_the_partner_s_certificate() -> Result<()> {
    let p = Platform::start(TestDb::sqlite()).await?;
    let target = partner(false).await?;
    let partner = partner_at(
        &p,
        &target.url,
        &json!({"tls_ca_bundle": target.ca.cert_pem, "tls_ca_only": true}),
    )
    .await?;
    let test = |id: String| {
        let p = &p;
        async move {
            p.call(
                &p.key_a,
                reqwest::Method::POST,
                &format!("/v1/partners/{id}/test"),
                None,
            )
            .await
        }
    };
    let steps = |report: &Value| -> Vec<(String, bool)> {
        report["steps"]
            .as_array()
            .map(|s| {
                s.iter()
                    .map(|s| {
                        (
                            s["step"].as_str().unwrap_or_default().to_owned(),
                            s["ok"] == true,
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    };

    let (status, body) = test(partner.clone()).await?;
    ensure!(status == 200, "{status} {body}");
    let report = &body["data"];
    ensure!(report["ok"] == true, "{report}");
    ensure!(
        steps(report)
            == [
                ("url", true),
                ("resolve", true),
                ("connect", true),
                ("tls", true)
            ]
            .map(|(s, ok)| (s.to_owned(), ok)),
        "{report}"
    );
    ensure!(
        report["certificate"]["pin_sha256"] == leaf_pin(&target.server)?.to_string(),
        "the report names the key's pin: {report}"
    );
    ensure!(
        report["certificate"]["issuer"]
            .as_str()
            .is_some_and(|i| i.contains("Partner private CA")),
        "{report}"
    );

    // without the partner's CA: the handshake fails and says what to set
    let (status, reply) = p
        .call(
            &p.key_a,
            reqwest::Method::PATCH,
            &format!("/v1/partners/{partner}"),
            Some(json!({"tls_ca_bundle": "", "tls_ca_only": false})),
        )
        .await?;
    ensure!(status == 200, "{status} {reply}");
    let (_, body) = test(partner.clone()).await?;
    let report = &body["data"];
    ensure!(report["ok"] == false, "{report}");
    let last = report["steps"]
        .as_array()
        .and_then(|s| s.last())
        .cloned()
        .unwrap_or_default();
    ensure!(
        last["step"] == "tls"
            && last["detail"]
                .as_str()
                .is_some_and(|d| d.contains("tls_ca_bundle")),
        "{report}"
    );

    // a closed port: the test ends at connect
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.local_addr()?.port()
    };
    let (status, reply) = p
        .call(
            &p.key_a,
            reqwest::Method::PATCH,
            &format!("/v1/partners/{partner}"),
            Some(json!({"url": format!("http://127.0.0.1:{closed}/as2")})),
        )
        .await?;
    ensure!(status == 200, "{status} {reply}");
    let (_, body) = test(partner.clone()).await?;
    let report = &body["data"];
    ensure!(
        steps(report)
            == [("url", true), ("resolve", true), ("connect", false)]
                .map(|(s, ok)| (s.to_owned(), ok)),
        "{report}"
    );

    ensure!(
        target
            .received
            .lock()
            .map(|r| r.is_empty())
            .unwrap_or(false),
        "a connection test posted to the partner"
    );
    let (status, _) = test("prt_999999".to_owned()).await?;
    ensure!(status == 404, "an unknown partner: {status}");
    Ok(())
}

/// `POST /v1/partners/{id}/test` with `send_message` (issue 15): after the connection steps, a
/// small text message goes from tenant A to tenant B through the platform with A's settings
/// for B (signed, encrypted, signed sync MDN) and the `message` step reports the MDN's
/// verdict; B received it under its file name. A wrong wait is a 422 naming `wait_secs`, an
/// unknown field a 422 naming it, a body that is not JSON or form fields a 415, a body over
/// 4 KiB a 413; a partner not
/// ready to send to fails the step with the reason and queues nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_test_can_send_a_test_message_and_report_its_mdn() -> Result<()> {
    let p = Platform::start(TestDb::sqlite()).await?;
    let to_b = p.link_a_to_b().await?;
    let path = format!("/v1/partners/{to_b}/test");
    let (status, body) = p
        .call(
            &p.key_a,
            reqwest::Method::POST,
            &path,
            Some(json!({"send_message": true, "wait_secs": 60})),
        )
        .await?;
    ensure!(status == 200, "{status} {body}");
    let report = &body["data"];
    ensure!(report["ok"] == true, "{report}");
    let steps: Vec<&str> = report["steps"]
        .as_array()
        .context("steps")?
        .iter()
        .filter_map(|s| s["step"].as_str())
        .collect();
    ensure!(
        steps == ["url", "resolve", "connect", "message"],
        "{report}"
    );
    let detail = report["steps"][3]["detail"].as_str().unwrap_or_default();
    ensure!(
        detail.contains("delivered")
            && detail.contains("signed and verified")
            && detail.contains("MIC matched"),
        "{detail}"
    );
    let id = report["message_id"].as_str().context("message_id")?;
    let message = &p.get(&p.key_a, &format!("/v1/messages/{id}")).await?["data"];
    ensure!(
        message["status"] == "delivered" && message["filename"] == "as2-connection-test.txt",
        "{message}"
    );
    let received = &p
        .get(&p.key_b, "/v1/messages?direction=inbound&per_page=100")
        .await?["data"];
    ensure!(
        received.as_array().is_some_and(|list| list
            .iter()
            .any(|m| m["filename"] == "as2-connection-test.txt")),
        "B received the test message: {received}"
    );

    // refusals name what is wrong
    for (body, field) in [
        (json!({"send_message": true, "wait_secs": 0}), "wait_secs"),
        (json!({"send_message": true, "wait": 5}), "wait"),
    ] {
        let (status, reply) = p
            .call(&p.key_a, reqwest::Method::POST, &path, Some(body))
            .await?;
        ensure!(
            status == 422 && reply["errors"][field].is_array(),
            "{status} {reply}"
        );
    }
    let response = reqwest::Client::new()
        .post(format!("{}{path}", p.api_url))
        .bearer_auth(&p.key_a)
        .header("Content-Type", "text/plain")
        .body("send_message=true")
        .send()
        .await?;
    ensure!(response.status() == 415, "{}", response.status());
    // the options are read up to 4 KiB, no further
    let response = reqwest::Client::new()
        .post(format!("{}{path}", p.api_url))
        .bearer_auth(&p.key_a)
        .header("Content-Type", "application/json")
        .body(format!(
            r#"{{"send_message": true, "pad": "{}"}}"#,
            "x".repeat(64 * 1024)
        ))
        .send()
        .await?;
    ensure!(response.status() == 413, "{}", response.status());

    // a partner whose certificate has not arrived is not ready: the step says so, nothing
    // is queued
    let stations = p.get(&p.key_a, "/v1/stations").await?;
    let station = stations["data"][0]["id"].as_str().context("a station")?;
    let waiting = p
        .create(
            &p.key_a,
            "/v1/partners",
            json!({"name": "C", "as2_id": "TENANT-C", "url": p.as2_url, "station_id": station,
                   "sign": true, "encrypt": true}),
        )
        .await?;
    let waiting = waiting["id"].as_str().context("partner id")?;
    let (status, body) = p
        .call(
            &p.key_a,
            reqwest::Method::POST,
            &format!("/v1/partners/{waiting}/test"),
            Some(json!({"send_message": true})),
        )
        .await?;
    ensure!(status == 200, "{status} {body}");
    let report = &body["data"];
    let last = report["steps"]
        .as_array()
        .and_then(|s| s.last())
        .cloned()
        .unwrap_or_default();
    ensure!(
        report["ok"] == false
            && last["step"] == "message"
            && last["detail"]
                .as_str()
                .is_some_and(|d| d.contains("not ready") && d.contains("certificate")),
        "{report}"
    );
    ensure!(report["message_id"].is_null(), "{report}");
    Ok(())
}
