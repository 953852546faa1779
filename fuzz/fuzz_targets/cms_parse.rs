//! CMS on arbitrary bytes: SignedData verification (detached, over a fixed content, with
//! the fixed certificate trusted), EnvelopedData/AuthEnvelopedData decryption with the
//! fixed key, decompression, and the certificate helpers.
#![no_main]

use as2_core::cms::{self, DecryptionKey};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let f = as2_core_fuzz::fixture();
    let _ = cms::content_type_of(data);
    let _ = cms::embedded_certificates(data);
    let _ = cms::verify_detached(
        &as2_core::crypto::rust_crypto::DEFAULT_PROVIDER,
        data,
        &[b"content".as_slice(), data],
        std::slice::from_ref(&f.cert),
    );
    let keys = [DecryptionKey {
        certificate: &f.cert,
        key: f.key.as_ref(),
    }];
    let _ = cms::decrypt(
        &as2_core::crypto::rust_crypto::DEFAULT_PROVIDER,
        data,
        &keys,
    );
    let _ = cms::decompress(data, 1 << 20);
    let _ = as2_core::cert::Certificate::load_all(data);
});
