//! The offline checks of a bundle, each a sentence: the files are those the manifest names,
//! the MDN's signature verifies under the included chain, the MDN answers the message and
//! carries the MIC the manifest records, and the time-stamp covers the manifest.

use as2_core::cert::Certificate;
use as2_core::message::Mic;
use as2_core::mime::Headers;

use super::manifest::hex;
use super::{FORMAT, Files, MDN, Manifest, SIGNER_CHAIN, TIMELINE};

/// One check and how it went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// `manifest`, `files`, `mdn_signature`, `mdn_answers_message`, `mic` or `timestamp`.
    pub name: &'static str,
    /// Whether it passed.
    pub ok: bool,
    /// What was found, for a person.
    pub sentence: String,
}

/// Every check of a bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// In the order they ran.
    pub checks: Vec<Check>,
}

impl Report {
    /// Whether every check passed.
    #[must_use]
    pub fn ok(&self) -> bool {
        self.checks.iter().all(|c| c.ok)
    }

    /// The names of the checks that failed.
    #[must_use]
    pub fn failed(&self) -> Vec<&'static str> {
        self.checks
            .iter()
            .filter(|c| !c.ok)
            .map(|c| c.name)
            .collect()
    }

    fn push(&mut self, name: &'static str, outcome: Result<String, String>) {
        let (ok, sentence) = match outcome {
            Ok(s) => (true, s),
            Err(s) => (false, s),
        };
        self.checks.push(Check { name, ok, sentence });
    }
}

/// Runs every check on `files`; a check that cannot run because an earlier one failed says
/// so and fails too.
#[must_use]
pub fn verify(files: &Files) -> Report {
    let mut report = Report { checks: Vec::new() };
    let manifest = serde_json::from_slice::<Manifest>(&files.manifest)
        .map_err(|e| format!("manifest.json is not a bundle manifest: {e}"))
        .and_then(|m| {
            if m.format == FORMAT {
                Ok(m)
            } else {
                Err(format!(
                    "manifest.json has format {:?}, not {FORMAT:?}",
                    m.format
                ))
            }
        });
    report.push(
        "manifest",
        manifest
            .as_ref()
            .map(|m| {
                format!(
                    "manifest.json describes message {} ({})",
                    m.message.id, m.message.as2_message_id
                )
            })
            .map_err(Clone::clone),
    );
    let Ok(manifest) = manifest else {
        report.push("timestamp", check_timestamp(files));
        return report;
    };
    report.push("files", check_files(files, &manifest));
    let parsed = parse_mdn(files);
    report.push(
        "mdn_signature",
        parsed.as_ref().map_err(Clone::clone).and_then(|mdn| {
            let signature = mdn
                .signature
                .as_ref()
                .ok_or_else(|| "mdn.eml is not signed".to_owned())?;
            Ok(format!(
                "the MDN's signature verifies under {} (SHA-256 {})",
                signature.signer.subject(),
                signature.signer.fingerprint_sha256_hex()
            ))
        }),
    );
    report.push(
        "mdn_answers_message",
        parsed
            .as_ref()
            .map_err(|_| "the MDN could not be read".to_owned())
            .and_then(|mdn| check_answers(mdn, &manifest)),
    );
    report.push(
        "mic",
        parsed
            .as_ref()
            .map_err(|_| "the MDN could not be read".to_owned())
            .and_then(|mdn| check_mic(mdn, &manifest)),
    );
    report.push("timestamp", check_timestamp(files));
    report
}

fn check_files(files: &Files, manifest: &Manifest) -> Result<String, String> {
    let mut wrong = Vec::new();
    for (name, bytes) in [
        (MDN, &files.mdn),
        (SIGNER_CHAIN, &files.signer_chain),
        (TIMELINE, &files.timeline),
    ] {
        let actual = hex(&crate::sha256(bytes));
        match manifest.files.get(name) {
            Some(listed) if listed.eq_ignore_ascii_case(&actual) => {}
            Some(listed) => wrong.push(format!(
                "{name} has SHA-256 {actual}, the manifest says {listed}"
            )),
            None => wrong.push(format!("the manifest does not list {name}")),
        }
    }
    if wrong.is_empty() {
        Ok(
            "mdn.eml, signer-chain.pem and timeline.json have the SHA-256 the manifest lists"
                .into(),
        )
    } else {
        Err(wrong.join("; "))
    }
}

fn parse_mdn(files: &Files) -> Result<as2_core::mdn::ParsedMdn, String> {
    let chain = Certificate::load_all(&files.signer_chain)
        .map_err(|e| format!("signer-chain.pem does not parse: {e}"))?;
    if chain.is_empty() {
        return Err("signer-chain.pem holds no certificate".into());
    }
    let (headers, body) = mdn_parts(&files.mdn)?;
    if !headers.content_type().is("multipart/signed") {
        return Err("mdn.eml is not signed (not multipart/signed)".into());
    }
    as2_core::mdn::parse_mdn(&headers, body, &chain)
        .map_err(|e| format!("the MDN's signature does not verify under signer-chain.pem: {e}"))
}

