//! The resource limits of `parse_inbound` on arbitrary bytes with small limits: the input
//! as the content of 1 to 3 nested CompressedData layers (or, for the first mode, as the
//! CompressedData itself), checking that nothing grows past the limits: the payload and
//! every entity within the decompression budget, header blocks and parts within the MIME
//! limits, and every limit error reporting the limit that was configured.
#![no_main]

use as2_core::message::{InboundConfig, InboundLimits, parse_inbound};
use as2_core::mime::{Entity, Headers, MimeLimits};
use as2_core::{Error, Limit, MdnDisposition, Modifier, cms};
use libfuzzer_sys::fuzz_target;

const COMPRESSED: &str = "application/pkcs7-mime; smime-type=compressed-data";

/// The limits chosen by the first bytes of the input: all small.
fn limits(choice: [u8; 4]) -> InboundLimits {
    let mime = MimeLimits::new()
        .with_max_header_lines(usize::from(choice[1] % 16) + 1)
        .with_max_header_bytes(usize::from(choice[2]) * 4 + 16)
        .with_max_parts(usize::from(choice[3] % 8) + 1);
    InboundLimits::new()
        .with_max_decompressed_total(u64::from(choice[0]) * 256 + 64)
        .with_mime(mime)
}

/// `content` in `layers` nested CompressedData layers (the outer one is the body).
fn wrap(content: &[u8], layers: u8) -> Option<Vec<u8>> {
    let mut data = cms::compress(content).ok()?;
    for _ in 1..layers {
        let entity = [
            format!("Content-Type: {COMPRESSED}\r\n\r\n").as_bytes(),
            &data,
        ]
        .concat();
        data = cms::compress(&entity).ok()?;
    }
    Some(data)
}

/// An entity and its parts (one level) within the MIME limits.
fn check_entity(entity: &Entity, mime: &MimeLimits) {
    assert!(entity.headers().len() <= mime.max_header_lines);
    // the raw header block ends with its blank line (at most CRLF)
    assert!(entity.raw_headers().len() <= mime.max_header_bytes + 2);
    match entity.parts() {
        Ok(parts) => {
            assert!(parts.len() <= mime.max_parts);
            for part in &parts {
                assert!(part.headers().len() <= mime.max_header_lines);
                assert!(part.raw_headers().len() <= mime.max_header_bytes + 2);
            }
        }
        Err(Error::LimitExceeded { limit, max }) => {
            let expected = match limit {
                Limit::MultipartParts => mime.max_parts,
                Limit::MimeHeaderLines => mime.max_header_lines,
                Limit::MimeHeaderBytes => mime.max_header_bytes,
                other => panic!("{other} while splitting parts"),
            };
            assert_eq!(max, expected as u64);
        }
        Err(_) => {}
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let Some((choice, content)) = rest.split_first_chunk::<4>() else {
        return;
    };
    let limits = limits(*choice);
    let layers = mode % 4;
    let body = if layers == 0 {
        content.to_vec()
    } else {
        match wrap(content, layers) {
            Some(body) => body,
            None => return,
        }
    };
    let headers = Headers::from_pairs([
        ("AS2-From", "fuzz"),
        ("AS2-To", "us"),
        ("Content-Type", COMPRESSED),
        ("Content-Transfer-Encoding", "binary"),
    ]);
    let cfg = InboundConfig::new(&as2_core::crypto::rust_crypto::DEFAULT_PROVIDER, &[], &[])
        .with_limits(limits);
    let budget = limits.max_decompressed_total;
    match parse_inbound(&headers, &body, &cfg) {
        Ok(m) => {
            assert!(m.compressed);
            assert!(m.payload.len() as u64 <= budget);
            assert!(m.payload_entity.raw().len() as u64 <= budget);
            assert_eq!(m.payload_entity.limits(), &limits.mime);
            check_entity(&m.payload_entity, &limits.mime);
            // one layer inflated to `content` (with more, a wrapper whose header block is
            // beyond the MIME limits is a bare payload, and what it holds is not inflated)
            assert!(layers != 1 || content.len() as u64 <= budget);
        }
        Err(e @ Error::LimitExceeded { limit, max }) => {
            let expected = match limit {
                Limit::DecompressedBytes => {
                    assert_eq!(
                        MdnDisposition::from(&e),
                        MdnDisposition::Error(Modifier::DecompressionFailed)
                    );
                    budget
                }
                Limit::MimeHeaderLines => limits.mime.max_header_lines as u64,
                Limit::MimeHeaderBytes => limits.mime.max_header_bytes as u64,
                Limit::MultipartParts => limits.mime.max_parts as u64,
                _ => max,
            };
            assert_eq!(max, expected, "{e}");
        }
        Err(_) => {}
    }
});
