//! `as2 mdn verify MDN_FILE --cert PARTNER_CERT --message-id ID --mic MIC`: parse a captured
//! MDN, verify its signature, and check that it answers our message with the MIC we
//! expect. Exit 0 when the MDN confirms delivery; otherwise the code of the disposition
//! (`crate::exit`): the one the MDN reports (`processed/error: decryption-failed` is 10),
//! or the one our check failed with (a bad signature is 11 `authentication-failed`, another
//! MIC 12 `integrity-check-failed`).

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use as2_core::message::Mic;
use serde_json::json;

use as2_core::mdn::{MdnDisposition, Modifier};

use crate::{Outcome, capture, creds, exit};

/// What `mdn verify` needs.
#[derive(Debug)]
pub struct Args<'a> {
    /// The captured MDN (HTTP response or async POST).
    pub file: &'a Path,
    /// The partner's certificate(s).
    pub certs: &'a [PathBuf],
    /// Our original Message-ID.
    pub message_id: &'a str,
    /// The MIC we expect (`<base64>, <alg>`), as `as2 pack` printed it.
    pub mic: Option<&'a str>,
    /// Refuse an unsigned MDN.
    pub require_signed: bool,
}

fn fail(
    json: &mut serde_json::Value,
    reason: &str,
    disposition: Option<&str>,
    code: u8,
) -> Outcome {
    json["ok"] = json!(false);
    json["error"] = json!(reason);
    json["exit_code"] = json!(code);
    let mut text = format!("MDN check failed: {reason}\n");
    if let Some(d) = disposition {
        text.push_str(&format!("disposition: {d}\n"));
    }
    Outcome {
        json: json.take(),
        text,
        code,
    }
}

/// Run `mdn verify`.
///
/// # Errors
/// Unreadable files or a malformed `--mic`.
pub fn run(a: &Args<'_>) -> Result<Outcome> {
    let cap = capture::read(a.file)?;
    let trusted = creds::load_certs(a.certs)?;
    let expected = a
        .mic
        .map(Mic::parse)
        .transpose()
        .context("--mic must look like `<base64>, sha-256`")?;
    let mut json = json!({ "message_id": a.message_id });
    let parsed = match as2_core::mdn::parse_mdn(&cap.headers, &cap.body, &trusted) {
        Ok(p) => p,
        Err(e) => {
            let disposition = MdnDisposition::from(&e);
            json["disposition_modifier"] = json!(disposition.modifier().map(Modifier::as_str));
            let code = exit::for_disposition(&disposition);
            return Ok(fail(&mut json, &format!("{e}"), None, code));
        }
    };
    json = json!({
        "message_id": a.message_id,
        "mdn_message_id": parsed.message_id,
        "as2_from": parsed.as2_from,
        "as2_to": parsed.as2_to,
        "original_message_id": parsed.original_message_id,
        "disposition": parsed.disposition_raw,
        "delivered": parsed.is_delivered(),
        "signed": parsed.signed,
        "signer": parsed.signature.as_ref().map(|s| creds::cert_json(&s.signer)),
        "received_content_mic": parsed.mic_raw,
        "expected_mic": a.mic,
        "mic_matches": match (&parsed.mic, &expected) {
            (Some(got), Some(want)) => Some(got.matches(want)),
            _ => None,
        },
        "text": parsed.text,
    });
    if let Err(e) = parsed.check(a.message_id, expected.as_ref(), a.require_signed) {
        let disposition = MdnDisposition::from(&e);
        json["disposition_modifier"] = json!(disposition.modifier().map(Modifier::as_str));
        return Ok(fail(
            &mut json,
            &e.to_string(),
            Some(&parsed.disposition_raw),
            exit::for_disposition(&disposition),
        ));
    }
    if !parsed.is_delivered() {
        let code = match &parsed.disposition {
            MdnDisposition::Error(m) | MdnDisposition::Failed(m) => exit::for_modifier(m.as_str()),
            _ => exit::FAILED,
        };
        return Ok(fail(
            &mut json,
            "the MDN reports that the message was not processed",
            Some(&parsed.disposition_raw),
            code,
        ));
    }
    json["ok"] = json!(true);
    let text = format!(
        "MDN ok: {}\nOriginal-Message-ID: {}\nReceived-Content-MIC: {}\nsigned: {}\n",
        parsed.disposition_raw,
        parsed.original_message_id,
        parsed.mic_raw.as_deref().unwrap_or("(none)"),
        parsed.signature.as_ref().map_or_else(
            || if parsed.signed {
                "yes (not verified)".to_owned()
            } else {
                "no".to_owned()
            },
            |s| format!("yes, by {}", s.signer.subject())
        ),
    );
    Ok(Outcome {
        json,
        text,
        code: 0,
    })
}
