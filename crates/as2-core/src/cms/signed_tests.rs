//! Tests of the detached SignedData: sign and verify, tampering, the signer limit, the digest cache.
use super::*;
use crate::cert::generate_self_signed;
use crate::crypto::test_key;
use std::time::Duration;

#[test]
fn sign_verify_tamper() {
    let key = test_key();
    let cert = generate_self_signed(
        crate::testutil::P,
        key,
        "CN=signer",
        crate::testutil::now(),
        Duration::from_secs(3600),
    )
    .unwrap();
    for digest in [
        DigestAlgorithm::Sha1,
        DigestAlgorithm::Sha224,
        DigestAlgorithm::Sha256,
        DigestAlgorithm::Sha384,
        DigestAlgorithm::Sha512,
    ] {
        for scheme in [SignatureScheme::Pkcs1v15, SignatureScheme::Pss] {
            for signed_attributes in [true, false] {
                let opts = SignOptions {
                    digest,
                    scheme,
                    signed_attributes,
                    ..SignOptions::new(crate::testutil::now())
                };
                let sig = sign_detached(crate::testutil::P, b"content", &cert, key, &opts).unwrap();
                let v = verify_detached(
                    &crate::crypto::rust_crypto::DEFAULT_PROVIDER,
                    &sig,
                    &[b"other", b"content"],
                    std::slice::from_ref(&cert),
                )
                .unwrap();
                assert_eq!(v.digest, digest);
                assert_eq!(v.content_index, 1);
                assert_eq!(v.signing_time.is_some(), signed_attributes);
                let expected = digest.digest(b"content");
                if signed_attributes {
                    assert_eq!(v.content_digest.as_deref(), Some(expected.as_slice()));
                } else {
                    assert_eq!(v.content_digest, None);
                }
                let (sig2, d) =
                    sign_detached_with_digest(crate::testutil::P, b"content", &cert, key, &opts)
                        .unwrap();
                assert_eq!(d, expected);
                verify_detached(
                    &crate::crypto::rust_crypto::DEFAULT_PROVIDER,
                    &sig2,
                    &[b"content"],
                    std::slice::from_ref(&cert),
                )
                .unwrap();
                let err = verify_detached(
                    &crate::crypto::rust_crypto::DEFAULT_PROVIDER,
                    &sig,
                    &[b"tampered"],
                    std::slice::from_ref(&cert),
                )
                .unwrap_err();
                assert!(matches!(err, Error::Integrity(_) | Error::Signature(_)));
            }
        }
    }
    // a tampered signature value
    let mut sig = sign_detached(
        crate::testutil::P,
        b"content",
        &cert,
        key,
        &SignOptions::new(crate::testutil::now()),
    )
    .unwrap();
    let n = sig.len();
    sig[n - 5] ^= 1;
    assert!(matches!(
        verify_detached(
            &crate::crypto::rust_crypto::DEFAULT_PROVIDER,
            &sig,
            &[b"content"],
            std::slice::from_ref(&cert)
        ),
        Err(Error::Signature(_))
    ));
    // an untrusted signer
    assert!(
        verify_detached(
            &crate::crypto::rust_crypto::DEFAULT_PROVIDER,
            &sig,
            &[b"content"],
            &[]
        )
        .is_err()
    );
}

/// A SignedData over `content` with `count` signers (PSS: each signature differs).
fn with_signers(count: usize, content: &[u8], cert: &Certificate) -> Vec<u8> {
    let opts = SignOptions {
        scheme: SignatureScheme::Pss,
        ..SignOptions::new(crate::testutil::now())
    };
    let signed = |_| {
        let der = sign_detached(crate::testutil::P, content, cert, test_key(), &opts).unwrap();
        decode_content::<SignedData>(&parse_content_info(&der).unwrap()).unwrap()
    };
    let mut sd = signed(0);
    let infos: Vec<SignerInfo> = (0..count)
        .flat_map(|i| signed(i).signer_infos.0.into_vec())
        .collect();
    sd.signer_infos = SignerInfos(SetOfVec::try_from(infos).unwrap());
    ContentInfo {
        content_type: oids::SIGNED_DATA,
        content: Any::from_der(&sd.to_der().unwrap()).unwrap(),
    }
    .to_der()
    .unwrap()
}

/// At most [`MAX_SIGNERS`] signers: 8 verify, 9 are refused before any is tried.
#[test]
fn nine_signers_are_refused() {
    let cert = generate_self_signed(
        crate::testutil::P,
        test_key(),
        "CN=signer",
        crate::testutil::now(),
        Duration::from_secs(3600),
    )
    .unwrap();
    let trusted = std::slice::from_ref(&cert);
    let eight = with_signers(MAX_SIGNERS, b"content", &cert);
    verify_detached(
        &crate::crypto::rust_crypto::DEFAULT_PROVIDER,
        &eight,
        &[b"content"],
        trusted,
    )
    .unwrap();
    let nine = with_signers(MAX_SIGNERS + 1, b"content", &cert);
    let err = verify_detached(
        &crate::crypto::rust_crypto::DEFAULT_PROVIDER,
        &nine,
        &[b"content"],
        trusted,
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            Error::LimitExceeded {
                limit: Limit::CmsSigners,
                max: 8
            }
        ),
        "{err}"
    );
    assert_eq!(
        crate::MdnDisposition::from(&err).modifier(),
        Some(&crate::Modifier::UnsupportedFormat)
    );
}

/// Every candidate is hashed once per algorithm, whatever the signers and certificates.
#[test]
fn content_digests_are_computed_once() {
    let contents: [&[u8]; 2] = [b"a", b"b"];
    let mut digests = ContentDigests::new(Candidates::Contents(&contents));
    let b = DigestAlgorithm::Sha256.digest(b"b");
    assert_eq!(digests.position(DigestAlgorithm::Sha256, &b), Some(1));
    assert_eq!(digests.position(DigestAlgorithm::Sha256, b"none"), None);
    assert_eq!(digests.computed.len(), 1);
    assert!(digests.computed[0].1.iter().all(Option::is_some));
    assert_eq!(
        digests.get(DigestAlgorithm::Sha1, 0).map(<[u8]>::len),
        Some(20)
    );
    assert_eq!(digests.computed.len(), 2);
    assert!(digests.computed[1].1[1].is_none());
}
