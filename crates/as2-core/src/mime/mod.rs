//! MIME entities parsed from raw bytes, keeping the exact bytes of every part:
//! signatures and MICs are computed over raw bytes, never over a re-serialisation.

mod build;
mod canon;
pub mod encoding;
mod headers;
mod limits;
pub(crate) mod stream;

pub use build::{EntityBuilder, build_multipart, generate_boundary};
pub use canon::{canonicalize_crlf, canonicalize_headers};
pub use headers::{
    ContentType, Headers, parse_value_with_params, quote, quote_if_needed, split_unquoted, unquote,
};
pub use limits::{
    DEFAULT_MAX_HEADER_BYTES, DEFAULT_MAX_HEADER_LINES, DEFAULT_MAX_PARTS, MimeLimits,
};

use std::borrow::Cow;
use std::ops::Range;

use bytes::Bytes;

use crate::error::{Error, Limit, Result};

/// A MIME entity: its exact raw bytes (headers + blank line + body) and parsed headers.
///
/// The bytes live in a buffer shared with the entity's parts and their parts (`parts`
/// and `split_signed` copy nothing), so cloning an entity is cheap. The [`MimeLimits`] it
/// was parsed with apply to its parts too.
#[derive(Clone)]
pub struct Entity {
    /// The buffer holding this entity (and maybe its parent and siblings).
    buf: Bytes,
    /// This entity's bytes within `buf`.
    range: Range<usize>,
    /// Where the body starts within `buf`.
    body_start: usize,
    headers: Headers,
    /// The limits for parsing this entity's parts.
    limits: MimeLimits,
}

impl PartialEq for Entity {
    fn eq(&self, other: &Self) -> bool {
        self.raw() == other.raw()
            && self.raw_headers().len() == other.raw_headers().len()
            && self.headers == other.headers
    }
}

impl Eq for Entity {}

impl std::fmt::Debug for Entity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entity")
            .field("raw", &self.raw())
            .field("body_start", &self.raw_headers().len())
            .field("headers", &self.headers)
            .finish()
    }
}

impl Entity {
    /// Parse an entity (headers, blank line, body) from raw bytes. Lines may end in CRLF
    /// or LF. An entity that starts with a blank line has no headers. The default
    /// [`MimeLimits`] apply.
    ///
    /// # Errors
    /// A malformed header line, or a header block beyond the limits.
    pub fn parse(raw: &[u8]) -> Result<Self> {
        Self::parse_with_limits(raw, &MimeLimits::default())
    }

    /// [`Self::parse`] within `limits`, which also bound the parsing of its parts.
    ///
    /// # Errors
    /// A malformed header line, or [`Error::LimitExceeded`].
    pub fn parse_with_limits(raw: &[u8], limits: &MimeLimits) -> Result<Self> {
        Self::parse_vec(raw.to_vec(), limits)
    }

    /// [`Self::parse_with_limits`], taking ownership of the bytes instead of copying them.
    pub(crate) fn parse_vec(raw: Vec<u8>, limits: &MimeLimits) -> Result<Self> {
        let len = raw.len();
        Self::parse_in(Bytes::from(raw), 0..len, limits)
    }

    /// Parse the entity at `range` of a shared buffer.
    fn parse_in(buf: Bytes, range: Range<usize>, limits: &MimeLimits) -> Result<Self> {
        let raw = &buf[range.clone()];
        let (header_end, body_start) = find_header_end_within(raw, limits.max_header_bytes)
            .ok_or_else(|| Error::limit(Limit::MimeHeaderBytes, limits.max_header_bytes))?;
        let headers = Headers::parse_with_limits(&raw[..header_end], limits)?;
        let body_start = range.start + body_start;
        Ok(Self {
            buf,
            range,
            body_start,
            headers,
            limits: *limits,
        })
    }

    /// Parse an entity that should carry MIME headers but may not (some products encrypt
    /// or compress the bare payload): when the header block does not parse, exceeds the
    /// default [`MimeLimits`] or has no `Content-Type`, the whole input becomes the body of
    /// a headerless entity.
    #[must_use]
    pub fn parse_or_body(raw: &[u8]) -> Self {
        Self::parse_or_body_vec(raw.to_vec(), &MimeLimits::default())
    }

    /// [`Self::parse_or_body`] within `limits`, taking ownership of the bytes. A header
    /// block beyond the limits is not parsed (nor allocated): the input is a body.
    pub(crate) fn parse_or_body_vec(raw: Vec<u8>, limits: &MimeLimits) -> Self {
        let headers = find_header_end_within(&raw, limits.max_header_bytes).and_then(
            |(header_end, body_start)| match Headers::parse_with_limits(&raw[..header_end], limits)
            {
                Ok(h) if h.contains("content-type") => Some((body_start, h)),
                _ => None,
            },
        );
        let len = raw.len();
        let (body_start, headers) = headers.unwrap_or_default();
        Self {
            buf: Bytes::from(raw),
            range: 0..len,
            body_start,
            headers,
            limits: *limits,
        }
    }

