//! Content-Transfer-Encoding: decode base64, quoted-printable, 7bit, 8bit and binary;
//! encode base64 with 76-column lines.

use std::borrow::Cow;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::error::{Error, Result};

/// Decode a body according to its `Content-Transfer-Encoding` value (`None` = binary).
///
/// # Errors
/// Malformed base64, or an unknown encoding.
pub fn decode(cte: Option<&str>, body: &[u8]) -> Result<Vec<u8>> {
    decode_cow(cte, body).map(Cow::into_owned)
}

/// [`decode`], borrowing an identity-encoded (binary, 7bit, 8bit) body instead of copying it.
pub(crate) fn decode_cow<'a>(cte: Option<&str>, body: &'a [u8]) -> Result<Cow<'a, [u8]>> {
    let cte = cte.map(|s| s.trim().to_ascii_lowercase());
    match cte.as_deref() {
        None | Some("" | "7bit" | "8bit" | "binary") => Ok(Cow::Borrowed(body)),
        Some("base64") => decode_base64(body).map(Cow::Owned),
        Some("quoted-printable") => Ok(Cow::Owned(decode_quoted_printable(body))),
        Some(other) => Err(Error::TransferEncoding(other.to_owned())),
    }
}

/// Decode base64, ignoring whitespace and line breaks.
///
/// # Errors
/// Invalid base64 characters or length.
pub fn decode_base64(body: &[u8]) -> Result<Vec<u8>> {
    let clean: Vec<u8> = body
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    STANDARD
        .decode(&clean)
        .or_else(|_| {
            base64::engine::general_purpose::STANDARD_NO_PAD.decode(clean.trim_ascii_end())
        })
        .map_err(|e| Error::TransferEncoding(format!("base64: {e}")))
}

/// Decode quoted-printable leniently (malformed escapes are kept literally).
#[must_use]
pub fn decode_quoted_printable(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len());
    let mut i = 0;
    while i < body.len() {
        let b = body[i];
        if b == b'=' {
            // soft line break
            if body.get(i + 1) == Some(&b'\r') && body.get(i + 2) == Some(&b'\n') {
                i += 3;
                continue;
            }
            if body.get(i + 1) == Some(&b'\n') {
                i += 2;
                continue;
            }
            if let (Some(h), Some(l)) = (
                body.get(i + 1).and_then(|c| hex_val(*c)),
                body.get(i + 2).and_then(|c| hex_val(*c)),
            ) {
                out.push(h << 4 | l);
                i += 3;
                continue;
            }
            out.push(b);
            i += 1;
        } else {
            out.push(b);
            i += 1;
        }
    }
    out
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Encode base64 in 76-column CRLF-terminated lines.
#[must_use]
pub fn encode_base64_lines(data: &[u8]) -> Vec<u8> {
    let enc = STANDARD.encode(data);
    let mut out = Vec::with_capacity(enc.len() + enc.len() / 76 * 2 + 2);
    for chunk in enc.as_bytes().chunks(76) {
        out.extend_from_slice(chunk);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Plain base64 on one line.
#[must_use]
pub fn encode_base64(data: &[u8]) -> String {
    STANDARD.encode(data)
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
    fn qp_and_base64() {
        assert_eq!(decode_quoted_printable(b"a=3Db=\r\nc=ZZ"), b"a=bc=ZZ");
        let enc = encode_base64_lines(&[7u8; 100]);
        assert_eq!(decode(Some("BASE64"), &enc).unwrap(), vec![7u8; 100]);
        assert_eq!(decode(None, b"xy").unwrap(), b"xy");
        assert!(decode(Some("x-uuencode"), b"").is_err());
    }
}
