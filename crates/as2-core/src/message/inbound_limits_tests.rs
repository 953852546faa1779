//! What an inbound message may cost: the decompression budget shared by every layer, and
//! the MIME limits, each proven with the message a stranger could send.

use std::time::{Duration, Instant};

use super::*;
use crate::error::Limit;
use crate::mime::MimeLimits;

/// The HTTP headers of an AS2 request with this content type.
fn as2_headers(content_type: &str) -> Headers {
    Headers::from_pairs([
        ("AS2-From", "stranger"),
        ("AS2-To", "us"),
        ("Message-ID", "<bomb@stranger>"),
        ("Content-Type", content_type),
        ("Content-Transfer-Encoding", "binary"),
    ])
}

const COMPRESSED: &str = "application/pkcs7-mime; smime-type=compressed-data";

fn limit_of(err: &Error) -> Option<Limit> {
    match err {
        Error::LimitExceeded { limit, .. } => Some(*limit),
        _ => None,
    }
}

/// ~100 KB that inflate to 96 MiB of `a:` header lines (32 M lines). With a budget of
/// 4 MiB the inflation stops there: refused as decompression-failed, quickly.
#[test]
fn header_line_bomb_is_refused_by_the_budget() {
    let lines = b"a:\n".repeat(1 << 10);
    let bomb = cms::compress_repeated(&lines, 32 << 10).unwrap();
    assert!(bomb.len() < 150_000, "{} bytes", bomb.len());
    let cfg = InboundConfig::new(crate::testutil::P, &[], &[])
        .with_limits(InboundLimits::new().with_max_decompressed_total(4 << 20));
    let started = Instant::now();
    let err = parse_inbound(&as2_headers(COMPRESSED), &bomb, &cfg).unwrap_err();
    assert!(
        matches!(
            err,
            Error::LimitExceeded {
                limit: Limit::DecompressedBytes,
                max: 0x40_0000
            }
        ),
        "{err}"
    );
    assert_eq!(
        crate::MdnDisposition::from(&err).modifier(),
        Some(&crate::Modifier::DecompressionFailed)
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    // Within the budget (the 1 GiB default), the header block is beyond the MIME limits, so
    // it is never parsed into lines: the inflated bytes are at most a bare payload.
    let inbound = parse_inbound(
        &as2_headers(COMPRESSED),
        &bomb,
        &InboundConfig::new(crate::testutil::P, &[], &[]),
    )
    .unwrap();
    assert!(inbound.payload_entity.headers().is_empty());
    assert_eq!(inbound.payload.len(), 96 << 20);
}

/// Compressed inside compressed: each layer alone is under the budget, both together
/// are not. The budget is for the whole message, byte for byte.
#[test]
fn nested_bomb_is_refused_by_the_total_budget() {
    let inner_entity = [
        b"Content-Type: application/octet-stream\r\n\r\n".as_slice(),
        &vec![b'x'; 1 << 20],
    ]
    .concat();
    let inner = cms::compress(&inner_entity).unwrap();
    let outer_entity = [
        format!("Content-Type: {COMPRESSED}\r\nContent-Transfer-Encoding: binary\r\n\r\n")
            .as_bytes(),
        &inner,
    ]
    .concat();
    let outer = cms::compress(&outer_entity).unwrap();
    let both = (inner_entity.len() + outer_entity.len()) as u64;
    let cfg = |total: u64| {
        InboundConfig::new(crate::testutil::P, &[], &[])
            .with_limits(InboundLimits::new().with_max_decompressed_total(total))
    };
    let headers = as2_headers(COMPRESSED);
    let inbound = parse_inbound(&headers, &outer, &cfg(both)).unwrap();
    assert_eq!(inbound.payload.len(), 1 << 20);
    assert!((inner_entity.len() as u64) < both - 1 && (outer_entity.len() as u64) < both - 1);
    let err = parse_inbound(&headers, &outer, &cfg(both - 1)).unwrap_err();
    assert_eq!(limit_of(&err), Some(Limit::DecompressedBytes), "{err}");
    assert_eq!(
        crate::MdnDisposition::from(&err).modifier(),
        Some(&crate::Modifier::DecompressionFailed)
    );
}

/// A `multipart/signed` body whose signed part has `header_lines` extra header lines,
/// `header_value_len` bytes in one more, and `extra_parts` parts after the signature.
fn signed_body(header_lines: usize, header_value_len: usize, extra_parts: usize) -> Vec<u8> {
    let mut body = String::from("--b\r\n");
    body.push_str(&"X-A: 1\r\n".repeat(header_lines));
    body.push_str(&format!("X-Long: {}\r\n", "v".repeat(header_value_len)));
    body.push_str("Content-Type: text/plain\r\n\r\nhello\r\n");
    body.push_str("--b\r\nContent-Type: application/pkcs7-signature\r\n\r\nAAAA\r\n");
    body.push_str(&"--b\r\n\r\nextra\r\n".repeat(extra_parts));
    body.push_str("--b--\r\n");
    body.into_bytes()
}

const SIGNED: &str = "multipart/signed; protocol=\"application/pkcs7-signature\"; boundary=b";

fn parse_signed(body: &[u8], mime: MimeLimits) -> Result<InboundMessage> {
    let cfg = InboundConfig::new(crate::testutil::P, &[], &[])
        .with_limits(InboundLimits::new().with_mime(mime));
    parse_inbound(&as2_headers(SIGNED), body, &cfg)
}

#[test]
fn header_lines_are_bounded() {
    // 1,001 extra lines: over the default of 1,000
    let err = parse_signed(&signed_body(1_001, 1, 0), MimeLimits::new()).unwrap_err();
    assert_eq!(limit_of(&err), Some(Limit::MimeHeaderLines), "{err}");
    assert_eq!(
        crate::MdnDisposition::from(&err).modifier(),
        Some(&crate::Modifier::UnsupportedFormat)
    );
    // configured: 3 lines (the signed part has 1 + 1 + 1 with one extra)
    let three = MimeLimits::new().with_max_header_lines(3);
    let err = parse_signed(&signed_body(2, 1, 0), three).unwrap_err();
    assert_eq!(limit_of(&err), Some(Limit::MimeHeaderLines), "{err}");
    // within the limit the parts split, and the (junk) signature is what fails
    let err = parse_signed(&signed_body(1, 1, 0), three).unwrap_err();
    assert_eq!(limit_of(&err), None, "{err}");
}

#[test]
fn header_block_size_is_bounded() {
    let err = parse_signed(&signed_body(0, 64 << 10, 0), MimeLimits::new()).unwrap_err();
    assert_eq!(limit_of(&err), Some(Limit::MimeHeaderBytes), "{err}");
    assert_eq!(
        crate::MdnDisposition::from(&err).modifier(),
        Some(&crate::Modifier::UnsupportedFormat)
    );
    let small = MimeLimits::new().with_max_header_bytes(100);
    let err = parse_signed(&signed_body(0, 100, 0), small).unwrap_err();
    assert_eq!(limit_of(&err), Some(Limit::MimeHeaderBytes), "{err}");
    let err = parse_signed(&signed_body(0, 10, 0), small).unwrap_err();
    assert_eq!(limit_of(&err), None, "{err}");
}

#[test]
fn parts_are_bounded() {
    // 2 + 999 parts: over the default of 1,000
    let err = parse_signed(&signed_body(0, 1, 999), MimeLimits::new()).unwrap_err();
    assert_eq!(limit_of(&err), Some(Limit::MultipartParts), "{err}");
    assert_eq!(
        crate::MdnDisposition::from(&err).modifier(),
        Some(&crate::Modifier::UnsupportedFormat)
    );
    let err = parse_signed(&signed_body(0, 1, 998), MimeLimits::new()).unwrap_err();
    assert_eq!(limit_of(&err), None, "{err}");
    let err = parse_signed(&signed_body(0, 1, 0), MimeLimits::new().with_max_parts(1)).unwrap_err();
    assert_eq!(limit_of(&err), Some(Limit::MultipartParts), "{err}");
}

/// The limits reach the parts of the payload the caller splits later (a CEM request).
#[test]
fn payload_entity_keeps_the_limits() {
    let entity = "Content-Type: multipart/related; boundary=b\r\n\r\n--b\r\n\r\n1\r\n--b\r\n\r\n2\r\n--b--\r\n";
    let compressed = cms::compress(entity.as_bytes()).unwrap();
    let cfg = InboundConfig::new(crate::testutil::P, &[], &[])
        .with_limits(InboundLimits::new().with_mime(MimeLimits::new().with_max_parts(1)));
    let inbound = parse_inbound(&as2_headers(COMPRESSED), &compressed, &cfg).unwrap();
    let err = inbound.payload_entity.parts().unwrap_err();
    assert_eq!(limit_of(&err), Some(Limit::MultipartParts), "{err}");
}

/// A partner that must encrypt: a compressed bomb that is not encrypted is refused before a
/// byte is inflated, whatever the budget.
#[test]
fn an_unencrypted_bomb_is_refused_before_inflating_when_encryption_is_required() {
    let lines = b"a:\n".repeat(1 << 10);
    let bomb = cms::compress_repeated(&lines, 32 << 10).unwrap();
    let cfg = InboundConfig::new(crate::testutil::P, &[], &[]).with_require_encryption(true);
    let started = Instant::now();
    let err = parse_inbound(&as2_headers(COMPRESSED), &bomb, &cfg).unwrap_err();
    assert!(matches!(err, Error::InsufficientSecurity(_)), "{err}");
    assert!(
        started.elapsed() < Duration::from_millis(200),
        "{:?}",
        started.elapsed()
    );
}