    /// This entity with `limits` for the parsing of its parts (and theirs).
    #[must_use]
    pub fn with_limits(mut self, limits: &MimeLimits) -> Self {
        self.limits = *limits;
        self
    }

    /// The limits that bound the parsing of this entity's parts.
    #[must_use]
    pub fn limits(&self) -> &MimeLimits {
        &self.limits
    }

    /// An entity whose headers arrived separately (an HTTP request): the raw bytes become
    /// the serialised headers, a blank line and the body. The default [`MimeLimits`] apply
    /// to its parts ([`Self::with_limits`] to choose others).
    #[must_use]
    pub fn from_parts(headers: Headers, body: &[u8]) -> Self {
        let mut raw = headers.to_bytes();
        raw.reserve_exact(2 + body.len());
        raw.extend_from_slice(b"\r\n");
        let body_start = raw.len();
        raw.extend_from_slice(body);
        let len = raw.len();
        Self {
            buf: Bytes::from(raw),
            range: 0..len,
            body_start,
            headers,
            limits: MimeLimits::default(),
        }
    }

    /// The exact bytes of the entity, headers included.
    #[must_use]
    pub fn raw(&self) -> &[u8] {
        &self.buf[self.range.clone()]
    }

    /// The raw header block including the blank line that ends it.
    #[must_use]
    pub fn raw_headers(&self) -> &[u8] {
        &self.buf[self.range.start..self.body_start]
    }

    /// The body as transmitted (still transfer-encoded).
    #[must_use]
    pub fn body(&self) -> &[u8] {
        &self.buf[self.body_start..self.range.end]
    }

    /// The parsed headers.
    #[must_use]
    pub fn headers(&self) -> &Headers {
        &self.headers
    }

    /// The content type (default `text/plain`).
    #[must_use]
    pub fn content_type(&self) -> ContentType {
        self.headers.content_type()
    }

    /// The body with its Content-Transfer-Encoding removed (missing = binary).
    ///
    /// # Errors
    /// An undecodable body.
    pub fn decoded_body(&self) -> Result<Vec<u8>> {
        encoding::decode(self.headers.get("content-transfer-encoding"), self.body())
    }

    /// [`Self::decoded_body`] as [`Bytes`]: an identity-encoded (binary, 7bit, 8bit) body is
    /// a view of the entity's buffer, not a copy.
    ///
    /// # Errors
    /// An undecodable body.
    pub fn decoded_body_shared(&self) -> Result<Bytes> {
        Ok(match self.decoded_body_cow()? {
            Cow::Borrowed(_) => self.buf.slice(self.body_start..self.range.end),
            Cow::Owned(v) => Bytes::from(v),
        })
    }

    /// [`Self::decoded_body`], borrowing an identity-encoded (binary) body.
    pub(crate) fn decoded_body_cow(&self) -> Result<Cow<'_, [u8]>> {
        encoding::decode_cow(self.headers.get("content-transfer-encoding"), self.body())
    }

    /// The `filename` of `Content-Disposition` (or `name` of `Content-Type`), if any.
    #[must_use]
    pub fn filename(&self) -> Option<String> {
        filename_of(&self.headers)
    }

    /// An entity from its raw header block (`buf[..body_start]`, blank line included),
    /// its parsed headers and its body (`buf[body_start..]`).
    pub(crate) fn from_head_and_body(
        buf: Vec<u8>,
        body_start: usize,
        headers: Headers,
        limits: &MimeLimits,
    ) -> Self {
        let len = buf.len();
        Self {
            buf: Bytes::from(buf),
            range: 0..len,
            body_start: body_start.min(len),
            headers,
            limits: *limits,
        }
    }

    /// The entity at `range` of a shared buffer, its body starting at `body_start` (an
    /// offset in `buf`), its headers already parsed.
    pub(crate) fn from_shared(
        buf: Bytes,
        range: Range<usize>,
        body_start: usize,
        headers: Headers,
        limits: &MimeLimits,
    ) -> Self {
        Self {
            body_start: body_start.clamp(range.start, range.end),
            buf,
            range,
            headers,
            limits: *limits,
        }
    }

    /// The body as a view of the entity's buffer.
    pub(crate) fn body_shared(&self) -> Bytes {
        self.buf.slice(self.body_start..self.range.end)
    }
}

