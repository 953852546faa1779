//! A partner's connection test, run by the platform's outbound rules: the URL is parsed, its
//! host resolved and every address checked against the destination policy (as
//! [`crate::http_client::PolicyResolver`] does for a send), a TCP connection opened, and for
//! HTTPS the TLS handshake completed with the partner's own TLS settings (private CA, pinned
//! key, client certificate), reporting the certificate it presented. Each step is bounded by
//! the tester's timeout and reported with a sentence; the first failure ends the test.
//! Nothing is sent over the connection.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use as2_domain::connection_test::{
    ConnectionTest, ConnectionTester, PresentedCertificate, TestReport, TestStep, Testing,
};
use as2_domain::destination::DestinationPolicy;
use as2_trust::tls::ServerOverlap;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::net::TcpStream;

use crate::http_client::DestinationRefused;
use crate::tls::outbound::{ClientIdentity, SpkiPin, client_config};
use crate::worker::partner_tls::engine_tls;

/// Runs connection tests where the destination policy permits.
#[derive(Debug, Clone)]
pub struct NetworkTester {
    policy: Arc<DestinationPolicy>,
    timeout: Duration,
}

impl NetworkTester {
    /// A tester that connects only where `policy` permits, each step within `timeout`.
    #[must_use]
    pub fn new(policy: DestinationPolicy, timeout: Duration) -> Self {
        Self {
            policy: Arc::new(policy),
            timeout,
        }
    }
}

impl ConnectionTester for NetworkTester {
    fn test(&self, test: ConnectionTest) -> Testing<'_> {
        Box::pin(async move {
            let mut run = Run::default();
            self.run(&test, &mut run).await;
            run.report
        })
    }
}

/// The report being written, and when the current step began.
#[derive(Default)]
struct Run {
    report: TestReport,
}

impl Run {
    /// Records `step`; whether it succeeded.
    fn record(
        &mut self,
        step: &'static str,
        started: Instant,
        outcome: Result<String, String>,
    ) -> bool {
        let ok = outcome.is_ok();
        self.report.steps.push(TestStep {
            step,
            ok,
            detail: outcome.unwrap_or_else(|e| e),
            duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        });
        ok
    }
}

/// The parts of a partner URL the test needs.
#[derive(Debug)]
struct Target {
    host: String,
    port: u16,
    https: bool,
}

fn parse(url: &str) -> Result<Target, String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("{url} is not a URL: {e}"))?;
    let https = match parsed.scheme() {
        "https" => true,
        "http" => false,
        other => {
            return Err(format!(
                "{url}: the scheme {other} is neither http nor https"
            ));
        }
    };
    let host = parsed
        .host_str()
        .ok_or_else(|| format!("{url} names no host"))?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let port = parsed
        .port_or_known_default()
        .ok_or_else(|| format!("{url} names no port"))?;
    Ok(Target { host, port, https })
}

impl NetworkTester {
    async fn run(&self, test: &ConnectionTest, run: &mut Run) {
        let started = Instant::now();
        let target = parse(&test.url);
        let described = target
            .as_ref()
            .map(|t| {
                format!(
                    "{}://{}:{}",
                    if t.https { "https" } else { "http" },
                    t.host,
                    t.port
                )
            })
            .map_err(Clone::clone);
        if !run.record("url", started, described) {
            return;
        }
        let Ok(target) = target else { return };

        let started = Instant::now();
        let addresses = self.resolve(&target).await;
        let outcome = addresses
            .as_ref()
            .map(|a| resolved(&target.host, a))
            .map_err(Clone::clone);
        if !run.record("resolve", started, outcome) {
            return;
        }
        let Ok(addresses) = addresses else { return };

        let started = Instant::now();
        let stream = self.connect(&addresses).await;
        let outcome = stream
            .as_ref()
            .map(|(_, address)| format!("connected to {address}"))
            .map_err(Clone::clone);
        if !run.record("connect", started, outcome) || !target.https {
            return;
        }
        let Ok((stream, _)) = stream else { return };

        let started = Instant::now();
        let outcome = self.handshake(test, &target, stream, run).await;
        run.record("tls", started, outcome);
    }

    /// The addresses of the target's host the policy permits (a host written as an address
    /// is that address), or why there are none.
    async fn resolve(&self, target: &Target) -> Result<Vec<SocketAddr>, String> {
        let candidates: Vec<SocketAddr> = match target.host.parse::<IpAddr>() {
            Ok(ip) => vec![SocketAddr::new(ip, target.port)],
            Err(_) => tokio::time::timeout(
                self.timeout,
                tokio::net::lookup_host((target.host.as_str(), target.port)),
            )
            .await
            .map_err(|_| {
                format!(
                    "resolving {} took longer than {:?}",
                    target.host, self.timeout
                )
            })?
            .map_err(|e| format!("{} does not resolve: {e}", target.host))?
            .collect(),
        };
        let mut refused = None;
        let permitted: Vec<SocketAddr> = candidates
            .into_iter()
            .filter(|a| match self.policy.check(a.ip()) {
                Ok(()) => true,
                Err(why) => {
                    refused.get_or_insert(why);
                    false
                }
            })
            .collect();
        match (permitted.is_empty(), refused) {
            (false, _) => Ok(permitted),
            (true, Some(refused)) => Err(DestinationRefused {
                host: target
                    .host
                    .parse::<IpAddr>()
                    .is_err()
                    .then(|| target.host.clone()),
                refused,
            }
            .to_string()),
            (true, None) => Err(format!("{} has no address", target.host)),
        }
    }

