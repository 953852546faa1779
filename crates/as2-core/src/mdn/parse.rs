//! Parsing and verifying an inbound MDN: signed or not, `multipart/report` nested in
//! unusual ways, or a bare `message/disposition-notification`.

use super::MdnDisposition;
use crate::cert::Certificate;
use crate::cms::{VerifiedSignature, verify_detached};
use crate::crypto::{CryptoProvider, rust_crypto};
use crate::error::{Error, IntegrityError, Result};
use crate::message::Mic;
use crate::mime::{Entity, Headers, MimeLimits, canonicalize_crlf, canonicalize_headers, unquote};

/// A parsed MDN.
#[derive(Debug, Clone)]
pub struct ParsedMdn {
    /// `AS2-From` of the MDN, if present.
    pub as2_from: Option<String>,
    /// `AS2-To` of the MDN, if present.
    pub as2_to: Option<String>,
    /// The MDN's own Message-ID (some products omit it).
    pub message_id: Option<String>,
    /// `Reporting-UA`.
    pub reporting_ua: Option<String>,
    /// `Original-Recipient` (after `rfc822;`).
    pub original_recipient: Option<String>,
    /// `Final-Recipient` (after `rfc822;`).
    pub final_recipient: String,
    /// `Original-Message-ID`.
    pub original_message_id: String,
    /// `Disposition`.
    pub disposition: MdnDisposition,
    /// The raw `Disposition` value.
    pub disposition_raw: String,
    /// `Received-Content-MIC`, if present and parseable.
    pub mic: Option<Mic>,
    /// The raw `Received-Content-MIC` value.
    pub mic_raw: Option<String>,
    /// The human-readable text, if any.
    pub text: Option<String>,
    /// Whether the MDN was signed.
    pub signed: bool,
    /// The verified signature (when signed and certificates were given).
    pub signature: Option<VerifiedSignature>,
}

impl ParsedMdn {
    /// Whether the document counts as delivered (`processed` or `processed/warning`).
    #[must_use]
    pub fn is_delivered(&self) -> bool {
        self.disposition.is_delivered()
    }

    /// Check the MDN against the message it answers: the Original-Message-ID must match;
    /// when `expected_mic` is given the returned MIC must equal it (algorithm normalised,
    /// value byte for byte); when `require_signed`, the MDN must carry a verified signature.
    ///
    /// # Errors
    /// [`Error::Mdn`], [`Error::Integrity`] or [`Error::InsufficientSecurity`].
    pub fn check(
        &self,
        original_message_id: &str,
        expected_mic: Option<&Mic>,
        require_signed: bool,
    ) -> Result<()> {
        let norm = |s: &str| {
            s.trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_owned()
        };
        if norm(&self.original_message_id) != norm(original_message_id) {
            return Err(Error::Mdn(format!(
                "Original-Message-ID {} does not match {original_message_id}",
                self.original_message_id
            )));
        }
        if require_signed && self.signature.is_none() {
            return Err(Error::InsufficientSecurity("MDN is not signed".into()));
        }
        if let Some(expected) = expected_mic
            && self.is_delivered()
        {
            match &self.mic {
                Some(m) if m.matches(expected) => {}
                Some(_) => {
                    return Err(Error::Integrity(IntegrityError::MicMismatch));
                }
                None => return Err(Error::Integrity(IntegrityError::MicMissing)),
            }
        }
        Ok(())
    }
}

/// The notification part and the text beside it, searched leniently through nested
/// multiparts: a multipart that does not split is passed over, but one beyond the limits
/// is an error.
fn find_notification(entity: &Entity, depth: usize) -> Result<Option<(Entity, Option<String>)>> {
    let ct = entity.content_type();
    if ct.is("message/disposition-notification") {
        return Ok(Some((entity.clone(), None)));
    }
    if !ct.is_multipart() || depth > 4 {
        return Ok(None);
    }
    let parts = match entity.parts() {
        Ok(parts) => parts,
        Err(e @ Error::LimitExceeded { .. }) => return Err(e),
        Err(_) => return Ok(None),
    };
    let mut text = None;
    for part in &parts {
        let pct = part.content_type();
        if pct.is("text/plain") && text.is_none() {
            text = part
                .decoded_body()
                .ok()
                .map(|b| String::from_utf8_lossy(&b).trim().to_owned());
        }
    }
    for part in &parts {
        if let Some((n, t)) = find_notification(part, depth + 1)? {
            return Ok(Some((n, t.or(text))));
        }
    }
    Ok(None)
}