/// The `filename` of `Content-Disposition` (or `name` of `Content-Type`), if any.
pub(crate) fn filename_of(headers: &Headers) -> Option<String> {
    headers
        .get("content-disposition")
        .and_then(|v| {
            let (_, params) = parse_value_with_params(v);
            params
                .into_iter()
                .find(|(n, _)| n == "filename")
                .map(|(_, v)| v)
        })
        .or_else(|| headers.content_type().param("name").map(str::to_owned))
}

impl Entity {
    /// The parts of a multipart entity, each with its exact raw bytes, parsed within this
    /// entity's [`MimeLimits`].
    ///
    /// # Errors
    /// Not multipart, no boundary, no delimiter found, or [`Error::LimitExceeded`] (more
    /// parts than allowed, or a part's header block beyond the limits).
    pub fn parts(&self) -> Result<Vec<Self>> {
        let ct = self.content_type();
        if !ct.is_multipart() {
            return Err(Error::Mime(format!("{} is not multipart", ct.mime_type)));
        }
        let boundary = ct
            .param("boundary")
            .ok_or_else(|| Error::Mime("multipart without boundary".into()))?;
        let base = self.body_start;
        split_multipart_ranges(self.body(), boundary, self.limits.max_parts)?
            .into_iter()
            .map(|r| Self::parse_in(self.buf.clone(), base + r.start..base + r.end, &self.limits))
            .collect()
    }

    /// Split a `multipart/signed` entity into (signed part, signature part).
    ///
    /// # Errors
    /// Not `multipart/signed` or not exactly two parts.
    pub fn split_signed(&self) -> Result<(Self, Self)> {
        if !self.content_type().is("multipart/signed") {
            return Err(Error::Mime("not multipart/signed".into()));
        }
        let mut parts = self.parts()?;
        if parts.len() != 2 {
            return Err(Error::Mime(format!(
                "multipart/signed with {} parts",
                parts.len()
            )));
        }
        let sig = parts
            .pop()
            .ok_or_else(|| Error::Mime("no signature part".into()))?;
        let signed = parts
            .pop()
            .ok_or_else(|| Error::Mime("no signed part".into()))?;
        Ok((signed, sig))
    }
}

/// Find the end of the header block: returns (end of headers, start of body).
fn find_header_end(raw: &[u8]) -> (usize, usize) {
    // An entity starting with a blank line has no headers.
    if raw.starts_with(b"\r\n") {
        return (0, 2);
    }
    if raw.starts_with(b"\n") {
        return (0, 1);
    }
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'\n' {
            let next = i + 1;
            if raw.get(next) == Some(&b'\n') {
                return (next, next + 1);
            }
            if raw.get(next) == Some(&b'\r') && raw.get(next + 1) == Some(&b'\n') {
                return (next, next + 2);
            }
        }
        i += 1;
    }
    (raw.len(), raw.len())
}

/// [`find_header_end`] looking no further than a header block of `max_header_bytes` (and
/// the line break that ends it): `None` when the block is longer.
fn find_header_end_within(raw: &[u8], max_header_bytes: usize) -> Option<(usize, usize)> {
    let window = &raw[..raw.len().min(max_header_bytes.saturating_add(3))];
    let (header_end, body_start) = find_header_end(window);
    let cut_short = header_end == window.len() && window.len() < raw.len();
    (!cut_short && header_end <= max_header_bytes).then_some((header_end, body_start))
}

/// Split a multipart body on `--boundary` delimiters; returns each part's exact bytes.
/// The line break before a delimiter belongs to the delimiter (RFC 2046 §5.1.1). At most
/// [`DEFAULT_MAX_PARTS`] parts.
///
/// # Errors
/// No delimiter found, or more parts than [`DEFAULT_MAX_PARTS`].
pub fn split_multipart<'a>(body: &'a [u8], boundary: &str) -> Result<Vec<&'a [u8]>> {
    Ok(split_multipart_ranges(body, boundary, DEFAULT_MAX_PARTS)?
        .into_iter()
        .map(|r| &body[r])
        .collect())
}

