//! `as2 evidence verify FILE [--signer-cert PEM] [--tsa-cert PEM]`: check a message's
//! evidence bundle (`GET /v1/messages/{id}/evidence`) offline: its files against the
//! manifest, the MDN's signature under the included chain, that the MDN answers the message
//! with the MIC the manifest records, and the RFC 3161 time-stamp over the manifest. With
//! `--signer-cert`/`--tsa-cert`, the included certificates must also be these (an auditor's
//! own copies): the bundle's chains prove integrity, a pin proves whose. Exit 0 when every
//! check passes, 2 naming the failed checks otherwise.

use std::path::Path;

use anyhow::{Context as _, Result};
use as2_core::cert::Certificate;
use as2_evidence::bundle::{Check, Files, verify};
use serde_json::json;

use crate::{Outcome, creds, exit};

/// What `evidence verify` needs.
#[derive(Debug)]
pub struct Args<'a> {
    /// The bundle (zip).
    pub file: &'a Path,
    /// The MDN signer's certificate the bundle must name.
    pub signer_cert: Option<&'a Path>,
    /// The TSA certificate the bundle must name.
    pub tsa_cert: Option<&'a Path>,
}

/// Run `evidence verify`.
///
/// # Errors
/// An unreadable file or pin.
pub fn run(a: &Args<'_>) -> Result<Outcome> {
    let zip = std::fs::read(a.file).with_context(|| format!("cannot read {}", a.file.display()))?;
    let checks = match Files::from_zip(&zip) {
        Ok(files) => {
            let mut checks = verify(&files).checks;
            if let Some(pin) = a.signer_cert {
                checks.push(pinned("signer_pinned", pin, &files.signer_chain)?);
            }
            if let Some(pin) = a.tsa_cert {
                checks.push(pinned("tsa_pinned", pin, &files.tsa_chain)?);
            }
            checks
        }
        Err(e) => vec![Check {
            name: "bundle",
            ok: false,
            sentence: e.to_string(),
        }],
    };
    let failed: Vec<&str> = checks.iter().filter(|c| !c.ok).map(|c| c.name).collect();
    let mut text = String::new();
    for c in &checks {
        let mark = if c.ok { "ok  " } else { "FAIL" };
        text.push_str(&format!("{mark} {}: {}\n", c.name, c.sentence));
    }
    let code = if failed.is_empty() {
        text.push_str("evidence ok\n");
        0
    } else {
        text.push_str(&format!("evidence check failed: {}\n", failed.join(", ")));
        exit::FAILED
    };
    let json = json!({
        "ok": failed.is_empty(),
        "failed": failed,
        "checks": checks.iter().map(|c| json!({"name": c.name, "ok": c.ok, "sentence": c.sentence})).collect::<Vec<_>>(),
        "exit_code": code,
    });
    Ok(Outcome { json, text, code })
}

/// Whether the bundle's `chain` holds the certificate of the file at `pin`.
fn pinned(name: &'static str, pin: &Path, chain: &[u8]) -> Result<Check> {
    let wanted = creds::load_certs(&[pin.to_path_buf()])?;
    let included = Certificate::load_all(chain).unwrap_or_default();
    let found = wanted.iter().any(|w| {
        included
            .iter()
            .any(|c| c.fingerprint_sha256() == w.fingerprint_sha256())
    });
    let sentence = if found {
        format!("the bundle's certificate is the one in {}", pin.display())
    } else {
        format!(
            "the bundle's certificates are not the one in {}",
            pin.display()
        )
    };
    Ok(Check {
        name,
        ok: found,
        sentence,
    })
}
