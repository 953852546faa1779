//! The listeners' TLS over real sockets on 127.0.0.1, with certificates made here: HTTPS is
//! served, TLS 1.0 and 1.1 are refused and 1.2 and 1.3 accepted (by rustls and by `openssl
//! s_client`), a certificate replaced on disk is served to new connections while open ones
//! keep theirs, and a bad new file keeps the old certificate serving.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use as2_domain::forwarded::ClientAddr;
use as2_engine::serve::{ServeOptions, Transport, serve_with};
use as2_engine::tls::{Reloaded, ReloadingCertificate, acceptor, crypto_provider};
use as2_test_support::tls::{TestCa, TestPair, s_client};
use axum::Router;
use axum::extract::Extension;
use axum::routing::get;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

struct Server {
    addr: SocketAddr,
    certificate: Arc<ReloadingCertificate>,
    cert_path: PathBuf,
    key_path: PathBuf,
    ca_path: PathBuf,
    ca: TestCa,
    _dir: tempfile::TempDir,
}

/// A TLS listener answering `GET /` with the client address the server loop derived.
async fn start() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new("Test CA");
    let (cert_path, key_path, ca_path) = (
        dir.path().join("cert.pem"),
        dir.path().join("key.pem"),
        dir.path().join("ca.pem"),
    );
    ca.server("first").write(&cert_path, &key_path).unwrap();
    std::fs::write(&ca_path, &ca.cert_pem).unwrap();
    let certificate = ReloadingCertificate::load(&cert_path, &key_path).unwrap();
    let app = Router::new().route(
        "/",
        get(|Extension(client): Extension<ClientAddr>| async move { client.ip.to_string() }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(serve_with(
        listener,
        app,
        ServeOptions::default(),
        Transport {
            tls: Some(acceptor(certificate.clone()).unwrap()),
            ..Transport::default()
        },
        std::future::pending(),
    ));
    Server {
        addr,
        certificate,
        cert_path,
        key_path,
        ca_path,
        ca,
        _dir: dir,
    }
}

fn leaf_der(pair: &TestPair) -> CertificateDer<'static> {
    CertificateDer::pem_slice_iter(pair.chain_pem.as_bytes())
        .next()
        .unwrap()
        .unwrap()
}

/// A rustls client trusting `ca` only, limited to `versions`.
async fn connect(
    addr: SocketAddr,
    ca_pem: &str,
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> std::io::Result<TlsStream<TcpStream>> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(crypto_provider()))
        .with_protocol_versions(versions)
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let tcp = TcpStream::connect(addr).await?;
    TlsConnector::from(Arc::new(config))
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
}

/// One keep-alive `GET /` on `stream`: the body.
async fn get_root(stream: &mut TlsStream<TcpStream>) -> String {
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf))
            .await
            .unwrap()
            .unwrap();
        assert!(
            n > 0,
            "connection closed: {}",
            String::from_utf8_lossy(&seen)
        );
        seen.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&seen).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length: usize = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse().unwrap())
                })
                .unwrap();
            if body.len() >= length {
                assert!(head.starts_with("HTTP/1.1 200"), "{head}");
                return body[..length].to_owned();
            }
        }
    }
}

fn peer_leaf(stream: &TlsStream<TcpStream>) -> CertificateDer<'static> {
    stream.get_ref().1.peer_certificates().unwrap()[0]
        .clone()
        .into_owned()
}

#[tokio::test]
async fn https_is_served_with_alpn_http11_and_tls12_and_13_only() {
    let server = start().await;
    for version in [&rustls::version::TLS13, &rustls::version::TLS12] {
        let mut stream = connect(server.addr, &server.ca.cert_pem, &[version])
            .await
            .unwrap();
        assert_eq!(stream.get_ref().1.protocol_version(), Some(version.version));
        assert_eq!(stream.get_ref().1.alpn_protocol(), Some(&b"http/1.1"[..]));
        assert_eq!(get_root(&mut stream).await, "127.0.0.1");
    }
    // a plain HTTP request to the TLS listener gets no HTTP answer
    let mut plain = TcpStream::connect(server.addr).await.unwrap();
    plain
        .write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), plain.read_to_end(&mut buf)).await;
    assert!(!buf.starts_with(b"HTTP/"), "plain HTTP was answered");
}

