//! What the MIC of a message that is neither signed, encrypted nor compressed covers.
//!
//! RFC 4130 §7.3.1: such a message's MIC is computed over its content alone, its MIME
//! headers excluded (they travel as HTTP headers). Some implementations hash the MIME entity
//! with its headers instead; a partner known to do so is configured with
//! [`UnsignedMic::WithHeaders`] so that the MIC in its receipts, and in ours to it, match.

use crate::mime::Headers;

/// What the MIC of a plain message (not signed, encrypted or compressed) covers. Messages
/// with any of those layers follow the RFC whatever this says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UnsignedMic {
    /// The content alone (RFC 4130 §7.3.1): the default.
    #[default]
    ContentOnly,
    /// The MIME entity: its `Content-Type`, `Content-Transfer-Encoding` and
    /// `Content-Disposition` fields (those present, in that order, `Name: value` CRLF),
    /// an empty line, then the content.
    WithHeaders,
}

/// The MIME fields an entity's head is made of under [`UnsignedMic::WithHeaders`], in order.
const ENTITY_FIELDS: [&str; 3] = [
    "Content-Type",
    "Content-Transfer-Encoding",
    "Content-Disposition",
];

/// The head (fields and the empty line) hashed before a plain message's content under
/// [`UnsignedMic::WithHeaders`]: `headers`' entity fields, spelt canonically.
#[must_use]
pub(crate) fn entity_head(headers: &Headers) -> Vec<u8> {
    let mut head = Vec::new();
    for name in ENTITY_FIELDS {
        if let Some(value) = headers.get(name) {
            head.extend_from_slice(name.as_bytes());
            head.extend_from_slice(b": ");
            head.extend_from_slice(value.trim().as_bytes());
            head.extend_from_slice(b"\r\n");
        }
    }
    head.extend_from_slice(b"\r\n");
    head
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_head_takes_the_entity_fields_in_order_whatever_their_case() {
        let headers = Headers::from_pairs([
            ("content-disposition", "attachment; filename=a.edi"),
            ("AS2-From", "a"),
            ("content-type", " application/edifact"),
        ]);
        assert_eq!(
            entity_head(&headers),
            b"Content-Type: application/edifact\r\nContent-Disposition: attachment; filename=a.edi\r\n\r\n"
        );
    }
}
