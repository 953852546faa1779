//! A small namespace-aware XML tree for CEM documents, read with quick-xml: elements are
//! matched by namespace URI and local name (any prefix), DOCTYPEs are refused (so no entity
//! can be declared, hence no XXE or entity expansion), and only the five predefined
//! entities and character references are resolved. Also the escaping used when writing.

use quick_xml::NsReader;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;

/// Deeper nesting than any CEM document has.
const MAX_DEPTH: usize = 32;

/// An element: its namespace URI, local name, unprefixed attributes, child elements and
/// the text (character data and CDATA) directly inside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Element {
    pub ns: Option<String>,
    pub local: String,
    pub attrs: Vec<(String, String)>,
    pub children: Vec<Self>,
    pub text: String,
}

impl Element {
    /// An unprefixed attribute's value.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The child elements with this namespace and local name.
    pub fn children<'a>(&'a self, ns: &'a str, local: &'a str) -> impl Iterator<Item = &'a Self> {
        self.children
            .iter()
            .filter(move |c| c.local == local && c.ns.as_deref() == Some(ns))
    }

    /// Whether this element has the given namespace and local name.
    pub fn is(&self, ns: &str, local: &str) -> bool {
        self.local == local && self.ns.as_deref() == Some(ns)
    }

    /// `{namespace}local` for messages.
    pub fn expanded_name(&self) -> String {
        match &self.ns {
            Some(ns) => format!("{{{ns}}}{}", self.local),
            None => self.local.clone(),
        }
    }
}

/// Parse a document into its root element. Errors are sentences for a CEM message.
pub(crate) fn parse(data: &[u8]) -> Result<Element, String> {
    let data = data.strip_prefix(b"\xef\xbb\xbf").unwrap_or(data);
    let text = std::str::from_utf8(data).map_err(|e| format!("not XML: not UTF-8 text ({e})"))?;
    let mut reader = NsReader::from_str(text);
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    loop {
        let (ns, event) = reader
            .read_resolved_event()
            .map_err(|e| format!("not XML: {e}"))?;
        let ns = namespace(&ns)?;
        match event {
            Event::DocType(_) => {
                return Err("a DOCTYPE is not allowed (no DTDs or entity declarations)".into());
            }
            Event::Start(e) => {
                if root.is_some() {
                    return Err("not XML: content after the root element".into());
                }
                if stack.len() >= MAX_DEPTH {
                    return Err(format!("not XML: nested deeper than {MAX_DEPTH} elements"));
                }
                stack.push(element(ns, &e)?);
            }
            Event::Empty(e) => {
                if root.is_some() {
                    return Err("not XML: content after the root element".into());
                }
                let el = element(ns, &e)?;
                attach(&mut stack, &mut root, el);
            }
            Event::End(_) => {
                let el = stack
                    .pop()
                    .ok_or_else(|| "not XML: unbalanced end tag".to_owned())?;
                attach(&mut stack, &mut root, el);
            }
            Event::Text(t) => push_text(&mut stack, &t.xml10_content())?,
            Event::CData(t) => push_text(&mut stack, &t.xml10_content())?,
            Event::GeneralRef(r) => {
                let c = if r.is_char_ref() {
                    r.resolve_char_ref()
                        .ok()
                        .flatten()
                        .map(String::from)
                        .ok_or_else(|| format!("not XML: bad character reference &{};", &*r))?
                } else {
                    quick_xml::escape::resolve_predefined_entity(&r)
                        .map(str::to_owned)
                        .ok_or_else(|| format!("undeclared entity &{};", &*r))?
                };
                push_text(&mut stack, &c)?;
            }
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err("not XML: the document ends inside an element".into());
    }
    root.ok_or_else(|| "not XML: no root element".to_owned())
}

fn namespace(ns: &ResolveResult<'_>) -> Result<Option<String>, String> {
    match ns {
        ResolveResult::Bound(ns) => Ok(Some(ns.0.to_owned())),
        ResolveResult::Unbound => Ok(None),
        ResolveResult::Unknown(prefix) => {
            Err(format!("not XML: unbound namespace prefix {prefix:?}"))
        }
    }
}

fn element(ns: Option<String>, start: &BytesStart<'_>) -> Result<Element, String> {
    let local = start.local_name();
    let mut attrs = Vec::new();
    for attr in start.attributes() {
        let attr = attr.map_err(|e| format!("not XML: {e}"))?;
        let key = attr.key.0;
        if key.contains(':') || key == "xmlns" {
            continue;
        }
        let value = attr
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|e| format!("attribute {key} of {}: {e}", local.into_inner()))?;
        attrs.push((key.to_owned(), value.into_owned()));
    }
    Ok(Element {
        ns,
        local: local.into_inner().to_owned(),
        attrs,
        children: Vec::new(),
        text: String::new(),
    })
}

