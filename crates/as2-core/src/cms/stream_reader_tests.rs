//! Tests of the streaming CMS reader: pieces of any size, BER and DER, the captures, limits.

use super::*;
use crate::error::Limit;

/// Read `data` in pieces of `step` bytes: the content type, the head and the content.
fn read(data: &[u8], step: usize) -> Result<(ObjectIdentifier, Vec<u8>, Option<Vec<u8>>)> {
    let mut r = CmsStreamReader::new(1 << 20);
    let mut oid = None;
    let mut content = Buf::default();
    let mut pieces = data.chunks(step);
    loop {
        match r.step(&mut content, usize::MAX)? {
            CmsStep::Wait => match pieces.next() {
                Some(p) => r.feed(p)?,
                None => {
                    r.end()?;
                    if let CmsStep::Done = r.step(&mut content, usize::MAX)? {
                        break;
                    }
                    return Err(asn1("truncated"));
                }
            },
            CmsStep::ContentType(o) => oid = Some(o),
            CmsStep::Head(_) | CmsStep::Content => {}
            CmsStep::Done => break,
        }
    }
    Ok((oid.unwrap(), content.as_slice().to_vec(), r.mac.clone()))
}

#[test]
fn compressed_data_in_any_pieces_and_any_form() {
    let der = crate::cms::compress(b"Content-Type: text/plain\r\n\r\nhello").unwrap();
    let zlib = {
        let cd = crate::cms::decompress(&der, 1000).unwrap();
        assert_eq!(cd, b"Content-Type: text/plain\r\n\r\nhello");
        let (_, z, _) = read(&der, der.len()).unwrap();
        z
    };
    // the same structure in BER: indefinite lengths and the content in three pieces
    let mut ber = vec![0x30, 0x80, 0x06, 0x0b];
    ber.extend_from_slice(&[
        0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x01, 0x09,
    ]);
    ber.extend_from_slice(&[0xa0, 0x80, 0x30, 0x80, 0x02, 0x01, 0x00]);
    ber.extend_from_slice(&[0x30, 0x0d, 0x06, 0x0b]);
    ber.extend_from_slice(&[
        0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x03, 0x08,
    ]);
    ber.extend_from_slice(&[0x30, 0x80, 0x06, 0x09]);
    ber.extend_from_slice(&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01]);
    ber.extend_from_slice(&[0xa0, 0x80, 0x24, 0x80]);
    let thirds = zlib.len() / 3;
    for piece in [
        &zlib[..thirds],
        &zlib[thirds..2 * thirds],
        &zlib[2 * thirds..],
    ] {
        ber.push(0x04);
        ber.push(u8::try_from(piece.len()).unwrap());
        ber.extend_from_slice(piece);
    }
    ber.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(
        crate::cms::decompress(&ber, 1000).unwrap(),
        b"Content-Type: text/plain\r\n\r\nhello"
    );
    let b64 = crate::mime::encoding::encode_base64_lines(&ber);
    for data in [&der, &ber, &b64] {
        for step in [1, 2, 3, 7, 100, 10_000] {
            let (oid, content, _) = read(data, step).unwrap();
            assert_eq!(oid, oids::COMPRESSED_DATA);
            assert_eq!(content, zlib, "step {step}");
        }
    }
    // truncated, trailing data, junk
    assert!(read(&ber[..ber.len() - 1], 5).is_err());
    assert!(read(&[ber.as_slice(), b"x"].concat(), 5).is_err());
    assert!(read(b"\x30\x03\x02\x01", 1).is_err());
    assert!(read(b"%%%", 1).is_err());
}

#[test]
fn fields_beyond_the_budget_are_refused() {
    let der = crate::cms::compress(b"x").unwrap();
    let mut r = CmsStreamReader::new(8);
    r.feed(&der).unwrap();
    let mut out = Buf::default();
    let mut result = Ok(CmsStep::Wait);
    for _ in 0..10 {
        result = r.step(&mut out, usize::MAX);
        if result.is_err() {
            break;
        }
    }
    assert!(matches!(
        result,
        Err(Error::LimitExceeded {
            limit: Limit::BufferedBytes,
            ..
        })
    ));
}
