//! Async MDNs partners post to us: admitted on their headers like a message (`AS2-To` our
//! station on the URL's mode, `AS2-From` its partner, active, firewall, basic auth), then the
//! outbound message of that partner named by the MDN's `Original-Message-ID` gets the MDN.

use as2_core::crypto::CryptoProvider;
use as2_core::mdn::parse_mdn;
use as2_domain::message::{Direction, MessageStatus};
use as2_store::Store;
use as2_store::payload::PayloadStore;

use crate::admission::Admitted;
use crate::error::EngineError;
use crate::inbound::Route;
use crate::mdn::apply_receipt;
use crate::outcome::HttpAnswer;
use crate::refusal::Refusal;

/// The request's `Content-Type`, lower-cased (empty when absent).
fn content_type(headers: &[(String, String)]) -> String {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-type"))
        .map(|(_, v)| v.trim_start().to_ascii_lowercase())
        .unwrap_or_default()
}

/// Whether the request is `multipart/signed`: a signed MDN or a signed message, told apart
/// only by the start of the body ([`looks_like_mdn`]).
pub fn is_multipart_signed(headers: &[(String, String)]) -> bool {
    content_type(headers).starts_with("multipart/signed")
}

/// Whether a request to the AS2 endpoint carries an MDN rather than a message: a
/// `multipart/report`, or a signed entity whose content is a disposition notification.
pub fn looks_like_mdn(headers: &[(String, String)], body: &[u8]) -> bool {
    let content_type = content_type(headers);
    if content_type.starts_with("multipart/report")
        || content_type.starts_with("message/disposition-notification")
    {
        return true;
    }
    if !is_multipart_signed(headers) {
        return false;
    }
    let head = &body[..body.len().min(4096)];
    let head = String::from_utf8_lossy(head).to_ascii_lowercase();
    head.contains("multipart/report") && head.contains("disposition-notification")
}

/// Handles one async MDN whose headers passed admission ([`crate::admission::admit`]: our
/// station of the URL's mode, its partner, active, inside the firewall, basic auth): only
/// that partner's outbound messages of that tenant and mode can receive it. `crypto`
/// checks the MDN's signature.
pub fn receive_mdn(
    crypto: &CryptoProvider,
    store: &Store,
    payloads: &PayloadStore,
    admitted: &Admitted,
    headers: &[(String, String)],
    body: &[u8],
) -> HttpAnswer {
    if let Some(refusal) = admitted.refuse_size(u64::try_from(body.len()).unwrap_or(u64::MAX)) {
        return refusal.answer();
    }
    match process(crypto, store, payloads, admitted, headers, body) {
        Ok(answer) => answer,
        Err(e) => {
            tracing::error!(error = %e, "handling an async MDN failed");
            Refusal::MdnNotRecorded.answer()
        }
    }
}

fn process(
    crypto: &CryptoProvider,
    store: &Store,
    payloads: &PayloadStore,
    admitted: &Admitted,
    headers: &[(String, String)],
    body: &[u8],
) -> Result<HttpAnswer, EngineError> {
    let Route {
        scope,
        station,
        partner,
        ..
    } = &admitted.route;
    // Read the Original-Message-ID without trusting anything yet: the signature is checked
    // when the MDN is applied.
    let original = match parse_mdn(&admitted.headers, body, &[]) {
        Ok(mdn) => mdn.original_message_id,
        Err(e) => return Ok(Refusal::UnreadableMdn(e.to_string()).answer()),
    };
    let Some(message) =
        store
            .messages()
            .find_by_as2_id(*scope, partner.id, Direction::Outbound, &original)?
    else {
        return Ok(Refusal::NoMessageAwaitsMdn {
            original,
            station: station.settings.as2_id.clone(),
            partner: partner.settings.as2_id.clone(),
        }
        .answer());
    };
    // `processing` too: a fast partner's async MDN can arrive before our worker has
    // read the partner's HTTP answer and marked the message `sent`.
    if !matches!(
        message.status,
        MessageStatus::Sent | MessageStatus::Processing
    ) {
        store.messages().add_event(
            *scope,
            message.id,
            "mdn_ignored",
            Some("An MDN arrived for a message that was not awaiting one"),
        )?;
        return Ok(HttpAnswer::text(200, "MDN already recorded"));
    }
    Ok(
        match apply_receipt::apply(
            crypto, store, payloads, *scope, &message, partner, headers, body,
        )? {
            apply_receipt::Receipt::Applied(_) => HttpAnswer::text(200, "MDN received"),
            apply_receipt::Receipt::Refused(sentence) => {
                Refusal::MdnNotAuthenticated(sentence).answer()
            }
        },
    )
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
