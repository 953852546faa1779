//! A loop to profile: build or parse the benchmarked message (signed with SHA-256, encrypted
//! with AES-256-CBC, no compression, aws-lc-rs for the RSA private-key operation) of N MiB,
//! ITER times, and print the CPU time per message. The criterion benches build their inputs
//! for every size before filtering, so a profiler attached to them sees mostly set-up; this
//! runs only the operation asked for.
//!
//! ```text
//! cargo build --release -p as2-core --example codec_profile
//! perf record -g target/release/examples/codec_profile parse 1 500
//! perf report --no-children
//! ```
#![allow(
    clippy::disallowed_methods,
    clippy::disallowed_types,
    reason = "a caller of the codec: it reads the clock, files and processes as callers do"
)]

use std::io::Write as _;
use std::time::{Duration, Instant};

use as2_core::cert::generate_self_signed;
use as2_core::cms::{DecryptionKey, EncryptOptions, SignOptions};
use as2_core::crypto::{ContentEncryption, PrivateKeyOps};
use as2_core::keys;
use as2_core::message::{self, InboundConfig, OutboundMessage, Signer};
use as2_core::mime::Headers;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let op = args.next().unwrap_or_else(|| "parse".to_owned());
    let mib: usize = args.next().map_or(Ok(1), |a| a.parse())?;
    let iterations: u32 = args.next().map_or(Ok(100), |a| a.parse())?;
    if op != "build" && op != "parse" {
        return Err(format!("operation {op:?}: build or parse").into());
    }

    let rsa = keys::generate_rsa_key(&as2_core::crypto::rust_crypto::DEFAULT_PROVIDER, 2048)?;
    let key = as2_crypto_aws_lc::AwsLcKey::new(&rsa)?;
    let key: &dyn PrivateKeyOps = &key;
    let cert = generate_self_signed(
        &as2_core::crypto::rust_crypto::DEFAULT_PROVIDER,
        &rsa,
        "CN=profile",
        std::time::SystemTime::now(),
        Duration::from_secs(86_400),
    )?;
    let seg = b"PO1*1*10*EA*9.95**BP*0123456789*VP*ABC-123~\r\n";
    let payload: Vec<u8> = seg
        .iter()
        .copied()
        .cycle()
        .take(mib * 1024 * 1024)
        .collect();

    let mut out = OutboundMessage::new(
        &as2_core::crypto::rust_crypto::DEFAULT_PROVIDER,
        "prof-a",
        "prof-b",
        &payload,
        "application/edi-x12",
    );
    out.signer = Some(Signer::new(
        &cert,
        key,
        SignOptions::new(std::time::SystemTime::now()),
    ));
    out.encryption = Some(message::Encryption::new(
        vec![&cert],
        EncryptOptions::default().with_algorithm(ContentEncryption::Aes256Cbc),
    ));
    let built = message::build_outbound(&out)?;
    let headers = Headers::from_pairs(built.headers.clone());
    let dkeys = [DecryptionKey {
        certificate: &cert,
        key,
    }];
    let trusted = [cert.clone()];
    let cfg = InboundConfig::new(
        &as2_core::crypto::rust_crypto::DEFAULT_PROVIDER,
        &dkeys,
        &trusted,
    )
    .with_require_signature(true)
    .with_require_encryption(true);

    let start = Instant::now();
    for _ in 0..iterations {
        if op == "build" {
            std::hint::black_box(message::build_outbound(&out)?);
        } else {
            std::hint::black_box(message::parse_inbound(&headers, &built.body, &cfg)?);
        }
    }
    let per = start.elapsed() / iterations.max(1);
    writeln!(
        std::io::stdout().lock(),
        "{op} {mib} MiB: {per:?} per message (wall), {iterations} iterations"
    )?;
    Ok(())
}