fn after_type(v: &str) -> String {
    v.split_once(';').map_or(v, |(_, n)| n).trim().to_owned()
}

/// Parse an MDN from its HTTP headers and body. When the MDN is signed and `trusted` is
/// not empty, the signature must verify with one of them (checked with
/// `rust_crypto`'s verifier; [`parse_mdn_with_limits`] takes the provider). The default
/// [`MimeLimits`] bound its parts and fields.
///
/// # Errors
/// No disposition notification, a missing required field, a bad signature, or
/// [`Error::LimitExceeded`].
pub fn parse_mdn(headers: &Headers, body: &[u8], trusted: &[Certificate]) -> Result<ParsedMdn> {
    parse_mdn_with_limits(
        &rust_crypto::DEFAULT_PROVIDER,
        headers,
        body,
        trusted,
        &MimeLimits::default(),
    )
}

/// [`parse_mdn`] within `limits` (those of inbound messages, typically): they bound the
/// parts of every multipart and the header blocks, the notification's fields included;
/// `provider` checks the signature.
///
/// # Errors
/// As [`parse_mdn`].
pub fn parse_mdn_with_limits(
    provider: &CryptoProvider,
    headers: &Headers,
    body: &[u8],
    trusted: &[Certificate],
    limits: &MimeLimits,
) -> Result<ParsedMdn> {
    let top = Entity::from_parts(headers.clone(), body).with_limits(limits);
    let mut content = top.clone();
    let mut signed = false;
    let mut signature = None;
    if top.content_type().is("multipart/signed") {
        signed = true;
        let (inner, sig_part) = top.split_signed()?;
        if !trusted.is_empty() {
            let sig = sig_part.decoded_body()?;
            let raw = inner.raw().to_vec();
            let candidates = [
                raw.clone(),
                canonicalize_headers(&raw),
                canonicalize_crlf(&raw),
            ];
            let refs: Vec<&[u8]> = candidates.iter().map(Vec::as_slice).collect();
            signature = Some(verify_detached(provider, &sig, &refs, trusted)?);
        }
        content = inner;
    }
    let (dn, text) = find_notification(&content, 0)?
        .ok_or_else(|| Error::Mdn("no message/disposition-notification part".into()))?;
    let fields = Headers::parse_lenient_with_limits(&dn.decoded_body()?, limits)?;
    let required = |name: &'static str| {
        fields
            .get(name)
            .map(str::to_owned)
            .ok_or_else(|| Error::Mdn(format!("MDN without {name}")))
    };
    let disposition_raw = required("disposition")?;
    let mic_raw = fields.get("received-content-mic").map(str::to_owned);
    Ok(ParsedMdn {
        as2_from: headers.get("as2-from").map(unquote),
        as2_to: headers.get("as2-to").map(unquote),
        message_id: headers.get("message-id").map(str::to_owned),
        reporting_ua: fields.get("reporting-ua").map(str::to_owned),
        original_recipient: fields.get("original-recipient").map(after_type),
        final_recipient: after_type(&required("final-recipient")?),
        original_message_id: required("original-message-id")?,
        disposition: MdnDisposition::parse(&disposition_raw),
        disposition_raw,
        mic: mic_raw.as_deref().and_then(|m| Mic::parse(m).ok()),
        mic_raw,
        text,
        signed,
        signature,
    })
}

#[cfg(test)]
#[allow(
    clippy::disallowed_methods,
    clippy::disallowed_types,
    reason = "tests read vectors, the clock and their own randomness"
)]
#[path = "parse_tests.rs"]
mod tests;
