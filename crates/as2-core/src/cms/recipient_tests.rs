//! Tests of recipients: the cap, one content decryption per key of ours, and RFC 3218
//! (a substitute key never opens a message, even when it decrypts the content).

use std::time::Duration;

use cms::enveloped_data::{KeyTransRecipientInfo, RecipientInfo, RecipientInfos};
use der::asn1::{OctetString, SetOfVec};

use super::substitute_for_tests::with_substitute;
use super::*;
use crate::cert::generate_self_signed;
use crate::cms::enveloped::encode_enveloped_cbc;
use crate::cms::{EncryptOptions, decrypt, encrypt};
use crate::crypto::{DigestAlgorithm, test_key};

fn cert(cn: &str) -> Certificate {
    generate_self_signed(
        crate::testutil::P,
        test_key(),
        cn,
        crate::testutil::now(),
        Duration::from_secs(3600),
    )
    .unwrap()
}

#[test]
fn seventeen_recipients_are_refused() {
    let cert = cert("CN=rcpt");
    let keys = [DecryptionKey {
        certificate: &cert,
        key: test_key(),
    }];
    let sixteen = vec![&cert; MAX_RECIPIENTS];
    let ct = encrypt(
        crate::testutil::P,
        b"content",
        &sixteen,
        EncryptOptions::default(),
    )
    .unwrap();
    assert_eq!(
        decrypt(crate::testutil::P, &ct, &keys).unwrap().content,
        b"content"
    );
    for algorithm in [ContentEncryption::Aes256Cbc, ContentEncryption::Aes128Gcm] {
        let seventeen = vec![&cert; MAX_RECIPIENTS + 1];
        let opts = EncryptOptions {
            algorithm,
            ..EncryptOptions::default()
        };
        let ct = encrypt(crate::testutil::P, b"content", &seventeen, opts).unwrap();
        let err = decrypt(crate::testutil::P, &ct, &keys).unwrap_err();
        assert!(
            matches!(
                err,
                Error::LimitExceeded {
                    limit: Limit::CmsRecipients,
                    max: 16
                }
            ),
            "{algorithm:?}: {err}"
        );
        assert_eq!(
            crate::MdnDisposition::from(&err).modifier(),
            Some(&crate::Modifier::UnsupportedFormat)
        );
    }
}

/// 16 recipients (none naming our certificate) and 2 keys of ours: 2 candidates, so at most
/// 2 content decryptions, where every (recipient, key) pair used to be one.
#[test]
fn one_candidate_per_key_of_ours() {
    let ours = cert("CN=ours");
    let other_key = rsa::PrivateKey::new(&mut rand::rng(), 1024).unwrap();
    let other = generate_self_signed(
        crate::testutil::P,
        &other_key,
        "CN=other",
        crate::testutil::now(),
        Duration::from_secs(3600),
    )
    .unwrap();
    let alg = ContentEncryption::Aes128Cbc;
    let cek = alg.random_key(crate::testutil::P).unwrap();
    let infos: Vec<RecipientInfo> = (0..MAX_RECIPIENTS)
        .map(|_| build_ktri(crate::testutil::P, &other, KeyTransport::RsaPkcs1v15, &cek).unwrap())
        .collect();
    let infos = RecipientInfos(SetOfVec::try_from(infos).unwrap());
    let keys = [
        DecryptionKey {
            certificate: &ours,
            key: test_key(),
        },
        DecryptionKey {
            certificate: &other,
            key: &other_key,
        },
    ];
    // `other` matches: only its key is tried
    let matched = cek_candidates(crate::testutil::P, &infos, &keys, alg).unwrap();
    assert_eq!(matched.len(), 1);
    assert!(bool::from(matched[0].genuine));
    assert_eq!(matched[0].key.as_slice(), cek.as_slice());
    // nothing matches (our certificate only, with the other key behind it): every key of
    // ours tries every recipient, and still yields one candidate
    let unmatched = [
        DecryptionKey {
            certificate: &ours,
            key: &other_key,
        },
        DecryptionKey {
            certificate: &ours,
            key: test_key(),
        },
    ];
    let infos_unmatched = RecipientInfos(
        SetOfVec::try_from(
            (0..MAX_RECIPIENTS)
                .map(|_| {
                    build_ktri(
                        crate::testutil::P,
                        &other,
                        KeyTransport::RsaOaep(DigestAlgorithm::Sha256),
                        &cek,
                    )
                })
                .collect::<Result<Vec<_>>>()
                .unwrap(),
        )
        .unwrap(),
    );
    let other_cert_id = |infos: &RecipientInfos| match &infos.0.as_slice()[0] {
        RecipientInfo::Ktri(k) => rid_matches(&k.rid, &ours),
        _ => unreachable!(),
    };
    assert!(!other_cert_id(&infos_unmatched));
    let candidates = cek_candidates(crate::testutil::P, &infos_unmatched, &unmatched, alg).unwrap();
    assert_eq!(candidates.len(), 2);
    assert!(bool::from(candidates[0].genuine));
    assert_eq!(candidates[0].key.as_slice(), cek.as_slice());
    // OAEP with the wrong key fails outright: the substitute, not genuine
    assert!(!bool::from(candidates[1].genuine));
}

