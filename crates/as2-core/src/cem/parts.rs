//! The MIME side of a CEM payload: the XML document alone, or a `multipart/related` whose
//! root part (the `start` parameter, else the XML part, else the first) is the document and
//! whose other parts are found by Content-ID (with or without angle brackets or `cid:`).

use super::xml::{self, Element};
use super::{XML_CONTENT_TYPE, err};
use crate::error::Result;
use crate::mime::{ContentType, Entity, Headers};

/// A CEM payload taken apart.
#[derive(Debug)]
pub(crate) struct Document {
    xml: Vec<u8>,
    parts: Vec<Entity>,
}

fn is_xml(ct: &ContentType) -> bool {
    ct.is(XML_CONTENT_TYPE) || ct.is("application/xml") || ct.is("text/xml")
}

impl Document {
    /// Split a payload into its XML document and the other parts.
    pub fn parse(content_type: &str, body: &[u8]) -> Result<Self> {
        let ct = ContentType::parse(content_type);
        if is_xml(&ct) {
            return Ok(Self {
                xml: body.to_vec(),
                parts: Vec::new(),
            });
        }
        if !ct.is_multipart() {
            return Err(err(format!(
                "a CEM payload is multipart/related or {XML_CONTENT_TYPE}, not {}",
                ct.mime_type
            )));
        }
        let entity =
            Entity::from_parts(Headers::from_pairs([("Content-Type", content_type)]), body);
        let mut parts = entity
            .parts()
            .map_err(|e| err(format!("{}: {e}", ct.mime_type)))?;
        let start = ct.param("start").map(normalize_content_id);
        let root = start
            .and_then(|s| {
                parts
                    .iter()
                    .position(|p| content_id(p).as_deref() == Some(&*s))
            })
            .or_else(|| {
                parts
                    .iter()
                    .position(|p| p.content_type().is(XML_CONTENT_TYPE))
            })
            .or_else(|| {
                parts
                    .first()
                    .filter(|p| is_xml(&p.content_type()))
                    .map(|_| 0)
            })
            .ok_or_else(|| {
                err(format!(
                    "no {XML_CONTENT_TYPE} part in the {}",
                    ct.mime_type
                ))
            })?;
        let root = parts.remove(root);
        let xml = root
            .decoded_body()
            .map_err(|e| err(format!("the {XML_CONTENT_TYPE} part: {e}")))?;
        Ok(Self { xml, parts })
    }

    /// The document's root element.
    pub fn root(&self) -> Result<Element> {
        xml::parse(&self.xml).map_err(err)
    }

    /// The part whose Content-ID is `id` (compared without brackets, case-insensitively).
    pub fn part(&self, id: &str) -> Option<&Entity> {
        let id = normalize_content_id(id);
        self.parts
            .iter()
            .find(|p| content_id(p).is_some_and(|c| c.eq_ignore_ascii_case(&id)))
    }
}

fn content_id(part: &Entity) -> Option<String> {
    part.headers().get("content-id").map(normalize_content_id)
}

/// A Content-ID without `cid:` (percent-decoded, RFC 2392), angle brackets and spaces.
pub(crate) fn normalize_content_id(id: &str) -> String {
    let id = id.trim();
    let id = match id.get(..4) {
        Some(p) if p.eq_ignore_ascii_case("cid:") => percent_decode(&id[4..]),
        _ => id.to_owned(),
    };
    let id = id.trim();
    id.strip_prefix('<')
        .and_then(|i| i.strip_suffix('>'))
        .unwrap_or(id)
        .trim()
        .to_owned()
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = b.get(i + 1..i + 3).and_then(|h| {
            std::str::from_utf8(h)
                .ok()
                .filter(|h| h.bytes().all(|c| c.is_ascii_hexdigit()))
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        });
        match (b[i], hex) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Whether a Content-ID can be written in a header as `<id>`.
pub(crate) fn is_valid_content_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_graphic() && !matches!(c, '<' | '>' | '"' | '\\'))
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
    fn content_ids() {
        for raw in [
            "a@b",
            "<a@b>",
            " <a@b> ",
            "cid:a@b",
            "CID:a%40b",
            "cid:<a@b>",
        ] {
            assert_eq!(normalize_content_id(raw), "a@b", "{raw}");
        }
        assert_eq!(normalize_content_id("cid:%zz%4"), "%zz%4");
        assert!(is_valid_content_id("cert-1@acme.example"));
        for bad in ["", "a b", "<a>", "a\r\nX: y", "ä@b"] {
            assert!(!is_valid_content_id(bad), "{bad}");
        }
    }

    #[test]
    fn payload_shapes() {
        let xml = b"<a/>";
        let d = Document::parse(XML_CONTENT_TYPE, xml).unwrap();
        assert_eq!(d.root().unwrap().local, "a");
        assert!(d.part("x").is_none());
        assert!(Document::parse("text/plain", xml).is_err());
        assert!(Document::parse("multipart/related", xml).is_err());
        let body = b"--b\r\nContent-Type: application/pkcs7-mime\r\nContent-ID: <c1>\r\n\r\nAAAA\r\n--b\r\nContent-Type: application/ediint-cert-exchange+xml\r\nContent-ID: <root>\r\n\r\n<r/>\r\n--b--\r\n";
        for ct in [
            "multipart/related; boundary=b",
            "multipart/related; boundary=b; start=\"<root>\"",
            "Multipart/Related; BOUNDARY=\"b\"; START=root",
        ] {
            let d = Document::parse(ct, body).unwrap();
            assert_eq!(d.root().unwrap().local, "r", "{ct}");
            assert!(d.part("cid:C1").is_some());
            assert!(d.part("root").is_none());
        }
    }
}
