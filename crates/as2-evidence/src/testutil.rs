//! Shared test fixtures: one RSA key and one TSA certificate per test binary (RSA key
//! generation is slow).

use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use as2_core::cert::Certificate;
use der::asn1::ObjectIdentifier;

use crate::authority::{TimeStampAuthority, generate_tsa_certificate};

pub(crate) const POLICY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.99999.1");

pub(crate) fn test_key() -> &'static rsa::PrivateKey {
    static KEY: OnceLock<rsa::PrivateKey> = OnceLock::new();
    KEY.get_or_init(|| {
        as2_core::keys::generate_rsa_key(&as2_core::crypto::rust_crypto::DEFAULT_PROVIDER, 2048)
            .expect("generate key")
    })
}

pub(crate) fn other_key() -> &'static rsa::PrivateKey {
    static KEY: OnceLock<rsa::PrivateKey> = OnceLock::new();
    KEY.get_or_init(|| {
        as2_core::keys::generate_rsa_key(&as2_core::crypto::rust_crypto::DEFAULT_PROVIDER, 2048)
            .expect("generate key")
    })
}

fn since_an_hour_ago() -> SystemTime {
    SystemTime::now() - Duration::from_secs(3600)
}

pub(crate) fn tsa_certificate() -> &'static Certificate {
    static CERT: OnceLock<Certificate> = OnceLock::new();
    CERT.get_or_init(|| {
        generate_tsa_certificate(
            test_key(),
            "CN=as2-evidence test TSA,O=Example",
            since_an_hour_ago(),
            Duration::from_secs(86_400),
        )
        .expect("TSA certificate")
    })
}

/// A certificate for another key, otherwise like the TSA's.
pub(crate) fn other_certificate() -> &'static Certificate {
    static CERT: OnceLock<Certificate> = OnceLock::new();
    CERT.get_or_init(|| {
        generate_tsa_certificate(
            other_key(),
            "CN=as2-evidence test TSA,O=Example",
            since_an_hour_ago(),
            Duration::from_secs(86_400),
        )
        .expect("TSA certificate")
    })
}

pub(crate) fn tsa() -> TimeStampAuthority {
    TimeStampAuthority::new(
        tsa_certificate().clone(),
        Box::new(test_key().clone()),
        POLICY,
    )
}