#[tokio::test]
async fn openssl_s_client_is_refused_tls10_and_11_and_accepted_tls12_and_13() {
    if !as2_test_support::openssl::available("the listener's TLS versions") {
        return;
    }
    let server = start().await;
    let port = server.addr.port();
    let ca = server.ca_path.clone();
    let results = tokio::task::spawn_blocking(move || {
        ["-tls1", "-tls1_1", "-tls1_2", "-tls1_3"].map(|flag| (flag, s_client(port, flag, &ca)))
    })
    .await
    .unwrap();
    for (flag, handshake) in results {
        let accepted = matches!(flag, "-tls1_2" | "-tls1_3");
        assert_eq!(
            handshake.succeeded, accepted,
            "openssl s_client {flag}: {}",
            handshake.output
        );
        if !accepted {
            // the server refused with an alert (protocol_version, or handshake_failure when
            // no suite of the old version is acceptable), not the client on its own
            assert!(
                handshake.output.contains("SSL alert number")
                    && (handshake.output.contains("alert protocol version")
                        || handshake.output.contains("alert handshake failure")),
                "openssl s_client {flag} was not refused by the server: {}",
                handshake.output
            );
        }
    }
}

#[tokio::test]
async fn a_replaced_certificate_serves_new_connections_while_open_ones_keep_working() {
    let server = start().await;
    let tls13 = [&rustls::version::TLS13];
    let mut open = connect(server.addr, &server.ca.cert_pem, &tls13)
        .await
        .unwrap();
    let first = peer_leaf(&open);
    assert_eq!(get_root(&mut open).await, "127.0.0.1");

    let second = server.ca.server("second");
    second.write(&server.cert_path, &server.key_path).unwrap();
    // the watcher notices the change (a short interval here; SIGHUP does the same at once)
    let watcher = tokio::spawn(server.certificate.clone().watch(
        "test",
        Duration::from_millis(50),
        std::future::pending(),
    ));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let mut fresh = connect(server.addr, &server.ca.cert_pem, &tls13)
            .await
            .unwrap();
        if peer_leaf(&fresh) == leaf_der(&second) {
            assert_eq!(get_root(&mut fresh).await, "127.0.0.1");
            break;
        }
        assert_eq!(peer_leaf(&fresh), first);
        assert!(
            tokio::time::Instant::now() < deadline,
            "the new certificate was never served"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    watcher.abort();
    // the connection opened before the change still works, on its first certificate
    assert_eq!(get_root(&mut open).await, "127.0.0.1");
    assert_eq!(peer_leaf(&open), first);
}

#[tokio::test]
async fn a_bad_new_file_keeps_the_old_certificate_serving() {
    let server = start().await;
    let tls13 = [&rustls::version::TLS13];
    let before = peer_leaf(
        &connect(server.addr, &server.ca.cert_pem, &tls13)
            .await
            .unwrap(),
    );

    // not PEM at all
    std::fs::write(&server.cert_path, "not a certificate").unwrap();
    let error = server.certificate.reload().unwrap_err();
    assert!(error.to_string().contains("cert.pem"), "{error}");
    assert_eq!(server.certificate.reload().unwrap(), Reloaded::Unchanged);
    // a good certificate with the key of another one
    let other = server.ca.server("other");
    let third = server.ca.server("third");
    other
        .write(&server.cert_path, &tmp(&server.key_path))
        .unwrap();
    std::fs::write(&server.key_path, &third.key_pem).unwrap();
    let error = server.certificate.reload().unwrap_err();
    assert!(!error.to_string().contains("PRIVATE KEY-----"), "{error}");
    // a missing key file, reported once (not at every look)
    std::fs::remove_file(&server.key_path).unwrap();
    assert!(server.certificate.reload().is_err());
    assert_eq!(server.certificate.reload().unwrap(), Reloaded::Unchanged);

    let mut after = connect(server.addr, &server.ca.cert_pem, &tls13)
        .await
        .unwrap();
    assert_eq!(peer_leaf(&after), before);
    assert_eq!(get_root(&mut after).await, "127.0.0.1");
}

fn tmp(path: &Path) -> PathBuf {
    path.with_extension("unused")
}
