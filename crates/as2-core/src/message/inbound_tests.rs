//! Tests of inbound parsing: round trips with the outbound builder, and real captures.

use std::time::Duration;

use super::*;
use crate::cert::generate_self_signed;
use crate::cms::{EncryptOptions, SignOptions};
use crate::crypto::{DigestAlgorithm, KeyTransport, SignatureScheme, test_key};
use crate::message::{
    Compression, NotificationOptions, OutboundMessage, Signer, UnsignedMic, build_outbound,
};

#[test]
fn round_trip_every_combination() {
    let key = test_key();
    let cert = generate_self_signed(
        crate::testutil::P,
        key,
        "CN=both",
        crate::testutil::now(),
        Duration::from_secs(3600),
    )
    .unwrap();
    let payload = b"UNB+UNOA:2+X'\nUNH+1'\n".as_slice();
    let keys = [DecryptionKey {
        certificate: &cert,
        key,
    }];
    let trusted = [cert.clone()];
    let cfg = InboundConfig::new(crate::testutil::P, &keys, &trusted);
    let encryptions = [
        None,
        Some(ContentEncryption::Des3Cbc),
        Some(ContentEncryption::Aes128Cbc),
        Some(ContentEncryption::Aes192Cbc),
        Some(ContentEncryption::Aes256Cbc),
        Some(ContentEncryption::Aes128Gcm),
        Some(ContentEncryption::Aes256Gcm),
    ];
    let signs = [
        None,
        Some(DigestAlgorithm::Sha1),
        Some(DigestAlgorithm::Sha256),
        Some(DigestAlgorithm::Sha384),
        Some(DigestAlgorithm::Sha512),
    ];
    for compression in [
        Compression::None,
        Compression::BeforeSigning,
        Compression::AfterSigning,
    ] {
        for sign in signs {
            for enc in encryptions {
                let mut m = OutboundMessage::new(
                    crate::testutil::P,
                    "sender",
                    "receiver two",
                    payload,
                    "application/edifact",
                );
                m.filename = Some("order.edi".into());
                m.compression = compression;
                m.signer = sign.map(|digest| Signer {
                    certificate: &cert,
                    key,
                    options: SignOptions {
                        digest,
                        ..SignOptions::new(crate::testutil::now())
                    },
                });
                m.encryption = enc.map(|algorithm| {
                    crate::message::Encryption::new(
                        vec![&cert],
                        EncryptOptions::new(algorithm)
                            .with_key_transport(KeyTransport::RsaOaep(DigestAlgorithm::Sha256)),
                    )
                });
                m.mdn_to = Some("mdn@example.com".into());
                m.mdn_options = Some(NotificationOptions::signed(&[
                    sign.unwrap_or(DigestAlgorithm::Sha256)
                ]));
                let built = build_outbound(&m).unwrap();
                let headers = Headers::from_pairs(built.headers.clone());
                let got = parse_inbound(&headers, &built.body, &cfg)
                    .unwrap_or_else(|e| panic!("{compression:?} {sign:?} {enc:?}: {e}"));
                assert_eq!(got.payload, payload, "{compression:?} {sign:?} {enc:?}");
                assert_eq!(got.envelope.as2_to, "receiver two");
                assert_eq!(got.filename().as_deref(), Some("order.edi"));
                assert_eq!(got.encryption, enc);
                assert_eq!(got.signature.as_ref().map(|s| s.digest), sign);
                assert_eq!(got.compressed, compression != Compression::None);
                assert!(
                    got.mic.matches(&built.mic),
                    "MIC {compression:?} {sign:?} {enc:?}"
                );
                assert!(got.envelope.mdn.as_ref().unwrap().signed());
            }
        }
    }
}

