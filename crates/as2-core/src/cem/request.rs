//! The CEM request: `multipart/related` with the `EDIINTCertificateExchangeRequest`
//! document first and one `application/pkcs7-mime; smime-type=certs-only` part per
//! certificate, tied together by `CertificateContentID`.

use super::common::{Writer, check_root, date, one, text, trading_partner};
use super::ident::{canonical_decimal, issuer_matches, serial_decimal};
use super::parts::{Document, is_valid_content_id, normalize_content_id};
use super::xml::Element;
use super::{
    BuiltCem, CemRequest, CertUsage, DSIG_NAMESPACE, NAMESPACE, TrustRequest, XML_CONTENT_TYPE, err,
};
use crate::cert::Certificate;
use crate::crypto::CryptoProvider;
use crate::error::Result;
use crate::mime::{EntityBuilder, build_multipart, generate_boundary, quote};

/// The root element of a request.
pub(crate) const ROOT: &str = "EDIINTCertificateExchangeRequest";

/// Build a request: the `multipart/related` payload of the AS2 message to send.
///
/// # Errors
/// An empty request id, AS2 name or request list, a trust request without usages, with a
/// URL that is not http(s), with a missing or repeated Content-ID, with an issuer or
/// serial that is not its certificate's, or a value XML cannot carry.
pub fn build_request(provider: &CryptoProvider, request: &CemRequest) -> Result<BuiltCem> {
    if request.requests.is_empty() {
        return Err(err(format!("{ROOT}: no TrustRequest")));
    }
    let mut w = Writer::new(ROOT, &request.request_id)?;
    w.trading_partner(&request.sender_as2_id, request.message_originated)?;
    let mut cert_parts = Vec::with_capacity(request.requests.len());
    for (i, tr) in request.requests.iter().enumerate() {
        let path = format!("TrustRequest[{}]", i + 1);
        check_outgoing(tr, &path)?;
        if request.requests[..i]
            .iter()
            .any(|o| o.content_id.eq_ignore_ascii_case(&tr.content_id))
        {
            return Err(err(format!(
                "{path}: Content-ID {:?} is used twice",
                tr.content_id
            )));
        }
        write_trust_request(&mut w, tr)?;
        cert_parts.push(
            EntityBuilder::new("application/pkcs7-mime; smime-type=certs-only")
                .header("Content-ID", format!("<{}>", tr.content_id))
                .header(
                    "Content-Disposition",
                    format!(
                        "attachment; filename={}",
                        quote(&format!("cert{}.p7c", i + 1))
                    ),
                )
                .body_base64(&crate::cms::certs_only(std::slice::from_ref(
                    &tr.certificate,
                ))?)
                .build(),
        );
    }
    let xml = w.finish(ROOT);
    let boundary = generate_boundary(provider)?;
    let root_id = format!("<cem-{}@as2>", boundary.trim_start_matches("----=_Part_"));
    let root_part = EntityBuilder::new(XML_CONTENT_TYPE)
        .header("Content-Transfer-Encoding", "binary")
        .header("Content-ID", root_id)
        .body(xml)
        .build();
    let mut parts: Vec<&[u8]> = vec![&root_part];
    parts.extend(cert_parts.iter().map(Vec::as_slice));
    let (content_type, body) = build_multipart(
        &format!("multipart/related; type={}", quote(XML_CONTENT_TYPE)),
        &boundary,
        &parts,
    );
    Ok(BuiltCem { content_type, body })
}

fn check_outgoing(tr: &TrustRequest, path: &str) -> Result<()> {
    if tr.usages.is_empty() {
        return Err(err(format!("{path}: no CertUsage")));
    }
    if !is_http_url(&tr.response_url) {
        return Err(err(format!(
            "{path}/ResponseURL {:?} is not an http or https URL",
            tr.response_url
        )));
    }
    if !is_valid_content_id(&tr.content_id) {
        return Err(err(format!(
            "{path}/EndEntity/CertificateContentID {:?} is not a usable Content-ID",
            tr.content_id
        )));
    }
    let id_path = format!("{path}/EndEntity/CertificateIdentifier");
    if canonical_decimal(&tr.serial_decimal).as_deref()
        != Some(serial_decimal(&tr.certificate).as_str())
    {
        return Err(err(format!(
            "{id_path}/X509SerialNumber {:?} is not the certificate's serial {}",
            tr.serial_decimal,
            serial_decimal(&tr.certificate)
        )));
    }
    if !issuer_matches(&tr.issuer_name, &tr.certificate) {
        return Err(err(format!(
            "{id_path}/X509IssuerName {:?} is not the certificate's issuer {:?}",
            tr.issuer_name,
            tr.certificate.issuer()
        )));
    }
    Ok(())
}

