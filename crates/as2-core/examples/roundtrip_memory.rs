//! Peak memory of one AS2 round trip: build (sign SHA-256, encrypt AES-256-CBC, no
//! compression) and parse (decrypt, verify, MIC) a payload of N MiB (default 100). Run it
//! under `/usr/bin/time -v` and divide "Maximum resident set size" by the payload size;
//! `cargo xtask bench core` does exactly that. `roundtrip_memory_stream` is the same round
//! trip decoded with the streaming `InboundDecoder`.
//!
//! ```text
//! cargo run --release -p as2-core --example roundtrip_memory -- 100
//! ```
#![allow(
    clippy::disallowed_methods,
    clippy::disallowed_types,
    reason = "a caller of the codec: it reads the clock, files and processes as callers do"
)]

use std::io::Write as _;
use std::time::Duration;

use as2_core::cert::generate_self_signed;
use as2_core::cms::{DecryptionKey, EncryptOptions, SignOptions};
use as2_core::message::{self, InboundConfig, OutboundMessage, Signer};
use as2_core::mime::Headers;
use as2_core::{crypto, keys};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mib: usize = std::env::args()
        .nth(1)
        .map_or(Ok(100), |a| a.parse())
        .map_err(|e| format!("payload size in MiB: {e}"))?;
    let len = mib * 1024 * 1024;
    let key = keys::generate_rsa_key(&crypto::rust_crypto::DEFAULT_PROVIDER, 2048)?;
    let cert = generate_self_signed(
        &crypto::rust_crypto::DEFAULT_PROVIDER,
        &key,
        "CN=memory",
        std::time::SystemTime::now(),
        Duration::from_secs(86_400),
    )?;

    let seg = b"PO1*1*10*EA*9.95**BP*0123456789*VP*ABC-123~\r\n";
    let payload: Vec<u8> = seg.iter().copied().cycle().take(len).collect();

    let mut out = OutboundMessage::new(
        &crypto::rust_crypto::DEFAULT_PROVIDER,
        "mem-a",
        "mem-b",
        &payload,
        "application/edi-x12",
    );
    out.signer = Some(Signer::new(
        &cert,
        &key,
        SignOptions::new(std::time::SystemTime::now()),
    ));
    out.encryption = Some(message::Encryption::new(
        vec![&cert],
        EncryptOptions::default().with_algorithm(crypto::ContentEncryption::Aes256Cbc),
    ));
    let built = message::build_outbound(&out)?;
    let body_len = built.body.len();

    let headers = Headers::from_pairs(built.headers.clone());
    let dkeys = [DecryptionKey {
        certificate: &cert,
        key: &key,
    }];
    let trusted = [cert.clone()];
    let cfg = InboundConfig::new(&crypto::rust_crypto::DEFAULT_PROVIDER, &dkeys, &trusted)
        .with_require_signature(true)
        .with_require_encryption(true);
    let inbound = message::parse_inbound(&headers, &built.body, &cfg)?;
    if inbound.payload != payload {
        return Err("round trip changed the payload".into());
    }
    writeln!(
        std::io::stdout().lock(),
        "payload_bytes={len} body_bytes={body_len}"
    )?;
    Ok(())
}
