//! Tests of CEM responses: round trip, hand-written responses (mendelson's CDATA, other
//! prefixes, multipart), and one failing case per validation rule.

use std::time::{Duration, UNIX_EPOCH};

use super::*;
use crate::error::Error;

fn sample() -> CemResponse {
    CemResponse {
        request_id: "mendelson_opensource_AS2-1718029392818-3@mec_as2".into(),
        sender_as2_id: "partner".into(),
        message_originated: UNIX_EPOCH + Duration::from_secs(1_718_030_000),
        responses: vec![
            TrustResponse {
                status: CertStatus::Accepted,
                reason: None,
                issuer_name: "CN=mendelson test key 4, OU=Do not use in production, O=mendelson-e-commerce GmbH, C=DE".into(),
                serial_decimal: "1512725276".into(),
            },
            TrustResponse {
                status: CertStatus::Rejected,
                reason: Some("key < 2048 bits & \"weak\" — née 'Ärger'".into()),
                issuer_name: "CN=as2.partner.example,O=Partner\\, Inc.".into(),
                serial_decimal: "335884994098995284219344536225175042303".into(),
            },
        ],
    }
}

#[test]
fn round_trip() {
    let resp = sample();
    let built = build_response(&resp).unwrap();
    assert_eq!(built.content_type, XML_CONTENT_TYPE);
    assert_eq!(classify(&built.content_type), Some(CemKind::Response));
    assert_eq!(
        kind_of(&built.content_type, &built.body).unwrap(),
        CemKind::Response
    );
    let xml = String::from_utf8(built.body.clone()).unwrap();
    assert!(xml.contains("<CertStatus>Accepted</CertStatus>"));
    assert!(xml.contains("<ReasonForRejection>key &lt; 2048 bits &amp; &quot;weak&quot;"));
    assert!(xml.contains(
        "<ds:X509IssuerName>CN=mendelson test key 4, OU=Do not use in production, O=mendelson-e-commerce GmbH, C=DE</ds:X509IssuerName>"
    ));
    assert!(xml.contains("<MessageOriginated>2024-06-10T14:33:20+00:00</MessageOriginated>"));
    assert_eq!(
        parse_response(&built.content_type, &built.body, "partner").unwrap(),
        resp
    );
}

const MENDELSON: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
<EDIINTCertificateExchangeResponse xmlns=\"urn:ietf:params:xml:ns:ediintcertificateexchange\" xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" requestId=\"req-42\">\n\
\t<TradingPartnerInfo>\n\
\t\t<Name qualifier=\"AS2\">mendelsontestAS2</Name>\n\
\t\t<MessageOriginated>2024-06-10T16:23:12+02:00</MessageOriginated>\n\
\t</TradingPartnerInfo>\n\
\t<TrustResponse>\n\
\t\t<CertStatus>Rejected</CertStatus>\n\
\t\t<ReasonForRejection><![CDATA[Failure in certificate import process: <alias> exists]]></ReasonForRejection>\n\
\t\t<CertificateReference>\n\
\t\t\t<ds:X509IssuerName>CN=acme signing,O=Acme\\, Inc.,C=US</ds:X509IssuerName>\n\
\t\t\t<ds:X509SerialNumber>0042</ds:X509SerialNumber>\n\
\t\t</CertificateReference>\n\
\t</TrustResponse>\n\
\t<TrustResponse>\n\
\t\t<CertStatus>Accepted</CertStatus>\n\
\t\t<CertificateReference>\n\
\t\t\t<ds:X509IssuerName>CN=as2.acme.example</ds:X509IssuerName>\n\
\t\t\t<ds:X509SerialNumber>7</ds:X509SerialNumber>\n\
\t\t</CertificateReference>\n\
\t</TrustResponse>\n\
</EDIINTCertificateExchangeResponse>";

#[test]
fn parses_a_mendelson_style_response() {
    let r = parse_response(XML_CONTENT_TYPE, MENDELSON.as_bytes(), "mendelsontestAS2").unwrap();
    assert_eq!(r.request_id, "req-42");
    assert_eq!(r.sender_as2_id, "mendelsontestAS2");
    assert_eq!(
        r.message_originated,
        UNIX_EPOCH + Duration::from_secs(1_718_029_392)
    );
    assert_eq!(r.responses.len(), 2);
    assert_eq!(r.responses[0].status, CertStatus::Rejected);
    assert_eq!(
        r.responses[0].reason.as_deref(),
        Some("Failure in certificate import process: <alias> exists")
    );
    assert_eq!(
        r.responses[0].issuer_name,
        "CN=acme signing,O=Acme\\, Inc.,C=US"
    );
    assert_eq!(r.responses[0].serial_decimal, "42");
    assert_eq!(r.responses[1].status, CertStatus::Accepted);
    assert_eq!(r.responses[1].reason, None);
}