#[test]
fn tampered_and_policy() {
    let key = test_key();
    let cert = generate_self_signed(
        crate::testutil::P,
        key,
        "CN=both",
        crate::testutil::now(),
        Duration::from_secs(3600),
    )
    .unwrap();
    let mut m = OutboundMessage::new(
        crate::testutil::P,
        "a",
        "b",
        b"hello world payload",
        "text/plain",
    );
    m.signer = Some(Signer {
        certificate: &cert,
        key,
        options: SignOptions {
            scheme: SignatureScheme::Pss,
            ..SignOptions::new(crate::testutil::now())
        },
    });
    let built = build_outbound(&m).unwrap();
    let headers = Headers::from_pairs(built.headers.clone());
    let trusted = [cert.clone()];
    let cfg = InboundConfig::new(crate::testutil::P, &[], &trusted).with_require_encryption(true);
    let err = parse_inbound(&headers, &built.body, &cfg).unwrap_err();
    assert_eq!(
        crate::MdnDisposition::from(&err).modifier(),
        Some(&crate::Modifier::InsufficientMessageSecurity)
    );
    let cfg = InboundConfig::new(crate::testutil::P, &[], &trusted);
    let mut body = built.body.clone();
    let pos = crate::mime::find(&body, b"hello").unwrap();
    body[pos] = b'j';
    let err = parse_inbound(&headers, &body, &cfg).unwrap_err();
    assert_eq!(
        crate::MdnDisposition::from(&err).modifier(),
        Some(&crate::Modifier::IntegrityCheckFailed)
    );
    // wrong decryption key: uniform decryption failure
    let other_key = rsa::PrivateKey::new(&mut rand::rng(), 2048).unwrap();
    let mut m = OutboundMessage::new(crate::testutil::P, "a", "b", b"x", "text/plain");
    m.encryption = Some(crate::message::Encryption::new(
        vec![&cert],
        EncryptOptions::default(),
    ));
    let built = build_outbound(&m).unwrap();
    let keys = [DecryptionKey {
        certificate: &cert,
        key: &other_key,
    }];
    let cfg = InboundConfig::new(crate::testutil::P, &keys, &[]);
    let err = parse_inbound(&Headers::from_pairs(built.headers), &built.body, &cfg).unwrap_err();
    assert!(matches!(err, Error::Decryption));
    assert_eq!(
        crate::MdnDisposition::from(&err).modifier(),
        Some(&crate::Modifier::DecryptionFailed)
    );
}

/// Split a capture (HTTP headers, blank line, body) into headers and body.
pub(crate) fn split_capture(data: &[u8]) -> (Headers, Vec<u8>) {
    let e = Entity::parse(data).unwrap();
    (e.headers().clone(), e.body().to_vec())
}

#[test]
fn mendelson_captures() {
    let Some(dir) = crate::testutil::vectors() else {
        return;
    };
    let read = |f: &str| std::fs::read(dir.join(f)).unwrap();
    let bundle = crate::keys::load_pkcs12(&read("cert_test.p12"), "test").unwrap();
    let partner = Certificate::load(&read("cert_mecas2_public.pem")).unwrap();
    let keys = [DecryptionKey {
        certificate: &bundle.certificate,
        key: &bundle.key,
    }];
    let trusted = [partner];
    let cfg = InboundConfig::new(crate::testutil::P, &keys, &trusted);
    let payload = read("payload.txt");
    for (f, signed, encrypted, compressed) in [
        ("mecas2_signed.as2", true, false, false),
        ("mecas2_encrypted.as2", false, true, false),
        ("mecas2_compressed.as2", true, false, true),
        ("mecas2_signed_encrypted.as2", true, true, false),
        ("mecas2_compressed_signed_encrypted.as2", true, true, true),
    ] {
        let (headers, body) = split_capture(&read(f));
        let m = parse_inbound(&headers, &body, &cfg).unwrap_or_else(|e| panic!("{f}: {e}"));
        assert_eq!(m.payload, payload, "{f}");
        assert_eq!(m.signature.is_some(), signed, "{f}");
        assert_eq!(m.encryption.is_some(), encrypted, "{f}");
        assert_eq!(m.compressed, compressed, "{f}");
        assert_eq!(m.envelope.as2_from, "mecas2");
        if encrypted {
            assert_eq!(m.encryption, Some(ContentEncryption::Des3Cbc), "{f}");
        }
    }
}

