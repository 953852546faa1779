//! Tests of CEM requests: round trip, a hand-written request in mendelson's style, one
//! failing case per validation rule, and no panic on damaged input.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::*;
use crate::cert::{Certificate, generate_self_signed};
use crate::crypto::test_key;
use crate::error::Error;
use crate::mime::{Entity, Headers};

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

fn cert(subject: &str) -> Certificate {
    generate_self_signed(
        crate::testutil::P,
        test_key(),
        subject,
        crate::testutil::now(),
        Duration::from_secs(86_400),
    )
    .unwrap()
}

fn sample() -> CemRequest {
    CemRequest {
        request_id: "req-<1>&\"2\"".into(),
        sender_as2_id: "acme corp".into(),
        message_originated: at(1_750_000_000),
        requests: vec![
            TrustRequest::new(
                cert("CN=acme signing,O=Acme\\, Inc.,C=US"),
                vec![CertUsage::DigitalSignature, CertUsage::KeyEncipherment],
                at(1_751_000_000),
                "https://as2.acme.example/as2?x=1&y=2",
                "sign-2025@acme.example",
            ),
            TrustRequest::new(
                cert("CN=as2.acme.example"),
                vec![CertUsage::TlsServer, CertUsage::TlsClient],
                at(1_752_000_000),
                "http://as2.acme.example:8080/as2",
                "tls-2025@acme.example",
            ),
        ],
    }
}

#[test]
fn round_trip() {
    let req = sample();
    let built = build_request(crate::testutil::P, &req).unwrap();
    assert_eq!(classify(&built.content_type), Some(CemKind::Request));
    assert_eq!(
        kind_of(&built.content_type, &built.body).unwrap(),
        CemKind::Request
    );
    let parsed = parse_request(&built.content_type, &built.body, "acme corp").unwrap();
    assert_eq!(parsed, req);

    // the MIME shape partners expect
    let entity = Entity::from_parts(
        Headers::from_pairs([("Content-Type", built.content_type.as_str())]),
        &built.body,
    );
    let parts = entity.parts().unwrap();
    assert_eq!(parts.len(), 3);
    assert!(parts[0].content_type().is(XML_CONTENT_TYPE));
    assert!(
        parts[0]
            .headers()
            .get("content-id")
            .unwrap()
            .starts_with('<')
    );
    let xml = String::from_utf8(parts[0].decoded_body().unwrap()).unwrap();
    assert!(xml.contains(&format!(
        "<EDIINTCertificateExchangeRequest xmlns=\"{NAMESPACE}\""
    )));
    assert!(xml.contains("requestId=\"req-&lt;1&gt;&amp;&quot;2&quot;\""));
    assert!(xml.contains("<Name qualifier=\"AS2\">acme corp</Name>"));
    assert!(xml.contains("<MessageOriginated>2025-06-15T15:06:40+00:00</MessageOriginated>"));
    assert!(xml.contains(
        "<CertUsage>digitalSignature</CertUsage>\r\n    <CertUsage>keyEncipherment</CertUsage>"
    ));
    assert!(
        xml.contains("<ds:X509IssuerName>CN=acme signing,O=Acme\\, Inc.,C=US</ds:X509IssuerName>")
    );
    assert!(xml.contains("<CertificateContentID>sign-2025@acme.example</CertificateContentID>"));
    for (part, tr) in parts[1..].iter().zip(&req.requests) {
        let ct = part.content_type();
        assert!(ct.is("application/pkcs7-mime"));
        assert_eq!(ct.param("smime-type"), Some("certs-only"));
        assert_eq!(
            part.headers().get("content-transfer-encoding"),
            Some("base64")
        );
        assert_eq!(
            part.headers().get("content-id"),
            Some(format!("<{}>", tr.content_id).as_str())
        );
        let certs = crate::cms::parse_certs_only(&part.decoded_body().unwrap()).unwrap();
        assert_eq!(certs, vec![tr.certificate.clone()]);
    }
}

