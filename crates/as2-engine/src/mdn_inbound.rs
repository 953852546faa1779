//! Async MDNs partners post to us: find the outbound message by `AS2-To` (our station),
//! `AS2-From` (the partner) and the MDN's `Original-Message-ID`, then apply the MDN to it.

use as2_core::mdn::parse_mdn;
use as2_core::message::parse_as2_name;
use as2_core::mime::Headers;
use as2_domain::message::{Direction, MessageStatus};
use as2_store::payload::PayloadStore;
use as2_store::{Scope, Store, StoreError};

use crate::error::EngineError;
use crate::mdn_receipt;
use crate::outcome::HttpAnswer;

/// Whether a request to the AS2 endpoint carries an MDN rather than a message: a
/// `multipart/report`, or a signed entity whose content is a disposition notification.
pub fn looks_like_mdn(headers: &[(String, String)], body: &[u8]) -> bool {
    let content_type = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-type"))
        .map(|(_, v)| v.to_ascii_lowercase())
        .unwrap_or_default();
    if content_type.starts_with("multipart/report")
        || content_type.starts_with("message/disposition-notification")
    {
        return true;
    }
    if !content_type.starts_with("multipart/signed") {
        return false;
    }
    let head = &body[..body.len().min(4096)];
    let head = String::from_utf8_lossy(head).to_ascii_lowercase();
    head.contains("multipart/report") && head.contains("disposition-notification")
}

/// Handles one async MDN.
pub fn receive_mdn(
    store: &Store,
    payloads: &PayloadStore,
    headers: &[(String, String)],
    body: &[u8],
) -> HttpAnswer {
    match process(store, payloads, headers, body) {
        Ok(answer) => answer,
        Err(e) => {
            tracing::error!(error = %e, "handling an async MDN failed");
            HttpAnswer::text(503, "The MDN could not be recorded; retry later")
        }
    }
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn process(
    store: &Store,
    payloads: &PayloadStore,
    headers: &[(String, String)],
    body: &[u8],
) -> Result<HttpAnswer, EngineError> {
    let name = |h: &str| header(headers, h).and_then(|v| parse_as2_name(v).ok());
    let (Some(from), Some(to)) = (name("AS2-From"), name("AS2-To")) else {
        return Ok(HttpAnswer::text(
            400,
            "An MDN needs AS2-From and AS2-To headers",
        ));
    };
    // Read the Original-Message-ID without trusting anything yet.
    let parsed_headers = Headers::from_pairs(headers.iter().map(|(n, v)| (n.as_str(), v.as_str())));
    let original = match parse_mdn(&parsed_headers, body, &[]) {
        Ok(mdn) => mdn.original_message_id,
        Err(e) => return Ok(HttpAnswer::text(400, &format!("Not a readable MDN: {e}"))),
    };
    for station in store.stations().find_by_as2_id(&to)? {
        let scope = Scope::new(station.tenant_id, station.mode);
        let partner = match store.partners().find_for_station(scope, station.id, &from) {
            Ok(p) => p,
            Err(StoreError::NotFound) => continue,
            Err(e) => return Err(e.into()),
        };
        let Some(message) =
            store
                .messages()
                .find_by_as2_id(scope, partner.id, Direction::Outbound, &original)?
        else {
            continue;
        };
        // `processing` too: a fast partner's async MDN can arrive before our worker has
        // read the partner's HTTP answer and marked the message `sent`.
        if !matches!(
            message.status,
            MessageStatus::Sent | MessageStatus::Processing
        ) {
            store.messages().add_event(
                scope,
                message.id,
                "mdn_ignored",
                Some("An MDN arrived for a message that was not awaiting one"),
            )?;
            return Ok(HttpAnswer::text(200, "MDN already recorded"));
        }
        return Ok(
            match mdn_receipt::apply(store, payloads, scope, &message, &partner, headers, body)? {
                mdn_receipt::Receipt::Applied(_) => HttpAnswer::text(200, "MDN received"),
                mdn_receipt::Receipt::Refused(sentence) => HttpAnswer::text(403, &sentence),
            },
        );
    }
    Ok(HttpAnswer::text(
        404,
        &format!("No message {original:?} from {to:?} to {from:?} is awaiting an MDN"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ct(v: &str) -> Vec<(String, String)> {
        vec![("Content-Type".into(), v.into())]
    }

    #[test]
    fn tells_mdns_from_messages() {
        assert!(looks_like_mdn(
            &ct("multipart/report; report-type=disposition-notification; boundary=x"),
            b""
        ));
        let signed_mdn = b"--b\r\nContent-Type: multipart/report; report-type=disposition-notification; boundary=\"i\"\r\n\r\n";
        assert!(looks_like_mdn(
            &ct("multipart/signed; protocol=\"application/pkcs7-signature\"; boundary=b"),
            signed_mdn
        ));
        let signed_edi = b"--b\r\nContent-Type: application/edi-x12\r\n\r\nISA*";
        assert!(!looks_like_mdn(
            &ct("multipart/signed; protocol=\"application/pkcs7-signature\"; boundary=b"),
            signed_edi
        ));
        assert!(!looks_like_mdn(
            &ct("application/pkcs7-mime; smime-type=enveloped-data"),
            b""
        ));
        assert!(!looks_like_mdn(&[], b""));
    }
}
