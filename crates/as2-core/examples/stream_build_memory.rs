//! Peak memory of building one AS2 message with the streaming encoder: a payload of N MiB
//! (default 100), generated 64 KiB at a time and never held whole, signed (SHA-256) and
//! encrypted (AES-256-CBC), the body handed back in pieces and only counted, as a caller
//! would send it on. Run it under `/usr/bin/time -v` ("Maximum resident set size"); the
//! figure should not grow with N.
//!
//! ```text
//! cargo run --release -p as2-core --example stream_build_memory -- 100
//! ```
#![allow(
    clippy::disallowed_methods,
    clippy::disallowed_types,
    reason = "a caller of the codec: it reads the clock, files and processes as callers do"
)]

use std::io::Write as _;
use std::time::Duration;

use as2_core::cert::generate_self_signed;
use as2_core::cms::{EncryptOptions, SignOptions};
use as2_core::message::{self, OutboundEncoder, OutboundMessage, Signer};
use as2_core::{crypto, keys};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mib: usize = std::env::args()
        .nth(1)
        .map_or(Ok(100), |a| a.parse())
        .map_err(|e| format!("payload size in MiB: {e}"))?;
    let len = mib * 1024 * 1024;
    let provider = &crypto::rust_crypto::DEFAULT_PROVIDER;
    let key = keys::generate_rsa_key(provider, 2048)?;
    let cert = generate_self_signed(
        provider,
        &key,
        "CN=memory",
        std::time::SystemTime::now(),
        Duration::from_secs(86_400),
    )?;

    let mut out = OutboundMessage::new(provider, "mem-a", "mem-b", &[], "application/edi-x12");
    out.signer = Some(Signer::new(
        &cert,
        &key,
        SignOptions::new(std::time::SystemTime::now()),
    ));
    out.encryption = Some(message::Encryption::new(
        vec![&cert],
        EncryptOptions::default().with_algorithm(crypto::ContentEncryption::Aes256Cbc),
    ));
    let mut encoder = OutboundEncoder::new(&out, Some(len as u64))?;
    let declared = encoder.content_length();

    let seg = b"PO1*1*10*EA*9.95**BP*0123456789*VP*ABC-123~\r\n";
    let piece: Vec<u8> = seg.iter().copied().cycle().take(64 * 1024).collect();
    let mut body = Vec::new();
    let mut sent = 0u64;
    let mut left = len;
    let mut most_buffered = 0;
    while left > 0 {
        let n = left.min(piece.len());
        encoder.push(&piece[..n], &mut body)?;
        most_buffered = most_buffered.max(encoder.buffered_len());
        sent += body.len() as u64;
        body.clear();
        left -= n;
    }
    let tail = encoder.finish(&mut body)?;
    sent += body.len() as u64;
    if declared != Some(sent) {
        return Err(format!("announced {declared:?} bytes, sent {sent}").into());
    }
    writeln!(
        std::io::stdout().lock(),
        "payload_bytes={len} body_bytes={sent} most_buffered={most_buffered} mic={}",
        tail.mic.base64()
    )?;
    Ok(())
}
