//! What requests and responses share: the root element with its `requestId`, the
//! `TradingPartnerInfo` block, lookups that name the missing element, and the writer.

use std::time::SystemTime;

use super::xml::{self, Element};
use super::{DSIG_NAMESPACE, NAMESPACE, datetime, err};
use crate::error::Result;

/// Check the root element and return its `requestId`.
pub(crate) fn check_root(root: &Element, expected: &str) -> Result<String> {
    if !root.is(NAMESPACE, expected) {
        return Err(err(format!(
            "root element is {}, expected {expected} in namespace {NAMESPACE}",
            root.expanded_name()
        )));
    }
    match root.attr("requestId").map(str::trim) {
        Some(id) if !id.is_empty() => Ok(id.to_owned()),
        Some(_) => Err(err(format!("{expected} has an empty requestId attribute"))),
        None => Err(err(format!("{expected} has no requestId attribute"))),
    }
}

/// The one child `local` (in `ns`) of `parent`, whose path is `path`.
pub(crate) fn one<'a>(
    parent: &'a Element,
    ns: &'a str,
    local: &'a str,
    path: &str,
) -> Result<&'a Element> {
    let mut found = parent.children(ns, local);
    let first = found
        .next()
        .ok_or_else(|| err(format!("{path}/{local} is missing")))?;
    let more = found.count();
    if more > 0 {
        return Err(err(format!(
            "{path}/{local} appears {} times, once expected",
            more + 1
        )));
    }
    Ok(first)
}

/// The trimmed text of `el`, which must not be empty.
pub(crate) fn text(el: &Element, path: &str) -> Result<String> {
    let t = el.text.trim();
    if t.is_empty() {
        return Err(err(format!("{path} is empty")));
    }
    Ok(t.to_owned())
}

/// The date in `el`.
pub(crate) fn date(el: &Element, path: &str) -> Result<SystemTime> {
    datetime::parse(&text(el, path)?).map_err(|e| err(format!("{path}: {e}")))
}

/// `TradingPartnerInfo`: the AS2 name (which must be `expected_sender`) and the date.
pub(crate) fn trading_partner(
    root: &Element,
    root_name: &str,
    expected_sender: &str,
) -> Result<(String, SystemTime)> {
    let path = format!("{root_name}/TradingPartnerInfo");
    let tpi = one(root, NAMESPACE, "TradingPartnerInfo", root_name)?;
    let name_path = format!("{path}/Name");
    let mut names = tpi.children(NAMESPACE, "Name");
    let first = names
        .next()
        .ok_or_else(|| err(format!("{name_path} is missing")))?;
    let name = std::iter::once(first)
        .chain(names)
        .find(|n| {
            n.attr("qualifier")
                .is_some_and(|q| q.trim().eq_ignore_ascii_case("AS2"))
        })
        .ok_or_else(|| {
            err(format!(
                "{name_path} has no qualifier=\"AS2\" (found qualifier {:?})",
                first.attr("qualifier").unwrap_or("")
            ))
        })?;
    let sender = text(name, &name_path)?;
    if sender != expected_sender.trim() {
        return Err(err(format!(
            "{name_path} qualifier=\"AS2\" is {sender:?}, but the message's AS2-From is {:?}",
            expected_sender.trim()
        )));
    }
    let originated = date(
        one(tpi, NAMESPACE, "MessageOriginated", &path)?,
        &format!("{path}/MessageOriginated"),
    )?;
    Ok((sender, originated))
}

/// Writes a CEM document with two-space indentation and CRLF line ends.
#[derive(Debug)]
pub(crate) struct Writer {
    buf: String,
    depth: usize,
}

impl Writer {
    /// The XML declaration and the root element with both namespaces and `requestId`.
    pub fn new(root: &str, request_id: &str) -> Result<Self> {
        if request_id.trim().is_empty() {
            return Err(err(format!("{root}: the requestId is empty")));
        }
        let id = xml::escape(request_id).ok_or_else(|| {
            err(format!(
                "{root}: the requestId holds a character XML cannot carry"
            ))
        })?;
        let buf = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<{root} xmlns=\"{NAMESPACE}\" \
             xmlns:ds=\"{DSIG_NAMESPACE}\" requestId=\"{id}\">\r\n"
        );
        Ok(Self { buf, depth: 1 })
    }

    fn indent(&mut self) {
        for _ in 0..self.depth {
            self.buf.push_str("  ");
        }
    }

    /// `<name>` on its own line.
    pub fn open(&mut self, name: &str) {
        self.indent();
        self.buf.push_str(&format!("<{name}>\r\n"));
        self.depth += 1;
    }

    /// `</name>` on its own line.
    pub fn close(&mut self, name: &str) {
        self.depth = self.depth.saturating_sub(1);
        self.indent();
        self.buf.push_str(&format!("</{name}>\r\n"));
    }

    /// `<name attr>text</name>`; `attr` is written as is.
    pub fn leaf_with(&mut self, name: &str, attr: &str, text: &str) -> Result<()> {
        let text = xml::escape(text)
            .ok_or_else(|| err(format!("{name} holds a character XML cannot carry")))?;
        self.indent();
        self.buf
            .push_str(&format!("<{name}{attr}>{text}</{name}>\r\n"));
        Ok(())
    }

    /// `<name>text</name>`.
    pub fn leaf(&mut self, name: &str, text: &str) -> Result<()> {
        self.leaf_with(name, "", text)
    }

    /// `TradingPartnerInfo` with the AS2 name and the date.
    pub fn trading_partner(&mut self, sender: &str, originated: SystemTime) -> Result<()> {
        if sender.trim().is_empty() {
            return Err(err("TradingPartnerInfo/Name: the AS2 name is empty"));
        }
        self.open("TradingPartnerInfo");
        self.leaf_with("Name", " qualifier=\"AS2\"", sender)?;
        self.leaf("MessageOriginated", &datetime::format(originated))?;
        self.close("TradingPartnerInfo");
        Ok(())
    }

    /// Close the root and return the bytes.
    pub fn finish(mut self, root: &str) -> Vec<u8> {
        self.depth = 1;
        self.close(root);
        self.buf.into_bytes()
    }
}