fn write_trust_request(w: &mut Writer, tr: &TrustRequest) -> Result<()> {
    w.open("TrustRequest");
    for (i, usage) in tr.usages.iter().enumerate() {
        if !tr.usages[..i].contains(usage) {
            w.leaf("CertUsage", usage.token())?;
        }
    }
    w.leaf("RespondByDate", &super::datetime::format(tr.respond_by))?;
    w.leaf("ResponseURL", &tr.response_url)?;
    w.open("EndEntity");
    w.open("CertificateIdentifier");
    w.leaf("ds:X509IssuerName", &tr.issuer_name)?;
    w.leaf("ds:X509SerialNumber", &tr.serial_decimal)?;
    w.close("CertificateIdentifier");
    w.leaf("CertificateContentID", &tr.content_id)?;
    w.close("EndEntity");
    w.close("TrustRequest");
    Ok(())
}

/// Whether `url` is `http://` or `https://` with a host.
fn is_http_url(url: &str) -> bool {
    let url = url.trim();
    let rest = url
        .get(..7)
        .filter(|p| p.eq_ignore_ascii_case("http://"))
        .map(|_| &url[7..])
        .or_else(|| {
            url.get(..8)
                .filter(|p| p.eq_ignore_ascii_case("https://"))
                .map(|_| &url[8..])
        });
    rest.is_some_and(|r| {
        let host = r.split(['/', '?', '#']).next().unwrap_or("");
        !host.is_empty() && !r.chars().any(|c| c.is_whitespace() || c.is_control())
    })
}

/// Parse and validate a received request. `expected_sender` is the AS2-From of the message
/// that carried it.
///
/// # Errors
/// [`Error::Cem`](crate::Error::Cem) naming the element at fault: not a CEM request, not
/// XML or with a DOCTYPE, no `requestId`, a `Name qualifier="AS2"` other than
/// `expected_sender`, no `TrustRequest`, an unknown or missing `CertUsage`, a bad
/// `RespondByDate`, a `ResponseURL` that is not http(s), a `CertificateContentID` naming
/// no part, or a certificate part whose issuer or serial differs from the
/// `CertificateIdentifier`.
pub fn parse_request(content_type: &str, body: &[u8], expected_sender: &str) -> Result<CemRequest> {
    let doc = Document::parse(content_type, body)?;
    let root = doc.root()?;
    let request_id = check_root(&root, ROOT)?;
    let (sender_as2_id, message_originated) = trading_partner(&root, ROOT, expected_sender)?;
    let requests = root
        .children(NAMESPACE, "TrustRequest")
        .enumerate()
        .map(|(i, tr)| parse_trust_request(tr, &format!("TrustRequest[{}]", i + 1), &doc))
        .collect::<Result<Vec<_>>>()?;
    if requests.is_empty() {
        return Err(err(format!("{ROOT} has no TrustRequest")));
    }
    Ok(CemRequest {
        request_id,
        sender_as2_id,
        message_originated,
        requests,
    })
}

