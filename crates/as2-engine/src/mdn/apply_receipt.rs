//! Applying a partner's MDN (sync in the HTTP answer, or async on our MDN endpoint) to the
//! outbound message it answers: verify the signature with the partner's certificates, check
//! the Original-Message-ID and the MIC, record the MDN, and end the message `delivered` or
//! `failed` with a sentence an operator can act on.

use as2_core::crypto::{CryptoProvider, MicAlgStyle};
use as2_core::mdn::{ParsedMdn, parse_mdn_with_limits};
use as2_core::message::Mic;
use as2_core::mime::{Headers, MimeLimits};
use as2_domain::mdn::MdnRecord;
use as2_domain::message::{ErrorKind, Message, MessageError, MessageStatus};
use as2_domain::partner::Partner;
use as2_domain::webhook::EventType;
use as2_store::payload::PayloadStore;
use as2_store::{Announce, Scope, Store};

use crate::error::EngineError;
use crate::material::partner_certificates;
use crate::mdn::stored;

/// What the MDN says about the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// `delivered` or `failed`.
    pub status: MessageStatus,
    /// Why it failed.
    pub error: Option<MessageError>,
}

impl Verdict {
    fn delivered() -> Self {
        Self {
            status: MessageStatus::Delivered,
            error: None,
        }
    }

    fn failed(kind: ErrorKind, sentence: String) -> Self {
        Self {
            status: MessageStatus::Failed,
            error: Some(MessageError { kind, sentence }),
        }
    }
}

/// Judges a parsed MDN against the message it should answer.
///
/// A MIC is compared whenever the MDN carries one, and required when `require_mic` (the
/// message was signed: RFC 4130 §7.3.1 makes the MIC mandatory then).
pub fn judge(
    mdn: &ParsedMdn,
    message: &Message,
    expected_mic: Option<&Mic>,
    require_mic: bool,
    require_signed: bool,
) -> Verdict {
    if !mdn.is_delivered() {
        let text = mdn
            .text
            .as_deref()
            .map(|t| format!(" ({})", t.chars().take(300).collect::<String>()))
            .unwrap_or_default();
        return Verdict::failed(
            ErrorKind::NegativeMdn,
            format!(
                "The partner refused the message with the disposition \"{}\"{text}; fix what it names and retry",
                mdn.disposition_raw
            ),
        );
    }
    let expected = expected_mic.filter(|_| mdn.mic.is_some() || require_mic);
    match mdn.check(&message.as2_message_id, expected, require_signed) {
        Ok(()) => Verdict::delivered(),
        Err(as2_core::Error::Integrity(detail)) => Verdict::failed(
            ErrorKind::MicMismatch,
            format!(
                "The MIC in the partner's MDN does not match what we sent ({detail}): the partner may have received altered content; resend and compare with the partner"
            ),
        ),
        Err(as2_core::Error::InsufficientSecurity(_)) => Verdict::failed(
            ErrorKind::MdnSignature,
            "The partner's MDN is not signed although a signed MDN was requested; check the partner's MDN settings".to_owned(),
        ),
        Err(other) => Verdict::failed(
            ErrorKind::Unexpected,
            format!("The partner's MDN does not answer this message: {other}"),
        ),
    }
}

fn unreadable(error: &as2_core::Error) -> Verdict {
    match error {
        as2_core::Error::Signature(_) | as2_core::Error::UnknownSigner => Verdict::failed(
            ErrorKind::MdnSignature,
            format!(
                "The partner's MDN signature does not verify against their certificate ({error}); check the partner's certificate"
            ),
        ),
        other => Verdict::failed(
            ErrorKind::Unexpected,
            format!("The partner's answer is not a readable MDN: {other}"),
        ),
    }
}

/// What became of a partner's MDN.
#[derive(Debug)]
pub enum Receipt {
    /// Recorded; the message moved to its final status.
    Applied(Box<Message>),
    /// Not authenticated as we asked (unsigned when a signed MDN was requested, or a
    /// signature that does not verify against the partner's certificates): recorded only as
    /// an event on the message, whose status did not change.
    Refused(String),
}

