//! `parse_mdn` on arbitrary `headers, blank line, body` input, unsigned and with the fixed
//! certificate trusted, then `check` against a fixed Message-ID and MIC.
#![no_main]

use as2_core::crypto::DigestAlgorithm;
use as2_core::mdn::parse_mdn;
use as2_core::message::Mic;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let f = as2_core_fuzz::fixture();
    let Some((headers, body)) = as2_core_fuzz::split_message(data) else {
        return;
    };
    let mic = Mic::compute(DigestAlgorithm::Sha256, b"payload");
    for trusted in [&[][..], std::slice::from_ref(&f.cert)] {
        if let Ok(m) = parse_mdn(&headers, body, trusted) {
            let _ = m.is_delivered();
            let _ = m.check("<id@fuzz>", Some(&mic), false);
        }
    }
});
