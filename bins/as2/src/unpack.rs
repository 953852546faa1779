//! `as2 unpack FILE --key KEY --cert PARTNER_CERT --out PAYLOAD`: decrypt, decompress and
//! verify a captured AS2 request as a receiver would, write the payload and show the MIC.
//! A failure prints the MDN disposition a receiver would answer with, and exits with that
//! disposition's code (`crate::exit`: 10 `decryption-failed`, 11 `authentication-failed`...).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use as2_core::cms::{DecryptionKey, SignOptions};
use as2_core::crypto::{DigestAlgorithm, MicAlgStyle};
use as2_core::mdn::{MdnDisposition, MdnParams, Modifier, build_mdn};
use as2_core::message::{Envelope, InboundConfig, Mic, Signer, parse_inbound};
use serde_json::json;

use crate::{Outcome, capture, creds, exit};

/// What `unpack` needs.
#[derive(Debug)]
pub struct Args<'a> {
    /// The capture.
    pub file: &'a Path,
    /// Our private key (PEM/DER/PKCS#12).
    pub key: &'a Path,
    /// Its password.
    pub key_password: Option<&'a str>,
    /// Our certificate, when the key file has none.
    pub our_cert: Option<&'a Path>,
    /// The partner's certificate(s): trusted signers.
    pub certs: &'a [PathBuf],
    /// Where to write the payload.
    pub out: &'a Path,
    /// Refuse unsigned messages.
    pub require_signed: bool,
    /// Refuse unencrypted messages.
    pub require_encrypted: bool,
    /// Write the MDN a receiver would answer with (an HTTP response) here.
    pub mdn_out: Option<&'a Path>,
}

/// Build the MDN answering the message (signed when a signed receipt was asked for and we
/// have a real certificate) and write it as an HTTP response.
fn write_mdn(
    path: &Path,
    envelope: &Envelope,
    own: &creds::OwnKey,
    disposition: MdnDisposition,
    mic: Option<&Mic>,
) -> Result<()> {
    let original = envelope.message_id.clone().unwrap_or_default();
    let mut params = MdnParams::new(
        &as2_core::crypto::rust_crypto::DEFAULT_PROVIDER,
        &envelope.as2_to,
        &envelope.as2_from,
        &original,
        disposition,
    );
    params.reporting_ua = "as2-cli".to_owned();
    params.mic = mic.cloned();
    if let Some(req) = envelope.mdn.as_ref().filter(|m| m.signed()) {
        if own.stand_in {
            anyhow::bail!("a signed MDN was requested: give our certificate (--our-cert)");
        }
        let digest = req
            .options
            .mic_algorithms()
            .first()
            .copied()
            .unwrap_or(DigestAlgorithm::Sha256);
        params.signer = Some(Signer::new(
            &own.certificate,
            &own.key,
            SignOptions::new(std::time::SystemTime::now()).with_digest(digest),
        ));
    }
    let mdn = build_mdn(&params)?;
    let mut out = b"HTTP/1.1 200 OK\r\n".to_vec();
    for (n, v) in &mdn.headers {
        out.extend_from_slice(format!("{n}: {v}\r\n").as_bytes());
    }
    out.extend_from_slice(format!("Content-Length: {}\r\n\r\n", mdn.body.len()).as_bytes());
    out.extend_from_slice(&mdn.body);
    std::fs::write(path, out).with_context(|| format!("writing {}", path.display()))
}