/// The headers and body of an MDN as kept (`mdn.eml`: headers, CRLF, body).
///
/// # Errors
/// No blank line, or headers that do not parse (a sentence).
pub fn mdn_parts(raw: &[u8]) -> Result<(Headers, &[u8]), String> {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| "mdn.eml has no blank line after its headers".to_owned())?;
    let headers = Headers::parse(&raw[..split])
        .map_err(|e| format!("mdn.eml's headers do not parse: {e}"))?;
    Ok((headers, &raw[split + 4..]))
}

fn check_answers(mdn: &as2_core::mdn::ParsedMdn, manifest: &Manifest) -> Result<String, String> {
    let unbracket = |s: &str| {
        s.trim()
            .trim_start_matches('<')
            .trim_end_matches('>')
            .to_owned()
    };
    if unbracket(&mdn.original_message_id) != unbracket(&manifest.message.as2_message_id) {
        return Err(format!(
            "the MDN answers {}, not the manifest's message {}",
            mdn.original_message_id, manifest.message.as2_message_id
        ));
    }
    if mdn.disposition_raw.trim() != manifest.mdn.disposition.trim() {
        return Err(format!(
            "the MDN's disposition is {:?}, the manifest says {:?}",
            mdn.disposition_raw, manifest.mdn.disposition
        ));
    }
    Ok(format!(
        "the MDN answers {} with {:?}",
        mdn.original_message_id, mdn.disposition_raw
    ))
}

fn check_mic(mdn: &as2_core::mdn::ParsedMdn, manifest: &Manifest) -> Result<String, String> {
    let returned = mdn
        .mic
        .as_ref()
        .ok_or_else(|| "the MDN carries no Received-Content-MIC".to_owned())?;
    let listed = manifest
        .mic
        .returned
        .as_deref()
        .map(Mic::parse)
        .transpose()
        .map_err(|e| format!("the manifest's returned MIC does not parse: {e}"))?
        .ok_or_else(|| "the manifest records no returned MIC".to_owned())?;
    if !returned.matches(&listed) {
        return Err(format!(
            "the MDN's Received-Content-MIC is {}, the manifest says {}",
            mdn.mic_raw.as_deref().unwrap_or_default(),
            manifest.mic.returned.as_deref().unwrap_or_default()
        ));
    }
    let computed = manifest
        .mic
        .computed
        .as_deref()
        .ok_or_else(|| "the manifest records no computed MIC".to_owned())?;
    let computed = Mic::parse(computed)
        .map_err(|e| format!("the manifest's computed MIC does not parse: {e}"))?;
    if !computed.matches(returned) {
        return Err(format!(
            "the MIC we computed ({}) is not the one the MDN returned ({})",
            manifest.mic.computed.as_deref().unwrap_or_default(),
            mdn.mic_raw.as_deref().unwrap_or_default()
        ));
    }
    if !manifest.mic.matched {
        return Err("the MICs match but the manifest records that they did not".into());
    }
    Ok(format!(
        "the MDN returns the MIC we computed: {}",
        mdn.mic_raw.as_deref().unwrap_or_default()
    ))
}

fn check_timestamp(files: &Files) -> Result<String, String> {
    let trusted = Certificate::load_all(&files.tsa_chain)
        .map_err(|e| format!("tsa-chain.pem does not parse: {e}"))?;
    let token = crate::verify::token_from_response(&files.timestamp)
        .map_err(|e| format!("timestamp.tsr is not a granted time-stamp response: {e}"))?;
    let info = crate::verify::verify_token(&token, &crate::sha256(&files.manifest), &trusted)
        .map_err(|e| {
            format!("the time-stamp does not cover manifest.json under tsa-chain.pem: {e}")
        })?;
    Ok(format!(
        "manifest.json was time-stamped at {} by {} (SHA-256 {})",
        utc(info.gen_time),
        info.tsa_subject,
        info.tsa_certificate.fingerprint_sha256_hex()
    ))
}

/// `YYYY-MM-DDTHH:MM:SSZ` (the civil date of Howard Hinnant's `civil_from_days`).
fn utc(at: std::time::SystemTime) -> String {
    let secs = at
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::utc;

    #[test]
    fn a_bundle_of_garbage_fails_its_manifest_and_its_timestamp() {
        let files = crate::bundle::Files {
            manifest: b"{}".to_vec(),
            mdn: Vec::new(),
            signer_chain: Vec::new(),
            timeline: Vec::new(),
            timestamp: Vec::new(),
            tsa_chain: Vec::new(),
        };
        let report = super::verify(&files);
        assert_eq!(report.failed(), ["manifest", "timestamp"]);
        assert!(!report.ok());
    }

    #[test]
    fn utc_formats_civil_dates() {
        let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_796_522_645);
        assert_eq!(utc(at), "2026-12-06T02:04:05Z");
        assert_eq!(utc(std::time::UNIX_EPOCH), "1970-01-01T00:00:00Z");
    }
}