#[test]
fn sterling_capture() {
    let Some(dir) = crate::testutil::vectors() else {
        return;
    };
    let read = |f: &str| std::fs::read(dir.join(f)).unwrap();
    let partner = Certificate::load(&read("cert_sb2bi_public.pem")).unwrap();
    let trusted = [partner];
    let cfg = InboundConfig::new(crate::testutil::P, &[], &trusted);
    let (headers, body) = split_capture(&read("sb2bi_signed_cmp.msg"));
    let m = parse_inbound(&headers, &body, &cfg).unwrap();
    assert!(m.compressed);
    assert_eq!(m.signature.as_ref().unwrap().digest, DigestAlgorithm::Sha1);
    assert_eq!(m.mic.algorithm, DigestAlgorithm::Sha1);
    assert!(!m.payload.is_empty());
}

#[test]
fn mutated_captures_never_panic() {
    let Some(dir) = crate::testutil::vectors() else {
        return;
    };
    let read = |f: &str| std::fs::read(dir.join(f)).unwrap();
    let bundle = crate::keys::load_pkcs12(&read("cert_test.p12"), "test").unwrap();
    let partner = Certificate::load(&read("cert_mecas2_public.pem")).unwrap();
    let keys = [DecryptionKey {
        certificate: &bundle.certificate,
        key: &bundle.key,
    }];
    let trusted = [partner];
    let cfg = InboundConfig::new(crate::testutil::P, &keys, &trusted);
    for f in [
        "mecas2_signed.as2",
        "mecas2_compressed.as2",
        "mecas2_compressed_signed_encrypted.as2",
        "sb2bi_signed_cmp.msg",
    ] {
        let (headers, body) = split_capture(&read(f));
        let step = (body.len() / 97).max(1);
        for i in (0..body.len()).step_by(step) {
            let mut b = body.clone();
            b[i] ^= 0x5a;
            let _ = parse_inbound(&headers, &b, &cfg);
            let _ = parse_inbound(&headers, &body[..i], &cfg);
            let _ = crate::mdn::parse_mdn(&headers, &b, &trusted);
        }
    }
}

#[test]
fn vector_payloads_round_trip() {
    let Some(dir) = crate::testutil::vectors() else {
        return;
    };
    let key = test_key();
    let cert = generate_self_signed(
        crate::testutil::P,
        key,
        "CN=both",
        crate::testutil::now(),
        Duration::from_secs(3600),
    )
    .unwrap();
    let keys = [DecryptionKey {
        certificate: &cert,
        key,
    }];
    let trusted = [cert.clone()];
    let cfg = InboundConfig::new(crate::testutil::P, &keys, &trusted);
    for f in ["payload.txt", "payload_dos.txt", "payload.binary"] {
        let payload = std::fs::read(dir.join(f)).unwrap();
        for compression in [
            Compression::None,
            Compression::BeforeSigning,
            Compression::AfterSigning,
        ] {
            let mut m = OutboundMessage::new(
                crate::testutil::P,
                "a",
                "b",
                &payload,
                "application/octet-stream",
            );
            m.compression = compression;
            m.signer = Some(Signer {
                certificate: &cert,
                key,
                options: SignOptions::new(crate::testutil::now()),
            });
            m.encryption = Some(crate::message::Encryption::new(
                vec![&cert],
                EncryptOptions::default(),
            ));
            let built = build_outbound(&m).unwrap();
            let got = parse_inbound(
                &Headers::from_pairs(built.headers.clone()),
                &built.body,
                &cfg,
            )
            .unwrap();
            assert_eq!(got.payload, payload, "{f} {compression:?}");
            assert!(got.mic.matches(&built.mic), "{f} {compression:?}");
            assert_eq!(
                got.signature.as_ref().unwrap().content_index,
                0,
                "raw bytes verify first"
            );
        }
    }
}

