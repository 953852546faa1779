//! A partner's connection test (`POST /v1/partners/{id}/test`): what is tested, the report
//! of each step with a sentence, and the seam between the API that asks and the engine that
//! connects ([`ConnectionTester`]), as the TSA transport is one.

use std::fmt::Debug;
use std::future::Future;
use std::pin::Pin;

use chrono::{DateTime, Utc};

use crate::partner_tls::PartnerTls;

/// What a connection test connects to, and with which TLS.
#[derive(Debug, Clone)]
pub struct ConnectionTest {
    /// The partner's AS2 URL.
    pub url: String,
    /// The partner's TLS settings (private CA, pinned key).
    pub tls: PartnerTls,
    /// The client certificate presented when the partner asks for one: the chain's leaf
    /// certificate DER and its PKCS#8 private key DER (the key pair that
    /// `tls.client_certificate_id` names).
    pub client_identity: Option<(Vec<u8>, Vec<u8>)>,
}

/// One step of a connection test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestStep {
    /// `url`, `resolve`, `connect`, `tls`, or `message` (the optional test message, run by
    /// the API after the others passed).
    pub step: &'static str,
    /// Whether it succeeded (a failed step ends the test).
    pub ok: bool,
    /// What happened, in a sentence an operator can act on.
    pub detail: String,
    /// How long it took, in milliseconds.
    pub duration_ms: u64,
}

/// The server certificate a partner presented during the TLS handshake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresentedCertificate {
    /// Its subject (RFC 4514 form).
    pub subject: String,
    /// Its issuer (RFC 4514 form).
    pub issuer: String,
    /// Its last day of validity.
    pub not_after: DateTime<Utc>,
    /// The SHA-256 of its DER, upper-case hex pairs joined by colons.
    pub sha256: String,
    /// The pin of its key (`sha256/<base64>` of its SubjectPublicKeyInfo), as
    /// `tls_pin_sha256` takes it.
    pub pin_sha256: String,
}

/// The report of a connection test: its steps in order, and the certificate the partner
/// presented (HTTPS only).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TestReport {
    /// The steps run, the last one failed when the test did.
    pub steps: Vec<TestStep>,
    /// The partner's TLS certificate, when the handshake got that far.
    pub certificate: Option<PresentedCertificate>,
}

impl TestReport {
    /// Whether every step succeeded.
    #[must_use]
    pub fn ok(&self) -> bool {
        !self.steps.is_empty() && self.steps.iter().all(|s| s.ok)
    }
}

/// A connection test under way.
pub type Testing<'a> = Pin<Box<dyn Future<Output = TestReport> + Send + 'a>>;

/// Runs connection tests: the engine's network client implements it (with the platform's
/// destination policy); the API holds one.
pub trait ConnectionTester: Send + Sync + Debug {
    /// Tests `test`, each step bounded in time.
    fn test(&self, test: ConnectionTest) -> Testing<'_>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(ok: bool) -> TestStep {
        TestStep {
            step: "connect",
            ok,
            detail: String::new(),
            duration_ms: 1,
        }
    }

    #[test]
    fn a_report_is_ok_when_it_has_steps_and_none_failed() {
        assert!(!TestReport::default().ok());
        let mut report = TestReport {
            steps: vec![step(true), step(true)],
            certificate: None,
        };
        assert!(report.ok());
        report.steps.push(step(false));
        assert!(!report.ok());
    }
}