/// A multipart/related request assembled by hand: `parts` are (Content-ID header,
/// Content-Transfer-Encoding, body).
fn assemble(xml: &str, parts: &[(&str, &str, Vec<u8>)]) -> (String, Vec<u8>) {
    let mut body = b"This is a multi-part message in MIME format.\r\n--b1\r\nContent-Type: application/ediint-cert-exchange+xml\r\nContent-ID: <description@mec>\r\n\r\n".to_vec();
    body.extend_from_slice(xml.as_bytes());
    for (cid, cte, data) in parts {
        body.extend_from_slice(
            format!("\r\n--b1\r\nContent-Type: application/pkcs7-mime; smime-type=certs-only\r\nContent-Transfer-Encoding: {cte}\r\nContent-ID: {cid}\r\n\r\n")
                .as_bytes(),
        );
        body.extend_from_slice(data);
    }
    body.extend_from_slice(b"\r\n--b1--\r\n");
    (
        "multipart/related; boundary=\"b1\"; type=\"application/ediint-cert-exchange+xml\"".into(),
        body,
    )
}

struct Fixture {
    sign: Certificate,
    tls: Certificate,
}

fn fixture() -> &'static Fixture {
    static F: std::sync::OnceLock<Fixture> = std::sync::OnceLock::new();
    F.get_or_init(|| Fixture {
        sign: cert(
            "CN=mendelson test key 4,OU=Do not use in production,O=mendelson-e-commerce GmbH,C=DE",
        ),
        tls: cert("CN=as2.partner.example,O=Partner"),
    })
}

/// In mendelson's style: default namespace, `ds:` prefix, tabs, offsets, issuers as Java's
/// `getIssuerDN()`, a bare CertificateContentID matching `<...>`, a `cid:` reference.
fn mendelson_xml(f: &Fixture) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
<EDIINTCertificateExchangeRequest xmlns=\"urn:ietf:params:xml:ns:ediintcertificateexchange\" xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" requestId=\"mendelson_opensource_AS2-1718029392818-3@mec_as2\">\n\
\t<TradingPartnerInfo>\n\
\t\t<Name qualifier=\"AS2\">mendelsontestAS2</Name>\n\
\t\t<MessageOriginated>2024-06-10T16:23:12+02:00</MessageOriginated>\n\
\t</TradingPartnerInfo>\n\
\t<TrustRequest>\n\
\t\t<CertUsage>keyEncipherment</CertUsage>\n\
\t\t<CertUsage>digitalSignature</CertUsage>\n\
\t\t<RespondByDate>2024-06-24T16:23:12+02:00</RespondByDate>\n\
\t\t<ResponseURL>http://testas2.mendelson-e-c.com:8080/as2/HttpReceiver</ResponseURL>\n\
\t\t<EndEntity>\n\
\t\t\t<CertificateIdentifier>\n\
\t\t\t\t<ds:X509IssuerName>CN=mendelson test key 4, OU=Do not use in production, O=mendelson-e-commerce GmbH, C=DE</ds:X509IssuerName>\n\
\t\t\t\t<ds:X509SerialNumber>{}</ds:X509SerialNumber>\n\
\t\t\t</CertificateIdentifier>\n\
\t\t\t<CertificateContentID>mendelson_opensource_AS2-1718029392818-4@mec_as2</CertificateContentID>\n\
\t\t</EndEntity>\n\
\t</TrustRequest>\n\
\t<TrustRequest>\n\
\t\t<CertUsage>tlsServer</CertUsage>\n\
\t\t<RespondByDate>2024-06-24T09:23:12-05:00</RespondByDate>\n\
\t\t<ResponseURL>https://testas2.mendelson-e-c.com/as2/HttpReceiver</ResponseURL>\n\
\t\t<EndEntity>\n\
\t\t\t<CertificateIdentifier>\n\
\t\t\t\t<ds:X509IssuerName>CN=as2.partner.example, O=Partner</ds:X509IssuerName>\n\
\t\t\t\t<ds:X509SerialNumber>000{}</ds:X509SerialNumber>\n\
\t\t\t</CertificateIdentifier>\n\
\t\t\t<CertificateContentID>cid:tls%40mec_as2</CertificateContentID>\n\
\t\t</EndEntity>\n\
\t</TrustRequest>\n\
</EDIINTCertificateExchangeRequest>",
        serial_decimal(&f.sign),
        serial_decimal(&f.tls),
    )
}

