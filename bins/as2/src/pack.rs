//! `as2 pack PAYLOAD ... --out REQUEST`: build an AS2 request as a sender would and write it
//! as an HTTP request (request line, headers, blank line, body), plus `REQUEST.headers`
//! and `REQUEST.body` for `curl -H @REQUEST.headers --data-binary @REQUEST.body URL`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, anyhow, bail};
use as2_core::cms::{EncryptOptions, SignOptions};
use as2_core::crypto::SignatureScheme;
use as2_core::crypto::{ContentEncryption, DigestAlgorithm, KeyTransport, MicAlgStyle};
use as2_core::message::{
    Compression, NotificationOptions, OutboundMessage, Signer, build_outbound,
};
use serde_json::json;

use crate::{Outcome, creds};

/// What `pack` needs.
#[derive(Debug)]
pub struct Args<'a> {
    /// The payload file.
    pub payload: &'a Path,
    /// AS2-From.
    pub from: &'a str,
    /// AS2-To.
    pub to: &'a str,
    /// Our key (for signing).
    pub key: Option<&'a Path>,
    /// Its password.
    pub key_password: Option<&'a str>,
    /// Our certificate, when the key file has none.
    pub our_cert: Option<&'a Path>,
    /// The partner's certificate (to encrypt to).
    pub certs: &'a [PathBuf],
    /// Signing digest.
    pub sign: Option<&'a str>,
    /// RSASSA-PSS instead of PKCS#1 v1.5.
    pub pss: bool,
    /// Content encryption.
    pub encrypt: Option<&'a str>,
    /// RSAES-OAEP (SHA-256) instead of PKCS#1 v1.5 key transport.
    pub oaep: bool,
    /// `before` or `after` (signing).
    pub compress: Option<&'a str>,
    /// `sync` or `async=URL`.
    pub mdn: Option<&'a str>,
    /// Where the MDN goes (`Disposition-Notification-To`).
    pub mdn_to: &'a str,
    /// Ask for a signed MDN with this MIC algorithm.
    pub signed_mdn: Option<&'a str>,
    /// Content-Type of the payload.
    pub content_type: &'a str,
    /// Filename for Content-Disposition.
    pub filename: Option<&'a str>,
    /// Subject.
    pub subject: Option<&'a str>,
    /// A fixed Message-ID.
    pub message_id: Option<&'a str>,
    /// The request line's target.
    pub path: &'a str,
    /// Where to write the request.
    pub out: &'a Path,
}

/// A digest we may sign with or ask a partner to sign with: md5 is only verified, for old
/// partners, never produced or requested.
fn digest(name: &str) -> Result<DigestAlgorithm> {
    match DigestAlgorithm::from_name(name) {
        Some(DigestAlgorithm::Md5) => {
            bail!("md5 is accepted on input only; use sha256 (or sha1 for an old partner)")
        }
        Some(d) => Ok(d),
        None => bail!("unknown digest {name:?} (sha1, sha224, sha256, sha384, sha512)"),
    }
}

