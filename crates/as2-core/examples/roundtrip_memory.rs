//! Peak memory of one AS2 round trip: build (sign SHA-256, encrypt AES-256-CBC, no
//! compression) and parse (decrypt, verify, MIC) a payload of N MiB (default 100). Run it
//! under `/usr/bin/time -v` and divide "Maximum resident set size" by the payload size;
//! `cargo xtask bench core` does exactly that.
//!
//! ```text
//! cargo run --release -p as2-core --example roundtrip_memory -- 100
//! ```

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
    let key = keys::generate_rsa_key(2048)?;
    let cert = generate_self_signed(&key, "CN=memory", Duration::from_secs(86_400))?;

    let seg = b"PO1*1*10*EA*9.95**BP*0123456789*VP*ABC-123~\r\n";
    let payload: Vec<u8> = seg.iter().copied().cycle().take(len).collect();

    let mut out = OutboundMessage::new("mem-a", "mem-b", &payload, "application/edi-x12");
    out.signer = Some(Signer {
        certificate: &cert,
        key: &key,
        options: SignOptions::default(),
    });
    out.encryption = Some((
        vec![&cert],
        EncryptOptions {
            algorithm: crypto::ContentEncryption::Aes256Cbc,
            ..EncryptOptions::default()
        },
    ));
    let built = message::build_outbound(&out)?;
    let body_len = built.body.len();

    let headers = Headers::from_pairs(built.headers.clone());
    let dkeys = [DecryptionKey {
        certificate: &cert,
        key: &key,
    }];
    let trusted = [cert.clone()];
    let cfg = InboundConfig {
        decryption_keys: &dkeys,
        trusted_signers: &trusted,
        require_signature: true,
        require_encryption: true,
        ..Default::default()
    };
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