fn mendelson_parts(f: &Fixture) -> Vec<(&'static str, &'static str, Vec<u8>)> {
    vec![
        (
            "<mendelson_opensource_AS2-1718029392818-4@mec_as2>",
            "binary",
            crate::cms::certs_only(std::slice::from_ref(&f.sign)).unwrap(),
        ),
        // a bare PEM certificate, as some partners send
        ("tls@mec_as2", "7bit", f.tls.to_pem().into_bytes()),
    ]
}

#[test]
fn parses_a_mendelson_style_request() {
    let f = fixture();
    let (ct, body) = assemble(&mendelson_xml(f), &mendelson_parts(f));
    assert_eq!(classify(&ct), Some(CemKind::Request));
    let req = parse_request(&ct, &body, "mendelsontestAS2").unwrap();
    assert_eq!(
        req.request_id,
        "mendelson_opensource_AS2-1718029392818-3@mec_as2"
    );
    assert_eq!(req.sender_as2_id, "mendelsontestAS2");
    assert_eq!(req.message_originated, at(1_718_029_392));
    assert_eq!(req.requests.len(), 2);
    let sign = &req.requests[0];
    assert_eq!(
        sign.usages,
        vec![CertUsage::KeyEncipherment, CertUsage::DigitalSignature]
    );
    assert_eq!(sign.respond_by, at(1_719_238_992));
    assert_eq!(
        sign.response_url,
        "http://testas2.mendelson-e-c.com:8080/as2/HttpReceiver"
    );
    assert_eq!(sign.certificate, f.sign);
    assert_eq!(
        sign.issuer_name,
        "CN=mendelson test key 4, OU=Do not use in production, O=mendelson-e-commerce GmbH, C=DE"
    );
    assert_eq!(sign.serial_decimal, serial_decimal(&f.sign));
    assert_eq!(
        sign.content_id,
        "mendelson_opensource_AS2-1718029392818-4@mec_as2"
    );
    let tls = &req.requests[1];
    assert_eq!(tls.usages, vec![CertUsage::TlsServer]);
    assert_eq!(tls.respond_by, sign.respond_by);
    assert_eq!(tls.certificate, f.tls);
    assert_eq!(tls.serial_decimal, serial_decimal(&f.tls));
    assert_eq!(tls.content_id, "tls@mec_as2");

    // the answer echoes the issuer exactly as received
    let answer = TrustResponse::accepted(sign);
    assert_eq!(answer.issuer_name, sign.issuer_name);
    assert!(answer.answers(sign));
}

/// Parse the mendelson-style request with every `from` replaced by `to` in its XML.
fn parse_edited(from: &str, to: &str) -> crate::Result<CemRequest> {
    let f = fixture();
    let xml = mendelson_xml(f);
    assert!(xml.contains(from), "{from}");
    let (ct, body) = assemble(&xml.replace(from, to), &mendelson_parts(f));
    parse_request(&ct, &body, "mendelsontestAS2")
}

#[track_caller]
fn assert_cem_error(result: crate::Result<CemRequest>, needles: &[&str]) {
    let e = result.unwrap_err();
    assert!(matches!(e, Error::Cem(_)), "{e:?}");
    assert_eq!(
        crate::MdnDisposition::from(&e).modifier(),
        Some(&crate::Modifier::UnexpectedProcessingError)
    );
    let msg = e.to_string();
    for n in needles {
        assert!(msg.contains(n), "{msg:?} should contain {n:?}");
    }
}

