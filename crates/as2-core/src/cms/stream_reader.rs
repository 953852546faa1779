//! A ContentInfo read as it arrives (BER: definite and indefinite lengths, constructed
//! OCTET STRINGs, as Java products send): EnvelopedData, AuthEnvelopedData or
//! CompressedData. The fields before the content (recipients, algorithms) are read whole
//! within a byte budget; the content octets are passed on as they come, never held; the
//! fields after them (the AES-GCM tag) are read whole again. Base64 text without a
//! transfer encoding is decoded on the way, as [`super::parse_content_info`] accepts it.

use cms::enveloped_data::RecipientInfos;
use der::Decode as _;
use der::asn1::{ObjectIdentifier, OctetString};
use spki::AlgorithmIdentifierOwned;

use crate::crypto::oids;
use crate::error::{Error, Result};
use crate::message::decoder::buf::Buf;
use crate::mime::stream::Base64Decoder;

use super::stream_ber::{MAX_DEPTH, asn1, header, tlv_size};

/// What the structure holds, known once the fields before the content are read.
pub(crate) enum CmsHead {
    /// EnvelopedData or AuthEnvelopedData.
    Enveloped {
        /// The key-transport recipients.
        recipients: RecipientInfos,
        /// The content-encryption algorithm and its parameters.
        algorithm: AlgorithmIdentifierOwned,
    },
    /// CompressedData.
    Compressed {
        /// The compression algorithm.
        algorithm: ObjectIdentifier,
    },
}

/// One step of the reader.
pub(crate) enum CmsStep {
    /// More input is needed (or the output has no room).
    Wait,
    /// The ContentInfo's content type.
    ContentType(ObjectIdentifier),
    /// The fields before the content.
    Head(CmsHead),
    /// Content octets were appended to the output.
    Content,
    /// The whole ContentInfo was read.
    Done,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Enveloped,
    AuthEnveloped,
    Compressed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum St {
    CiSeq,
    CiOid,
    CiExplicit,
    InnerSeq,
    /// EnvelopedData fields before the EncryptedContentInfo.
    EdFields,
    EciOid,
    EciAlg,
    EciEnd,
    /// CompressedData fields before the EncapsulatedContentInfo.
    CdVersion,
    CdAlg,
    EncapSeq,
    EncapOid,
    EncapExplicit,
    ContentTag,
    Content,
    Trailer,
    Closing,
    Done,
}

/// The streaming ContentInfo reader.
pub(crate) struct CmsStreamReader {
    /// Decoded input not yet read.
    src: Buf,
    /// base64 text instead of BER: decided by the first byte.
    base64: Option<Base64Decoder>,
    started: bool,
    st: St,
    kind: Option<Kind>,
    /// Absolute offset of the next byte of `src`.
    pos: u64,
    /// The open containers: their end offsets, `None` for indefinite lengths.
    stack: Vec<Option<u64>>,
    /// The depth at which the content's own container was opened.
    content_depth: usize,
    /// Bytes left of the primitive content piece being passed on.
    piece_left: u64,
    /// The content is one primitive value (not pieces in a constructed one).
    primitive: bool,
    /// The recipients, between reading them and the content algorithm.
    recipients: Option<RecipientInfos>,
    /// The most bytes one field before or after the content may have.
    max_field: usize,
    /// The AuthEnvelopedData tag, once read.
    pub(crate) mac: Option<Vec<u8>>,
    /// AuthEnvelopedData with authenticated attributes.
    pub(crate) auth_attrs: bool,
}

impl CmsStreamReader {
    /// A reader whose fields before and after the content may have `max_field` bytes each.
    pub(crate) fn new(max_field: usize) -> Self {
        Self {
            src: Buf::default(),
            base64: None,
            started: false,
            st: St::CiSeq,
            kind: None,
            pos: 0,
            stack: Vec::new(),
            content_depth: 0,
            piece_left: 0,
            primitive: false,
            recipients: None,
            max_field,
            mac: None,
            auth_attrs: false,
        }
    }

    /// Whether the reader would take more input now: while passing content on, only when
    /// less than `low` bytes wait; while reading a field, always (within the budget).
    pub(crate) fn wants(&self, low: usize) -> bool {
        self.st != St::Content || self.src.len() < low
    }

