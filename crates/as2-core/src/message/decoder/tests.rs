//! The streaming decoder against the whole-buffer parser: any split of the body, the same
//! result; a failure at the last byte reported at the end only; bounded memory.

use std::sync::OnceLock;
use std::time::Duration;

use proptest::prelude::*;

use super::*;
use crate::cert::{Certificate, generate_self_signed};
use crate::cms::{DecryptionKey, EncryptOptions, SignOptions};
use crate::crypto::{ContentEncryption, test_key};
use crate::message::{
    Compression, Encryption, NotificationOptions, OutboundMessage, Signer, build_outbound,
    parse_inbound,
};
use crate::mime::Entity;
use crate::mime::encoding::encode_base64_lines;

/// A capture (HTTP headers, blank line, body) split into headers and body.
fn split_capture(data: &[u8]) -> (Headers, Vec<u8>) {
    let e = Entity::parse(data).unwrap();
    (e.headers().clone(), e.body().to_vec())
}

/// Everything a decoding yields, comparable.
#[derive(PartialEq, Eq)]
struct Outcome {
    payload: Vec<u8>,
    headers: Headers,
    mic: crate::message::Mic,
    signature: Option<(DigestAlgorithm, usize)>,
    encryption: Option<ContentEncryption>,
    compressed: bool,
}

impl std::fmt::Debug for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outcome")
            .field("payload_len", &self.payload.len())
            .field(
                "payload_sha256",
                &DigestAlgorithm::Sha256.digest(&self.payload),
            )
            .field("headers", &self.headers)
            .field("mic", &self.mic)
            .field("signature", &self.signature)
            .field("encryption", &self.encryption)
            .field("compressed", &self.compressed)
            .finish()
    }
}

/// The decoder fed `body` in pieces of the given sizes (cycled), reading events between.
fn streamed(
    headers: &Headers,
    body: &[u8],
    cfg: &InboundConfig<'_>,
    sizes: &[usize],
) -> Result<Outcome, String> {
    let run = || -> Result<Outcome> {
        let mut d = InboundDecoder::new(headers, cfg)?;
        let mut payload = Vec::new();
        let mut payload_headers = None;
        let mut rest = body;
        let mut sizes = sizes.iter().cycle();
        let mut drain = |d: &mut InboundDecoder<'_>| -> Result<()> {
            while let Some(e) = d.next_event()? {
                match e {
                    DecoderEvent::PayloadHeaders(h) => {
                        assert!(payload_headers.is_none(), "headers twice");
                        payload_headers = Some(h.clone());
                    }
                    DecoderEvent::Payload(c) => payload.extend_from_slice(c),
                }
            }
            Ok(())
        };
        while !rest.is_empty() {
            let size = (*sizes.next().unwrap_or(&1)).max(1);
            let n = d.push(&rest[..size.min(rest.len())])?;
            rest = &rest[n..];
            drain(&mut d)?;
        }
        d.end_input();
        drain(&mut d)?;
        let v = d.finish()?;
        assert_eq!(payload_headers.as_ref(), Some(&v.payload_headers));
        Ok(Outcome {
            payload,
            headers: v.payload_headers,
            mic: v.mic,
            signature: v.signature.map(|s| (s.digest, s.content_index)),
            encryption: v.encryption,
            compressed: v.compressed,
        })
    };
    run().map_err(|e| e.to_string())
}

/// The whole-buffer parser's outcome.
fn whole(headers: &Headers, body: &[u8], cfg: &InboundConfig<'_>) -> Result<Outcome, String> {
    parse_inbound(headers, body, cfg)
        .map(|m| Outcome {
            payload: m.payload.to_vec(),
            headers: m.payload_entity.headers().clone(),
            mic: m.mic,
            signature: m.signature.map(|s| (s.digest, s.content_index)),
            encryption: m.encryption,
            compressed: m.compressed,
        })
        .map_err(|e| e.to_string())
}

/// The payload of the matrix's messages.
const PAYLOAD_LEN: u32 = 5_000;

struct Fixture {
    cert: Certificate,
    /// (name, HTTP headers, body)
    messages: Vec<(String, Headers, Vec<u8>)>,
    vectors: Option<(Certificate, Certificate, crate::keys::KeyBundle)>,
    captures: Vec<(String, Headers, Vec<u8>)>,
}

fn as2_headers(content_type: &str) -> Vec<(String, String)> {
    vec![
        ("AS2-From".into(), "a".into()),
        ("AS2-To".into(), "b".into()),
        ("Message-ID".into(), "<m@x>".into()),
        ("Content-Type".into(), content_type.into()),
        ("Disposition-Notification-To".into(), "mdn@x".into()),
        (
            "Disposition-Notification-Options".into(),
            "signed-receipt-protocol=optional, pkcs7-signature; signed-receipt-micalg=optional, sha-256".into(),
        ),
    ]
}

