//! The CEM response: an `EDIINTCertificateExchangeResponse` document with one
//! `TrustResponse` per trust request, sent as `application/ediint-cert-exchange+xml`.

use super::common::{Writer, check_root, one, text, trading_partner};
use super::ident::canonical_decimal;
use super::parts::Document;
use super::xml::Element;
use super::{
    BuiltCem, CemResponse, CertStatus, DSIG_NAMESPACE, NAMESPACE, TrustResponse, XML_CONTENT_TYPE,
    err,
};
use crate::error::Result;

/// The root element of a response.
pub(crate) const ROOT: &str = "EDIINTCertificateExchangeResponse";

/// Build a response: the payload of the AS2 message that answers a request.
///
/// # Errors
/// An empty request id, AS2 name or response list, an empty issuer, a serial that is not
/// decimal, or a value XML cannot carry.
pub fn build_response(response: &CemResponse) -> Result<BuiltCem> {
    if response.responses.is_empty() {
        return Err(err(format!("{ROOT}: no TrustResponse")));
    }
    let mut w = Writer::new(ROOT, &response.request_id)?;
    w.trading_partner(&response.sender_as2_id, response.message_originated)?;
    for (i, tr) in response.responses.iter().enumerate() {
        let path = format!("TrustResponse[{}]/CertificateReference", i + 1);
        if tr.issuer_name.trim().is_empty() {
            return Err(err(format!("{path}/X509IssuerName is empty")));
        }
        if canonical_decimal(&tr.serial_decimal).is_none() {
            return Err(err(format!(
                "{path}/X509SerialNumber {:?} is not a decimal integer",
                tr.serial_decimal
            )));
        }
        w.open("TrustResponse");
        w.leaf("CertStatus", tr.status.token())?;
        if let Some(reason) = tr.reason.as_deref().filter(|r| !r.trim().is_empty()) {
            w.leaf("ReasonForRejection", reason)?;
        }
        w.open("CertificateReference");
        w.leaf("ds:X509IssuerName", &tr.issuer_name)?;
        w.leaf("ds:X509SerialNumber", &tr.serial_decimal)?;
        w.close("CertificateReference");
        w.close("TrustResponse");
    }
    Ok(BuiltCem {
        content_type: XML_CONTENT_TYPE.to_owned(),
        body: w.finish(ROOT),
    })
}

/// Parse and validate a received response (the bare XML, or a `multipart/related` whose
/// root is the XML). `expected_sender` is the AS2-From of the message that carried it.
///
/// # Errors
/// [`Error::Cem`](crate::Error::Cem) naming the element at fault: not a CEM response, not
/// XML or with a DOCTYPE, no `requestId`, a `Name qualifier="AS2"` other than
/// `expected_sender`, no `TrustResponse`, a `CertStatus` other than Accepted or Rejected,
/// or a `CertificateReference` without issuer or decimal serial.
pub fn parse_response(
    content_type: &str,
    body: &[u8],
    expected_sender: &str,
) -> Result<CemResponse> {
    let root = Document::parse(content_type, body)?.root()?;
    let request_id = check_root(&root, ROOT)?;
    let (sender_as2_id, message_originated) = trading_partner(&root, ROOT, expected_sender)?;
    let responses = root
        .children(NAMESPACE, "TrustResponse")
        .enumerate()
        .map(|(i, tr)| parse_trust_response(tr, &format!("TrustResponse[{}]", i + 1)))
        .collect::<Result<Vec<_>>>()?;
    if responses.is_empty() {
        return Err(err(format!("{ROOT} has no TrustResponse")));
    }
    Ok(CemResponse {
        request_id,
        sender_as2_id,
        message_originated,
        responses,
    })
}

fn parse_trust_response(tr: &Element, path: &str) -> Result<TrustResponse> {
    let status_path = format!("{path}/CertStatus");
    let status_text = text(one(tr, NAMESPACE, "CertStatus", path)?, &status_path)?;
    let status = if status_text.eq_ignore_ascii_case("Accepted") {
        CertStatus::Accepted
    } else if status_text.eq_ignore_ascii_case("Rejected") {
        CertStatus::Rejected
    } else {
        return Err(err(format!(
            "{status_path} {status_text:?} is not Accepted or Rejected"
        )));
    };
    let mut reasons = tr.children(NAMESPACE, "ReasonForRejection");
    let reason = reasons
        .next()
        .map(|r| r.text.trim().to_owned())
        .filter(|r| !r.is_empty());
    if reasons.next().is_some() {
        return Err(err(format!(
            "{path}/ReasonForRejection appears more than once"
        )));
    }
    let ref_path = format!("{path}/CertificateReference");
    let reference = one(tr, NAMESPACE, "CertificateReference", path)?;
    let issuer_name = text(
        one(reference, DSIG_NAMESPACE, "X509IssuerName", &ref_path)?,
        &format!("{ref_path}/X509IssuerName"),
    )?;
    let serial_path = format!("{ref_path}/X509SerialNumber");
    let serial_text = text(
        one(reference, DSIG_NAMESPACE, "X509SerialNumber", &ref_path)?,
        &serial_path,
    )?;
    let serial_decimal = canonical_decimal(&serial_text).ok_or_else(|| {
        err(format!(
            "{serial_path} {serial_text:?} is not a decimal integer"
        ))
    })?;
    Ok(TrustResponse {
        status,
        reason,
        issuer_name,
        serial_decimal,
    })
}