    /// A connection to the first address that answers, or why none did.
    async fn connect(&self, addresses: &[SocketAddr]) -> Result<(TcpStream, SocketAddr), String> {
        let mut last = String::from("no address to connect to");
        for address in addresses {
            match tokio::time::timeout(self.timeout, TcpStream::connect(address)).await {
                Ok(Ok(stream)) => return Ok((stream, *address)),
                Ok(Err(e)) => last = format!("connecting to {address} failed: {e}"),
                Err(_) => {
                    last = format!(
                        "connecting to {address} took longer than {:?}",
                        self.timeout
                    );
                }
            }
        }
        Err(last)
    }

    /// The TLS handshake with the partner's settings; the certificate it presented goes into
    /// the report.
    async fn handshake(
        &self,
        test: &ConnectionTest,
        target: &Target,
        stream: TcpStream,
        run: &mut Run,
    ) -> Result<String, String> {
        let client = match &test.client_identity {
            Some((cert, key)) => Some(
                ClientIdentity::from_der(cert.clone(), key.clone())
                    .map_err(|e| format!("the client certificate cannot be used: {e}"))?,
            ),
            None => None,
        };
        let tls = engine_tls(&test.tls, &ServerOverlap::default(), client);
        let config = client_config(&tls)
            .map_err(|e| format!("the partner's TLS settings cannot be used: {e}"))?;
        let name = ServerName::try_from(target.host.clone())
            .map_err(|e| format!("{} is not a TLS server name: {e}", target.host))?;
        let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
        let connected = tokio::time::timeout(self.timeout, connector.connect(name, stream))
            .await
            .map_err(|_| format!("the TLS handshake took longer than {:?}", self.timeout))?
            .map_err(|e| handshake_failure(&e, test))?;
        let (_, session) = connected.get_ref();
        let version = session
            .protocol_version()
            .and_then(|v| v.as_str())
            .unwrap_or("TLS");
        let suite = session
            .negotiated_cipher_suite()
            .and_then(|s| s.suite().as_str())
            .unwrap_or("an unnamed suite");
        let leaf = session
            .peer_certificates()
            .and_then(|chain| chain.first())
            .ok_or("the partner presented no certificate")?;
        let presented = presented(leaf)?;
        let days = (presented.not_after - chrono::Utc::now()).num_days();
        let sentence = format!(
            "{version} with {suite}; the partner presented {} issued by {}, valid until {} ({days} days)",
            presented.subject,
            presented.issuer,
            presented.not_after.format("%Y-%m-%d"),
        );
        run.report.certificate = Some(presented);
        Ok(sentence)
    }
}

/// The sentence of a resolved host.
fn resolved(host: &str, addresses: &[SocketAddr]) -> String {
    let list: Vec<String> = addresses.iter().map(|a| a.ip().to_string()).collect();
    format!("{host} resolved to {}", list.join(", "))
}

/// A failed handshake in a sentence, with what to check.
fn handshake_failure(error: &std::io::Error, test: &ConnectionTest) -> String {
    let text = error.to_string();
    let hint = if text.contains("UnknownIssuer") || text.contains("unknown issuer") {
        if test.tls.ca_bundle.is_some() {
            " (the certificate is not issued by the partner's CA bundle: check tls_ca_bundle)"
        } else {
            " (the certificate is not issued by a public CA: give the partner's CA as tls_ca_bundle)"
        }
    } else if text.contains("pinned") {
        " (check tls_pin_sha256)"
    } else {
        ""
    };
    format!("the TLS handshake failed: {text}{hint}")
}

/// What a certificate presented in a handshake says about itself.
fn presented(leaf: &CertificateDer<'_>) -> Result<PresentedCertificate, String> {
    let cert = as2_core::cert::Certificate::from_der(leaf.as_ref())
        .map_err(|e| format!("the partner's certificate does not parse: {e}"))?;
    let pin = SpkiPin::of_certificate(leaf)
        .map_err(|e| format!("the partner's certificate has no usable key: {e}"))?;
    Ok(PresentedCertificate {
        subject: cert.subject(),
        issuer: cert.issuer(),
        not_after: chrono::DateTime::<chrono::Utc>::from(cert.not_after()),
        sha256: cert.fingerprint_sha256_hex(),
        pin_sha256: pin.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_parsed_with_their_default_ports() {
        let t = parse("https://as2.partner.example/as2").unwrap();
        assert_eq!(
            (t.host.as_str(), t.port, t.https),
            ("as2.partner.example", 443, true)
        );
        let t = parse("http://[2001:db8::1]:8080/x").unwrap();
        assert_eq!(
            (t.host.as_str(), t.port, t.https),
            ("2001:db8::1", 8080, false)
        );
        assert!(
            parse("ftp://p.example/")
                .unwrap_err()
                .contains("neither http nor https")
        );
        assert!(parse("not a url").is_err());
    }

    #[tokio::test]
    async fn a_refused_address_ends_the_test_at_resolve_with_the_setting_to_change() {
        let tester = NetworkTester::new(DestinationPolicy::default(), Duration::from_secs(2));
        let report = tester
            .test(ConnectionTest {
                url: "http://127.0.0.1:9/as2".into(),
                tls: as2_domain::partner_tls::PartnerTls::default(),
                client_identity: None,
            })
            .await;
        assert!(!report.ok());
        let last = report.steps.last().unwrap();
        assert_eq!(last.step, "resolve");
        assert!(
            last.detail.contains("AS2_OUTBOUND_ALLOW"),
            "{}",
            last.detail
        );
        assert_eq!(report.steps.len(), 2);
    }
}
