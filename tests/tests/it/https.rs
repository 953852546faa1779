//! Both listeners over HTTPS with the platform's own server loop (a private CA and certificate
//! made here), and the client address behind a proxy: forwarding headers pass the partner
//! firewall only from a trusted proxy (`AS2_TRUSTED_PROXIES`), never from anyone else.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Result, ensure};
use as2_core::cms::{EncryptOptions, SignOptions};
use as2_core::crypto::DigestAlgorithm;
use as2_core::message::{NotificationOptions, OutboundMessage, Signer, build_outbound};
use as2_domain::Mode;
use as2_domain::forwarded::TrustedProxies;
use as2_domain::partner::PartnerSettings;
use as2_e2e::raw::{Body, Exchange, exchange, head};
use as2_e2e::seed::{Seed, Seeded, identity, seed};
use as2_e2e::{Options, Platform};
use as2_engine::serve::Transport;
use as2_engine::tls::{ReloadingCertificate, acceptor};
use as2_store::testing::TestDb;
use as2_test_support::tls::TestCa;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_and_the_as2_endpoint_answer_over_https() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let ca = TestCa::new("e2e CA");
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    ca.server("platform").write(&cert, &key)?;
    let certificate = ReloadingCertificate::load(&cert, &key)?;
    let p = Platform::start_with(
        TestDb::sqlite(),
        Options {
            transport: Transport {
                tls: Some(acceptor(certificate)?),
                ..Transport::default()
            },
            ca_pem: Some(ca.cert_pem.clone()),
            ..Options::default()
        },
    )
    .await?;
    ensure!(p.api_url.starts_with("https://") && p.as2_url.starts_with("https://"));

    // the API: an authenticated call over TLS
    let (status, body) = p
        .call(&p.key_a, reqwest::Method::GET, "/v1/partners", None)
        .await?;
    ensure!(
        status == 200,
        "GET /v1/partners over HTTPS: {status} {body}"
    );

    // the AS2 endpoint: a signed, encrypted message over TLS, answered with a processed MDN
    let (me, them) = (identity("tls-us"), identity("tls-them"));
    seed(
        &p.db.store,
        &Seed {
            mode: Mode::Test,
            name: "tls",
            ours: "TLS-STATION",
            theirs: "TLS-PARTNER",
            me: &me,
            them: &them,
            url: "https://127.0.0.1:9/x",
            basic_auth: None,
        },
    );
    let mut out = OutboundMessage::new(
        &as2_core::crypto::rust_crypto::DEFAULT_PROVIDER,
        "TLS-PARTNER",
        "TLS-STATION",
        b"ISA*00*over TLS~",
        "application/edi-x12",
    );
    out.signer = Some(Signer::new(
        &them.cert,
        them.key.as_ref(),
        SignOptions::new(std::time::SystemTime::now()),
    ));
    out.encryption = Some(as2_core::message::Encryption::new(
        vec![&me.cert],
        EncryptOptions::default(),
    ));
    out.mdn_to = Some("as2@partner.example".into());
    out.mdn_options = Some(NotificationOptions::signed(&[DigestAlgorithm::Sha256]));
    let disposition = p.post_as2(build_outbound(&out)?).await?;
    ensure!(disposition.ends_with("processed"), "{disposition}");

    // a client that does not trust the CA is refused the handshake
    let stranger = as2_e2e::client(None)?;
    let error = stranger
        .get(format!("{}/v1/partners", p.api_url))
        .send()
        .await
        .expect_err("an untrusted certificate was accepted");
    ensure!(error.is_connect(), "{error:?}");
    Ok(())
}