/// Run `unpack`.
///
/// # Errors
/// Unreadable input or key files, or the payload cannot be written. A message that fails
/// to unpack is not an error: it is an [`Outcome`] whose code is its disposition's
/// ([`exit::for_disposition`]).
pub fn run(a: &Args<'_>) -> Result<Outcome> {
    let cap = capture::read(a.file)?;
    let own = creds::load_key(a.key, a.key_password, a.our_cert)?;
    let trusted = creds::load_certs(a.certs)?;
    let keys = [DecryptionKey {
        certificate: &own.certificate,
        key: &own.key,
    }];
    let cfg = InboundConfig::new(
        &as2_core::crypto::rust_crypto::DEFAULT_PROVIDER,
        &keys,
        &trusted,
    )
    .with_require_signature(a.require_signed)
    .with_require_encryption(a.require_encrypted);
    let envelope = Envelope::from_headers(&cap.headers).ok();
    match parse_inbound(&cap.headers, &cap.body, &cfg) {
        Ok(msg) => {
            std::fs::write(a.out, &msg.payload)
                .with_context(|| format!("writing {}", a.out.display()))?;
            if let Some(p) = a.mdn_out {
                write_mdn(
                    p,
                    &msg.envelope,
                    &own,
                    MdnDisposition::Processed,
                    Some(&msg.mic),
                )?;
            }
            let mic = msg.mic.to_header_value(MicAlgStyle::Rfc5751);
            let signer = msg.signature.as_ref().map(|s| {
                json!({
                    "digest": s.digest.name(MicAlgStyle::Rfc5751),
                    "certificate": creds::cert_json(&s.signer),
                })
            });
            let json = json!({
                "ok": true,
                "as2_from": msg.envelope.as2_from,
                "as2_to": msg.envelope.as2_to,
                "message_id": msg.envelope.message_id,
                "encryption": msg.encryption.map(|e| e.name()),
                "compressed": msg.compressed,
                "signature": signer,
                "content_type": msg.payload_entity.headers().get("content-type"),
                "filename": msg.filename(),
                "payload_bytes": msg.payload.len(),
                "payload_file": a.out.display().to_string(),
                "mic": mic,
                "mic_base64": msg.mic.base64(),
                "mic_algorithm": msg.mic.algorithm.name(MicAlgStyle::Rfc5751),
                "mdn_requested": msg.envelope.mdn.as_ref().map(|m| json!({
                    "to": m.to,
                    "signed": m.signed(),
                    "async_url": m.receipt_delivery_option,
                })),
                "disposition": MdnDisposition::Processed.to_field(),
            });
            let mut text = String::new();
            let _ = writeln!(
                text,
                "from {} to {}, Message-ID {}",
                msg.envelope.as2_from,
                msg.envelope.as2_to,
                msg.envelope.message_id.as_deref().unwrap_or("(none)")
            );
            let _ = writeln!(
                text,
                "encrypted: {}",
                msg.encryption.map_or("no", |e| e.name())
            );
            let _ = writeln!(
                text,
                "compressed: {}",
                if msg.compressed { "yes" } else { "no" }
            );
            match &msg.signature {
                Some(s) => {
                    let _ = writeln!(
                        text,
                        "signed: {} by {} (serial {})",
                        s.digest.name(MicAlgStyle::Rfc5751),
                        s.signer.subject(),
                        s.signer.serial_hex()
                    );
                }
                None => {
                    let _ = writeln!(text, "signed: no");
                }
            }
            let _ = writeln!(
                text,
                "payload: {} bytes written to {}",
                msg.payload.len(),
                a.out.display()
            );
            let _ = writeln!(text, "MIC: {mic}");
            Ok(Outcome {
                json,
                text,
                code: 0,
            })
        }
        Err(e) => {
            let disposition = MdnDisposition::from(&e);
            let field = disposition.to_field();
            if let (Some(p), Some(env)) = (a.mdn_out, &envelope) {
                write_mdn(p, env, &own, disposition.clone(), None)?;
            }
            let json = json!({
                "ok": false,
                "as2_from": envelope.as_ref().map(|e| e.as2_from.clone()),
                "as2_to": envelope.as_ref().map(|e| e.as2_to.clone()),
                "message_id": cap.headers.get("message-id"),
                "disposition": field,
                "disposition_modifier": disposition.modifier().map(Modifier::as_str),
                "exit_code": exit::for_disposition(&disposition),
                "error": e.to_string(),
                "key_certificate_stand_in": own.stand_in,
            });
            let text = format!("failed: {e}\nMDN disposition: {field}\n");
            Ok(Outcome {
                json,
                text,
                code: exit::for_disposition(&disposition),
            })
        }
    }
}
