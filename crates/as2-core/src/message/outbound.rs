//! An outbound AS2 message's settings (payload entity, optional compression before or
//! after signing, signature, encryption) and the whole-buffer build over the streaming
//! encoder: the HTTP headers, the body, and the MIC the partner's MDN must return.

use super::encoder::OutboundEncoder;
use super::options::NotificationOptions;
use super::{Mic, UnsignedMic};
use crate::cert::Certificate;
use crate::cms::{EncryptOptions, SignOptions};
use crate::crypto::{CryptoProvider, MicAlgStyle, PrivateKeyOps};
use crate::error::Result;

/// Where compression goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Compression {
    /// No compression.
    #[default]
    None,
    /// Compress the payload, then sign the compressed entity (RFC 5402 preferred).
    BeforeSigning,
    /// Sign, then compress the multipart/signed entity.
    AfterSigning,
}

/// Our signing key and options.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Signer<'a> {
    /// Our certificate (included in the signature).
    pub certificate: &'a Certificate,
    /// Its private key.
    pub key: &'a dyn PrivateKeyOps,
    /// Digest, scheme, attributes.
    pub options: SignOptions,
}

impl<'a> Signer<'a> {
    /// Sign with `key`, whose certificate is `certificate`, as `options` say.
    #[must_use]
    pub fn new(
        certificate: &'a Certificate,
        key: &'a dyn PrivateKeyOps,
        options: SignOptions,
    ) -> Self {
        Self {
            certificate,
            key,
            options,
        }
    }
}

/// Whom to encrypt for, and how.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Encryption<'a> {
    /// The recipients' certificates (the partner's; several during a rollover).
    pub recipients: Vec<&'a Certificate>,
    /// Content encryption and key transport.
    pub options: EncryptOptions,
}

impl<'a> Encryption<'a> {
    /// Encrypt for `recipients` as `options` say.
    #[must_use]
    pub fn new(recipients: Vec<&'a Certificate>, options: EncryptOptions) -> Self {
        Self {
            recipients,
            options,
        }
    }
}

/// Everything needed to build a message: [`OutboundMessage::new`], then set the fields
/// needed.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct OutboundMessage<'a> {
    /// Randomness (boundaries, Message-ID, content key, RSA padding).
    pub provider: &'a CryptoProvider,
    /// Our AS2 name.
    pub as2_from: String,
    /// The partner's AS2 name.
    pub as2_to: String,
    /// The Message-ID; generated when `None`.
    pub message_id: Option<String>,
    /// Domain for a generated Message-ID.
    pub message_id_domain: String,
    /// Subject.
    pub subject: String,
    /// The document.
    pub payload: &'a [u8],
    /// Its content type, e.g. `application/edi-x12`.
    pub content_type: String,
    /// Its file name, if any.
    pub filename: Option<String>,
    /// Compression.
    pub compression: Compression,
    /// Signing, if any.
    pub signer: Option<Signer<'a>>,
    /// Encryption recipients and algorithms, if any.
    pub encryption: Option<Encryption<'a>>,
    /// Request an MDN (`Disposition-Notification-To` value), if any.
    pub mdn_to: Option<String>,
    /// Disposition-Notification-Options, for a signed MDN.
    pub mdn_options: Option<NotificationOptions>,
    /// Receipt-Delivery-Option: the URL for an asynchronous MDN.
    pub receipt_delivery_option: Option<String>,
    /// EDIINT-Features to advertise (only what the product implements).
    pub ediint_features: Vec<String>,
    /// How to spell `micalg`.
    pub micalg_style: MicAlgStyle,
    /// What the MIC of a plain message (not signed, encrypted or compressed) covers.
    pub unsigned_mic: UnsignedMic,
}

impl<'a> OutboundMessage<'a> {
    /// A plain message whose randomness comes from `provider`; set the other fields as
    /// needed.
    #[must_use]
    pub fn new(
        provider: &'a CryptoProvider,
        as2_from: &str,
        as2_to: &str,
        payload: &'a [u8],
        content_type: &str,
    ) -> Self {
        Self {
            provider,
            as2_from: as2_from.to_owned(),
            as2_to: as2_to.to_owned(),
            message_id: None,
            message_id_domain: "as2".to_owned(),
            subject: "AS2 message".to_owned(),
            payload,
            content_type: content_type.to_owned(),
            filename: None,
            compression: Compression::None,
            signer: None,
            encryption: None,
            mdn_to: None,
            mdn_options: None,
            receipt_delivery_option: None,
            ediint_features: Vec::new(),
            micalg_style: MicAlgStyle::Rfc5751,
            unsigned_mic: UnsignedMic::ContentOnly,
        }
    }
}

/// A built message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltMessage {
    /// HTTP headers (never folded).
    pub headers: Vec<(String, String)>,
    /// HTTP body.
    pub body: Vec<u8>,
    /// The Message-ID.
    pub message_id: String,
    /// The MIC the MDN must return (computed per RFC 4130 §7.3.1 / RFC 5402).
    pub mic: Mic,
}

/// Build the message: a thin wrapper over [`OutboundEncoder`] with the whole payload
/// pushed at once into a body buffer sized up front.
///
/// # Errors
/// An invalid AS2 name, or a signing/encryption failure.
pub fn build_outbound(msg: &OutboundMessage<'_>) -> Result<BuiltMessage> {
    let mut encoder = OutboundEncoder::new(msg, Some(msg.payload.len() as u64))?;
    let headers = encoder.headers().to_vec();
    let declared = encoder.content_length();
    // the exact length when known; else room for the payload (compression shrinks it)
    let capacity = declared.map_or(msg.payload.len() + 16 * 1024, |n| {
        usize::try_from(n).unwrap_or(usize::MAX)
    });
    let mut body = Vec::with_capacity(capacity);
    encoder.push(msg.payload, &mut body)?;
    let tail = encoder.finish(&mut body)?;
    debug_assert!(declared.is_none_or(|n| n == body.len() as u64));
    Ok(BuiltMessage {
        headers,
        body,
        message_id: tail.message_id,
        mic: tail.mic,
    })
}
