//! Tests of token verification: the round trip, and each way a token can be wrong.

use std::time::{Duration, SystemTime};

use as2_core::cert::Certificate;

use super::*;
use crate::authority::TimeStampAuthority;
use crate::testutil::{POLICY, other_certificate, test_key, tsa, tsa_certificate};

fn trusted() -> Vec<Certificate> {
    vec![tsa_certificate().clone()]
}

/// A token over `sha256("data")`, its hash, and where its TSTInfo sits in it.
fn token() -> (Vec<u8>, [u8; 32], std::ops::Range<usize>) {
    let hash = crate::sha256(b"data");
    let token = tsa()
        .issue(&hash, Some(77), SystemTime::now(), 0x0123_4567_89ab)
        .unwrap();
    let parsed = token::parse_token(&token).unwrap();
    let start = token
        .windows(parsed.tst_info_der.len())
        .position(|w| w == parsed.tst_info_der.as_slice())
        .unwrap();
    (token, hash, start..start + parsed.tst_info_der.len())
}

#[test]
fn issue_then_verify() {
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_780_000_000);
    let tsa = tsa();
    let hash = crate::sha256(b"certificate revoked");
    let token = tsa.issue(&hash, None, SystemTime::now(), 1).unwrap();
    let info = verify_token(&token, &hash, &trusted()).unwrap();
    assert_eq!(info.serial_u128(), Some(1));
    assert_eq!(info.policy, POLICY);
    assert_eq!(info.nonce, None);
    assert_eq!(info.accuracy, Some(Duration::from_secs(1)));
    assert_eq!(info.tsa_subject, tsa_certificate().subject());
    assert_eq!(&info.tsa_certificate, tsa_certificate());
    // genTime is whole seconds
    let since_epoch = info
        .gen_time
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap();
    assert_eq!(since_epoch.subsec_nanos(), 0);

    // a token issued outside the certificate's validity does not verify
    let late = tsa.issue(&hash, None, now, 2).unwrap();
    assert!(matches!(
        verify_token(&late, &hash, &trusted()),
        Err(Error::BadTsaCertificate(_))
    ));
}

#[test]
fn another_hash_is_an_imprint_mismatch() {
    let (token, _, _) = token();
    let other = crate::sha256(b"other data");
    assert!(matches!(
        verify_token(&token, &other, &trusted()),
        Err(Error::ImprintMismatch)
    ));
}

#[test]
fn flipped_signature_byte_is_a_bad_signature() {
    let (mut token, hash, _) = token();
    // the signature value is the last field of the token
    let n = token.len();
    token[n - 10] ^= 0x01;
    assert!(matches!(
        verify_token(&token, &hash, &trusted()),
        Err(Error::BadSignature(_))
    ));
}

#[test]
fn flipped_tst_info_byte_fails() {
    let (token, hash, tst) = token();
    // the last byte is inside the TSA name: still a TSTInfo, but not the signed one
    let mut bad = token.clone();
    bad[tst.end - 1] ^= 0x01;
    assert!(matches!(
        verify_token(&bad, &hash, &trusted()),
        Err(Error::MessageDigestMismatch)
    ));
    for i in tst {
        let mut bad = token.clone();
        bad[i] ^= 0x01;
        assert!(verify_token(&bad, &hash, &trusted()).is_err(), "byte {i}");
    }
}

#[test]
fn untrusted_signer_fails() {
    let (token, hash, _) = token();
    assert!(matches!(
        verify_token(&token, &hash, &[other_certificate().clone()]),
        Err(Error::UntrustedSigner)
    ));
    assert!(matches!(
        verify_token(&token, &hash, &[]),
        Err(Error::UntrustedSigner)
    ));
}

#[test]
fn certificate_without_time_stamping_eku_fails() {
    let plain = as2_core::cert::generate_self_signed(
        &as2_core::crypto::rust_crypto::DEFAULT_PROVIDER,
        test_key(),
        "CN=not a TSA",
        std::time::SystemTime::now(),
        Duration::from_secs(3600),
    )
    .unwrap();
    let tsa = TimeStampAuthority::new(plain.clone(), Box::new(test_key().clone()), POLICY);
    let hash = crate::sha256(b"data");
    let token = tsa.issue(&hash, None, SystemTime::now(), 1).unwrap();
    let err = verify_token(&token, &hash, &[plain]).unwrap_err();
    assert!(matches!(err, Error::BadTsaCertificate(_)), "{err}");
    assert!(err.to_string().contains("extendedKeyUsage"), "{err}");
}

#[test]
fn garbage_and_truncations_are_errors_not_panics() {
    let (token, hash, _) = token();
    for cut in 0..token.len() {
        assert!(verify_token(&token[..cut], &hash, &trusted()).is_err());
    }
    for bad in [&b""[..], b"\x30", b"\x30\x80", b"not base64 !", b"\x04\x00"] {
        assert!(verify_token(bad, &hash, &trusted()).is_err());
    }
}

#[test]
fn a_plain_signature_is_not_a_time_stamp_token() {
    let sig = as2_core::cms::sign_detached(
        &as2_core::crypto::rust_crypto::DEFAULT_PROVIDER,
        b"content",
        tsa_certificate(),
        test_key(),
        &as2_core::cms::SignOptions::new(std::time::SystemTime::now()),
    )
    .unwrap();
    assert!(matches!(
        verify_token(&sig, &crate::sha256(b"content"), &trusted()),
        Err(Error::NotATimeStampToken(_))
    ));
}

#[test]
fn responses_check_status_and_nonce() {
    let hash = crate::sha256(b"data");
    let req = crate::request::TimeStampRequest::new(&hash, Some(1))
        .to_der()
        .unwrap();
    let resp = tsa().respond(&req, SystemTime::now(), 3);
    verify_response(&resp, &hash, Some(1), &trusted()).unwrap();
    assert!(matches!(
        verify_response(&resp, &hash, Some(2), &trusted()),
        Err(Error::NonceMismatch)
    ));
    let rejected = tsa().respond(b"nonsense", SystemTime::now(), 4);
    let err = verify_response(&rejected, &hash, None, &trusted()).unwrap_err();
    assert!(
        matches!(&err, Error::Rejected { failures, .. } if failures == &[crate::status::FailureInfo::BadDataFormat]),
        "{err}"
    );
    assert!(err.to_string().contains("badDataFormat"), "{err}");
    assert!(token_from_response(b"\x30\x00").is_err());
}