/// [`split_multipart`], as ranges of `body`, refusing more than `max_parts` parts as soon
/// as one more is found.
fn split_multipart_ranges(
    body: &[u8],
    boundary: &str,
    max_parts: usize,
) -> Result<Vec<Range<usize>>> {
    let delim: Vec<u8> = [b"--".as_slice(), boundary.as_bytes()].concat();
    let finder = memchr::memmem::Finder::new(&delim);
    let mut parts = Vec::new();
    let mut current_start: Option<usize> = None;
    let mut pos = 0;
    while let Some(off) = finder.find(&body[pos..]) {
        let at = pos + off;
        let at_line_start = at == 0 || body[at - 1] == b'\n';
        let after = at + delim.len();
        let rest = &body[after..];
        let is_close = rest.starts_with(b"--");
        let valid_end =
            is_close || rest.is_empty() || matches!(rest[0], b'\r' | b'\n' | b' ' | b'\t');
        if !at_line_start || !valid_end {
            pos = at + 1;
            continue;
        }
        if let Some(start) = current_start {
            let mut end = at;
            if end > start && body[end - 1] == b'\n' {
                end -= 1;
                if end > start && body[end - 1] == b'\r' {
                    end -= 1;
                }
            }
            if parts.len() == max_parts {
                return Err(Error::limit(Limit::MultipartParts, max_parts));
            }
            parts.push(start..end);
        }
        if is_close {
            return Ok(parts);
        }
        // skip transport padding and the line break
        let mut p = after;
        while p < body.len() && (body[p] == b' ' || body[p] == b'\t') {
            p += 1;
        }
        if body.get(p) == Some(&b'\r') {
            p += 1;
        }
        if body.get(p) == Some(&b'\n') {
            p += 1;
        }
        current_start = Some(p);
        pos = p;
    }
    // no close delimiter: take what is there
    if let Some(start) = current_start {
        if parts.len() == max_parts {
            return Err(Error::limit(Limit::MultipartParts, max_parts));
        }
        parts.push(start..body.len());
    }
    if parts.is_empty() {
        return Err(Error::Mime(format!("boundary {boundary:?} not found")));
    }
    Ok(parts)
}

/// A file name safe to use on disk: the last path component, without control characters,
/// `..`, or leading dots; `None` when nothing usable is left.
#[must_use]
pub fn sanitize_filename(name: &str) -> Option<String> {
    let last = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, ':' | '*' | '?' | '"' | '<' | '>' | '|'))
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').trim();
    if cleaned.is_empty() || cleaned.len() > 255 {
        None
    } else {
        Some(cleaned.to_owned())
    }
}

/// Position of `needle` in `hay`.
#[must_use]
pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return None;
    }
    memchr::memmem::find(hay, needle)
}

#[cfg(test)]
#[allow(
    clippy::disallowed_methods,
    clippy::disallowed_types,
    reason = "tests read vectors, the clock and their own randomness"
)]
mod tests {
    use super::*;

    const SIGNED: &[u8] = b"Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\";\r\n boundary=\"----=_b 1\"; micalg=sha-256\r\n\r\npreamble\r\n------=_b 1\r\nContent-Type: text/plain\n\nhello\n\r\n------=_b 1\r\nContent-Type: application/pkcs7-signature\r\nContent-Transfer-Encoding: base64\r\n\r\nAAEC\r\n------=_b 1--\r\n";

    #[test]
    fn split_signed_keeps_raw() {
        let e = Entity::parse(SIGNED).unwrap();
        let (signed, sig) = e.split_signed().unwrap();
        assert_eq!(signed.raw(), b"Content-Type: text/plain\n\nhello\n");
        assert_eq!(signed.body(), b"hello\n");
        assert_eq!(sig.decoded_body().unwrap(), vec![0, 1, 2]);
    }

    #[test]
    fn filenames() {
        assert_eq!(
            sanitize_filename("../../etc/passwd").as_deref(),
            Some("passwd")
        );
        assert_eq!(
            sanitize_filename("C:\\x\\..\\a.edi").as_deref(),
            Some("a.edi")
        );
        assert_eq!(sanitize_filename(".."), None);
        assert_eq!(
            sanitize_filename("order 1.edi").as_deref(),
            Some("order 1.edi")
        );
    }

    #[test]
    fn no_headers_and_boundary_prefix() {
        let e = Entity::parse(b"\r\nbody").unwrap();
        assert!(e.headers().is_empty());
        assert_eq!(e.body(), b"body");
        let parts = split_multipart(b"--ab\r\n\r\nx\r\n--abc\r\n--ab--", "ab").unwrap();
        assert_eq!(parts, vec![b"\r\nx\r\n--abc".as_slice()]);
    }

    #[test]
    fn find_and_shared_parts() {
        assert_eq!(find(b"abcabd", b"abd"), Some(3));
        assert_eq!(find(b"abc", b""), None);
        assert_eq!(find(b"ab", b"abc"), None);
        let e = Entity::parse(SIGNED).unwrap();
        let (signed, sig) = e.split_signed().unwrap();
        let copy = Entity::parse(signed.raw()).unwrap();
        assert_eq!(signed, copy);
        assert_eq!(signed.raw_headers(), b"Content-Type: text/plain\n\n");
        assert_eq!(copy.clone().body(), b"hello\n");
        assert_ne!(signed, sig);
        let bare = Entity::parse_or_body_vec(b"no headers here".to_vec(), &MimeLimits::new());
        assert!(bare.headers().is_empty());
        assert_eq!(bare.body(), b"no headers here");
        assert_eq!(bare, Entity::parse_or_body(b"no headers here"));
    }
}
