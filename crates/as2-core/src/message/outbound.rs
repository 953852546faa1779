//! Building an outbound AS2 message: payload entity, optional compression (before or
//! after signing), signature, encryption; the HTTP headers, the body, and the MIC the
//! partner's MDN must return.

use super::options::NotificationOptions;
use super::{AS2_VERSION, Mic, format_as2_name, generate_message_id};
use crate::cert::Certificate;
use crate::cms::{self, EncryptOptions, SignOptions};
use crate::crypto::{DigestAlgorithm, MicAlgStyle, PrivateKeyOps};
use crate::error::Result;
use crate::mime::{EntityBuilder, Headers, build_multipart, generate_boundary, quote};

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
pub struct Signer<'a> {
    /// Our certificate (included in the signature).
    pub certificate: &'a Certificate,
    /// Its private key.
    pub key: &'a dyn PrivateKeyOps,
    /// Digest, scheme, attributes.
    pub options: SignOptions,
}

/// Everything needed to build a message.
#[derive(Debug, Clone)]
pub struct OutboundMessage<'a> {
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
    pub encryption: Option<(Vec<&'a Certificate>, EncryptOptions)>,
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
}

impl<'a> OutboundMessage<'a> {
    /// A plain message; set the other fields as needed.
    #[must_use]
    pub fn new(as2_from: &str, as2_to: &str, payload: &'a [u8], content_type: &str) -> Self {
        Self {
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

fn compressed_entity(inner: &[u8]) -> Result<Vec<u8>> {
    Ok(
        EntityBuilder::new(
            "application/pkcs7-mime; smime-type=compressed-data; name=\"smime.p7z\"",
        )
        .header("Content-Transfer-Encoding", "binary")
        .header("Content-Disposition", "attachment; filename=\"smime.p7z\"")
        .body(cms::compress(inner)?)
        .build(),
    )
}

/// Build the message.
///
/// # Errors
/// An invalid AS2 name, or a signing/encryption failure.
pub fn build_outbound(msg: &OutboundMessage<'_>) -> Result<BuiltMessage> {
    let from = format_as2_name(&msg.as2_from)?;
    let to = format_as2_name(&msg.as2_to)?;
    let message_id = msg
        .message_id
        .clone()
        .unwrap_or_else(|| generate_message_id(&msg.message_id_domain));

    // 1. the payload entity
    let mut payload =
        EntityBuilder::new(msg.content_type.clone()).header("Content-Transfer-Encoding", "binary");
    if let Some(f) = &msg.filename {
        payload = payload.header(
            "Content-Disposition",
            format!("attachment; filename={}", quote(f)),
        );
    }
    let payload_entity = payload.body(msg.payload.to_vec()).build();

    // MIC algorithm: the signature's digest, else the first requested, else sha-256
    let mic_alg = msg.signer.as_ref().map_or_else(
        || {
            msg.mdn_options
                .as_ref()
                .and_then(|o| o.mic_algorithms().first().copied())
                .unwrap_or(DigestAlgorithm::Sha256)
        },
        |s| s.options.digest,
    );

    let mut entity = payload_entity.clone();
    let mut top: Option<(Headers, Vec<u8>)> = None;
    if msg.compression == Compression::BeforeSigning {
        entity = compressed_entity(&entity)?;
    }
    let mic = if let Some(signer) = &msg.signer {
        let sig = cms::sign_detached(&entity, signer.certificate, signer.key, &signer.options)?;
        let sig_part = EntityBuilder::new("application/pkcs7-signature; name=\"smime.p7s\"")
            .header("Content-Disposition", "attachment; filename=\"smime.p7s\"")
            .body_base64(&sig)
            .build();
        let boundary = generate_boundary();
        let ct = format!(
            "multipart/signed; protocol=\"application/pkcs7-signature\"; micalg={}",
            signer.options.digest.name(msg.micalg_style)
        );
        let (ct, body) = build_multipart(&ct, &boundary, &[&entity, &sig_part]);
        let mic = Mic::compute(signer.options.digest, &entity);
        let mut h = Headers::new();
        h.push("Content-Type", ct);
        entity = EntityBuilder::new(h.get("Content-Type").unwrap_or_default())
            .body(body.clone())
            .build();
        top = Some((h, body));
        mic
    } else if msg.compression != Compression::None || msg.encryption.is_some() {
        // unsigned: over the (uncompressed / decrypted) payload entity with its headers
        Mic::compute(mic_alg, &payload_entity)
    } else {
        // nothing applied: over the content alone
        Mic::compute(mic_alg, msg.payload)
    };
    if msg.compression == Compression::AfterSigning
        || (msg.compression == Compression::BeforeSigning && msg.signer.is_none())
    {
        if msg.compression == Compression::AfterSigning {
            entity = compressed_entity(&entity)?;
        }
        top = None;
    }
    if let Some((recipients, opts)) = &msg.encryption {
        let enveloped = cms::encrypt(&entity, recipients, *opts)?;
        let smime_type = if opts.algorithm.is_aead() {
            "authEnveloped-data"
        } else {
            "enveloped-data"
        };
        let mut h = Headers::new();
        h.push(
            "Content-Type",
            format!("application/pkcs7-mime; smime-type={smime_type}; name=\"smime.p7m\""),
        );
        h.push("Content-Transfer-Encoding", "binary");
        h.push("Content-Disposition", "attachment; filename=\"smime.p7m\"");
        top = Some((h, enveloped));
    }
    let (content_headers, body) = match top {
        Some(t) => t,
        None => {
            let e = crate::mime::Entity::parse(&entity)?;
            (e.headers().clone(), e.body().to_vec())
        }
    };

    let mut headers: Vec<(String, String)> = vec![
        ("AS2-Version".into(), AS2_VERSION.into()),
        ("AS2-From".into(), from),
        ("AS2-To".into(), to),
        ("Message-ID".into(), message_id.clone()),
        ("Subject".into(), msg.subject.clone()),
        ("MIME-Version".into(), "1.0".into()),
    ];
    if !msg.ediint_features.is_empty() {
        headers.push(("EDIINT-Features".into(), msg.ediint_features.join(", ")));
    }
    if let Some(to) = &msg.mdn_to {
        headers.push(("Disposition-Notification-To".into(), to.clone()));
        if let Some(o) = &msg.mdn_options {
            headers.push((
                "Disposition-Notification-Options".into(),
                o.to_header_value(),
            ));
        }
        if let Some(url) = &msg.receipt_delivery_option {
            headers.push(("Receipt-Delivery-Option".into(), url.clone()));
        }
    }
    headers.extend(content_headers.into_pairs());
    Ok(BuiltMessage {
        headers,
        body,
        message_id,
        mic,
    })
}
