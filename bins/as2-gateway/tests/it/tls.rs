//! The real `as2-gateway` binary with `AS2_GATEWAY_TLS_CERT`/`AS2_GATEWAY_TLS_KEY`: it serves
//! the AS2 endpoint over HTTPS, takes a renewed certificate on SIGHUP without a restart, and
//! refuses to start on a non-loopback address without a certificate unless
//! `AS2_ALLOW_PLAIN_HTTP=true`.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use as2_e2e::process::{GatewayProcess, free_port, open_store};
use as2_e2e::seed::MASTER_KEY;
use as2_test_support::tls::{TestCa, TestPair};

/// The leaf certificate (DER) a fresh HTTPS connection to `port` is shown, and the status of
/// `GET /as2/test/receive`.
fn handshake(port: u16, ca: &TestCa) -> (Vec<u8>, u16) {
    let client = reqwest::blocking::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(ca.cert_pem.as_bytes()).unwrap()])
        .tls_info(true)
        .build()
        .unwrap();
    let response = client
        .get(format!("https://localhost:{port}/as2/test/receive"))
        .send()
        .unwrap();
    let leaf = response
        .extensions()
        .get::<reqwest::tls::TlsInfo>()
        .and_then(|info| info.peer_certificate().map(<[u8]>::to_vec))
        .unwrap();
    (leaf, response.status().as_u16())
}

fn leaf_der(pair: &TestPair) -> Vec<u8> {
    let pem = pair
        .chain_pem
        .split("-----END CERTIFICATE-----")
        .next()
        .unwrap();
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    base64_decode(&body)
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap()
}

#[test]
fn the_binary_serves_https_and_takes_a_renewed_certificate_on_sighup() {
    let data = tempfile::tempdir().unwrap();
    let _store = open_store(data.path());
    let ca = TestCa::new("Gateway CA");
    let (cert, key) = (data.path().join("as2.crt"), data.path().join("as2.key"));
    let first = ca.server("first");
    first.write(&cert, &key).unwrap();
    let port = free_port();
    let gateway = GatewayProcess::start(
        env!("CARGO_BIN_EXE_as2-gateway"),
        &["serve", "--no-workers"],
        data.path(),
        port,
        &[
            ("AS2_GATEWAY_TLS_CERT", cert.display().to_string()),
            ("AS2_GATEWAY_TLS_KEY", key.display().to_string()),
            // only SIGHUP reloads within this test
            ("AS2_TLS_RELOAD_SECS", "3600".into()),
        ],
    );
    let (leaf, status) = handshake(port, &ca);
    assert_eq!(leaf, leaf_der(&first));
    assert!(
        (400..500).contains(&status),
        "an AS2 answer over HTTPS: {status}"
    );

    let second = ca.server("second");
    second.write(&cert, &key).unwrap();
    let hup = Command::new("kill")
        .args(["-HUP", &gateway.pid().to_string()])
        .status()
        .unwrap();
    assert!(hup.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    while handshake(port, &ca).0 != leaf_der(&second) {
        assert!(
            Instant::now() < deadline,
            "SIGHUP did not bring the new certificate"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // still the same process, still serving
    assert_eq!(handshake(port, &ca).0, leaf_der(&second));
    gateway.kill();
}

#[test]
fn plain_http_off_loopback_is_refused_at_start() {
    let data = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_as2-gateway"))
        .args(["serve", "--no-workers"])
        .env("AS2_DATA_DIR", data.path())
        .env("AS2_MASTER_KEY", MASTER_KEY)
        .env("AS2_GATEWAY_LISTEN", format!("0.0.0.0:{}", free_port()))
        .env("AS2_METRICS_LISTEN", "off")
        .env_remove("AS2_ALLOW_PLAIN_HTTP")
        .env_remove("AS2_GATEWAY_TLS_CERT")
        .env_remove("AS2_GATEWAY_TLS_KEY")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("the gateway served plain HTTP on 0.0.0.0");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(!status.success());
    assert!(
        stderr.contains("AS2_ALLOW_PLAIN_HTTP=true") && stderr.contains("AS2_GATEWAY_TLS_CERT"),
        "{stderr}"
    );
}
