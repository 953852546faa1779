//! Building an outbound AS2 message: payload entity, optional compression (before or
//! after signing), signature, encryption; the HTTP headers, the body, and the MIC the
//! partner's MDN must return.

use super::options::NotificationOptions;
use super::{AS2_VERSION, Mic, format_as2_name, generate_message_id};
use crate::cert::Certificate;
use crate::cms::{self, EncryptOptions, SignOptions};
use crate::crypto::{CryptoProvider, DigestAlgorithm, MicAlgStyle, PrivateKeyOps};
use crate::error::Result;
use crate::mime::{EntityBuilder, Headers, generate_boundary, quote};

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
    let message_id = msg.message_id.clone().map_or_else(
        || generate_message_id(msg.provider, &msg.message_id_domain),
        Ok,
    )?;

    // 1. the payload entity: `payload_head` + the payload, written where it is needed
    let mut payload =
        EntityBuilder::new(msg.content_type.clone()).header("Content-Transfer-Encoding", "binary");
    if let Some(f) = &msg.filename {
        payload = payload.header(
            "Content-Disposition",
            format!("attachment; filename={}", quote(f)),
        );
    }
    let payload_head = payload.build();
    let payload_entity = || [payload_head.as_slice(), msg.payload].concat();

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

    // CBC encryption of the entity as built (no compression after it): the entity is
    // written straight behind room for the EnvelopedData header in the output buffer and
    // encrypted in place there, so the message is one buffer of its final size. (Should
    // that setup fail, `cms::encrypt` below reports the same error where it always did.)
    let direct = msg.compression == Compression::None
        || (msg.compression == Compression::BeforeSigning && msg.signer.is_some());
    let sealer = match &msg.encryption {
        Some(enc) if direct && !enc.options.algorithm.is_aead() => {
            cms::CbcSealer::new(msg.provider, &enc.recipients, enc.options).ok()
        }
        _ => None,
    };
    // a buffer for an entity of about `len` bytes: (buffer, where the entity starts)
    let entity_buffer = |len: usize| -> Result<(Vec<u8>, usize)> {
        match &sealer {
            Some(s) => s.buffer(len),
            None => Ok((Vec::with_capacity(len), 0)),
        }
    };

    let mut top: Option<(Headers, Vec<u8>)> = None;
    // the entity to wrap further, from `entity_start` in `entity`
    let (mut entity, mut entity_start, mic) = if let Some(signer) = &msg.signer {
        let compressed = if msg.compression == Compression::BeforeSigning {
            Some(compressed_entity(&payload_entity())?)
        } else {
            None
        };
        let boundary = generate_boundary(msg.provider)?;
        let ct = format!(
            "multipart/signed; protocol=\"application/pkcs7-signature\"; micalg={}; boundary={}",
            signer.options.digest.name(msg.micalg_style),
            quote(&boundary)
        );
        let mut h = Headers::new();
        h.push("Content-Type", ct);
        // the multipart/signed entity in one buffer (as `build_multipart` lays it out):
        // its header block only when a further layer wraps it as an entity
        let wrapped = msg.encryption.is_some() || msg.compression == Compression::AfterSigning;
        let head = if wrapped {
            let mut v = h.to_bytes();
            v.extend_from_slice(b"\r\n");
            v
        } else {
            Vec::new()
        };
        let inner_len = compressed
            .as_ref()
            .map_or(payload_head.len() + msg.payload.len(), Vec::len);
        // room for the signature part (base64 of a few KiB at most) and the delimiters
        let (mut out, start) =
            entity_buffer(head.len() + inner_len + 3 * boundary.len() + 16 * 1024)?;
        out.extend_from_slice(&head);
        let delimiter = |out: &mut Vec<u8>, close: bool| {
            out.extend_from_slice(b"--");
            out.extend_from_slice(boundary.as_bytes());
            out.extend_from_slice(if close { b"--\r\n".as_slice() } else { b"\r\n" });
        };
        delimiter(&mut out, false);
        let inner_start = out.len();
        match &compressed {
            Some(c) => out.extend_from_slice(c),
            None => {
                out.extend_from_slice(&payload_head);
                out.extend_from_slice(msg.payload);
            }
        }
        // RFC 4130 §7.3.1: the MIC is over the signed entity, which the signature's
        // messageDigest covers, so the signer's digest is the MIC
        let (sig, digest) = cms::sign_detached_with_digest(
            msg.provider,
            &out[inner_start..],
            signer.certificate,
            signer.key,
            &signer.options,
        )?;
        let sig_part = EntityBuilder::new("application/pkcs7-signature; name=\"smime.p7s\"")
            .header("Content-Disposition", "attachment; filename=\"smime.p7s\"")
            .body_base64(&sig)
            .build();
        out.extend_from_slice(b"\r\n");
        delimiter(&mut out, false);
        out.extend_from_slice(&sig_part);
        out.extend_from_slice(b"\r\n");
        delimiter(&mut out, true);
        let mic = Mic {
            algorithm: signer.options.digest,
            value: digest,
        };
        if wrapped {
            (out, start, mic)
        } else {
            top = Some((h, out));
            (Vec::new(), 0, mic)
        }
    } else {
        let (mut entity, start) = entity_buffer(payload_head.len() + msg.payload.len())?;
        entity.extend_from_slice(&payload_head);
        entity.extend_from_slice(msg.payload);
        let mic = if msg.compression != Compression::None || msg.encryption.is_some() {
            // unsigned: over the (uncompressed / decrypted) payload entity with its headers
            Mic::compute(mic_alg, &entity[start..])
        } else {
            // nothing applied: over the content alone
            Mic::compute(mic_alg, msg.payload)
        };
        (entity, start, mic)
    };
    if !direct {
        entity = compressed_entity(&entity[entity_start..])?;
        entity_start = 0;
        top = None;
    }
    if let Some(Encryption {
        recipients,
        options: opts,
    }) = &msg.encryption
    {
        let enveloped = match &sealer {
            Some(s) => s.seal(entity, entity_start)?,
            None => cms::encrypt(msg.provider, &entity[entity_start..], recipients, *opts)?,
        };
        entity = Vec::new();
        entity_start = 0;
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
            // not encrypted: the entity starts the buffer
            debug_assert_eq!(entity_start, 0);
            let e = crate::mime::Entity::parse_vec(entity, &crate::mime::MimeLimits::default())?;
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
