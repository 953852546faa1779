//! Shared fixtures of the as2-core benchmarks: one RSA-2048 identity, payloads of the
//! measured sizes, and the message options every codec benchmark uses.

#![allow(dead_code)]

pub mod cpu_time;

use std::sync::OnceLock;
use std::time::Duration;

use as2_core::cert::{Certificate, generate_self_signed};
use as2_core::cms::{EncryptOptions, SignOptions};
use as2_core::crypto::ContentEncryption;
use as2_core::message::{Compression, OutboundMessage, Signer};
use as2_core::{keys, message};
use as2_crypto_aws_lc::AwsLcKey;

/// The measured payload sizes, with their labels.
pub const SIZES: [(&str, usize); 3] = [
    ("1KB", 1024),
    ("1MB", 1024 * 1024),
    ("100MB", 100 * 1024 * 1024),
];

/// One RSA-2048 key in both backends, and its self-signed certificate.
pub struct Identity {
    pub rsa: rsa::PrivateKey,
    pub aws: AwsLcKey,
    pub cert: Certificate,
}

/// The shared identity (key generation takes a few seconds).
pub fn identity() -> &'static Identity {
    static ID: OnceLock<Identity> = OnceLock::new();
    ID.get_or_init(|| {
        let rsa = keys::generate_rsa_key(&as2_core::crypto::rust_crypto::DEFAULT_PROVIDER, 2048)
            .expect("key");
        let aws = AwsLcKey::new(&rsa).expect("aws-lc key");
        let cert = generate_self_signed(
            &as2_core::crypto::rust_crypto::DEFAULT_PROVIDER,
            &rsa,
            "CN=bench",
            std::time::SystemTime::now(),
            Duration::from_secs(86_400),
        )
        .expect("certificate");
        Identity { rsa, aws, cert }
    })
}

/// An X12-like payload of exactly `len` bytes (CRLF-terminated segments).
pub fn payload(len: usize) -> Vec<u8> {
    let seg = b"PO1*1*10*EA*9.95**BP*0123456789*VP*ABC-123~\r\n";
    seg.iter().copied().cycle().take(len).collect()
}

/// The two RSA backends, by the name the figures use.
pub fn backends(id: &Identity) -> [(&'static str, &dyn as2_core::crypto::PrivateKeyOps); 2] {
    [("rsa-0.10", &id.rsa), ("aws-lc-rs", &id.aws)]
}

/// The benchmarked configuration: no compression, signed with SHA-256 (PKCS#1 v1.5),
/// encrypted with AES-256-CBC (PKCS#1 v1.5 key transport), to ourselves.
pub fn outbound<'a>(
    id: &'a Identity,
    key: &'a dyn as2_core::crypto::PrivateKeyOps,
    payload: &'a [u8],
) -> OutboundMessage<'a> {
    let mut out = OutboundMessage::new(
        &as2_core::crypto::rust_crypto::DEFAULT_PROVIDER,
        "bench-a",
        "bench-b",
        payload,
        "application/edi-x12",
    );
    out.compression = Compression::None;
    out.signer = Some(Signer::new(
        &id.cert,
        key,
        SignOptions::new(std::time::SystemTime::now()),
    ));
    out.encryption = Some(message::Encryption::new(
        vec![&id.cert],
        EncryptOptions::default().with_algorithm(ContentEncryption::Aes256Cbc),
    ));
    out
}

/// Build one message (panics on failure: benchmarks only).
pub fn build(
    id: &Identity,
    key: &dyn as2_core::crypto::PrivateKeyOps,
    payload: &[u8],
) -> message::BuiltMessage {
    message::build_outbound(&outbound(id, key, payload)).expect("build")
}

/// Parse one message built by [`build`]; returns the payload length.
pub fn parse(
    id: &Identity,
    key: &dyn as2_core::crypto::PrivateKeyOps,
    built: &message::BuiltMessage,
) -> usize {
    let headers = as2_core::mime::Headers::from_pairs(built.headers.clone());
    let keys = [as2_core::cms::DecryptionKey {
        certificate: &id.cert,
        key,
    }];
    let trusted = [id.cert.clone()];
    let cfg = message::InboundConfig::new(
        &as2_core::crypto::rust_crypto::DEFAULT_PROVIDER,
        &keys,
        &trusted,
    )
    .with_require_signature(true)
    .with_require_encryption(true);
    message::parse_inbound(&headers, &built.body, &cfg)
        .expect("parse")
        .payload
        .len()
}

/// A benchmark group measured in thread CPU time.
pub type Group<'a> = criterion::BenchmarkGroup<'a, cpu_time::CpuTime>;

/// The criterion configuration of every as2-core benchmark.
pub fn criterion() -> criterion::Criterion<cpu_time::CpuTime> {
    criterion::Criterion::default()
        .with_measurement(cpu_time::CpuTime)
        .configure_from_args()
}

/// Few samples and a short measurement for the 100 MB cases.
pub fn tune(group: &mut Group<'_>, len: usize) {
    if len >= 10 * 1024 * 1024 {
        group.sample_size(10);
        group.warm_up_time(Duration::from_millis(500));
        group.measurement_time(Duration::from_secs(5));
    } else {
        group.sample_size(30);
        group.warm_up_time(Duration::from_secs(1));
        group.measurement_time(Duration::from_secs(3));
    }
}
