//! MDN tests: round trips and real captures.

use std::time::Duration;

use super::*;
use crate::cert::generate_self_signed;
use crate::cms::SignOptions;
use crate::crypto::{DigestAlgorithm, test_key};
use crate::mdn::{MdnParams, build_mdn};
use crate::message::Signer;

#[test]
fn round_trip_signed_and_unsigned() {
    let key = test_key();
    let cert = generate_self_signed(
        crate::testutil::P,
        key,
        "CN=mdn",
        crate::testutil::now(),
        Duration::from_secs(3600),
    )
    .unwrap();
    let mic = Mic::compute(DigestAlgorithm::Sha256, b"content");
    for sign in [false, true] {
        let mut p = MdnParams::new(
            crate::testutil::P,
            "us",
            "them",
            "<abc@x>",
            MdnDisposition::Processed,
        );
        p.mic = Some(mic.clone());
        if sign {
            p.signer = Some(Signer {
                certificate: &cert,
                key,
                options: SignOptions::new(crate::testutil::now()),
            });
        }
        let built = build_mdn(&p).unwrap();
        let headers = Headers::from_pairs(built.headers.clone());
        let parsed = parse_mdn(&headers, &built.body, std::slice::from_ref(&cert)).unwrap();
        assert!(parsed.is_delivered());
        assert_eq!(parsed.signed, sign);
        assert_eq!(parsed.signature.is_some(), sign);
        assert_eq!(parsed.final_recipient, "us");
        parsed.check("<abc@x>", Some(&mic), sign).unwrap();
        assert!(parsed.check("<other@x>", Some(&mic), false).is_err());
        let wrong = Mic::compute(DigestAlgorithm::Sha256, b"other");
        assert!(parsed.check("<abc@x>", Some(&wrong), false).is_err());
        if sign {
            // tamper with the signed report
            let mut body = built.body.clone();
            let pos = crate::mime::find(&body, b"processed").unwrap();
            body[pos] = b'P';
            assert!(parse_mdn(&headers, &body, std::slice::from_ref(&cert)).is_err());
        }
    }
    let p = MdnParams::new(
        crate::testutil::P,
        "us",
        "them",
        "<abc@x>",
        MdnDisposition::from(&Error::Decryption),
    );
    let built = build_mdn(&p).unwrap();
    let parsed = parse_mdn(&Headers::from_pairs(built.headers), &built.body, &[]).unwrap();
    assert_eq!(
        parsed.disposition,
        MdnDisposition::Error("decryption-failed".into())
    );
    assert!(!parsed.is_delivered());
}

#[test]
fn bare_notification() {
    let headers = Headers::from_pairs([("Content-Type", "message/disposition-notification")]);
    let body = b"Final-Recipient: rfc822; x\r\nOriginal-Message-ID: <1@y>\r\nDisposition: automatic-action/MDN-sent-automatically; processed/warning: duplicate-document\r\n";
    let p = parse_mdn(&headers, body, &[]).unwrap();
    assert!(p.is_delivered());
    assert!(p.mic.is_none());
    p.check("1@y", None, false).unwrap();
}

#[test]
fn captures() {
    let Some(dir) = crate::testutil::vectors() else {
        return;
    };
    let read = |f: &str| std::fs::read(dir.join(f)).unwrap();
    let split = |d: &[u8]| {
        let e = Entity::parse(d).unwrap();
        (e.headers().clone(), e.body().to_vec())
    };
    let (h, b) = split(&read("mecas2_unsigned.mdn"));
    let m = parse_mdn(&h, &b, &[]).unwrap();
    assert_eq!(
        m.disposition,
        MdnDisposition::Error("authentication-failed".into())
    );
    assert!(!m.signed);
    assert!(m.text.unwrap().contains("mendelson"));

    let sterling = Certificate::load(&read("cert_sb2bi_public.pem")).unwrap();
    let (h, b) = split(&read("sb2bi_signed.mdn"));
    let m = parse_mdn(&h, &b, std::slice::from_ref(&sterling)).unwrap();
    assert!(m.is_delivered());
    assert!(m.signature.is_some());
    assert_eq!(
        m.original_message_id,
        "<151694007918.24690.7052273208458909245@ip-172-31-14-209.ec2.internal>"
    );
    assert_eq!(m.mic.as_ref().unwrap().algorithm, DigestAlgorithm::Sha1);
    assert_eq!(m.final_recipient, "MCLANECOAS2PRD");

    let (h, b) = split(&read("mecas2_signed.mdn"));
    let m = parse_mdn(&h, &b, &[]).unwrap();
    assert!(m.signed);
    assert!(m.is_delivered());
    assert_eq!(m.mic.as_ref().unwrap().algorithm, DigestAlgorithm::Sha256);
    // signed by an older mecas2 certificate than cert_mecas2_public.pem: the embedded one
    let top = Entity::from_parts(h.clone(), &b);
    let (_, sig) = top.split_signed().unwrap();
    let embedded = crate::cms::embedded_certificates(&sig.decoded_body().unwrap()).unwrap();
    let m = parse_mdn(&h, &b, &embedded).unwrap();
    assert!(m.signature.is_some());
    let mecas2 = Certificate::load(&read("cert_mecas2_public.pem")).unwrap();
    assert!(parse_mdn(&h, &b, std::slice::from_ref(&mecas2)).is_err());
}

/// MDN parsing obeys the MIME limits: parts of the report, lines of the notification.
#[test]
fn limits_bound_parts_and_fields() {
    let mut p = MdnParams::new(
        crate::testutil::P,
        "us",
        "them",
        "<abc@x>",
        MdnDisposition::Processed,
    );
    p.mic = Some(Mic::compute(DigestAlgorithm::Sha256, b"content"));
    let built = build_mdn(&p).unwrap();
    let headers = Headers::from_pairs(built.headers.clone());
    let limit_of = |limits: MimeLimits| match parse_mdn_with_limits(
        &rust_crypto::DEFAULT_PROVIDER,
        &headers,
        &built.body,
        &[],
        &limits,
    ) {
        Err(Error::LimitExceeded { limit, .. }) => Some(limit),
        Err(e) => panic!("{e}"),
        Ok(_) => None,
    };
    assert_eq!(limit_of(MimeLimits::new()), None);
    assert_eq!(
        limit_of(MimeLimits::new().with_max_parts(1)),
        Some(crate::Limit::MultipartParts)
    );
    assert_eq!(
        limit_of(MimeLimits::new().with_max_header_lines(2)),
        Some(crate::Limit::MimeHeaderLines)
    );
    // a notification of 2,000 fields is refused with the default limits
    let fields = "X-Junk: a\r\n".repeat(2_000);
    let body = format!(
        "Final-Recipient: rfc822; us\r\nOriginal-Message-ID: <abc@x>\r\n{fields}Disposition: automatic-action/MDN-sent-automatically; processed\r\n"
    );
    let bare = Headers::from_pairs([("Content-Type", "message/disposition-notification")]);
    let err = parse_mdn(&bare, body.as_bytes(), &[]).unwrap_err();
    assert!(matches!(err, Error::LimitExceeded { .. }), "{err}");
    assert!(parse_mdn(&bare, body.replace(&fields, "").as_bytes(), &[]).is_ok());
}
