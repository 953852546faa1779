//! Tests of the TSA: granted responses, every rejection, and no panic on any input.

use std::time::SystemTime;

use as2_core::crypto::oids::SHA1;
use der::Encode as _;
use der::asn1::OctetString;
use spki::AlgorithmIdentifierOwned;

use super::*;
use crate::asn1::{MessageImprint, TimeStampReq};
use crate::request::TimeStampRequest;
use crate::testutil::{POLICY, other_key, tsa, tsa_certificate};
use crate::verify::{token_from_response, verify_response};

fn rejection_of(resp: &[u8]) -> (Vec<FailureInfo>, String) {
    match token_from_response(resp) {
        Err(Error::Rejected {
            status,
            failures,
            text,
        }) => {
            assert_eq!(status, crate::status::PkiStatus::Rejection);
            (failures, text)
        }
        other => panic!("expected a rejection, got {other:?}"),
    }
}

#[test]
fn grants_a_request_with_nonce_and_serial() {
    let hash = crate::sha256(b"partner certificate activated");
    let req = TimeStampRequest::new(&hash, Some(0xdead_beef))
        .to_der()
        .unwrap();
    let resp = tsa().respond(&req, SystemTime::now(), 4242);
    let info = verify_response(
        &resp,
        &hash,
        Some(0xdead_beef),
        &[tsa_certificate().clone()],
    )
    .unwrap();
    assert_eq!(info.serial_u128(), Some(4242));
    assert_eq!(info.nonce_u64(), Some(0xdead_beef));
    assert_eq!(info.policy, POLICY);
    // certReq = true: the certificate is in the token
    let token = token_from_response(&resp).unwrap();
    assert_eq!(
        as2_core::cms::embedded_certificates(&token).unwrap(),
        [tsa_certificate().clone()]
    );
}

#[test]
fn cert_req_false_leaves_the_certificate_out() {
    let hash = crate::sha256(b"x");
    let req = TimeStampRequest::new(&hash, None)
        .with_cert_req(false)
        .to_der()
        .unwrap();
    let resp = tsa().respond(&req, SystemTime::now(), 1);
    let token = token_from_response(&resp).unwrap();
    assert!(
        as2_core::cms::embedded_certificates(&token)
            .unwrap()
            .is_empty()
    );
    verify_response(&resp, &hash, None, &[tsa_certificate().clone()]).unwrap();
}

#[test]
fn malformed_requests_get_bad_data_format() {
    let tsa = tsa();
    for bad in [
        &b""[..],
        b"\x00",
        b"\x30\x00",
        b"garbage",
        b"\x30\x80\x00\x00",
    ] {
        let (failures, _) = rejection_of(&tsa.respond(bad, SystemTime::now(), 1));
        assert_eq!(failures, [FailureInfo::BadDataFormat]);
    }
    // a version 2 request
    let req = TimeStampReq {
        version: 2,
        message_imprint: sha256_imprint(&[1; 32]).unwrap(),
        req_policy: None,
        nonce: None,
        cert_req: true,
        extensions: None,
    };
    let resp = tsa.respond(&req.to_der().unwrap(), SystemTime::now(), 1);
    let (failures, text) = rejection_of(&resp);
    assert_eq!(failures, [FailureInfo::BadDataFormat]);
    assert!(text.contains("version"), "{text}");
}

#[test]
fn no_panic_on_truncated_or_flipped_requests() {
    let tsa = tsa();
    let req = TimeStampRequest::new(&[9; 32], Some(5))
        .with_policy(POLICY)
        .to_der()
        .unwrap();
    for cut in 0..req.len() {
        rejection_of(&tsa.respond(&req[..cut], SystemTime::now(), 1));
    }
    for i in 0..req.len() {
        for bit in [0x01, 0x80] {
            let mut bad = req.clone();
            bad[i] ^= bit;
            let resp = tsa.respond(&bad, SystemTime::now(), 1);
            // granted or rejected, but always a well-formed response
            crate::asn1::decode_lenient::<crate::asn1::TimeStampResp>(&resp).unwrap();
        }
    }
}

#[test]
fn sha1_imprint_gets_bad_alg() {
    let req = TimeStampReq {
        version: 1,
        message_imprint: MessageImprint {
            hash_algorithm: AlgorithmIdentifierOwned {
                oid: SHA1,
                parameters: None,
            },
            hashed_message: OctetString::new(vec![0; 20]).unwrap(),
        },
        req_policy: None,
        nonce: None,
        cert_req: true,
        extensions: None,
    };
    let resp = tsa().respond(&req.to_der().unwrap(), SystemTime::now(), 1);
    let (failures, text) = rejection_of(&resp);
    assert_eq!(failures, [FailureInfo::BadAlg]);
    assert!(text.contains("SHA-256"), "{text}");
}

#[test]
fn short_hash_gets_bad_data_format() {
    let req = TimeStampReq {
        version: 1,
        message_imprint: MessageImprint {
            hash_algorithm: AlgorithmIdentifierOwned {
                oid: SHA256,
                parameters: None,
            },
            hashed_message: OctetString::new(vec![0; 20]).unwrap(),
        },
        req_policy: None,
        nonce: None,
        cert_req: true,
        extensions: None,
    };
    let resp = tsa().respond(&req.to_der().unwrap(), SystemTime::now(), 1);
    assert_eq!(rejection_of(&resp).0, [FailureInfo::BadDataFormat]);
}

#[test]
fn other_policy_gets_unaccepted_policy() {
    let req = TimeStampRequest::new(&[1; 32], None)
        .with_policy("1.2.3.4".parse::<PolicyId>().unwrap())
        .to_der()
        .unwrap();
    let resp = tsa().respond(&req, SystemTime::now(), 1);
    assert_eq!(rejection_of(&resp).0, [FailureInfo::UnacceptedPolicy]);
    // asking for our own policy is fine
    let req = TimeStampRequest::new(&[1; 32], None)
        .with_policy(POLICY)
        .to_der()
        .unwrap();
    token_from_response(&tsa().respond(&req, SystemTime::now(), 1)).unwrap();
}

#[test]
fn key_not_matching_the_certificate_is_a_system_failure() {
    let tsa = TimeStampAuthority::new(
        tsa_certificate().clone(),
        Box::new(other_key().clone()),
        POLICY,
    );
    assert!(matches!(
        tsa.issue(&[0; 32], None, SystemTime::now(), 1),
        Err(Error::BadTsaCertificate(_))
    ));
    let req = TimeStampRequest::new(&[0; 32], None).to_der().unwrap();
    let (failures, _) = rejection_of(&tsa.respond(&req, SystemTime::now(), 1));
    assert_eq!(failures, [FailureInfo::SystemFailure]);
}