    /// The allocation held.
    pub(crate) fn held(&self) -> usize {
        self.src.capacity()
    }

    /// More input.
    ///
    /// # Errors
    /// Input that is neither BER nor base64, or malformed base64.
    pub(crate) fn feed(&mut self, input: &[u8]) -> Result<()> {
        if input.is_empty() {
            return Ok(());
        }
        self.start(input[0]);
        match &mut self.base64 {
            None => self.src.extend(input),
            Some(b) => {
                let text = input
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || b"+/=\r\n \t".contains(b));
                if !text {
                    return Err(asn1("not a CMS ContentInfo"));
                }
                b.update(input, self.src.tail())?;
            }
        }
        Ok(())
    }

    /// BER or base64: the first byte decides.
    fn start(&mut self, first: u8) {
        if !self.started {
            self.started = true;
            if first != 0x30 {
                self.base64 = Some(Base64Decoder::default());
            }
        }
    }

    /// All of `input`, taken over without a copy when nothing waits before it.
    ///
    /// # Errors
    /// As [`Self::feed`].
    pub(crate) fn feed_buf(&mut self, input: &mut Buf) -> Result<()> {
        let Some(&first) = input.as_slice().first() else {
            return Ok(());
        };
        self.start(first);
        if self.base64.is_none() && self.src.is_empty() {
            std::mem::swap(&mut self.src, input);
            return Ok(());
        }
        self.feed(input.as_slice())?;
        input.consume(input.len());
        Ok(())
    }

    /// The end of the input.
    ///
    /// # Errors
    /// Malformed base64 at the end.
    pub(crate) fn end(&mut self) -> Result<()> {
        if let Some(b) = &mut self.base64 {
            b.finish(self.src.tail())?;
        }
        Ok(())
    }

    fn consume(&mut self, n: usize) {
        self.src.consume(n);
        self.pos += n as u64;
    }

    /// Open a container with `tag` (any of `tags`); `Ok(None)` when incomplete.
    fn open(&mut self, tags: &[u8]) -> Result<Option<u8>> {
        let Some((tag, len, hl)) = header(self.src.as_slice())? else {
            return Ok(None);
        };
        if !tags.contains(&tag) {
            return Err(asn1(&format!("unexpected tag {tag:#04x}")));
        }
        if self.stack.len() >= MAX_DEPTH {
            return Err(asn1("nested too deeply"));
        }
        let start = self.pos + hl as u64;
        let end = len.map(|l| start.saturating_add(l));
        if let Some(end) = end {
            self.within(end)?;
        }
        self.consume(hl);
        self.stack.push(end);
        Ok(Some(tag))
    }

    /// Whether the innermost container ends here (consumed and closed when it does);
    /// `Ok(None)` when incomplete.
    fn at_end(&mut self) -> Result<Option<bool>> {
        match self.stack.last().copied() {
            None => Ok(Some(true)),
            Some(Some(end)) => {
                if self.pos > end {
                    return Err(asn1("a value runs past its container"));
                }
                if self.pos == end {
                    self.stack.pop();
                    return Ok(Some(true));
                }
                Ok(Some(false))
            }
            Some(None) => match self.src.as_slice().get(..2) {
                None => Ok(None),
                Some([0, 0]) => {
                    self.consume(2);
                    self.stack.pop();
                    Ok(Some(true))
                }
                Some(_) => Ok(Some(false)),
            },
        }
    }

    /// A value ending at offset `end` must end within the innermost container.
    fn within(&self, end: u64) -> Result<()> {
        match self.stack.last() {
            Some(Some(parent)) if end > *parent => Err(asn1("a value runs past its container")),
            _ => Ok(()),
        }
    }

    /// The tag of the next value, if its first byte is there.
    fn peek(&self) -> Option<u8> {
        self.src.as_slice().first().copied()
    }

    /// A whole TLV; `Ok(None)` when incomplete.
    fn take(&mut self) -> Result<Option<Vec<u8>>> {
        let Some(n) = tlv_size(self.src.as_slice(), self.max_field, 0)? else {
            return Ok(None);
        };
        self.within(self.pos + n as u64)?;
        let tlv = self.src.as_slice()[..n].to_vec();
        self.consume(n);
        Ok(Some(tlv))
    }

