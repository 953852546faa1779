//! MIME header fields: parsing of a raw header block (folded lines, any case), and
//! structured values such as `Content-Type` with their parameters.

use super::MimeLimits;
use crate::error::{Error, Limit, Result};

/// An ordered list of header fields with unfolded values; names compare case-insensitively.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers {
    entries: Vec<(String, String)>,
}

impl Headers {
    /// An empty header list.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Headers from (name, value) pairs, as HTTP servers hand them over.
    pub fn from_pairs<N: AsRef<str>, V: AsRef<str>>(
        pairs: impl IntoIterator<Item = (N, V)>,
    ) -> Self {
        Self {
            entries: pairs
                .into_iter()
                .map(|(n, v)| (n.as_ref().trim().to_owned(), v.as_ref().trim().to_owned()))
                .collect(),
        }
    }

    /// Parse a raw header block (without the blank line). Continuation lines are unfolded.
    /// The default [`MimeLimits`] apply.
    ///
    /// # Errors
    /// A line that is neither a field nor a continuation, or a block beyond the limits.
    pub fn parse(raw: &[u8]) -> Result<Self> {
        Self::parse_with_limits(raw, &MimeLimits::default())
    }

    /// [`Self::parse`] within `limits`: a block of more bytes or lines than allowed is
    /// refused before any of it is parsed or, for the line count, as soon as it is exceeded.
    ///
    /// # Errors
    /// A line that is neither a field nor a continuation, or
    /// [`Error::LimitExceeded`] for [`Limit::MimeHeaderBytes`] or [`Limit::MimeHeaderLines`].
    pub fn parse_with_limits(raw: &[u8], limits: &MimeLimits) -> Result<Self> {
        let mut entries: Vec<(String, String)> = Vec::new();
        for line in bounded_lines(raw, limits)? {
            let line = line?;
            let text = String::from_utf8_lossy(line);
            if line[0] == b' ' || line[0] == b'\t' {
                match entries.last_mut() {
                    Some((_, value)) => {
                        value.push(' ');
                        value.push_str(text.trim());
                    }
                    None => return Err(Error::Mime("continuation line before any header".into())),
                }
                continue;
            }
            let Some((name, value)) = text.split_once(':') else {
                return Err(Error::Mime(format!(
                    "header line without colon: {text:.60}"
                )));
            };
            entries.push((name.trim().to_owned(), value.trim().to_owned()));
        }
        Ok(Self { entries })
    }

    /// Parse header-style fields, skipping lines that are not fields (for the body of a
    /// `message/disposition-notification`, where blank lines and junk occur). Unbounded:
    /// see [`Self::parse_lenient_with_limits`] for input from partners.
    #[must_use]
    pub fn parse_lenient(raw: &[u8]) -> Self {
        let unbounded = MimeLimits::new()
            .with_max_header_bytes(usize::MAX)
            .with_max_header_lines(usize::MAX);
        Self::parse_lenient_with_limits(raw, &unbounded).unwrap_or_default()
    }

    /// [`Self::parse_lenient`] within `limits` (lines are counted whether they are fields
    /// or junk).
    ///
    /// # Errors
    /// [`Error::LimitExceeded`] for [`Limit::MimeHeaderBytes`] or [`Limit::MimeHeaderLines`].
    pub fn parse_lenient_with_limits(raw: &[u8], limits: &MimeLimits) -> Result<Self> {
        let mut out = Self::new();
        for line in bounded_lines(raw, limits)? {
            let line = line?;
            let text = String::from_utf8_lossy(line);
            if line[0] == b' ' || line[0] == b'\t' {
                if let Some((_, value)) = out.entries.last_mut() {
                    value.push(' ');
                    value.push_str(text.trim());
                }
            } else if let Some((name, value)) = text.split_once(':') {
                out.push(name.trim(), value.trim());
            }
        }
        Ok(out)
    }

    /// The first value of a field, by case-insensitive name.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether the field is present.
    #[must_use]
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Append a field.
    pub fn push(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.entries.push((name.into(), value.into()));
    }