fn attach(stack: &mut [Element], root: &mut Option<Element>, el: Element) {
    match stack.last_mut() {
        Some(parent) => parent.children.push(el),
        None => *root = Some(el),
    }
}

fn push_text(stack: &mut [Element], text: &str) -> Result<(), String> {
    match stack.last_mut() {
        Some(parent) => {
            parent.text.push_str(text);
            Ok(())
        }
        None if text.trim().is_empty() => Ok(()),
        None => Err("not XML: text outside the root element".into()),
    }
}

/// Escape text or an attribute value; `None` when it holds a character XML 1.0 cannot carry.
pub(crate) fn escape(s: &str) -> Option<String> {
    if s.chars().any(|c| {
        c.is_control() && !matches!(c, '\t' | '\n' | '\r') || c == '\u{fffe}' || c == '\u{ffff}'
    }) {
        return None;
    }
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
    Some(out)
}

#[cfg(test)]
#[allow(
    clippy::disallowed_methods,
    clippy::disallowed_types,
    reason = "tests read vectors, the clock and their own randomness"
)]
mod tests {
    use super::*;

    const NS: &str = "urn:x";

    #[test]
    fn namespaces_by_uri_not_prefix() {
        let doc = br#"<?xml version="1.0" encoding="UTF-8"?>
<!-- a comment -->
<p:a xmlns:p="urn:x" xmlns:q="urn:y" id="1 &amp; 2"><q:b>x&lt;y&#65;<![CDATA[<z>]]></q:b>
  <c xmlns="urn:x"/></p:a>"#;
        let root = parse(doc).unwrap();
        assert!(root.is(NS, "a"));
        assert_eq!(root.attr("id"), Some("1 & 2"));
        let b = root.children("urn:y", "b").next().unwrap();
        assert_eq!(b.text, "x<yA<z>");
        assert_eq!(root.children(NS, "c").count(), 1);
        assert_eq!(root.children(NS, "b").count(), 0);
    }

    #[test]
    fn refuses_doctype_entities_and_junk() {
        let xxe = br#"<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>"#;
        assert!(parse(xxe).unwrap_err().contains("DOCTYPE"));
        assert!(parse(b"<a>&x;</a>").unwrap_err().contains("entity"));
        for bad in [
            &b""[..],
            b"hello",
            b"<a>",
            b"<a></b>",
            b"<a/><b/>",
            b"<p:a/>",
            b"<a>\xff</a>",
            b"<a x='1' x='2'/>",
        ] {
            assert!(parse(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
        let deep = format!("{}{}", "<a>".repeat(40), "</a>".repeat(40));
        assert!(parse(deep.as_bytes()).is_err());
    }

    #[test]
    fn escaping() {
        assert_eq!(escape("a<&>\"'b").unwrap(), "a&lt;&amp;&gt;&quot;&apos;b");
        assert!(escape("a\u{0}b").is_none());
        let root = parse(format!("<a>{}</a>", escape("x<y\r\n&z").unwrap()).as_bytes()).unwrap();
        assert_eq!(root.text, "x<y\r\n&z");
    }
}
