//! Building an MDN: `multipart/report` with a human-readable part and a
//! `message/disposition-notification` part, optionally wrapped in `multipart/signed`.

use super::MdnDisposition;
use crate::crypto::{CryptoProvider, MicAlgStyle};
use crate::error::Result;
use crate::message::{AS2_VERSION, Mic, Signer, format_as2_name, generate_message_id};
use crate::mime::{EntityBuilder, Headers, build_multipart, generate_boundary};

/// What goes into an MDN: [`MdnParams::new`], then set the fields needed.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct MdnParams<'a> {
    /// Randomness (boundaries, Message-ID, RSA padding).
    pub provider: &'a CryptoProvider,
    /// Our AS2 name (the original message's AS2-To): the MDN's AS2-From.
    pub as2_from: String,
    /// The partner's AS2 name: the MDN's AS2-To.
    pub as2_to: String,
    /// The MDN's own Message-ID (generated when `None`).
    pub message_id: Option<String>,
    /// Domain for a generated Message-ID.
    pub message_id_domain: String,
    /// `Reporting-UA`.
    pub reporting_ua: String,
    /// `Original-Message-ID` (the inbound Message-ID, as received).
    pub original_message_id: String,
    /// The disposition.
    pub disposition: MdnDisposition,
    /// `Received-Content-MIC`, when computed.
    pub mic: Option<Mic>,
    /// How to spell the MIC algorithm.
    pub mic_style: MicAlgStyle,
    /// The human-readable text.
    pub text: String,
    /// Sign the MDN (when a signed receipt was requested, error MDNs included).
    pub signer: Option<Signer<'a>>,
}

impl<'a> MdnParams<'a> {
    /// Parameters for an MDN answering a message from `partner` to `us`, random from
    /// `provider`.
    #[must_use]
    pub fn new(
        provider: &'a CryptoProvider,
        us: &str,
        partner: &str,
        original_message_id: &str,
        disposition: MdnDisposition,
    ) -> Self {
        let text = if disposition.is_delivered() {
            format!("The AS2 message {original_message_id} has been received.")
        } else {
            format!(
                "The AS2 message {original_message_id} could not be processed: {}",
                disposition.to_field()
            )
        };
        Self {
            provider,
            as2_from: us.to_owned(),
            as2_to: partner.to_owned(),
            message_id: None,
            message_id_domain: "as2".to_owned(),
            reporting_ua: "as2-core".to_owned(),
            original_message_id: original_message_id.to_owned(),
            disposition,
            mic: None,
            mic_style: MicAlgStyle::Rfc5751,
            text,
            signer: None,
        }
    }
}

/// A built MDN: HTTP headers and body (a synchronous response or an async POST).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltMdn {
    /// HTTP headers.
    pub headers: Vec<(String, String)>,
    /// HTTP body.
    pub body: Vec<u8>,
    /// The MDN's Message-ID.
    pub message_id: String,
}

/// Build the MDN.
///
/// # Errors
/// Invalid AS2 names or a signing failure.
pub fn build_mdn(p: &MdnParams<'_>) -> Result<BuiltMdn> {
    let from = format_as2_name(&p.as2_from)?;
    let to = format_as2_name(&p.as2_to)?;
    let message_id = p
        .message_id
        .clone()
        .map_or_else(|| generate_message_id(p.provider, &p.message_id_domain), Ok)?;
    let mut fields = format!(
        "Reporting-UA: {}\r\nOriginal-Recipient: rfc822; {}\r\nFinal-Recipient: rfc822; {}\r\nOriginal-Message-ID: {}\r\nDisposition: {}\r\n",
        p.reporting_ua,
        p.as2_from,
        p.as2_from,
        p.original_message_id,
        p.disposition.to_field()
    );
    if let Some(mic) = &p.mic {
        fields.push_str(&format!(
            "Received-Content-MIC: {}\r\n",
            mic.to_header_value(p.mic_style)
        ));
    }
    let text_part = EntityBuilder::new("text/plain; charset=us-ascii")
        .header("Content-Transfer-Encoding", "7bit")
        .body(format!(
            "{}\r\n",
            p.text.replace('\n', "\r\n").replace("\r\r\n", "\r\n")
        ))
        .build();
    let dn_part = EntityBuilder::new("message/disposition-notification")
        .header("Content-Transfer-Encoding", "7bit")
        .body(fields)
        .build();
    let (report_ct, report_body) = build_multipart(
        "multipart/report; report-type=disposition-notification",
        &generate_boundary(p.provider)?,
        &[&text_part, &dn_part],
    );
    let (content_type, body) = if let Some(signer) = &p.signer {
        let report = EntityBuilder::new(report_ct).body(report_body).build();
        let sig = crate::cms::sign_detached(
            p.provider,
            &report,
            signer.certificate,
            signer.key,
            &signer.options,
        )?;
        let sig_part = EntityBuilder::new("application/pkcs7-signature; name=\"smime.p7s\"")
            .header("Content-Disposition", "attachment; filename=\"smime.p7s\"")
            .body_base64(&sig)
            .build();
        let ct = format!(
            "multipart/signed; protocol=\"application/pkcs7-signature\"; micalg={}",
            signer.options.digest.name(p.mic_style)
        );
        build_multipart(&ct, &generate_boundary(p.provider)?, &[&report, &sig_part])
    } else {
        (report_ct, report_body)
    };
    let mut h = Headers::new();
    h.push("AS2-Version", AS2_VERSION);
    h.push("AS2-From", from);
    h.push("AS2-To", to);
    h.push("Message-ID", message_id.clone());
    h.push("Subject", "Message Disposition Notification");
    h.push("MIME-Version", "1.0");
    h.push("Content-Type", content_type);
    Ok(BuiltMdn {
        headers: h.into_pairs(),
        body,
        message_id,
    })
}