    /// Replace every field of that name with one value (appended if absent).
    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        let value = value.into();
        if let Some(pos) = self
            .entries
            .iter()
            .position(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            self.entries[pos].1 = value;
            let mut i = pos + 1;
            while i < self.entries.len() {
                if self.entries[i].0.eq_ignore_ascii_case(name) {
                    self.entries.remove(i);
                } else {
                    i += 1;
                }
            }
        } else {
            self.entries.push((name.to_owned(), value));
        }
    }

    /// Remove every field of that name.
    pub fn remove(&mut self, name: &str) {
        self.entries.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
    }

    /// Iterate over (name, value).
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// The pairs, consuming the list.
    #[must_use]
    pub fn into_pairs(self) -> Vec<(String, String)> {
        self.entries
    }

    /// Number of fields.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no fields.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The parsed `Content-Type` (defaults to `text/plain` when absent, RFC 2045).
    #[must_use]
    pub fn content_type(&self) -> ContentType {
        self.get("content-type")
            .map_or_else(|| ContentType::parse("text/plain"), ContentType::parse)
    }

    /// Serialise as `Name: value\r\n` lines (no trailing blank line).
    #[must_use]
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for (n, v) in &self.entries {
            out.extend_from_slice(n.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(v.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        out
    }
}

/// The non-empty lines of a header block (CR of CRLF removed), refusing a block longer than
/// `limits.max_header_bytes` at once and, line by line, more than `limits.max_header_lines`.
fn bounded_lines<'a>(
    raw: &'a [u8],
    limits: &MimeLimits,
) -> Result<impl Iterator<Item = Result<&'a [u8]>> + 'a> {
    if raw.len() > limits.max_header_bytes {
        return Err(Error::limit(
            Limit::MimeHeaderBytes,
            limits.max_header_bytes,
        ));
    }
    let max_lines = limits.max_header_lines;
    Ok(raw
        .split(|&b| b == b'\n')
        .map(|line| line.strip_suffix(b"\r").unwrap_or(line))
        .filter(|line| !line.is_empty())
        .enumerate()
        .map(move |(index, line)| {
            if index >= max_lines {
                Err(Error::limit(Limit::MimeHeaderLines, max_lines))
            } else {
                Ok(line)
            }
        }))
}

/// A structured header value: `type/subtype; name=value; name="quoted"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentType {
    /// `type/subtype`, lower case.
    pub mime_type: String,
    /// Parameters; names lower case, values unquoted.
    pub params: Vec<(String, String)>,
}

impl ContentType {
    /// Parse leniently: a value with no `/` is kept as-is.
    #[must_use]
    pub fn parse(value: &str) -> Self {
        let (main, params) = parse_value_with_params(value);
        Self {
            mime_type: main.to_ascii_lowercase(),
            params,
        }
    }

    /// A parameter's value by case-insensitive name.
    #[must_use]
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether the type is `multipart/*`.
    #[must_use]
    pub fn is_multipart(&self) -> bool {
        self.mime_type.starts_with("multipart/")
    }

    /// Whether `type/subtype` equals `t` (case-insensitive).
    #[must_use]
    pub fn is(&self, t: &str) -> bool {
        self.mime_type.eq_ignore_ascii_case(t)
    }

    /// Whether this is S/MIME (`application/pkcs7-mime` or `application/x-pkcs7-mime`).
    #[must_use]
    pub fn is_pkcs7_mime(&self) -> bool {
        self.is("application/pkcs7-mime") || self.is("application/x-pkcs7-mime")
    }
}

/// Split `main; a=b; c="d e"` into the main value and its parameters.
#[must_use]
pub fn parse_value_with_params(value: &str) -> (String, Vec<(String, String)>) {
    let parts = split_unquoted(value, ';');
    let mut iter = parts.into_iter();
    let main = iter.next().unwrap_or_default().trim().to_owned();
    let mut params = Vec::new();
    for p in iter {
        let p = p.trim();
        if p.is_empty() {
            continue;
        }
        match p.split_once('=') {
            Some((n, v)) => params.push((n.trim().to_ascii_lowercase(), unquote(v.trim()))),
            None => params.push((p.to_ascii_lowercase(), String::new())),
        }
    }
    (main, params)
}

