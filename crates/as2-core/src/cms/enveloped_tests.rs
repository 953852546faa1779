//! Tests of EnvelopedData and AuthEnvelopedData: the hand-written DER against the `cms`
//! types and a round trip for every algorithm.

use super::*;
use crate::cert::generate_self_signed;
use crate::crypto::{DigestAlgorithm, test_key};
use std::time::Duration;

/// The DER written by hand is what the `cms` types encode, and decrypts on both paths.
#[test]
fn cbc_encoding_matches_cms_types() {
    let key = test_key();
    let cert = generate_self_signed(
        crate::testutil::P,
        key,
        "CN=rcpt",
        crate::testutil::now(),
        Duration::from_secs(3600),
    )
    .unwrap();
    for alg in ContentEncryption::ALL.into_iter().filter(|a| !a.is_aead()) {
        for len in [0, 1, 15, 16, 17, 200, 70_000] {
            let content: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let cek = alg.random_key(crate::testutil::P).unwrap();
            let iv = alg.random_iv(crate::testutil::P).unwrap();
            let infos = RecipientInfos(
                SetOfVec::try_from(vec![
                    build_ktri(crate::testutil::P, &cert, KeyTransport::RsaPkcs1v15, &cek).unwrap(),
                ])
                .unwrap(),
            );
            let ed = EnvelopedData {
                version: CmsVersion::V0,
                originator_info: None,
                recip_infos: infos.clone(),
                encrypted_content: EncryptedContentInfo {
                    content_type: oids::DATA,
                    content_enc_alg: AlgorithmIdentifierOwned {
                        oid: alg.oid(),
                        parameters: Some(
                            Any::from_der(&OctetString::new(iv.clone()).unwrap().to_der().unwrap())
                                .unwrap(),
                        ),
                    },
                    encrypted_content: Some(
                        OctetString::new(alg.encrypt(&cek, &iv, &[], &content).unwrap()).unwrap(),
                    ),
                },
                unprotected_attrs: None,
            };
            let expected = ContentInfo {
                content_type: oids::ENVELOPED_DATA,
                content: Any::from_der(&ed.to_der().unwrap()).unwrap(),
            }
            .to_der()
            .unwrap();
            let got = encode_enveloped_cbc(alg, &cek, &iv, &infos, &content).unwrap();
            assert_eq!(got, expected, "{alg:?} {len}");
            let keys = [DecryptionKey {
                certificate: &cert,
                key,
            }];
            assert!(parse_enveloped_der(&got).is_some());
            assert_eq!(
                decrypt(crate::testutil::P, &got, &keys).unwrap().content,
                content
            );
            // the owned (BER) path: base64 text is not DER, so it takes that path
            let b64 = crate::mime::encoding::encode_base64_lines(&got);
            assert!(parse_enveloped_der(&b64).is_none());
            assert_eq!(
                decrypt(crate::testutil::P, &b64, &keys).unwrap().content,
                content
            );
        }
    }
}

#[test]
fn round_trip_every_algorithm() {
    let key = test_key();
    let cert = generate_self_signed(
        crate::testutil::P,
        key,
        "CN=rcpt",
        crate::testutil::now(),
        Duration::from_secs(3600),
    )
    .unwrap();
    let other_key = rsa::PrivateKey::new(&mut rand::rng(), 1024).unwrap();
    let other = generate_self_signed(
        crate::testutil::P,
        &other_key,
        "CN=other",
        crate::testutil::now(),
        Duration::from_secs(3600),
    )
    .unwrap();
    for algorithm in ContentEncryption::ALL {
        for key_transport in [
            KeyTransport::RsaPkcs1v15,
            KeyTransport::RsaOaep(DigestAlgorithm::Sha1),
            KeyTransport::RsaOaep(DigestAlgorithm::Sha256),
        ] {
            let opts = EncryptOptions::new(algorithm).with_key_transport(key_transport);
            let ct = encrypt(
                crate::testutil::P,
                b"secret content",
                &[&other, &cert],
                opts,
            )
            .unwrap();
            let keys = [
                DecryptionKey {
                    certificate: &other,
                    key: &other_key,
                },
                DecryptionKey {
                    certificate: &cert,
                    key,
                },
            ];
            let d = decrypt(crate::testutil::P, &ct, &keys).unwrap();
            assert_eq!(d.content, b"secret content");
            assert_eq!(d.algorithm, algorithm);
            // only the other recipient's key, presented as ours: uniform failure
            let wrong = [DecryptionKey {
                certificate: &cert,
                key: &other_key,
            }];
            let ct_one = encrypt(crate::testutil::P, b"secret content", &[&cert], opts).unwrap();
            assert!(matches!(
                decrypt(crate::testutil::P, &ct_one, &wrong),
                Err(Error::Decryption)
            ));
        }
    }
}