fn with_suffix(p: &Path, suffix: &str) -> PathBuf {
    let mut s = p.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// Run `pack`.
///
/// # Errors
/// Bad options, unreadable files, or a build failure.
pub fn run(a: &Args<'_>) -> Result<Outcome> {
    let payload =
        std::fs::read(a.payload).with_context(|| format!("reading {}", a.payload.display()))?;
    let own = a
        .key
        .map(|k| creds::load_key(k, a.key_password, a.our_cert))
        .transpose()?;
    let partner = creds::load_certs(a.certs)?;
    let mut msg = OutboundMessage::new(
        &as2_core::crypto::rust_crypto::DEFAULT_PROVIDER,
        a.from,
        a.to,
        &payload,
        a.content_type,
    );
    msg.filename = a.filename.map(str::to_owned);
    if let Some(s) = a.subject {
        s.clone_into(&mut msg.subject);
    }
    // a Message-ID is `<id-left@id-right>` (RFC 5322 msg-id); accept it without brackets
    msg.message_id = a.message_id.map(|id| {
        let id = id.trim();
        let bare = id.trim_start_matches('<').trim_end_matches('>');
        format!("<{bare}>")
    });
    msg.compression = match a.compress {
        None => Compression::None,
        Some("before") => Compression::BeforeSigning,
        Some("after") => Compression::AfterSigning,
        Some(other) => bail!("--compress must be before or after, not {other:?}"),
    };
    if let Some(alg) = a.sign {
        let own = own.as_ref().ok_or_else(|| anyhow!("--sign needs --key"))?;
        if own.stand_in {
            bail!(
                "--sign needs our certificate: use a PKCS#12, a PEM with the certificate, or --our-cert"
            );
        }
        msg.signer = Some(Signer::new(
            &own.certificate,
            &own.key,
            SignOptions::new(std::time::SystemTime::now())
                .with_digest(digest(alg)?)
                .with_scheme(if a.pss {
                    SignatureScheme::Pss
                } else {
                    SignatureScheme::Pkcs1v15
                }),
        ));
    }
    if let Some(alg) = a.encrypt {
        if partner.is_empty() {
            bail!("--encrypt needs --cert PARTNER_CERT");
        }
        let algorithm =
            ContentEncryption::from_name(alg).ok_or_else(|| anyhow!("unknown cipher {alg:?}"))?;
        let key_transport = if a.oaep {
            KeyTransport::RsaOaep(DigestAlgorithm::Sha256)
        } else {
            KeyTransport::RsaPkcs1v15
        };
        msg.encryption = Some(as2_core::message::Encryption::new(
            partner.iter().take(1).collect(),
            EncryptOptions::default()
                .with_algorithm(algorithm)
                .with_key_transport(key_transport),
        ));
    }
    let mut mdn_mode = None;
    if let Some(mode) = a.mdn {
        msg.mdn_to = Some(a.mdn_to.to_owned());
        if let Some(url) = mode.strip_prefix("async=") {
            msg.receipt_delivery_option = Some(url.to_owned());
            mdn_mode = Some(format!("async to {url}"));
        } else if mode == "sync" {
            mdn_mode = Some("sync".to_owned());
        } else {
            bail!("--mdn must be sync or async=URL, not {mode:?}");
        }
        if let Some(alg) = a.signed_mdn {
            msg.mdn_options = Some(NotificationOptions::signed(&[digest(alg)?]));
        }
    } else if a.signed_mdn.is_some() {
        bail!("--signed-mdn needs --mdn");
    }
    let built = build_outbound(&msg)?;
    // the MIC of a signed message uses the signature's digest; a partner answering a
    // request for another algorithm may return the MIC in that one instead
    let warning = match (&msg.signer, &msg.mdn_options) {
        (Some(signer), Some(opts)) if !opts.mic_algorithms().contains(&signer.options.digest) => {
            Some(format!(
                "the expected MIC uses the signing digest {}, but the MDN request asks for {}; \
                 a partner may return the MIC in the requested algorithm (use the same \
                 algorithm for --sign and --signed-mdn)",
                signer.options.digest.name(MicAlgStyle::Rfc5751),
                opts.mic_algorithms()
                    .iter()
                    .map(|d| d.name(MicAlgStyle::Rfc5751))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        }
        _ => None,
    };

    let mut head = String::new();
    for (n, v) in &built.headers {
        let _ = write!(head, "{n}: {v}\r\n");
    }
    let _ = write!(head, "Content-Length: {}\r\n", built.body.len());
    let mut request = format!("POST {} HTTP/1.1\r\n", a.path).into_bytes();
    request.extend_from_slice(head.as_bytes());
    request.extend_from_slice(b"\r\n");
    request.extend_from_slice(&built.body);
    let headers_file = with_suffix(a.out, ".headers");
    let body_file = with_suffix(a.out, ".body");
    // curl reads `-H @file` line by line; it sets Content-Length itself
    let curl_headers: String = built
        .headers
        .iter()
        .map(|(n, v)| format!("{n}: {v}\n"))
        .collect();
    for (path, data) in [
        (a.out, request.as_slice()),
        (headers_file.as_path(), curl_headers.as_bytes()),
        (body_file.as_path(), built.body.as_slice()),
    ] {
        std::fs::write(path, data).with_context(|| format!("writing {}", path.display()))?;
    }
    let mic = built.mic.to_header_value(MicAlgStyle::Rfc5751);
    let curl = format!(
        "curl -sS -D - -H @{} --data-binary @{} http://HOST:PORT{}",
        headers_file.display(),
        body_file.display(),
        a.path
    );
    let json = json!({
        "message_id": built.message_id,
        "mic": mic,
        "mic_base64": built.mic.base64(),
        "mic_algorithm": built.mic.algorithm.name(MicAlgStyle::Rfc5751),
        "signed": msg.signer.is_some(),
        "encryption": msg.encryption.as_ref().map(|e| e.options.algorithm.name()),
        "compress": a.compress,
        "mdn": mdn_mode,
        "request_file": a.out.display().to_string(),
        "headers_file": headers_file.display().to_string(),
        "body_file": body_file.display().to_string(),
        "body_bytes": built.body.len(),
        "curl": curl,
        "warning": warning,
    });
    let mut text = format!(
        "Message-ID: {}\nexpected MIC: {mic}\nrequest: {} ({} body bytes)\nsend with: {curl}\n",
        built.message_id,
        a.out.display(),
        built.body.len()
    );
    if let Some(w) = &warning {
        let _ = writeln!(text, "warning: {w}");
    }
    Ok(Outcome {
        json,
        text,
        code: 0,
    })
}
