//! The streaming `InboundDecoder` on arbitrary `headers, blank line, body` input, the body
//! pushed in pieces whose sizes the first byte chooses, with the fixed key and certificate:
//! never a panic, never more held than the budget (plus the queues), and the same outcome
//! as `parse_inbound` on the whole body (payload and MIC, or an error).
#![no_main]

use as2_core::cms::DecryptionKey;
use as2_core::message::{
    DecoderEvent, InboundConfig, InboundDecoder, InboundLimits, parse_inbound,
};
use libfuzzer_sys::fuzz_target;

/// What the decoder may hold: the 1 MiB budget and the queues between its stages.
const MAX_HELD: usize = (1 << 20) + (4 << 20);

fuzz_target!(|data: &[u8]| {
    let Some((&first, data)) = data.split_first() else {
        return;
    };
    let f = as2_core_fuzz::fixture();
    let Some((headers, body)) = as2_core_fuzz::split_message(data) else {
        return;
    };
    let keys = [DecryptionKey {
        certificate: &f.cert,
        key: f.key.as_ref(),
    }];
    let cfg = InboundConfig::new(
        &as2_core::crypto::rust_crypto::DEFAULT_PROVIDER,
        &keys,
        std::slice::from_ref(&f.cert),
    )
    .with_limits(InboundLimits::new().with_max_decompressed_total(1 << 20));
    let step = usize::from(first % 64) + 1;
    let streamed = (|| {
        let mut d = InboundDecoder::new(&headers, &cfg)?;
        let mut payload = Vec::new();
        let mut rest = body;
        loop {
            while let Some(e) = d.next_event()? {
                if let DecoderEvent::Payload(c) = e {
                    payload.extend_from_slice(c);
                }
            }
            assert!(d.buffered_len() <= MAX_HELD, "{}", d.buffered_len());
            if rest.is_empty() {
                break;
            }
            let n = d.push(&rest[..step.min(rest.len())])?;
            rest = &rest[n..];
        }
        d.end_input();
        while let Some(e) = d.next_event()? {
            if let DecoderEvent::Payload(c) = e {
                payload.extend_from_slice(c);
            }
        }
        let v = d.finish()?;
        Ok::<_, as2_core::Error>((payload, v.mic))
    })();
    let whole = parse_inbound(&headers, body, &cfg).map(|m| (m.payload.to_vec(), m.mic));
    match (&streamed, &whole) {
        (Ok(a), Ok(b)) => assert_eq!(a, b),
        // each stage's output is the same for any split, so the same faults are found; with
        // two faults in one message, which one is named first may depend on the split
        (Err(_), Err(_)) => {}
        _ => panic!("streamed {streamed:?}, whole {whole:?}"),
    }
});