/// A `multipart/signed` made by hand: a base64 payload part with LF line ends (so the
/// signature verifies over the canonical form only).
fn hand_signed(cert: &Certificate) -> Vec<u8> {
    let payload: Vec<u8> = (0..3000u32).map(|i| (i % 251) as u8).collect();
    let part = [
        b"Content-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n".as_slice(),
        &encode_base64_lines(&payload)
            .iter()
            .copied()
            .filter(|b| *b != b'\r')
            .collect::<Vec<_>>(),
    ]
    .concat();
    let canonical = crate::mime::canonicalize_crlf(&part);
    let sig = crate::cms::sign_detached(
        crate::testutil::P,
        &canonical,
        cert,
        test_key(),
        &SignOptions::new(crate::testutil::now()),
    )
    .unwrap();
    [
        b"preamble\r\n--sep\r\n".as_slice(),
        &part,
        b"\r\n--sep\r\nContent-Type: application/pkcs7-signature\r\nContent-Transfer-Encoding: base64\r\n\r\n",
        &encode_base64_lines(&sig),
        b"--sep--\r\nepilogue",
    ]
    .concat()
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let key = test_key();
        let cert = generate_self_signed(
            crate::testutil::P,
            key,
            "CN=stream",
            crate::testutil::now(),
            Duration::from_secs(3600),
        )
        .unwrap();
        let payload: Vec<u8> = (0..PAYLOAD_LEN).map(|i| (i * 31 % 256) as u8).collect();
        let mut messages = Vec::new();
        for compression in [Compression::None, Compression::BeforeSigning, Compression::AfterSigning]
        {
            for sign in [None, Some(DigestAlgorithm::Sha256), Some(DigestAlgorithm::Sha1)] {
                for enc in [
                    None,
                    Some(ContentEncryption::Aes256Cbc),
                    Some(ContentEncryption::Des3Cbc),
                    Some(ContentEncryption::Aes128Gcm),
                ] {
                    let mut m = OutboundMessage::new(
                        crate::testutil::P,
                        "a",
                        "b",
                        &payload,
                        "application/edi-x12",
                    );
                    m.filename = Some("f.edi".into());
                    m.compression = compression;
                    m.signer = sign.map(|digest| Signer {
                        certificate: &cert,
                        key,
                        options: SignOptions {
                            digest,
                            ..SignOptions::new(crate::testutil::now())
                        },
                    });
                    m.encryption = enc.map(|a| Encryption::new(vec![&cert], EncryptOptions::new(a)));
                    m.mdn_to = Some("mdn@x".into());
                    m.mdn_options = Some(NotificationOptions::signed(&[DigestAlgorithm::Sha256]));
                    let built = build_outbound(&m).unwrap();
                    let name = format!("{compression:?} {sign:?} {enc:?}");
                    let headers = Headers::from_pairs(built.headers.clone());
                    if enc.is_some() && sign.is_some() && compression == Compression::None {
                        // the same, base64 on the wire
                        let mut h = headers.clone();
                        h.set("Content-Transfer-Encoding", "base64");
                        messages.push((
                            format!("{name} base64"),
                            h,
                            encode_base64_lines(&built.body),
                        ));
                    }
                    messages.push((name, headers, built.body));
                }
            }
        }
        let signed_ct = "multipart/signed; protocol=\"application/pkcs7-signature\"; micalg=sha-256; boundary=sep";
        messages.push((
            "hand-signed LF base64".into(),
            Headers::from_pairs(as2_headers(signed_ct)),
            hand_signed(&cert),
        ));
        let mut captures = Vec::new();
        let vectors = crate::testutil::vectors().map(|dir| {
            let read = |f: &str| std::fs::read(dir.join(f)).unwrap();
            for f in [
                "mecas2_signed.as2",
                "mecas2_encrypted.as2",
                "mecas2_compressed.as2",
                "mecas2_signed_encrypted.as2",
                "mecas2_compressed_signed_encrypted.as2",
                "sb2bi_signed_cmp.msg",
            ] {
                let (h, b) = split_capture(&read(f));
                captures.push((f.to_owned(), h, b));
            }
            (
                Certificate::load(&read("cert_mecas2_public.pem")).unwrap(),
                Certificate::load(&read("cert_sb2bi_public.pem")).unwrap(),
                crate::keys::load_pkcs12(&read("cert_test.p12"), "test").unwrap(),
            )
        });
        Fixture {
            cert,
            messages,
            vectors,
            captures,
        }
    })
}