/// Split on `sep` outside double quotes (backslash escapes honoured inside quotes).
#[must_use]
pub fn split_unquoted(value: &str, sep: char) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_quotes = false;
    let mut escaped = false;
    for c in value.chars() {
        if escaped {
            cur.push(c);
            escaped = false;
            continue;
        }
        match c {
            '\\' if in_quotes => {
                cur.push(c);
                escaped = true;
            }
            '"' => {
                in_quotes = !in_quotes;
                cur.push(c);
            }
            c if c == sep && !in_quotes => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out
}

/// Remove surrounding double quotes and backslash escapes; other values are returned trimmed.
#[must_use]
pub fn unquote(value: &str) -> String {
    let v = value.trim();
    if v.len() >= 2 && v.starts_with('"') && v.ends_with('"') {
        let inner = &v[1..v.len() - 1];
        let mut out = String::with_capacity(inner.len());
        let mut escaped = false;
        for c in inner.chars() {
            if escaped {
                out.push(c);
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else {
                out.push(c);
            }
        }
        out
    } else {
        v.to_owned()
    }
}

/// Quote a value (with `\"` and `\\` escapes) when it holds spaces or tspecials.
#[must_use]
pub fn quote_if_needed(value: &str) -> String {
    let needs = value.is_empty()
        || value.chars().any(|c| {
            c.is_ascii_whitespace() || c.is_ascii_control() || "()<>@,;:\\\"/[]?={}".contains(c)
        });
    if needs {
        quote(value)
    } else {
        value.to_owned()
    }
}

/// Always quote a value.
#[must_use]
pub fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
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
    fn folded_and_case_insensitive() {
        let h = Headers::parse(
            b"Content-Type: multipart/signed;\r\n\tboundary=\"a b\";\r\n micalg=sha-256\r\nX: y\n",
        )
        .unwrap();
        let ct = h.content_type();
        assert!(ct.is("multipart/signed"));
        assert_eq!(ct.param("BOUNDARY"), Some("a b"));
        assert_eq!(ct.param("micalg"), Some("sha-256"));
        assert_eq!(h.get("x"), Some("y"));
    }

    #[test]
    fn header_lines_and_bytes_are_bounded() {
        let limits = MimeLimits::new()
            .with_max_header_lines(3)
            .with_max_header_bytes(40);
        let three = b"A: 1\r\nB: 2\r\n folded\r\n";
        assert_eq!(Headers::parse_with_limits(three, &limits).unwrap().len(), 2);
        let four = b"A: 1\nB: 2\nC: 3\nD: 4\n";
        assert!(matches!(
            Headers::parse_with_limits(four, &limits),
            Err(Error::LimitExceeded {
                limit: Limit::MimeHeaderLines,
                max: 3
            })
        ));
        assert!(matches!(
            Headers::parse_lenient_with_limits(four, &limits),
            Err(Error::LimitExceeded {
                limit: Limit::MimeHeaderLines,
                ..
            })
        ));
        let long = format!("X: {}\r\n", "v".repeat(40));
        let err = Headers::parse_with_limits(long.as_bytes(), &limits).unwrap_err();
        assert!(matches!(
            err,
            Error::LimitExceeded {
                limit: Limit::MimeHeaderBytes,
                max: 40
            }
        ));
        assert_eq!(
            crate::MdnDisposition::from(&err).modifier(),
            Some(&crate::Modifier::UnsupportedFormat)
        );
        // the unbounded lenient parse keeps everything
        assert_eq!(Headers::parse_lenient(four).len(), 4);
        // the default limits: 1,000 lines
        let many = "a:\n".repeat(1_001);
        assert!(Headers::parse(many.as_bytes()).is_err());
        assert_eq!(Headers::parse(&many.as_bytes()[3..]).unwrap().len(), 1_000);
    }

    #[test]
    fn quoting() {
        assert_eq!(quote_if_needed("abc"), "abc");
        assert_eq!(quote_if_needed("a \"b\""), "\"a \\\"b\\\"\"");
        assert_eq!(unquote("\"a \\\"b\\\"\""), "a \"b\"");
    }
}