/// A platform believing forwarding headers from `trusted` (CIDRs), with a tenant whose partner
/// `FENCED` is allowed from 10.0.0.0/8 only and whose messages may be 8 KiB.
async fn fenced(trusted: &str) -> Result<(Platform, Seeded)> {
    let p = Platform::start_with(
        TestDb::sqlite(),
        Options {
            transport: Transport {
                trusted_proxies: TrustedProxies::parse(trusted)?,
                ..Transport::default()
            },
            ..Options::default()
        },
    )
    .await?;
    let (me, them) = (identity("fence-us"), identity("fence-them"));
    let door = seed(
        &p.db.store,
        &Seed {
            mode: Mode::Test,
            name: "fence",
            ours: "FENCE",
            theirs: "OTHER",
            me: &me,
            them: &them,
            url: "https://127.0.0.1:9/x",
            basic_auth: None,
        },
    );
    let mut settings = PartnerSettings::new(
        "FENCED".into(),
        "FENCED".into(),
        "https://127.0.0.1:9/x".into(),
        door.station,
    );
    settings.firewall = true;
    settings.allowed_networks = vec!["10.0.0.0/8".parse()?];
    p.db.store.partners().create(door.scope, &settings, None)?;
    p.db.store
        .accounts()
        .set_message_limit(door.account, door.scope.tenant_id, Some(8192))?;
    Ok((p, door))
}

/// Announces a 1 GiB message from `FENCED` with `forwarding` headers: the gateway answers
/// from the headers (403 from the firewall, or 413 from the size once past it).
async fn knock(addr: SocketAddr, forwarding: &[(&str, &str)]) -> Result<Exchange> {
    let mut headers: Vec<(String, String)> = [
        ("AS2-Version", "1.2"),
        ("AS2-From", "FENCED"),
        ("AS2-To", "FENCE"),
        ("Message-ID", "<fenced@proxy>"),
        (
            "Content-Type",
            "application/pkcs7-mime; smime-type=enveloped-data",
        ),
        ("Content-Length", "1073741824"),
        ("Expect", "100-continue"),
    ]
    .iter()
    .chain(forwarding)
    .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
    .collect();
    headers.dedup();
    let head = head(addr, "/as2/test/receive", &headers);
    Ok(tokio::task::spawn_blocking(move || {
        exchange(addr, &head, &Body::Nothing, Duration::from_secs(5))
    })
    .await??)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarding_headers_from_an_untrusted_peer_do_not_pass_the_firewall() -> Result<()> {
    // nothing trusted (the default): the socket's peer, 127.0.0.1, is the client
    let (p, _) = fenced("").await?;
    for spoof in [
        ("X-Forwarded-For", "10.1.2.3"),
        ("Forwarded", "for=10.1.2.3;proto=https"),
    ] {
        let answer = knock(p.gateway_addr, &[spoof]).await?;
        ensure!(answer.status == Some(403), "{spoof:?}: {answer:?}");
        ensure!(answer.body().contains("address"), "{answer:?}");
    }
    // a trusted proxy elsewhere does not make 127.0.0.1 one
    let (p, _) = fenced("192.0.2.0/24").await?;
    let answer = knock(p.gateway_addr, &[("X-Forwarded-For", "10.1.2.3")]).await?;
    ensure!(answer.status == Some(403), "{answer:?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trusted_proxy_s_forwarded_client_address_is_the_one_the_firewall_sees() -> Result<()> {
    let (p, _) = fenced("127.0.0.1/32").await?;
    // the proxy says the client is inside the partner's network: past the firewall, refused
    // for its size only
    for forwarded in [
        ("X-Forwarded-For", "10.1.2.3"),
        ("Forwarded", "for=\"10.1.2.3:5555\";proto=https"),
    ] {
        let answer = knock(p.gateway_addr, &[forwarded]).await?;
        ensure!(answer.status == Some(413), "{forwarded:?}: {answer:?}");
    }
    // the proxy says the client is outside: refused by the firewall
    let answer = knock(p.gateway_addr, &[("X-Forwarded-For", "198.51.100.7")]).await?;
    ensure!(answer.status == Some(403), "{answer:?}");
    // a client that put an allowed address first does not pass: the proxy appended the real
    // one, the rightmost hop that is not a trusted proxy
    let answer = knock(
        p.gateway_addr,
        &[("X-Forwarded-For", "10.1.2.3, 198.51.100.7")],
    )
    .await?;
    ensure!(answer.status == Some(403), "{answer:?}");
    // no forwarding header: the proxy itself (127.0.0.1) is the client
    let answer = knock(p.gateway_addr, &[]).await?;
    ensure!(answer.status == Some(403), "{answer:?}");
    Ok(())
}