/// Every message of the fixture with the configuration that opens it.
fn each_message(mut check: impl FnMut(&str, &Headers, &[u8], &InboundConfig<'_>)) {
    let f = fixture();
    let keys = [DecryptionKey {
        certificate: &f.cert,
        key: test_key(),
    }];
    let trusted = [f.cert.clone()];
    let cfg = InboundConfig::new(crate::testutil::P, &keys, &trusted);
    for (name, h, b) in &f.messages {
        check(name, h, b, &cfg);
    }
    if let Some((mecas2, sb2bi, bundle)) = &f.vectors {
        let keys = [DecryptionKey {
            certificate: &bundle.certificate,
            key: &bundle.key,
        }];
        let trusted = [mecas2.clone(), sb2bi.clone()];
        let cfg = InboundConfig::new(crate::testutil::P, &keys, &trusted);
        for (name, h, b) in &f.captures {
            check(name, h, b, &cfg);
        }
    }
}

#[test]
fn every_message_of_the_matrix_decodes_in_one_byte_pieces_as_a_whole() {
    each_message(|name, h, b, cfg| {
        let want = whole(h, b, cfg);
        assert!(want.is_ok(), "{name}: {want:?}");
        assert_eq!(streamed(h, b, cfg, &[1]), want, "{name}");
        assert_eq!(streamed(h, b, cfg, &[usize::MAX]), want, "{name}");
    });
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    /// Any split of any message of the matrix gives the whole-buffer result.
    #[test]
    fn any_split_gives_the_whole_buffer_result(
        sizes in proptest::collection::vec(1usize..70_000, 1..8),
        small in proptest::collection::vec(1usize..40, 1..8),
        pick in any::<prop::sample::Index>(),
    ) {
        let mut all = Vec::new();
        each_message(|name, h, b, cfg| {
            let want = whole(h, b, cfg);
            all.push(name.to_owned());
            let mixed: Vec<usize> = sizes.iter().chain(small.iter()).copied().collect();
            assert_eq!(streamed(h, b, cfg, &sizes), want, "{name} {sizes:?}");
            assert_eq!(streamed(h, b, cfg, &mixed), want, "{name} {mixed:?}");
        });
        prop_assert!(!all.is_empty());
        let _ = pick;
    }

    /// A flipped byte anywhere: the same result, or an error, for any split.
    #[test]
    fn a_damaged_message_fails_alike_for_any_split(
        sizes in proptest::collection::vec(1usize..70_000, 1..6),
        at in any::<prop::sample::Index>(),
        which in any::<prop::sample::Index>(),
    ) {
        let mut list = Vec::new();
        each_message(|name, h, b, _| list.push((name.to_owned(), h.clone(), b.to_vec())));
        let (name, h, b) = &list[which.index(list.len())];
        let mut body = b.clone();
        let i = at.index(body.len());
        body[i] ^= 0x21;
        let mut checked = false;
        each_message(|n, _, _, cfg| {
            if n == name && !checked {
                checked = true;
                let want = whole(h, &body, cfg);
                let got = streamed(h, &body, cfg, &sizes);
                // every stage's output is the same for any split, so the same faults are
                // found; which of two is named first may depend on the split
                match (&got, &want) {
                    (Err(_), Err(_)) => {}
                    _ => assert_eq!(got, want, "{name} byte {i} {sizes:?}"),
                }
            }
        });
        prop_assert!(checked);
    }
}

/// A signed message whose last signed byte is wrong: its payload comes out in chunks, and
/// only the verdict fails.
#[test]
fn a_signature_failing_at_the_last_byte_fails_only_the_verdict() {
    let f = fixture();
    let payload: Vec<u8> = (0..200_000u32).map(|i| (i % 253) as u8).collect();
    let mut m = OutboundMessage::new(crate::testutil::P, "a", "b", &payload, "text/plain");
    m.signer = Some(Signer {
        certificate: &f.cert,
        key: test_key(),
        options: SignOptions::new(crate::testutil::now()),
    });
    let built = build_outbound(&m).unwrap();
    let headers = &Headers::from_pairs(built.headers);
    let mut body = built.body;
    // the last payload byte is just before the CRLF that precedes the second delimiter
    let boundary = headers.content_type().param("boundary").unwrap().to_owned();
    let second =
        crate::mime::find(&body[100..], format!("\r\n--{boundary}").as_bytes()).unwrap() + 100;
    body[second - 1] ^= 1;
    let trusted = [f.cert.clone()];
    let cfg = InboundConfig::new(crate::testutil::P, &[], &trusted);
    let mut d = InboundDecoder::new(headers, &cfg).unwrap();
    let mut chunks = 0;
    let mut got = 0;
    let mut rest = body.as_slice();
    while !rest.is_empty() {
        let n = d.push(rest).unwrap();
        rest = &rest[n..];
        while let Some(e) = d.next_event().unwrap() {
            if let DecoderEvent::Payload(c) = e {
                chunks += 1;
                got += c.len();
            }
        }
    }
    d.end_input();
    while let Some(e) = d.next_event().unwrap() {
        if let DecoderEvent::Payload(c) = e {
            chunks += 1;
            got += c.len();
        }
    }
    assert!(chunks > 1, "{chunks} chunks");
    assert_eq!(got, payload.len());
    let err = d.finish().unwrap_err();
    assert_eq!(
        crate::MdnDisposition::from(&err).modifier(),
        Some(&crate::Modifier::IntegrityCheckFailed),
        "{err}"
    );
    assert_eq!(whole(headers, &body, &cfg).unwrap_err(), err.to_string());
}

/// A GCM message whose tag is wrong: the payload comes out, the end fails as a decryption
/// failure.
#[test]
fn a_wrong_gcm_tag_fails_at_the_end() {
    let f = fixture();
    let (_, headers, body) = f
        .messages
        .iter()
        .find(|(n, _, _)| n == "None None Some(Aes128Gcm)")
        .unwrap();
    let mut body = body.clone();
    let last = body.len() - 1;
    body[last] ^= 1;
    let keys = [DecryptionKey {
        certificate: &f.cert,
        key: test_key(),
    }];
    let cfg = InboundConfig::new(crate::testutil::P, &keys, &[]);
    let err = streamed(headers, &body, &cfg, &[4096]).unwrap_err();
    assert_eq!(err, Error::Decryption.to_string());
    assert_eq!(whole(headers, &body, &cfg).unwrap_err(), err);
}

/// 64 MiB signed, compressed and encrypted, pushed 64 KiB at a time: the decoder never
/// holds more than its budget.
#[test]
fn memory_stays_bounded_for_a_large_message() {
    let key = test_key();
    let cert = &fixture().cert;
    // no line breaks: the canonical variants of the signed entity stay the exact bytes
    let payload: Vec<u8> = (0..64u32 << 20)
        .map(|i| b'a' + (i.wrapping_mul(2_654_435_761) >> 28) as u8)
        .collect();
    for compression in [Compression::None, Compression::BeforeSigning] {
        let mut m = OutboundMessage::new(
            crate::testutil::P,
            "a",
            "b",
            &payload,
            "application/octet-stream",
        );
        m.compression = compression;
        m.signer = Some(Signer {
            certificate: cert,
            key,
            options: SignOptions::new(crate::testutil::now()),
        });
        m.encryption = Some(Encryption::new(vec![cert], EncryptOptions::default()));
        let built = build_outbound(&m).unwrap();
        let headers = Headers::from_pairs(built.headers.clone());
        let keys = [DecryptionKey {
            certificate: cert,
            key,
        }];
        let trusted = [cert.clone()];
        let cfg = InboundConfig::new(crate::testutil::P, &keys, &trusted);
        let mut d = InboundDecoder::new(&headers, &cfg).unwrap();
        let mut hasher = hash::Hasher::new(DigestAlgorithm::Sha256);
        let mut peak = 0;
        let mut len = 0;
        let mut drain = |d: &mut InboundDecoder<'_>, peak: &mut usize| {
            *peak = (*peak).max(d.buffered_len());
            while let Some(e) = d.next_event().unwrap() {
                if let DecoderEvent::Payload(c) = e {
                    hasher.update(c);
                    len += c.len();
                }
            }
            *peak = (*peak).max(d.buffered_len());
        };
        for piece in built.body.chunks(64 << 10) {
            let mut rest = piece;
            while !rest.is_empty() {
                let n = d.push(rest).unwrap();
                rest = &rest[n..];
                drain(&mut d, &mut peak);
            }
        }
        d.end_input();
        drain(&mut d, &mut peak);
        let v = d.finish().unwrap();
        assert!(v.signature.is_some());
        assert_eq!(len, payload.len());
        assert_eq!(hasher.finish(), DigestAlgorithm::Sha256.digest(&payload));
        assert!(
            // the queues between the stages (64 KiB each) and what the stages hold
            peak <= 2 << 20,
            "{compression:?}: held {peak} bytes at most"
        );
        assert!(v.mic.matches(&built.mic));
    }
}