/// Why an MDN is not accepted as the partner's, if it is not.
fn refusal(parsed: &Result<ParsedMdn, as2_core::Error>, partner: &Partner) -> Option<String> {
    match parsed {
        Err(e @ (as2_core::Error::Signature(_) | as2_core::Error::UnknownSigner)) => Some(format!(
            "An MDN whose signature does not verify against the partner's certificates ({e}) was refused; the message's status is unchanged"
        )),
        Ok(mdn) if partner.settings.mdn_signed && mdn.signature.is_none() => Some(
            "An unsigned MDN was refused: we asked this partner for signed MDNs; the message's status is unchanged"
                .to_owned(),
        ),
        _ => None,
    }
}

/// Records the MDN in `headers` + `body` for `message` (status `processing` for a sync MDN,
/// `sent` for an async one) and moves the message to its final status, unless the MDN is
/// refused as unauthenticated. `crypto` checks the MDN's signature.
#[allow(
    clippy::too_many_arguments,
    reason = "the context (provider, store, payloads, scope), the message and partner, the MDN"
)]
pub fn apply(
    crypto: &CryptoProvider,
    store: &Store,
    payloads: &PayloadStore,
    scope: Scope,
    message: &Message,
    partner: &Partner,
    headers: &[(String, String)],
    body: &[u8],
) -> Result<Receipt, EngineError> {
    let trusted = partner_certificates(store, scope, partner)?;
    let parsed = parse_mdn_with_limits(
        crypto,
        &Headers::from_pairs(headers.iter().map(|(n, v)| (n.as_str(), v.as_str()))),
        body,
        &trusted,
        &MimeLimits::default(),
    );
    if let Some(sentence) = refusal(&parsed, partner) {
        tracing::warn!(message = %message.id, partner = %partner.id, "refused an unauthenticated MDN");
        store
            .messages()
            .add_event(scope, message.id, "mdn_refused", Some(&sentence))?;
        return Ok(Receipt::Refused(sentence));
    }
    let stored = payloads.put_bytes(&stored::serialize(headers, body))?;
    let expected = message.mic.as_deref().and_then(|m| Mic::parse(m).ok());
    let (verdict, record) = match &parsed {
        Ok(mdn) => {
            let verdict = judge(
                mdn,
                message,
                expected.as_ref(),
                partner.settings.sign,
                partner.settings.mdn_signed,
            );
            let matched = match (&mdn.mic, &expected) {
                (Some(got), Some(want)) => Some(got.matches(want)),
                _ => None,
            };
            let record = MdnRecord {
                message_id: message.id,
                disposition: mdn.disposition_raw.clone(),
                positive: mdn.is_delivered(),
                mic: mdn
                    .mic
                    .as_ref()
                    .map(|m| m.to_header_value(MicAlgStyle::Rfc5751)),
                mic_matched: matched,
                signed: mdn.signed,
                verified: mdn.signature.is_some(),
                original_message_id: Some(mdn.original_message_id.clone()),
                raw_key: Some(stored.key.clone()),
                created_at: chrono::Utc::now(),
            };
            (verdict, record)
        }
        Err(e) => (
            unreadable(e),
            MdnRecord {
                message_id: message.id,
                disposition: String::new(),
                positive: false,
                mic: None,
                mic_matched: None,
                signed: matches!(
                    e,
                    as2_core::Error::Signature(_) | as2_core::Error::UnknownSigner
                ),
                verified: false,
                original_message_id: None,
                raw_key: Some(stored.key.clone()),
                created_at: chrono::Utc::now(),
            },
        ),
    };
    let received = Announce::with(
        EventType::MdnReceived,
        serde_json::json!({ "disposition": record.disposition, "mic_matched": record.mic_matched, "signed": record.signed, "verified": record.verified }),
    );
    let (event, concluded) = if verdict.status == MessageStatus::Delivered {
        ("delivered", EventType::MessageDelivered)
    } else {
        ("failed", EventType::MessageFailed)
    };
    // the MDN, its event, the message's final status and its event commit together
    let updated = store.transaction(|tx| {
        if !tx.messages().has_mdn(scope, message.id)? {
            tx.messages().record_mdn(scope, &record, None)?;
        }
        tx.messages().announce_as_is(scope, message, &received)?;
        tx.messages().transition(
            scope,
            message.id,
            verdict.status,
            verdict.error.as_ref(),
            event,
            Some(&Announce::new(concluded)),
        )
    })?;
    Ok(Receipt::Applied(Box::new(updated)))
}