#[test]
fn mic_algorithm_follows_the_chosen_rule_when_the_partner_asks_for_another_digest() {
    let key = test_key();
    let cert = generate_self_signed(
        crate::testutil::P,
        key,
        "CN=mic",
        crate::testutil::now(),
        Duration::from_secs(3600),
    )
    .unwrap();
    let trusted = [cert.clone()];
    let mut m = OutboundMessage::new(
        crate::testutil::P,
        "a",
        "b",
        b"ISA*00*~",
        "application/edi-x12",
    );
    m.signer = Some(Signer {
        certificate: &cert,
        key,
        options: SignOptions::new(crate::testutil::now()),
    });
    m.mdn_to = Some("a@example".into());
    // Signed with sha256, MDN MIC requested in sha512 only.
    m.mdn_options = Some(NotificationOptions::signed(&[DigestAlgorithm::Sha512]));
    let built = build_outbound(&m).unwrap();
    let headers = Headers::from_pairs(built.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())));
    let negotiated = parse_inbound(
        &headers,
        &built.body,
        &InboundConfig::new(crate::testutil::P, &[], &trusted),
    )
    .unwrap();
    assert_eq!(negotiated.mic.algorithm, DigestAlgorithm::Sha512);
    let by_signature = parse_inbound(
        &headers,
        &built.body,
        &InboundConfig::new(crate::testutil::P, &[], &trusted)
            .with_mic_choice(MicChoice::SignatureDigest),
    )
    .unwrap();
    assert_eq!(by_signature.mic.algorithm, DigestAlgorithm::Sha256);
    // Same bytes, other digest: the sender's own MIC (sha256) equals the second one.
    assert!(by_signature.mic.matches(&built.mic));
    assert!(!negotiated.mic.matches(&built.mic));
}

/// The MIC computed without a second hash (signed: the signature's messageDigest;
/// encrypted only: the canonical header block hashed with the body) is the digest of the
/// bytes RFC 4130 names, computed independently here.
#[test]
fn mic_equals_the_digest_of_the_rfc_4130_bytes() {
    let key = test_key();
    let cert = generate_self_signed(
        crate::testutil::P,
        key,
        "CN=mic2",
        crate::testutil::now(),
        Duration::from_secs(3600),
    )
    .unwrap();
    let keys = [DecryptionKey {
        certificate: &cert,
        key,
    }];
    let trusted = [cert.clone()];
    let cfg = InboundConfig::new(crate::testutil::P, &keys, &trusted)
        .with_mic_choice(MicChoice::SignatureDigest);
    let payload = vec![b'x'; 100_000];
    for encrypt in [false, true] {
        let mut m = OutboundMessage::new(
            crate::testutil::P,
            "a",
            "b",
            &payload,
            "application/edi-x12",
        );
        m.signer = Some(Signer {
            certificate: &cert,
            key,
            options: SignOptions::new(crate::testutil::now()),
        });
        if encrypt {
            m.encryption = Some(crate::message::Encryption::new(
                vec![&cert],
                EncryptOptions::default(),
            ));
        }
        let built = build_outbound(&m).unwrap();
        let headers = Headers::from_pairs(built.headers.clone());
        let top = Entity::from_parts(headers.clone(), &built.body);
        let signed_entity = if encrypt {
            let d = cms::decrypt(crate::testutil::P, &built.body, &keys).unwrap();
            Entity::parse(&d.content).unwrap()
        } else {
            top
        };
        let (signed, _) = signed_entity.split_signed().unwrap();
        let expected = Mic::compute(DigestAlgorithm::Sha256, signed.raw());
        assert_eq!(built.mic, expected, "build, encrypt={encrypt}");
        let got = parse_inbound(&headers, &built.body, &cfg).unwrap();
        assert_eq!(got.mic, expected, "parse, encrypt={encrypt}");
        assert_eq!(got.payload, payload);
        assert_eq!(got.payload_entity, signed);
    }
    // encrypted only, LF header block: the MIC is over the canonical headers and the body
    // as it is
    let inner = b"Content-Type: text/plain\nX-A: b\n\nline one\nline two\n".to_vec();
    let body = cms::encrypt(
        crate::testutil::P,
        &inner,
        &[&cert],
        EncryptOptions::default(),
    )
    .unwrap();
    let headers = Headers::from_pairs([
        ("AS2-From", "a"),
        ("AS2-To", "b"),
        (
            "Content-Type",
            "application/pkcs7-mime; smime-type=enveloped-data",
        ),
    ]);
    let got = parse_inbound(&headers, &body, &cfg).unwrap();
    let expected = Mic::compute(DigestAlgorithm::Sha256, &canonicalize_headers(&inner));
    assert_eq!(got.mic, expected);
    assert_eq!(&got.payload[..], b"line one\nline two\n");
}

