//! Requests to a partner over real TLS on 127.0.0.1 with the partner's own settings: a
//! private CA (alone or beside the public roots), a pinned server key (right and wrong) and a
//! client certificate for a server that requires one.

use std::sync::Arc;
use std::time::Duration;

use as2_domain::destination::DestinationPolicy;
use as2_engine::http_client::OutboundClient;
use as2_engine::serve::{ServeOptions, Transport, serve_with};
use as2_engine::tls::outbound::{ClientIdentity, PartnerTls, Roots, SpkiPin};
use as2_engine::tls::{ReloadingCertificate, TlsAcceptor, acceptor, crypto_provider};
use as2_test_support::tls::{TestCa, TestPair};
use axum::Router;
use axum::routing::post;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject as _;
use rustls::server::WebPkiClientVerifier;

struct Partner {
    url: String,
    ca: TestCa,
    server: TestPair,
    _dir: tempfile::TempDir,
}

/// A partner's HTTPS endpoint answering `POST /as2` with 200, its certificate issued by a
/// private CA; with `client_ca`, it requires a client certificate issued by that CA.
async fn partner(client_ca: Option<&TestCa>) -> Partner {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new("Partner private CA");
    let server = ca.server("partner");
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    server.write(&cert, &key).unwrap();
    let certificate = ReloadingCertificate::load(&cert, &key).unwrap();
    let tls = match client_ca {
        None => acceptor(certificate).unwrap(),
        Some(client_ca) => {
            let mut roots = rustls::RootCertStore::empty();
            for c in CertificateDer::pem_slice_iter(client_ca.cert_pem.as_bytes()) {
                roots.add(c.unwrap()).unwrap();
            }
            let provider = Arc::new(crypto_provider());
            let verifier =
                WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                    .build()
                    .unwrap();
            let config = rustls::ServerConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_client_cert_verifier(verifier)
                .with_cert_resolver(certificate);
            TlsAcceptor::from(Arc::new(config))
        }
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(serve_with(
        listener,
        Router::new().route("/as2", post(|| async { "received" })),
        ServeOptions::default(),
        Transport {
            tls: Some(tls),
            ..Transport::default()
        },
        std::future::pending(),
    ));
    Partner {
        url: format!("https://localhost:{port}/as2"),
        ca,
        server,
        _dir: dir,
    }
}

fn platform_client() -> OutboundClient {
    OutboundClient::new(
        DestinationPolicy::loopback(),
        "as2-test",
        Duration::from_secs(5),
    )
    .unwrap()
}

/// Sends to `url` with `tls`: the status, or the whole error chain as text.
async fn send(url: &str, tls: PartnerTls) -> Result<u16, String> {
    let client = platform_client()
        .with_partner_tls(&tls)
        .map_err(|e| e.to_string())?;
    match client.post(url).unwrap().body("x").send().await {
        Ok(response) => Ok(response.status().as_u16()),
        Err(e) => Err(chain(&e)),
    }
}

fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn leaf_pin(pair: &TestPair) -> SpkiPin {
    let leaf = CertificateDer::pem_slice_iter(pair.chain_pem.as_bytes())
        .next()
        .unwrap()
        .unwrap();
    SpkiPin::of_certificate(&leaf).unwrap()
}

#[tokio::test]
async fn a_private_ca_is_trusted_only_for_the_partner_that_names_it() {
    let p = partner(None).await;
    // the platform's default client: the public roots do not know the private CA
    let error = platform_client()
        .post(&p.url)
        .unwrap()
        .send()
        .await
        .unwrap_err();
    assert!(error.is_connect(), "{}", chain(&error));
    assert_eq!(
        send(&p.url, PartnerTls::default()).await.map_err(|_| ()),
        Err(())
    );
    // the partner's bundle alone, and beside the public roots
    let only = PartnerTls {
        roots: Roots::Only(p.ca.cert_pem.clone()),
        ..PartnerTls::default()
    };
    assert_eq!(send(&p.url, only).await, Ok(200));
    let beside = PartnerTls {
        roots: Roots::PublicAnd(p.ca.cert_pem.clone()),
        ..PartnerTls::default()
    };
    assert_eq!(send(&p.url, beside).await, Ok(200));
    // another CA's bundle does not do
    let other = PartnerTls {
        roots: Roots::Only(TestCa::new("Other CA").cert_pem),
        ..PartnerTls::default()
    };
    assert!(send(&p.url, other).await.is_err());
}

#[tokio::test]
async fn a_pinned_key_must_be_the_servers_and_a_wrong_pin_is_named() {
    let p = partner(None).await;
    let right = PartnerTls {
        roots: Roots::Only(p.ca.cert_pem.clone()),
        pin: Some(leaf_pin(&p.server)),
        ..PartnerTls::default()
    };
    assert_eq!(send(&p.url, right).await, Ok(200));

    let wrong_pin = leaf_pin(&p.ca.server("someone else"));
    let wrong = PartnerTls {
        roots: Roots::Only(p.ca.cert_pem.clone()),
        pin: Some(wrong_pin),
        ..PartnerTls::default()
    };
    let error = send(&p.url, wrong).await.unwrap_err();
    assert!(
        error.contains(&format!("is not the pinned key {wrong_pin}")),
        "the failure does not name the pin: {error}"
    );
    assert!(error.contains(&leaf_pin(&p.server).to_string()), "{error}");
    // during a CEM tlsServer overlap the next key is accepted beside the pin
    let overlap = PartnerTls {
        roots: Roots::Only(p.ca.cert_pem.clone()),
        pin: Some(wrong_pin),
        also_pins: vec![leaf_pin(&p.server)],
        ..PartnerTls::default()
    };
    assert_eq!(send(&p.url, overlap).await, Ok(200));
}

#[tokio::test]
async fn a_client_certificate_is_presented_to_a_server_that_requires_one() {
    let client_ca = TestCa::new("Our client CA");
    let p = partner(Some(&client_ca)).await;
    let roots = Roots::Only(p.ca.cert_pem.clone());
    // without one, the server refuses the handshake
    let without = PartnerTls {
        roots: roots.clone(),
        ..PartnerTls::default()
    };
    assert!(send(&p.url, without).await.is_err());
    // with ours
    let ours = client_ca.client("AS2 platform");
    let with = PartnerTls {
        roots,
        client: Some(
            ClientIdentity::from_pem(ours.chain_pem.as_bytes(), ours.key_pem.as_bytes()).unwrap(),
        ),
        ..PartnerTls::default()
    };
    assert_eq!(send(&p.url, with).await, Ok(200));
    // a key that is not the certificate's is refused before anything is sent
    let stranger = client_ca.client("stranger");
    assert!(
        ClientIdentity::from_pem(ours.chain_pem.as_bytes(), stranger.key_pem.as_bytes()).is_err()
    );
}

#[test]
fn the_pin_is_what_openssl_computes_from_the_certificate() {
    if !as2_test_support::openssl::available("the SPKI pin against openssl") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let pair = TestCa::new("Pin CA").server("pinned");
    let cert = dir.path().join("partner.crt");
    std::fs::write(&cert, &pair.chain_pem).unwrap();
    // the command docs/OPERATIONS.md gives operators
    let output = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "openssl x509 -in '{}' -pubkey -noout | openssl pkey -pubin -outform der \
             | openssl dgst -sha256 -binary | base64",
            cert.display()
        ))
        .output()
        .unwrap();
    assert!(output.status.success());
    let printed = String::from_utf8(output.stdout).unwrap();
    let pin: SpkiPin = printed.trim().parse().unwrap();
    assert_eq!(pin, leaf_pin(&pair));
    assert_eq!(pin.to_string(), format!("sha256/{}", printed.trim()));
}
