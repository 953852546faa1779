//! Split a captured HTTP message (request or response) into its start line, headers and body.
//!
//! A capture is what a proxy or `curl -i`/`tcpdump` dump shows: an optional request line
//! (`POST /as2 HTTP/1.1`) or status line (`HTTP/1.1 200 OK`), header fields, a blank line,
//! then the body bytes. Line endings may be CRLF or bare LF; folded header lines are
//! unfolded by [`as2_core::mime::Headers::parse`].

use anyhow::{Context as _, Result, bail};
use as2_core::mime::Headers;

/// A captured HTTP message.
#[derive(Debug, Clone)]
pub struct Capture {
    /// The request or status line, if the capture has one.
    pub start_line: Option<String>,
    /// The header fields, in order.
    pub headers: Headers,
    /// The body, byte for byte.
    pub body: Vec<u8>,
}

/// Whether a line is an HTTP request line or status line rather than a header field.
fn is_start_line(line: &[u8]) -> bool {
    let text = String::from_utf8_lossy(line);
    if text.starts_with("HTTP/") {
        return true;
    }
    let mut words = text.split_whitespace();
    match (words.next(), words.next(), words.next()) {
        (Some(method), Some(_target), Some(version)) => {
            !method.contains(':')
                && method.bytes().all(|b| b.is_ascii_uppercase())
                && version.starts_with("HTTP/")
        }
        _ => false,
    }
}

/// Where the header block ends: `(end of headers, start of body)`.
fn header_end(data: &[u8]) -> Option<(usize, usize)> {
    let mut i = 0;
    while i < data.len() {
        if data[i] == b'\n' {
            let rest = &data[i + 1..];
            if rest.starts_with(b"\r\n") {
                return Some((i + 1, i + 3));
            }
            if rest.starts_with(b"\n") {
                return Some((i + 1, i + 2));
            }
        }
        i += 1;
    }
    None
}

/// Split a capture into start line, headers and body. A capture without a blank line is
/// taken as headers only (empty body).
///
/// # Errors
/// A header line that is not a field.
pub fn split(data: &[u8]) -> Result<Capture> {
    // leading blank lines occur when captures are pasted by hand
    let mut data = data;
    while let Some(rest) = data
        .strip_prefix(b"\r\n")
        .or_else(|| data.strip_prefix(b"\n"))
    {
        data = rest;
    }
    let mut start_line = None;
    let first_end = data.iter().position(|&b| b == b'\n').unwrap_or(data.len());
    let first = &data[..first_end];
    if is_start_line(first) {
        let line = first.strip_suffix(b"\r").unwrap_or(first);
        start_line = Some(String::from_utf8_lossy(line).into_owned());
        data = data.get(first_end + 1..).unwrap_or_default();
    }
    let (head, body) = match header_end(data) {
        Some((h, b)) => (&data[..h], &data[b..]),
        // only a blank line: no headers at all
        None if data.starts_with(b"\r\n") => (&data[..0], &data[2..]),
        None if data.starts_with(b"\n") => (&data[..0], &data[1..]),
        None => (data, &data[data.len()..]),
    };
    let headers = Headers::parse(head).context("reading the captured headers")?;
    if headers.is_empty() && start_line.is_none() {
        bail!("the capture has no HTTP headers (expected headers, a blank line, then the body)");
    }
    Ok(Capture {
        start_line,
        headers,
        body: body.to_vec(),
    })
}

/// Read and split a capture file.
///
/// # Errors
/// The file cannot be read or is not a capture.
pub fn read(path: &std::path::Path) -> Result<Capture> {
    let data = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    split(&data).with_context(|| format!("splitting {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_line_crlf() {
        let c = split(b"POST /as2 HTTP/1.1\r\nAS2-From: a\r\nAS2-To: b\r\n\r\nbody\r\n").unwrap();
        assert_eq!(c.start_line.as_deref(), Some("POST /as2 HTTP/1.1"));
        assert_eq!(c.headers.get("as2-from"), Some("a"));
        assert_eq!(c.body, b"body\r\n");
    }

    #[test]
    fn status_line_lf_and_folding() {
        let c =
            split(b"HTTP/1.1 200 OK\nContent-Type: text/plain;\n charset=x\n\n\x00\x01").unwrap();
        assert_eq!(c.start_line.as_deref(), Some("HTTP/1.1 200 OK"));
        assert_eq!(c.headers.get("content-type"), Some("text/plain; charset=x"));
        assert_eq!(c.body, b"\x00\x01");
    }

    #[test]
    fn no_start_line_binary_body() {
        let c = split(b"content-type: application/pkcs7-mime\n\n0\x82\n\n\r\n").unwrap();
        assert!(c.start_line.is_none());
        assert_eq!(c.body, b"0\x82\n\n\r\n");
    }

    #[test]
    fn headers_only() {
        let c = split(b"a: b\r\n").unwrap();
        assert_eq!(c.headers.get("a"), Some("b"));
        assert!(c.body.is_empty());
    }

    #[test]
    fn rejects_non_capture() {
        assert!(split(b"just some text\n\nmore").is_err());
    }
}