/// RFC 4130 §7.3.1 and RFC 5402 §4, the unsigned cases, on both sides: a message neither
/// signed, encrypted nor compressed has its MIC over the content alone, without MIME
/// headers; a compressed one over the uncompressed entity with its headers as received.
#[test]
fn the_mic_of_an_unsigned_message_follows_the_rfc_per_nesting() {
    let cfg = InboundConfig::new(crate::testutil::P, &[], &[]);
    let payload = b"UNB+UNOC:3+A+B+261204:1200+1'\r\nUNZ+1+1'\r\n".to_vec();
    // plain: the content alone (its MIME headers travel as HTTP headers)
    let plain = OutboundMessage::new(
        crate::testutil::P,
        "a",
        "b",
        &payload,
        "application/edifact",
    );
    let built = build_outbound(&plain).unwrap();
    let content_only = Mic::compute(DigestAlgorithm::Sha256, &payload);
    assert_eq!(built.mic, content_only, "build, plain");
    let headers = Headers::from_pairs(built.headers.clone());
    let got = parse_inbound(&headers, &built.body, &cfg).unwrap();
    assert_eq!(got.mic, content_only, "parse, plain");
    // compressed only: the uncompressed entity, headers included (RFC 5402)
    let mut compressed = plain.clone();
    compressed.compression = Compression::BeforeSigning;
    let built = build_outbound(&compressed).unwrap();
    let inflated = cms::decompress(&built.body, 1 << 20).unwrap();
    assert!(inflated.starts_with(b"Content-Type: application/edifact"));
    let entity_with_headers = Mic::compute(DigestAlgorithm::Sha256, &inflated);
    assert_ne!(entity_with_headers, content_only);
    assert_eq!(built.mic, entity_with_headers, "build, compressed");
    let headers = Headers::from_pairs(built.headers.clone());
    let got = parse_inbound(&headers, &built.body, &cfg).unwrap();
    assert_eq!(got.mic, entity_with_headers, "parse, compressed");
}

/// A partner known to hash a plain message's entity with its headers
/// ([`UnsignedMic::WithHeaders`]): both sides then agree on `Content-Type`,
/// `Content-Transfer-Encoding` and `Content-Disposition` before the content; a message with
/// a layer follows the RFC whatever the setting says.
#[test]
fn a_partner_hashing_headers_gets_the_mic_of_the_plain_entity_on_both_sides() {
    let payload = b"ISA*00*          *00*~\r\nIEA*1*000000001~\r\n".to_vec();
    let mut plain = OutboundMessage::new(
        crate::testutil::P,
        "a",
        "b",
        &payload,
        "application/edi-x12",
    );
    plain.filename = Some("order.x12".into());
    plain.unsigned_mic = UnsignedMic::WithHeaders;
    let built = build_outbound(&plain).unwrap();
    let mut entity = b"Content-Type: application/edi-x12\r\n\
Content-Transfer-Encoding: binary\r\n\
Content-Disposition: attachment; filename=\"order.x12\"\r\n\r\n"
        .to_vec();
    entity.extend_from_slice(&payload);
    let with_headers = Mic::compute(DigestAlgorithm::Sha256, &entity);
    assert_eq!(built.mic, with_headers, "build");
    let headers = Headers::from_pairs(built.headers.clone());
    let rfc = InboundConfig::new(crate::testutil::P, &[], &[]);
    let got = parse_inbound(&headers, &built.body, &rfc).unwrap();
    assert_eq!(
        got.mic,
        Mic::compute(DigestAlgorithm::Sha256, &payload),
        "parse under the RFC rule: the content alone"
    );
    let hashing = rfc.with_unsigned_mic(UnsignedMic::WithHeaders);
    let got = parse_inbound(&headers, &built.body, &hashing).unwrap();
    assert_eq!(got.mic, with_headers, "parse, headers hashed");
    // compressed: the RFC 5402 entity, the setting has no say
    let mut compressed = plain.clone();
    compressed.compression = Compression::BeforeSigning;
    let a = build_outbound(&compressed).unwrap();
    compressed.unsigned_mic = UnsignedMic::ContentOnly;
    let b = build_outbound(&compressed).unwrap();
    assert_eq!(a.mic, b.mic, "a layer follows the RFC whatever the setting");
    let got = parse_inbound(&Headers::from_pairs(a.headers.clone()), &a.body, &hashing).unwrap();
    assert_eq!(got.mic, a.mic);
}