#[test]
fn each_rule_fails_naming_the_element() {
    let sign_serial = serial_decimal(&fixture().sign);
    let serial_tag = format!("<ds:X509SerialNumber>{sign_serial}<");
    let cases: Vec<(&str, &str, Vec<&str>)> = vec![
        (
            ">mendelsontestAS2<",
            ">someoneElse<",
            vec!["TradingPartnerInfo/Name", "\"someoneElse\"", "AS2-From"],
        ),
        (
            "qualifier=\"AS2\"",
            "qualifier=\"DUNS\"",
            vec!["TradingPartnerInfo/Name", "qualifier"],
        ),
        (
            " requestId=\"mendelson_opensource_AS2-1718029392818-3@mec_as2\"",
            "",
            vec!["requestId"],
        ),
        (
            "<CertUsage>keyEncipherment</CertUsage>",
            "<CertUsage>keyAgreement</CertUsage>",
            vec!["TrustRequest[1]/CertUsage", "keyAgreement"],
        ),
        (
            "\t\t<CertUsage>tlsServer</CertUsage>\n",
            "",
            vec!["TrustRequest[2]/CertUsage is missing"],
        ),
        (
            "<CertificateContentID>mendelson_opensource_AS2-1718029392818-4@mec_as2",
            "<CertificateContentID>nothing-here@mec_as2",
            vec![
                "TrustRequest[1]/EndEntity/CertificateContentID",
                "nothing-here@mec_as2",
                "no MIME part",
            ],
        ),
        (
            &serial_tag,
            "<ds:X509SerialNumber>12345<",
            vec![
                "TrustRequest[1]/EndEntity/CertificateIdentifier/X509SerialNumber",
                "12345",
            ],
        ),
        (
            &serial_tag,
            "<ds:X509SerialNumber>0x1F<",
            vec!["X509SerialNumber", "not a decimal integer"],
        ),
        (
            "CN=mendelson test key 4, OU",
            "CN=mendelson test key 5, OU",
            vec![
                "TrustRequest[1]/EndEntity/CertificateIdentifier/X509IssuerName",
                "test key 5",
            ],
        ),
        (
            "<RespondByDate>2024-06-24T16:23:12+02:00",
            "<RespondByDate>24.06.2024 16:23",
            vec!["TrustRequest[1]/RespondByDate", "24.06.2024"],
        ),
        (
            "<RespondByDate>2024-06-24T16:23:12+02:00",
            "<RespondByDate>2024-02-30T16:23:12+02:00",
            vec!["TrustRequest[1]/RespondByDate"],
        ),
        (
            "\t\t<RespondByDate>2024-06-24T09:23:12-05:00</RespondByDate>\n",
            "",
            vec!["TrustRequest[2]/RespondByDate is missing"],
        ),
        (
            "\t\t<RespondByDate>2024-06-24T16:23:12+02:00</RespondByDate>\n",
            "\t\t<RespondByDate>2024-06-24T16:23:12+02:00</RespondByDate><RespondByDate>2024-06-25T16:23:12+02:00</RespondByDate>\n",
            vec!["TrustRequest[1]/RespondByDate appears 2 times"],
        ),
        (
            "<MessageOriginated>2024-06-10T16:23:12+02:00",
            "<MessageOriginated>yesterday",
            vec!["TradingPartnerInfo/MessageOriginated"],
        ),
        (
            "<ResponseURL>http://testas2",
            "<ResponseURL>ftp://testas2",
            vec!["TrustRequest[1]/ResponseURL", "ftp://"],
        ),
        (
            "<ResponseURL>https://testas2.mendelson-e-c.com/as2/HttpReceiver</ResponseURL>",
            "<ResponseURL> </ResponseURL>",
            vec!["TrustRequest[2]/ResponseURL is empty"],
        ),
        (
            "EndEntity>",
            "EndEntityX>",
            vec!["TrustRequest[1]/EndEntity is missing"],
        ),
        (
            "<ds:X509IssuerName>CN=as2.partner.example, O=Partner</ds:X509IssuerName>",
            "<X509IssuerName xmlns=\"urn:other\">CN=as2.partner.example, O=Partner</X509IssuerName>",
            vec!["TrustRequest[2]/EndEntity/CertificateIdentifier/X509IssuerName is missing"],
        ),
        (
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
            "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>",
            vec!["DOCTYPE"],
        ),
        (
            "<Name qualifier=\"AS2\">mendelsontestAS2",
            "<Name qualifier=\"AS2\">&x;mendelsontestAS2",
            vec!["entity &x;"],
        ),
        (
            "xmlns=\"urn:ietf:params:xml:ns:ediintcertificateexchange\"",
            "xmlns=\"urn:example:other\"",
            vec![
                "root element",
                "{urn:example:other}EDIINTCertificateExchangeRequest",
            ],
        ),
        (
            "</EDIINTCertificateExchangeRequest>",
            "</EDIINTCertificateExchangeReq>",
            vec!["not XML"],
        ),
    ];
    for (from, to, needles) in cases {
        assert_cem_error(parse_edited(from, to), &needles);
    }
}

