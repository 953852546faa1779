//! Tests of the streaming encoder: the same bytes and MIC whatever the cuts of the payload,
//! the announced length, the parse side accepting every output, and bounded buffers.

use std::time::{Duration, SystemTime};

use super::*;
use crate::cert::{Certificate, generate_self_signed};
use crate::cms::{DecryptionKey, EncryptOptions, SignOptions};
use crate::crypto::{ContentEncryption, KeyTransport, SignatureScheme, test_key};
use crate::message::{
    Encryption, InboundConfig, NotificationOptions, Signer, build_outbound, parse_inbound,
};
use crate::testutil::{P, seeded_provider};

fn certificate() -> Certificate {
    let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    generate_self_signed(
        P,
        test_key(),
        "CN=encoder",
        at,
        Duration::from_secs(1 << 30),
    )
    .unwrap()
}

/// Cut sizes from a seed (splitmix64): between 1 and `max` bytes each.
fn cuts(seed: u64, max: usize) -> impl FnMut() -> usize {
    let mut state = seed;
    move || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        1 + (z ^ (z >> 31)) as usize % max
    }
}

/// One configuration of the matrix.
#[derive(Debug, Clone, Copy)]
struct Case {
    sign: Option<SignatureScheme>,
    encrypt: Option<(ContentEncryption, KeyTransport)>,
    compression: Compression,
    signed_attributes: bool,
}

fn matrix() -> Vec<Case> {
    let mut cases = Vec::new();
    let encryptions = [
        None,
        Some((ContentEncryption::Aes256Cbc, KeyTransport::RsaPkcs1v15)),
        Some((
            ContentEncryption::Aes128Gcm,
            KeyTransport::RsaOaep(DigestAlgorithm::Sha256),
        )),
        Some((
            ContentEncryption::Des3Cbc,
            KeyTransport::RsaOaep(DigestAlgorithm::Sha1),
        )),
        Some((ContentEncryption::Aes256Gcm, KeyTransport::RsaPkcs1v15)),
    ];
    for sign in [
        None,
        Some(SignatureScheme::Pkcs1v15),
        Some(SignatureScheme::Pss),
    ] {
        for encrypt in encryptions {
            for compression in [
                Compression::None,
                Compression::BeforeSigning,
                Compression::AfterSigning,
            ] {
                cases.push(Case {
                    sign,
                    encrypt,
                    compression,
                    signed_attributes: true,
                });
            }
        }
    }
    cases.push(Case {
        sign: Some(SignatureScheme::Pkcs1v15),
        encrypt: Some((ContentEncryption::Aes256Cbc, KeyTransport::RsaPkcs1v15)),
        compression: Compression::None,
        signed_attributes: false,
    });
    cases
}

fn message<'a>(
    provider: &'a CryptoProvider,
    cert: &'a Certificate,
    case: Case,
    payload: &'a [u8],
) -> OutboundMessage<'a> {
    let mut m = OutboundMessage::new(
        provider,
        "sender",
        "receiver",
        payload,
        "application/edi-x12",
    );
    m.filename = Some("order.edi".into());
    m.compression = case.compression;
    let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    m.signer = case.sign.map(|scheme| {
        Signer::new(
            cert,
            test_key(),
            SignOptions::new(at)
                .with_scheme(scheme)
                .with_signed_attributes(case.signed_attributes),
        )
    });
    m.encryption = case.encrypt.map(|(alg, kt)| {
        Encryption::new(vec![cert], EncryptOptions::new(alg).with_key_transport(kt))
    });
    m.mdn_to = Some("mdn@example.com".into());
    m.mdn_options = Some(NotificationOptions::signed(&[DigestAlgorithm::Sha256]));
    m
}

/// What a streamed encoding gave.
struct Streamed {
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    tail: BuiltTail,
    declared: Option<u64>,
}

/// Encode `payload` pushed in the cuts `next_cut` gives.
fn streamed(
    m: &OutboundMessage<'_>,
    payload: &[u8],
    mut next_cut: impl FnMut() -> usize,
) -> Streamed {
    let mut encoder = OutboundEncoder::new(m, Some(payload.len() as u64)).unwrap();
    let headers = encoder.headers().to_vec();
    let declared = encoder.content_length();
    let mut body = Vec::new();
    let mut rest = payload;
    while !rest.is_empty() {
        let (piece, after) = rest.split_at(next_cut().min(rest.len()));
        encoder.push(piece, &mut body).unwrap();
        rest = after;
    }
    let tail = encoder.finish(&mut body).unwrap();
    Streamed {
        headers,
        body,
        tail,
        declared,
    }
}

fn payload(len: usize) -> Vec<u8> {
    b"PO1*1*10*EA*9.95**BP*0123456789~\r\n"
        .iter()
        .copied()
        .cycle()
        .take(len)
        .collect()
}