fn parse_trust_request(tr: &Element, path: &str, doc: &Document) -> Result<TrustRequest> {
    let mut usages = Vec::new();
    for u in tr.children(NAMESPACE, "CertUsage") {
        let token = u.text.trim();
        let usage = CertUsage::from_token(token).ok_or_else(|| {
            err(format!(
                "{path}/CertUsage {token:?} is not keyEncipherment, digitalSignature, tlsServer or tlsClient"
            ))
        })?;
        if !usages.contains(&usage) {
            usages.push(usage);
        }
    }
    if usages.is_empty() {
        return Err(err(format!("{path}/CertUsage is missing")));
    }
    let respond_by = date(
        one(tr, NAMESPACE, "RespondByDate", path)?,
        &format!("{path}/RespondByDate"),
    )?;
    let url_path = format!("{path}/ResponseURL");
    let response_url = text(one(tr, NAMESPACE, "ResponseURL", path)?, &url_path)?;
    if !is_http_url(&response_url) {
        return Err(err(format!(
            "{url_path} {response_url:?} is not an http or https URL"
        )));
    }
    let ee_path = format!("{path}/EndEntity");
    let ee = one(tr, NAMESPACE, "EndEntity", path)?;
    let id_path = format!("{ee_path}/CertificateIdentifier");
    let ident = one(ee, NAMESPACE, "CertificateIdentifier", &ee_path)?;
    let issuer_path = format!("{id_path}/X509IssuerName");
    let issuer_name = text(
        one(ident, DSIG_NAMESPACE, "X509IssuerName", &id_path)?,
        &issuer_path,
    )?;
    let serial_path = format!("{id_path}/X509SerialNumber");
    let serial_text = text(
        one(ident, DSIG_NAMESPACE, "X509SerialNumber", &id_path)?,
        &serial_path,
    )?;
    let serial = canonical_decimal(&serial_text).ok_or_else(|| {
        err(format!(
            "{serial_path} {serial_text:?} is not a decimal integer"
        ))
    })?;
    let cid_path = format!("{ee_path}/CertificateContentID");
    let cid_raw = text(
        one(ee, NAMESPACE, "CertificateContentID", &ee_path)?,
        &cid_path,
    )?;
    let content_id = normalize_content_id(&cid_raw);
    let part = doc.part(&content_id).ok_or_else(|| {
        err(format!(
            "{cid_path} {cid_raw:?} names no MIME part of the request"
        ))
    })?;
    let certs = part
        .decoded_body()
        .and_then(|der| crate::cms::parse_certs_only(&der))
        .map_err(|e| {
            err(format!(
                "{cid_path} {cid_raw:?}: the part holds no certificate: {e}"
            ))
        })?;
    let certificate = matching_certificate(certs, &issuer_name, &serial, &id_path)?;
    Ok(TrustRequest {
        usages,
        respond_by,
        response_url,
        certificate,
        issuer_name,
        serial_decimal: serial,
        content_id,
    })
}

/// The certificate of the part that the identifier names (a part may carry a chain).
fn matching_certificate(
    certs: Vec<Certificate>,
    issuer: &str,
    serial: &str,
    id_path: &str,
) -> Result<Certificate> {
    let serials: Vec<String> = certs.iter().map(serial_decimal).collect();
    let same_serial: Vec<Certificate> = certs
        .into_iter()
        .zip(&serials)
        .filter(|(_, s)| s.as_str() == serial)
        .map(|(c, _)| c)
        .collect();
    if same_serial.is_empty() {
        return Err(err(format!(
            "{id_path}/X509SerialNumber {serial} does not match the certificate part (serial {})",
            serials.join(", ")
        )));
    }
    let issuers: Vec<String> = same_serial.iter().map(Certificate::issuer).collect();
    same_serial
        .into_iter()
        .find(|c| issuer_matches(issuer, c))
        .ok_or_else(|| {
            err(format!(
                "{id_path}/X509IssuerName {issuer:?} does not match the certificate's issuer {:?}",
                issuers.join("; ")
            ))
        })
}

#[cfg(test)]
#[allow(
    clippy::disallowed_methods,
    clippy::disallowed_types,
    reason = "tests read vectors, the clock and their own randomness"
)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        for ok in [
            "http://a",
            "https://as2.example.com:4443/as2?x=1",
            "HTTPS://A/",
        ] {
            assert!(is_http_url(ok), "{ok}");
        }
        for bad in [
            "",
            "ftp://a",
            "http://",
            "https:///x",
            "mailto:a@b",
            "http://a b",
            "as2.example.com",
            "httpx://a",
        ] {
            assert!(!is_http_url(bad), "{bad}");
        }
    }
}