#[test]
fn structural_failures() {
    let f = fixture();
    // not XML at all
    let (ct, body) = assemble("this is not XML", &mendelson_parts(f));
    assert_cem_error(parse_request(&ct, &body, "mendelsontestAS2"), &["not XML"]);
    // no TrustRequest
    let xml = mendelson_xml(f);
    let start = xml.find("\t<TrustRequest>").unwrap();
    let end = xml.rfind("</TrustRequest>").unwrap() + "</TrustRequest>".len();
    let (ct, body) = assemble(&format!("{}{}", &xml[..start], &xml[end..]), &[]);
    assert_cem_error(
        parse_request(&ct, &body, "mendelsontestAS2"),
        &["EDIINTCertificateExchangeRequest has no TrustRequest"],
    );
    // a part that holds no certificate
    let mut parts = mendelson_parts(f);
    parts[0].2 = b"not a certificate".to_vec();
    let (ct, body) = assemble(&xml, &parts);
    assert_cem_error(
        parse_request(&ct, &body, "mendelsontestAS2"),
        &[
            "TrustRequest[1]/EndEntity/CertificateContentID",
            "no certificate",
        ],
    );
    // the right serial in the wrong part: serial mismatch
    let mut parts = mendelson_parts(f);
    parts.swap(0, 1);
    parts[0].0 = "<mendelson_opensource_AS2-1718029392818-4@mec_as2>";
    parts[1].0 = "<tls@mec_as2>";
    let (ct, body) = assemble(&xml, &parts);
    assert_cem_error(
        parse_request(&ct, &body, "mendelsontestAS2"),
        &["TrustRequest[1]/EndEntity/CertificateIdentifier/X509SerialNumber"],
    );
    // a response is not a request
    let resp = build_response(&CemResponse {
        request_id: "r".into(),
        sender_as2_id: "mendelsontestAS2".into(),
        message_originated: at(0),
        responses: vec![TrustResponse {
            status: CertStatus::Accepted,
            reason: None,
            issuer_name: "CN=x".into(),
            serial_decimal: "1".into(),
        }],
    })
    .unwrap();
    assert_cem_error(
        parse_request(&resp.content_type, &resp.body, "mendelsontestAS2"),
        &["root element", "EDIINTCertificateExchangeResponse"],
    );
    // neither multipart nor XML
    assert_cem_error(
        parse_request("application/edi-x12", b"ISA*", "x"),
        &["multipart/related"],
    );
    // multipart without an XML part
    assert_cem_error(
        parse_request(
            "multipart/related; boundary=b",
            b"--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--\r\n",
            "x",
        ),
        &["no application/ediint-cert-exchange+xml part"],
    );
}