/// The property: for every configuration, pushing the payload in random cuts (1 byte up)
/// gives the body, headers and MIC of the whole-buffer build from the same randomness; the
/// announced length is the body's; and the parse side reads the payload and MIC back.
#[test]
fn any_cuts_give_the_whole_buffer_build() {
    let cert = certificate();
    let keys = [DecryptionKey {
        certificate: &cert,
        key: test_key(),
    }];
    let trusted = [cert.clone()];
    let cfg = InboundConfig::new(P, &keys, &trusted);
    for (i, case) in matrix().into_iter().enumerate() {
        for (len, max_cut) in [
            (0usize, 1usize),
            (2_000, 1),
            (2_000, 300),
            (150_000, 70_000),
        ] {
            let data = payload(len);
            let seed = 1000 + i as u64;
            let provider = seeded_provider(seed);
            let built = build_outbound(&message(&provider, &cert, case, &data)).unwrap();
            for round in 0..2u64 {
                let provider = seeded_provider(seed);
                let m = message(&provider, &cert, case, &[]);
                let Streamed {
                    headers,
                    body,
                    tail,
                    declared,
                } = streamed(&m, &data, cuts(seed * 7 + round + len as u64, max_cut));
                assert_eq!(headers, built.headers, "{case:?} {len}");
                assert!(
                    body == built.body,
                    "{case:?} {len} {max_cut}: bodies differ"
                );
                assert_eq!(tail.mic, built.mic, "{case:?} {len}");
                assert_eq!(tail.message_id, built.message_id);
                assert_eq!(
                    declared.is_some(),
                    case.compression == Compression::None,
                    "{case:?}"
                );
                if let Some(declared) = declared {
                    assert_eq!(declared, body.len() as u64, "{case:?} {len}");
                }
            }
            let got = parse_inbound(
                &Headers::from_pairs(built.headers.clone()),
                &built.body,
                &cfg,
            )
            .unwrap_or_else(|e| panic!("{case:?} {len}: {e}"));
            assert_eq!(got.payload, data, "{case:?} {len}");
            assert!(got.mic.matches(&built.mic), "MIC {case:?} {len}");
        }
    }
}

/// 64 MiB pushed in 64 KiB pieces, signed and encrypted (and, in a smaller run,
/// compressed): the encoder's buffers stay within the budget, far below the payload.
#[test]
fn buffers_stay_within_the_budget() {
    let cert = certificate();
    let piece = payload(64 * 1024);
    for (case, total) in [
        (
            Case {
                sign: Some(SignatureScheme::Pkcs1v15),
                encrypt: Some((ContentEncryption::Aes256Cbc, KeyTransport::RsaPkcs1v15)),
                compression: Compression::None,
                signed_attributes: true,
            },
            64usize << 20,
        ),
        (
            Case {
                sign: Some(SignatureScheme::Pss),
                encrypt: Some((ContentEncryption::Aes256Gcm, KeyTransport::RsaPkcs1v15)),
                compression: Compression::AfterSigning,
                signed_attributes: true,
            },
            8 << 20,
        ),
    ] {
        let m = message(P, &cert, case, &[]);
        let mut encoder = OutboundEncoder::new(&m, Some(total as u64)).unwrap();
        let mut out = Vec::new();
        let mut most = 0;
        let mut sent = 0u64;
        for _ in 0..total / piece.len() {
            encoder.push(&piece, &mut out).unwrap();
            sent += out.len() as u64;
            out.clear();
            most = most.max(encoder.buffered_len());
        }
        let declared = encoder.content_length();
        encoder.finish(&mut out).unwrap();
        sent += out.len() as u64;
        assert!(most <= BUFFER_BUDGET, "{case:?}: {most} bytes buffered");
        if let Some(declared) = declared {
            assert_eq!(declared, sent);
        }
    }
}

#[test]
fn the_announced_payload_length_is_held_to() {
    let cert = certificate();
    let case = matrix()[3];
    let m = message(P, &cert, case, &[]);
    let mut encoder = OutboundEncoder::new(&m, Some(4)).unwrap();
    let mut out = Vec::new();
    assert!(encoder.push(b"12345", &mut out).is_err());
    let mut encoder = OutboundEncoder::new(&m, Some(4)).unwrap();
    encoder.push(b"123", &mut out).unwrap();
    assert!(encoder.finish(&mut out).is_err());
    // an unknown length: no Content-Length, and any amount
    let mut encoder = OutboundEncoder::new(&m, None).unwrap();
    assert_eq!(encoder.content_length(), None);
    encoder.push(b"12345", &mut out).unwrap();
    encoder.finish(&mut out).unwrap();
}

/// With the payload length unknown nothing is announced, every layer uses BER indefinite
/// lengths, and the parse side still reads the payload and the MIC, for every case.
#[test]
fn an_unknown_length_streams_ber_that_parses() {
    let cert = certificate();
    let keys = [DecryptionKey {
        certificate: &cert,
        key: test_key(),
    }];
    let trusted = [cert.clone()];
    let cfg = InboundConfig::new(P, &keys, &trusted);
    let data = payload(40_000);
    for case in matrix() {
        let m = message(P, &cert, case, &[]);
        let mut encoder = OutboundEncoder::new(&m, None).unwrap();
        assert_eq!(encoder.content_length(), None);
        let headers = Headers::from_pairs(encoder.headers().to_vec());
        let mut body = Vec::new();
        let mut next_cut = cuts(99, 5_000);
        let mut rest = data.as_slice();
        while !rest.is_empty() {
            let (piece, after) = rest.split_at(next_cut().min(rest.len()));
            encoder.push(piece, &mut body).unwrap();
            rest = after;
        }
        let tail = encoder.finish(&mut body).unwrap();
        if case.encrypt.is_some() {
            assert_eq!(body.get(1), Some(&0x80), "{case:?}: indefinite length");
        }
        let got = parse_inbound(&headers, &body, &cfg).unwrap_or_else(|e| panic!("{case:?}: {e}"));
        assert_eq!(got.payload, data, "{case:?}");
        assert!(got.mic.matches(&tail.mic), "MIC {case:?}");
    }
}

/// An encoder can be held across an `.await` in a task on a multi-threaded runtime.
#[test]
fn the_encoder_is_send() {
    fn send<T: Send>() {}
    send::<OutboundEncoder<'static>>();
}
