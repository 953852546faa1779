//! `parse_inbound` on arbitrary `headers, blank line, body` input with the fixed key for
//! decryption and the fixed certificate as trusted signer.
#![no_main]

use as2_core::cms::DecryptionKey;
use as2_core::message::{Envelope, InboundConfig, parse_inbound};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let f = as2_core_fuzz::fixture();
    let Some((headers, body)) = as2_core_fuzz::split_message(data) else {
        return;
    };
    let _ = Envelope::from_headers(&headers);
    let keys = [DecryptionKey {
        certificate: &f.cert,
        key: f.key.as_ref(),
    }];
    let cfg = InboundConfig::new(
        &as2_core::crypto::rust_crypto::DEFAULT_PROVIDER,
        &keys,
        std::slice::from_ref(&f.cert),
    )
    .with_limits(as2_core::message::InboundLimits::new().with_max_decompressed_total(1 << 20));
    if let Ok(m) = parse_inbound(&headers, body, &cfg) {
        let _ = m.filename();
        let _ = m.safe_filename();
    }
});