#[test]
fn any_prefix_and_multipart() {
    let xml = MENDELSON
        .replace(
            "xmlns=\"urn:ietf:params:xml:ns:ediintcertificateexchange\" xmlns:ds=",
            "xmlns:cem=\"urn:ietf:params:xml:ns:ediintcertificateexchange\" xmlns:sig=",
        )
        .replace("ds:", "sig:")
        .replace("<", "<cem:")
        .replace("<cem:/", "</cem:")
        .replace("<cem:?", "<?")
        .replace("<cem:!", "<!")
        .replace("<cem:sig:", "<sig:")
        .replace("</cem:sig:", "</sig:")
        .replace("<cem:alias>", "<alias>");
    assert!(xml.contains("<cem:TrustResponse>") && xml.contains("<sig:X509SerialNumber>"));
    let a = parse_response(XML_CONTENT_TYPE, xml.as_bytes(), "mendelsontestAS2").unwrap();
    let b = parse_response("text/xml", MENDELSON.as_bytes(), "mendelsontestAS2").unwrap();
    assert_eq!(a, b);
    // a response in multipart/related form, base64 XML part
    let body = format!(
        "--x\r\nContent-Type: application/ediint-cert-exchange+xml\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n--x--\r\n",
        String::from_utf8(crate::mime::encoding::encode_base64_lines(
            MENDELSON.as_bytes()
        ))
        .unwrap()
    );
    let ct = "multipart/related; type=\"application/ediint-cert-exchange+xml\"; boundary=x";
    assert_eq!(kind_of(ct, body.as_bytes()).unwrap(), CemKind::Response);
    assert_eq!(
        parse_response(ct, body.as_bytes(), "mendelsontestAS2").unwrap(),
        b
    );
}

#[track_caller]
fn assert_fails(xml: &str, needles: &[&str]) {
    let e = parse_response(XML_CONTENT_TYPE, xml.as_bytes(), "mendelsontestAS2").unwrap_err();
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
    let cases: &[(&str, &str, &[&str])] = &[
        (
            ">mendelsontestAS2<",
            ">other<",
            &["TradingPartnerInfo/Name", "AS2-From"],
        ),
        (
            " requestId=\"req-42\"",
            "",
            &["EDIINTCertificateExchangeResponse has no requestId"],
        ),
        (
            "requestId=\"req-42\"",
            "requestId=\"  \"",
            &["empty requestId"],
        ),
        (
            "<CertStatus>Accepted",
            "<CertStatus>Pending",
            &["TrustResponse[2]/CertStatus", "Pending"],
        ),
        (
            "\t\t<CertStatus>Rejected</CertStatus>\n",
            "",
            &["TrustResponse[1]/CertStatus is missing"],
        ),
        (
            "<ds:X509SerialNumber>7<",
            "<ds:X509SerialNumber>7a<",
            &[
                "TrustResponse[2]/CertificateReference/X509SerialNumber",
                "7a",
            ],
        ),
        (
            "<ds:X509IssuerName>CN=as2.acme.example<",
            "<ds:X509IssuerName> <",
            &["TrustResponse[2]/CertificateReference/X509IssuerName is empty"],
        ),
        (
            "CertificateReference>",
            "CertificateRef>",
            &["TrustResponse[1]/CertificateReference is missing"],
        ),
        (
            "<MessageOriginated>2024-06-10T16:23:12+02:00",
            "<MessageOriginated>2024-06-10",
            &["TradingPartnerInfo/MessageOriginated"],
        ),
        (
            "EDIINTCertificateExchangeResponse",
            "EDIINTCertificateExchangeRequest",
            &["root element"],
        ),
        (
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
            "<!DOCTYPE lol [<!ENTITY lol \"lol\">]>",
            &["DOCTYPE"],
        ),
        (
            "\t<TradingPartnerInfo>",
            "\t<TradingPartnerInfo><x>",
            &["not XML"],
        ),
    ];
    for (from, to, needles) in cases {
        assert!(MENDELSON.contains(from), "{from}");
        assert_fails(&MENDELSON.replace(from, to), needles);
    }
    let start = MENDELSON.find("\t<TrustResponse>").unwrap();
    let end = MENDELSON.rfind("</TrustResponse>").unwrap() + "</TrustResponse>".len();
    assert_fails(
        &format!("{}{}", &MENDELSON[..start], &MENDELSON[end..]),
        &["EDIINTCertificateExchangeResponse has no TrustResponse"],
    );
    assert_fails("{\"not\": \"xml\"}", &["not XML"]);
    assert_fails("", &["not XML"]);
}

#[test]
fn build_refuses_incomplete_responses() {
    let mut r = sample();
    r.responses.clear();
    assert!(
        build_response(&r)
            .unwrap_err()
            .to_string()
            .contains("no TrustResponse")
    );
    let mut r = sample();
    r.responses[1].serial_decimal = "12ab".into();
    assert!(
        build_response(&r)
            .unwrap_err()
            .to_string()
            .contains("TrustResponse[2]/CertificateReference/X509SerialNumber")
    );
    let mut r = sample();
    r.responses[0].issuer_name = String::new();
    assert!(
        build_response(&r)
            .unwrap_err()
            .to_string()
            .contains("X509IssuerName is empty")
    );
    let mut r = sample();
    r.responses[0].reason = Some("nul \u{0}".into());
    assert!(
        build_response(&r)
            .unwrap_err()
            .to_string()
            .contains("ReasonForRejection")
    );
}
