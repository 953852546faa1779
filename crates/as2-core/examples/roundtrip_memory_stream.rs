//! Peak memory of the streaming inbound decoder: a payload of N MiB (default 100) built as
//! usual (sign SHA-256, encrypt AES-256-CBC, no compression), then decoded with
//! `InboundDecoder` in 64 KiB pushes, the payload chunks hashed and dropped as a gateway
//! would spool them. Prints the resident set before decoding and the peak while decoding
//! (Linux: the peak is reset through `/proc/self/clear_refs` first), so the difference is
//! what decoding costs beyond the input buffer. Run under `/usr/bin/time -v` for the
//! process peak (which the build, holding payload and body, sets).
//!
//! ```text
//! cargo run --release -p as2-core --example roundtrip_memory_stream -- 100
//! ```
#![allow(
    clippy::disallowed_methods,
    clippy::disallowed_types,
    reason = "a caller of the codec: it reads the clock, files and processes as callers do"
)]

use std::io::Write as _;

use sha2::Digest as _;
use std::time::Duration;

use as2_core::cert::generate_self_signed;
use as2_core::cms::{DecryptionKey, EncryptOptions, SignOptions};
use as2_core::crypto::DigestAlgorithm;
use as2_core::message::{
    self, DecoderEvent, InboundConfig, InboundDecoder, OutboundMessage, Signer,
};
use as2_core::mime::Headers;
use as2_core::{crypto, keys};

/// A field of `/proc/self/status` in KiB (0 where there is none).
fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

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
    let seg = b"PO1*1*10*EA*9.95**BP*0123456789*VP*ABC-123~\r\n";
    let payload: Vec<u8> = seg.iter().copied().cycle().take(len).collect();
    let payload_digest = DigestAlgorithm::Sha256.digest(&payload);
    let mut out = OutboundMessage::new(provider, "mem-a", "mem-b", &payload, "application/edi-x12");
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
    drop(out);
    drop(payload);
    let headers = Headers::from_pairs(built.headers.clone());
    let dkeys = [DecryptionKey {
        certificate: &cert,
        key: &key,
    }];
    let trusted = [cert.clone()];
    let cfg = InboundConfig::new(provider, &dkeys, &trusted)
        .with_require_signature(true)
        .with_require_encryption(true);

    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let rss_before = status_kib("VmRSS:");
    let mut decoder = InboundDecoder::new(&headers, &cfg)?;
    let mut received = 0usize;
    let mut max_held = 0usize;
    // a stand-in for the spool: a running digest of what came out
    let mut spool = sha2::Sha256::new();
    for piece in built.body.chunks(64 << 10) {
        let mut rest = piece;
        while !rest.is_empty() {
            let n = decoder.push(rest)?;
            rest = &rest[n..];
            max_held = max_held.max(decoder.buffered_len());
            while let Some(event) = decoder.next_event()? {
                if let DecoderEvent::Payload(chunk) = event {
                    received += chunk.len();
                    spool.update(chunk);
                }
            }
        }
    }
    decoder.end_input();
    while let Some(event) = decoder.next_event()? {
        if let DecoderEvent::Payload(chunk) = event {
            received += chunk.len();
            spool.update(chunk);
        }
    }
    let verdict = decoder.finish()?;
    let peak = status_kib("VmHWM:");
    if spool.finalize().as_slice() != payload_digest.as_slice()
        || received != len
        || verdict.signature.is_none()
    {
        return Err("round trip changed the payload".into());
    }
    writeln!(
        std::io::stdout().lock(),
        "payload_bytes={len} body_bytes={} rss_before_decode_kib={rss_before} \
         peak_while_decoding_kib={peak} decoding_cost_kib={} decoder_held_max_bytes={max_held}",
        built.body.len(),
        peak.saturating_sub(rss_before),
    )?;
    Ok(())
}