    /// Read on, appending content octets to `out` (at most `room` bytes).
    ///
    /// # Errors
    /// Malformed BER ([`Error::Asn1`]), a field beyond the budget
    /// ([`Error::LimitExceeded`]), a missing content ([`Error::Decryption`] or
    /// [`Error::Decompression`]).
    pub(crate) fn step(&mut self, out: &mut Buf, room: usize) -> Result<CmsStep> {
        macro_rules! ready {
            ($e:expr) => {
                match $e? {
                    Some(v) => v,
                    None => return Ok(CmsStep::Wait),
                }
            };
        }
        loop {
            match self.st {
                St::CiSeq => {
                    ready!(self.open(&[0x30]));
                    self.st = St::CiOid;
                }
                St::CiOid => {
                    let tlv = ready!(self.take());
                    let oid = ObjectIdentifier::from_der(&tlv)?;
                    self.kind = if oid == oids::ENVELOPED_DATA {
                        Some(Kind::Enveloped)
                    } else if oid == oids::AUTH_ENVELOPED_DATA {
                        Some(Kind::AuthEnveloped)
                    } else if oid == oids::COMPRESSED_DATA {
                        Some(Kind::Compressed)
                    } else {
                        None
                    };
                    self.st = St::CiExplicit;
                    return Ok(CmsStep::ContentType(oid));
                }
                St::CiExplicit => {
                    if self.kind.is_none() {
                        return Err(asn1("unsupported CMS content type"));
                    }
                    ready!(self.open(&[0xa0]));
                    self.st = St::InnerSeq;
                }
                St::InnerSeq => {
                    ready!(self.open(&[0x30]));
                    self.st = if self.kind == Some(Kind::Compressed) {
                        St::CdVersion
                    } else {
                        St::EdFields
                    };
                }
                St::EdFields => {
                    let tag = ready!(Ok::<_, Error>(self.peek()));
                    if tag == 0x30 {
                        ready!(self.open(&[0x30]));
                        self.st = St::EciOid;
                        continue;
                    }
                    let tlv = ready!(self.take());
                    if tag == 0x31 {
                        self.recipients = Some(RecipientInfos::from_ber(&tlv)?);
                    }
                }
                St::EciOid => {
                    let tlv = ready!(self.take());
                    let _: ObjectIdentifier = ObjectIdentifier::from_der(&tlv)?;
                    self.st = St::EciAlg;
                }
                St::EciAlg => {
                    let tlv = ready!(self.take());
                    let algorithm = AlgorithmIdentifierOwned::from_ber(&tlv)?;
                    let recipients = self
                        .recipients
                        .take()
                        .ok_or_else(|| asn1("no recipientInfos"))?;
                    self.st = St::ContentTag;
                    return Ok(CmsStep::Head(CmsHead::Enveloped {
                        recipients,
                        algorithm,
                    }));
                }
                St::CdVersion => {
                    ready!(self.take());
                    self.st = St::CdAlg;
                }
                St::CdAlg => {
                    let tlv = ready!(self.take());
                    let alg = AlgorithmIdentifierOwned::from_ber(&tlv)?;
                    self.st = St::EncapSeq;
                    return Ok(CmsStep::Head(CmsHead::Compressed { algorithm: alg.oid }));
                }
                St::EncapSeq => {
                    ready!(self.open(&[0x30]));
                    self.st = St::EncapOid;
                }
                St::EncapOid => {
                    let tlv = ready!(self.take());
                    let _: ObjectIdentifier = ObjectIdentifier::from_der(&tlv)?;
                    self.st = St::EncapExplicit;
                }
                St::EncapExplicit => {
                    if ready!(self.at_end()) {
                        return Err(Error::Decompression("no compressed content".into()));
                    }
                    ready!(self.open(&[0xa0]));
                    self.st = St::ContentTag;
                }
                St::ContentTag => {
                    let compressed = self.kind == Some(Kind::Compressed);
                    if !compressed && ready!(self.at_end()) {
                        // an EncryptedContentInfo without its content
                        return Err(Error::Decryption);
                    }
                    let (primitive, constructed) = if compressed {
                        (0x04, 0x24)
                    } else {
                        (0x80, 0xa0)
                    };
                    let (tag, len, hl) = ready!(header(self.src.as_slice()));
                    self.content_depth = self.stack.len();
                    if tag == primitive {
                        let len = len.ok_or_else(|| asn1("indefinite primitive"))?;
                        self.within(self.pos + hl as u64 + len)?;
                        self.consume(hl);
                        self.piece_left = len;
                        self.primitive = true;
                    } else if tag == constructed {
                        ready!(self.open(&[constructed]));
                        self.primitive = false;
                    } else {
                        return Err(asn1(&format!("unexpected content tag {tag:#04x}")));
                    }
                    self.st = St::Content;
                }
                St::Content => return self.content(out, room),
                St::EciEnd => {
                    if !ready!(self.at_end()) {
                        return Err(asn1("unexpected fields after the content"));
                    }
                    self.st = St::Trailer;
                }
                St::Trailer => {
                    if ready!(self.at_end()) {
                        self.st = St::Closing;
                        continue;
                    }
                    let tag = ready!(Ok::<_, Error>(self.peek()));
                    let tlv = ready!(self.take());
                    match tag {
                        0xa1 if self.kind == Some(Kind::AuthEnveloped) => self.auth_attrs = true,
                        0x04 | 0x24 => {
                            self.mac = Some(OctetString::from_ber(&tlv)?.into_bytes().into_vec());
                        }
                        _ => {}
                    }
                }
                St::Closing => {
                    if self.stack.is_empty() {
                        self.st = St::Done;
                        continue;
                    }
                    if !ready!(self.at_end()) {
                        return Err(asn1("unexpected fields"));
                    }
                }
                St::Done => {
                    if !self.src.is_empty() {
                        return Err(asn1("trailing data after the ContentInfo"));
                    }
                    return Ok(CmsStep::Done);
                }
            }
        }
    }

