//! The messages every case sends: signed (RSA-2048, SHA-256) and encrypted (AES-256-CBC)
//! 1 KiB EDI payloads from the partner to us, each asking for a signed sync MDN.

use std::sync::Mutex;

use as2_core::cms::{EncryptOptions, SignOptions};
use as2_core::crypto::DigestAlgorithm;
use as2_core::message::{
    BuiltMessage, NotificationOptions, OutboundMessage, Signer, build_outbound,
};
use as2_e2e::seed::Identity;

/// `count` signed + encrypted 1 KiB messages from `partner` to `us` asking for a signed MDN,
/// built on every core.
pub(super) fn build(partner: &Identity, us: &Identity, count: usize) -> Vec<BuiltMessage> {
    let payload: Vec<u8> = b"ISA*00*bench~"
        .iter()
        .copied()
        .cycle()
        .take(1024)
        .collect();
    let next = Mutex::new(0usize);
    let built = Mutex::new(Vec::with_capacity(count));
    std::thread::scope(|s| {
        for _ in 0..std::thread::available_parallelism().map_or(1, usize::from) {
            s.spawn(|| {
                loop {
                    {
                        let mut n = next.lock().expect("lock");
                        if *n >= count {
                            return;
                        }
                        *n += 1;
                    }
                    let mut out = OutboundMessage::new(
                        &as2_core::crypto::rust_crypto::DEFAULT_PROVIDER,
                        "PARTNER",
                        "US",
                        &payload,
                        "application/edi-x12",
                    );
                    out.signer = Some(Signer::new(
                        &partner.cert,
                        partner.key.as_ref(),
                        SignOptions::new(std::time::SystemTime::now()),
                    ));
                    out.encryption = Some(as2_core::message::Encryption::new(
                        vec![&us.cert],
                        EncryptOptions::default(),
                    ));
                    out.mdn_to = Some("partner@example".into());
                    out.mdn_options = Some(NotificationOptions::signed(&[DigestAlgorithm::Sha256]));
                    let message = build_outbound(&out).expect("build");
                    built.lock().expect("lock").push(message);
                }
            });
        }
    });
    built.into_inner().expect("lock")
}
