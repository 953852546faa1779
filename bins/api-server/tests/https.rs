//! `api-server serve` with `AS2_API_TLS_CERT`/`AS2_API_TLS_KEY`: the real binary serves the
//! API over HTTPS only (a plain HTTP request gets no HTTP answer), and refuses to start on a
//! non-loopback address without a certificate.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use as2_test_support::tls::TestCa;

const MASTER_KEY: &str = "0707070707070707070707070707070707070707070707070707070707070707";

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port()
}

fn api_server(data: &std::path::Path, listen: &str, env: &[(&str, String)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_api-server"));
    command
        .args(["serve", "--migrate"])
        .env("AS2_DATA_DIR", data)
        .env("AS2_MASTER_KEY", MASTER_KEY)
        .env("AS2_API_LISTEN", listen)
        .env_remove("DATABASE_URL")
        .env_remove("AS2_ALLOW_PLAIN_HTTP")
        .env_remove("AS2_API_TLS_CERT")
        .env_remove("AS2_API_TLS_KEY")
        .env("RUST_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (name, value) in env {
        command.env(name, value);
    }
    command
}

#[test]
fn the_api_is_served_over_https() {
    let data = tempfile::tempdir().unwrap();
    let ca = TestCa::new("API CA");
    let (cert, key) = (data.path().join("api.crt"), data.path().join("api.key"));
    ca.server("api").write(&cert, &key).unwrap();
    let port = free_port();
    let _server = Running(
        api_server(
            data.path(),
            &format!("127.0.0.1:{port}"),
            &[
                ("AS2_API_TLS_CERT", cert.display().to_string()),
                ("AS2_API_TLS_KEY", key.display().to_string()),
            ],
        )
        .spawn()
        .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "the API did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let client = reqwest::blocking::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(ca.cert_pem.as_bytes()).unwrap()])
        .build()
        .unwrap();
    let health = client
        .get(format!("https://localhost:{port}/healthz"))
        .send()
        .unwrap();
    assert_eq!(health.status().as_u16(), 200);
    let unauthenticated = client
        .get(format!("https://localhost:{port}/v1/partners"))
        .send()
        .unwrap();
    assert_eq!(unauthenticated.status().as_u16(), 401);
    // plain HTTP to the TLS listener is not answered as HTTP
    let plain = reqwest::blocking::Client::new()
        .get(format!("http://127.0.0.1:{port}/healthz"))
        .timeout(Duration::from_secs(5))
        .send();
    assert!(plain.is_err(), "plain HTTP was answered: {plain:?}");
}

#[test]
fn plain_http_off_loopback_is_refused_at_start() {
    let data = tempfile::tempdir().unwrap();
    let output = api_server(data.path(), &format!("0.0.0.0:{}", free_port()), &[])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains("AS2_ALLOW_PLAIN_HTTP=true") && stderr.contains("AS2_API_TLS_CERT"),
        "{stderr}"
    );
}