    /// Pass content octets on: primitive pieces, inside constructed ones to any depth; the
    /// input queue is handed on instead of copied when the piece is most of it.
    fn content(&mut self, out: &mut Buf, room: usize) -> Result<CmsStep> {
        let mut wrote = 0;
        let progress = |wrote: usize| {
            Ok(if wrote > 0 {
                CmsStep::Content
            } else {
                CmsStep::Wait
            })
        };
        loop {
            if self.piece_left > 0 {
                let n = usize::try_from(self.piece_left)
                    .unwrap_or(usize::MAX)
                    .min(self.src.len())
                    .min(room - wrote);
                if n == 0 {
                    return progress(wrote);
                }
                if out.is_empty() && n >= self.src.len() / 2 {
                    // the bytes after the piece are copied back
                    let after = self.src.as_slice()[n..].to_vec();
                    std::mem::swap(&mut self.src, out);
                    out.truncate(n);
                    self.src.extend(&after);
                    self.pos += n as u64;
                } else {
                    out.extend(&self.src.as_slice()[..n]);
                    self.consume(n);
                }
                self.piece_left -= n as u64;
                wrote += n;
                continue;
            }
            if self.primitive || self.stack.len() == self.content_depth {
                self.st = if self.kind == Some(Kind::Compressed) {
                    St::Closing
                } else {
                    St::EciEnd
                };
                return Ok(CmsStep::Content);
            }
            match self.at_end()? {
                None => return progress(wrote),
                Some(true) => continue,
                Some(false) => {}
            }
            let Some((tag, len, hl)) = header(self.src.as_slice())? else {
                return progress(wrote);
            };
            match (tag, len) {
                (0x04, Some(len)) => {
                    self.within(self.pos + hl as u64 + len)?;
                    self.consume(hl);
                    self.piece_left = len;
                }
                (0x24, _) => {
                    self.open(&[0x24])?;
                }
                _ => return Err(asn1(&format!("unexpected content piece {tag:#04x}"))),
            }
        }
    }

    /// Whether the whole ContentInfo was read.
    pub(crate) fn is_done(&self) -> bool {
        self.st == St::Done
    }
}

#[cfg(test)]
#[path = "stream_reader_tests.rs"]
mod tests;
