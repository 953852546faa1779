//! Canonical form (RFC 5751 §3.1.1): CRLF line ends. For text bodies only; binary bodies
//! must be left untouched, so headers can be canonicalised on their own.

/// Turn every lone LF (and lone CR) into CRLF.
#[must_use]
pub fn canonicalize_crlf(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + data.len() / 32);
    let mut i = 0;
    while i < data.len() {
        match data[i] {
            b'\r' => {
                out.extend_from_slice(b"\r\n");
                if data.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
            }
            b'\n' => out.extend_from_slice(b"\r\n"),
            b => out.push(b),
        }
        i += 1;
    }
    out
}

/// Canonicalise only the header block (up to and including the blank line) of an entity;
/// the body is copied unchanged.
#[must_use]
pub fn canonicalize_headers(entity: &[u8]) -> Vec<u8> {
    let mut end = None;
    let mut i = 0;
    if entity.starts_with(b"\n") || entity.starts_with(b"\r\n") {
        end = Some(if entity[0] == b'\n' { 1 } else { 2 });
    }
    while end.is_none() && i < entity.len() {
        if entity[i] == b'\n' {
            if entity.get(i + 1) == Some(&b'\n') {
                end = Some(i + 2);
            } else if entity.get(i + 1) == Some(&b'\r') && entity.get(i + 2) == Some(&b'\n') {
                end = Some(i + 3);
            }
        }
        i += 1;
    }
    let end = end.unwrap_or(entity.len());
    let mut out = canonicalize_crlf(&entity[..end]);
    out.extend_from_slice(&entity[end..]);
    out
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
    fn canon() {
        assert_eq!(canonicalize_crlf(b"a\nb\r\nc\rd"), b"a\r\nb\r\nc\r\nd");
        assert_eq!(
            canonicalize_headers(b"A: b\nC: d\n\nx\ny"),
            b"A: b\r\nC: d\r\n\r\nx\ny"
        );
    }
}