/// The recipient info of `cert` with its wrapped key replaced by garbage.
fn garbage_recipient(cert: &Certificate, cek: &[u8]) -> RecipientInfo {
    let RecipientInfo::Ktri(ktri) = build_ktri(
        crate::testutil::P,
        cert,
        KeyTransport::RsaOaep(DigestAlgorithm::Sha256),
        cek,
    )
    .unwrap() else {
        unreachable!()
    };
    RecipientInfo::Ktri(KeyTransRecipientInfo {
        enc_key: OctetString::new(vec![0x5a; 256]).unwrap(),
        ..ktri
    })
}

/// RFC 3218: a recipient whose wrapped key is garbage, and the substitute key chosen to be
/// the very key the content was encrypted with, so the content decrypts with a valid
/// padding. The outcome is still the one decryption failure, every time.
#[test]
fn substitute_key_that_decrypts_is_still_a_decryption_failure() {
    let cert = cert("CN=rcpt");
    let keys = [DecryptionKey {
        certificate: &cert,
        key: test_key(),
    }];
    for alg in ContentEncryption::ALL.into_iter().filter(|a| !a.is_aead()) {
        let cek = alg.random_key(crate::testutil::P).unwrap();
        let iv = alg.random_iv(crate::testutil::P).unwrap();
        let content = b"Content-Type: text/plain\r\n\r\nnot for you";
        let genuine = RecipientInfos(
            SetOfVec::try_from(vec![
                build_ktri(crate::testutil::P, &cert, KeyTransport::RsaPkcs1v15, &cek).unwrap(),
            ])
            .unwrap(),
        );
        let garbage =
            RecipientInfos(SetOfVec::try_from(vec![garbage_recipient(&cert, &cek)]).unwrap());
        let opened = encode_enveloped_cbc(alg, &cek, &iv, &genuine, content).unwrap();
        assert_eq!(
            decrypt(crate::testutil::P, &opened, &keys).unwrap().content,
            content
        );
        let forged = encode_enveloped_cbc(alg, &cek, &iv, &garbage, content).unwrap();
        // the substitute does decrypt the content: only the genuine flag refuses it
        let substitute = cek_candidates(crate::testutil::P, &garbage, &keys, alg).unwrap();
        assert!(!bool::from(substitute[0].genuine));
        let err = with_substitute(&cek, || {
            let candidates = cek_candidates(crate::testutil::P, &garbage, &keys, alg).unwrap();
            // the key the content was encrypted with: the padding is valid
            assert_eq!(candidates[0].key.as_slice(), cek.as_slice());
            decrypt(crate::testutil::P, &forged, &keys).unwrap_err()
        });
        assert!(matches!(err, Error::Decryption), "{alg:?}: {err}");
        assert_eq!(
            crate::MdnDisposition::from(&err).modifier(),
            Some(&crate::Modifier::DecryptionFailed)
        );
        // and with random substitutes (a valid padding about once in 256; over the four
        // ciphers most likely at least once): always the same failure
        for _ in 0..256 {
            let err = decrypt(crate::testutil::P, &forged, &keys).unwrap_err();
            assert!(matches!(err, Error::Decryption));
        }
    }
}

/// The same through `parse_inbound`: the content the substitute decrypts is a valid,
/// unsigned MIME entity, which would be accepted as a payload were the flag not carried
/// through. It is decryption-failed; the genuine message is accepted.
#[test]
fn substitute_key_never_reaches_mime_parsing() {
    use crate::message::{InboundConfig, parse_inbound};
    use crate::mime::Headers;
    let cert = cert("CN=rcpt");
    let keys = [DecryptionKey {
        certificate: &cert,
        key: test_key(),
    }];
    let cfg = InboundConfig::new(crate::testutil::P, &keys, &[]);
    let headers = Headers::from_pairs([
        ("AS2-From", "stranger"),
        ("AS2-To", "us"),
        (
            "Content-Type",
            "application/pkcs7-mime; smime-type=enveloped-data",
        ),
    ]);
    let alg = ContentEncryption::Aes128Cbc;
    let cek = alg.random_key(crate::testutil::P).unwrap();
    let iv = alg.random_iv(crate::testutil::P).unwrap();
    let content = b"Content-Type: text/plain\r\n\r\naccepted?";
    let genuine = RecipientInfos(
        SetOfVec::try_from(vec![
            build_ktri(crate::testutil::P, &cert, KeyTransport::RsaPkcs1v15, &cek).unwrap(),
        ])
        .unwrap(),
    );
    let opened = encode_enveloped_cbc(alg, &cek, &iv, &genuine, content).unwrap();
    let inbound = parse_inbound(&headers, &opened, &cfg).unwrap();
    assert_eq!(&*inbound.payload, b"accepted?");
    let garbage = RecipientInfos(SetOfVec::try_from(vec![garbage_recipient(&cert, &cek)]).unwrap());
    let forged = encode_enveloped_cbc(alg, &cek, &iv, &garbage, content).unwrap();
    let err = with_substitute(&cek, || parse_inbound(&headers, &forged, &cfg)).unwrap_err();
    assert!(matches!(err, Error::Decryption), "{err}");
    assert_eq!(
        crate::MdnDisposition::from(&err).modifier(),
        Some(&crate::Modifier::DecryptionFailed)
    );
}