type Edit = Box<dyn Fn(&mut CemRequest)>;

#[test]
fn build_refuses_what_a_partner_would_reject() {
    let base = sample();
    let cases: Vec<(Edit, &str)> = vec![
        (Box::new(|r| r.requests.clear()), "no TrustRequest"),
        (Box::new(|r| r.request_id = " ".into()), "requestId"),
        (
            Box::new(|r| r.sender_as2_id = String::new()),
            "TradingPartnerInfo/Name",
        ),
        (
            Box::new(|r| r.requests[0].usages.clear()),
            "TrustRequest[1]: no CertUsage",
        ),
        (
            Box::new(|r| r.requests[1].response_url = "mailto:x@y".into()),
            "TrustRequest[2]/ResponseURL",
        ),
        (
            Box::new(|r| r.requests[1].content_id = r.requests[0].content_id.to_uppercase()),
            "used twice",
        ),
        (
            Box::new(|r| r.requests[0].content_id = "a\r\nX-Injected: 1".into()),
            "CertificateContentID",
        ),
        (
            Box::new(|r| r.requests[0].serial_decimal = "42".into()),
            "X509SerialNumber",
        ),
        (
            Box::new(|r| r.requests[0].issuer_name = "CN=someone else".into()),
            "X509IssuerName",
        ),
        (
            Box::new(|r| r.sender_as2_id = "a\u{1}b".into()),
            "Name holds a character",
        ),
    ];
    for (edit, needle) in cases {
        let mut r = base.clone();
        edit(&mut r);
        let e = build_request(crate::testutil::P, &r).unwrap_err();
        assert!(
            e.to_string().contains(needle),
            "{e} should contain {needle:?}"
        );
    }
}

#[test]
fn classify_content_types() {
    for (ct, kind) in [
        (
            "multipart/related; type=\"application/ediint-cert-exchange+xml\"; boundary=x",
            Some(CemKind::Request),
        ),
        (
            "Multipart/Related; BOUNDARY=x; TYPE=\"Application/EDIINT-Cert-Exchange+XML\"",
            Some(CemKind::Request),
        ),
        (
            "multipart/related;\r\n\ttype=application/ediint-cert-exchange+xml",
            Some(CemKind::Request),
        ),
        (
            "application/ediint-cert-exchange+xml",
            Some(CemKind::Response),
        ),
        (
            "application/EDIINT-cert-exchange+xml; charset=utf-8",
            Some(CemKind::Response),
        ),
        ("multipart/related; type=\"text/xml\"; boundary=x", None),
        (
            "multipart/mixed; type=\"application/ediint-cert-exchange+xml\"",
            None,
        ),
        ("application/edi-x12", None),
        ("", None),
    ] {
        assert_eq!(classify(ct), kind, "{ct}");
    }
    assert!(kind_of("application/xml", b"<a/>").is_err());
}

#[test]
fn damaged_input_never_panics() {
    let f = fixture();
    let (ct, body) = assemble(&mendelson_xml(f), &mendelson_parts(f));
    for cut in (0..body.len()).step_by(37) {
        let _ = parse_request(&ct, &body[..cut], "mendelsontestAS2");
        let _ = kind_of(&ct, &body[..cut]);
    }
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    for _ in 0..300 {
        let mut damaged = body.clone();
        for _ in 0..4 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let i = usize::try_from(state % damaged.len() as u64).unwrap();
            damaged[i] = (state >> 32) as u8;
        }
        let _ = parse_request(&ct, &damaged, "mendelsontestAS2");
        let _ = parse_response(XML_CONTENT_TYPE, &damaged, "mendelsontestAS2");
    }
    // the XML alone, byte by byte
    let xml = mendelson_xml(f);
    for cut in 0..xml.len() {
        let _ = parse_response(XML_CONTENT_TYPE, &xml.as_bytes()[..cut], "x");
    }
}
