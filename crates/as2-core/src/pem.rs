//! A lenient PEM reader: any line length, CRLF or LF, text around blocks, several blocks
//! per file. Partner certificates come from everywhere; strict RFC 7468 readers reject many.

use crate::error::{Error, Result};
use crate::mime::encoding::decode_base64;

/// One PEM block: its label (`CERTIFICATE`, `PRIVATE KEY`, ...) and decoded bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PemBlock {
    /// The label between `BEGIN ` and the dashes.
    pub label: String,
    /// Whether the block had RFC 1421 headers (`Proc-Type: 4,ENCRYPTED`).
    pub legacy_encrypted: bool,
    /// The decoded DER bytes.
    pub der: Vec<u8>,
}

/// Whether the data looks like PEM.
#[must_use]
pub fn is_pem(data: &[u8]) -> bool {
    crate::mime::find(data, b"-----BEGIN ").is_some()
}

/// Every PEM block in the data.
///
/// # Errors
/// A block without an END line, or with invalid base64.
pub fn parse_all(data: &[u8]) -> Result<Vec<PemBlock>> {
    let text = String::from_utf8_lossy(data);
    let mut blocks = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let line = line.trim();
        let Some(label) = line
            .strip_prefix("-----BEGIN ")
            .and_then(|l| l.strip_suffix("-----"))
        else {
            continue;
        };
        let label = label.trim().to_owned();
        let mut b64 = String::new();
        let mut legacy_encrypted = false;
        let mut ended = false;
        for inner in lines.by_ref() {
            let inner = inner.trim();
            if inner.starts_with("-----END ") {
                ended = true;
                break;
            }
            if let Some((name, value)) = inner.split_once(':') {
                if name.eq_ignore_ascii_case("Proc-Type") && value.contains("ENCRYPTED") {
                    legacy_encrypted = true;
                }
                continue;
            }
            b64.push_str(inner);
        }
        if !ended {
            return Err(Error::Key(format!("PEM block {label} has no END line")));
        }
        let der =
            decode_base64(b64.as_bytes()).map_err(|e| Error::Key(format!("PEM {label}: {e}")))?;
        blocks.push(PemBlock {
            label,
            legacy_encrypted,
            der,
        });
    }
    Ok(blocks)
}

#[cfg(test)]
#[allow(
    clippy::disallowed_methods,
    clippy::disallowed_types,
    reason = "tests read vectors, the clock and their own randomness"
)]
mod tests {
    use super::*;

    #[test]
    fn lenient() {
        let pem = b"junk\r\n-----BEGIN CERTIFICATE-----\r\nAAEC\r\nAwQ=\r\n-----END CERTIFICATE-----\r\nmore\n-----BEGIN X-----\nAA==\n-----END X-----\n";
        let blocks = parse_all(pem).unwrap();
        assert_eq!(blocks.len(), 2);
        assert_eq!(blocks[0].der, vec![0, 1, 2, 3, 4]);
        assert_eq!(blocks[1].label, "X");
        assert!(parse_all(b"-----BEGIN X-----\nAA==\n").is_err());
    }
}
