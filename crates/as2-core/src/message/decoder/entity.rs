//! One MIME entity as it passes: its header block read whole (within the MIME limits), the
//! layer it holds classified from its headers, the stages that unwrap that layer spawned,
//! and its body passed on, hashed when it is the source of the MIC.

use super::buf::Buf;
use super::hash::Hasher;
use super::layers::{CmsStage, CteStage, Expect};
use super::multipart::SplitterStage;
use super::signed_hash::SignedHashes;
use super::stage::{Ctx, Run, Stage};
use crate::crypto::DigestAlgorithm;
use crate::error::{Error, Limit, Result};
use crate::message::unsigned_mic::{UnsignedMic, entity_head};
use crate::mime::stream::CteDecoder;
use crate::mime::{Headers, canonicalize_crlf};

/// Where an entity comes from: what its header block may be and what its MIC role is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Origin {
    /// The HTTP request: headers known, the body is the input.
    Outer,
    /// Decrypted content (headers optional).
    Decrypted,
    /// Decompressed content (headers optional).
    Decompressed,
    /// The first part of a `multipart/signed` (headers required), hashed with these.
    SignedPart(Vec<DigestAlgorithm>),
}

/// The layer an entity holds, from its headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Signed,
    Enveloped,
    Compressed,
    /// `application/pkcs7-mime` without a known `smime-type`: the ContentInfo tells.
    Sniff,
    Payload,
}

fn classify(headers: &Headers) -> Kind {
    let ct = headers.content_type();
    if ct.is("multipart/signed") {
        return Kind::Signed;
    }
    if !ct.is_pkcs7_mime() {
        return Kind::Payload;
    }
    match ct
        .param("smime-type")
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("enveloped-data" | "authenveloped-data") => Kind::Enveloped,
        Some("compressed-data") => Kind::Compressed,
        _ => Kind::Sniff,
    }
}

/// Whether the outer layer, from the HTTP headers alone, is certainly not encrypted.
pub(crate) fn outer_is_unencrypted(headers: &Headers) -> bool {
    matches!(classify(headers), Kind::Compressed | Kind::Payload)
}

/// The end of the header block and the start of the body in `raw`, as `Entity::parse`
/// finds them, if the bytes so far show it; the scan resumes at `scanned`.
fn scan(raw: &[u8], scanned: &mut usize) -> Option<(usize, usize)> {
    // an entity starting with a blank line has no headers
    if raw.starts_with(b"\r\n") {
        return Some((0, 2));
    }
    if raw.starts_with(b"\n") {
        return Some((0, 1));
    }
    let mut i = *scanned;
    while let Some(off) = memchr::memchr(b'\n', &raw[i..]) {
        let p = i + off;
        match (raw.get(p + 1), raw.get(p + 2)) {
            (Some(b'\n'), _) => return Some((p + 1, p + 2)),
            (Some(b'\r'), Some(b'\n')) => return Some((p + 1, p + 3)),
            (None, _) | (Some(b'\r'), None) => {
                *scanned = p;
                return None;
            }
            _ => i = p + 1,
        }
    }
    *scanned = raw.len();
    None
}

/// Where the header block in `raw` ends: `None` to wait for more, `Some(None)` for a block
/// beyond the limit, else `(end of headers, start of body)`.
fn header_end(
    raw: &[u8],
    scanned: &mut usize,
    max: usize,
    ended: bool,
) -> Option<Option<(usize, usize)>> {
    let window = max.saturating_add(3);
    if let Some((end, start)) = scan(raw, scanned) {
        return Some((end <= max).then_some((end, start)));
    }
    if raw.len() >= window {
        return Some(None);
    }
    if ended {
        let len = raw.len();
        return Some((len <= max).then_some((len, len)));
    }
    None
}

enum BodyHash {
    None,
    Unsigned(Hasher),
    Plain(Hasher),
    Signed(SignedHashes),
}

/// The stage of one entity.
pub(crate) struct EntityStage {
    origin: Origin,
    /// The HTTP headers of [`Origin::Outer`].
    outer_headers: Option<Headers>,
    /// The header block read so far.
    head: Vec<u8>,
    /// Where the search for its end resumes.
    scanned: usize,
    in_body: bool,
    hash: BodyHash,
    /// Its unsigned-MIC slot, if it claimed one.
    slot: u32,
    /// The payload entity: its raw body is kept when asked.
    payload_raw: bool,
}

impl EntityStage {
    pub(crate) fn new(origin: Origin) -> Self {
        Self {
            origin,
            outer_headers: None,
            head: Vec::new(),
            scanned: 0,
            in_body: false,
            hash: BodyHash::None,
            slot: 0,
            payload_raw: false,
        }
    }

    pub(crate) fn outer(headers: Headers) -> Self {
        Self {
            outer_headers: Some(headers),
            ..Self::new(Origin::Outer)
        }
    }

    /// Where the header block ends: `None` to wait for more, `Some(None)` for a block
    /// beyond the limit, else `(end of headers, start of body)`.
    fn header_end(&mut self, max: usize, ended: bool) -> Option<Option<(usize, usize)>> {
        header_end(&self.head, &mut self.scanned, max, ended)
    }

    /// Read the header block; `Ok(None)` while it is incomplete. The bytes read are
    /// consumed from `input` up to the body's start.
    fn read_head(
        &mut self,
        cx: &Ctx<'_>,
        input: &mut Buf,
        eof: bool,
    ) -> Result<Option<(Headers, Vec<u8>)>> {
        let limits = &cx.cfg.limits.mime;
        let window = limits.max_header_bytes.saturating_add(3);
        if self.head.is_empty() {
            // the whole header block may be in the input: read it there, not copied
            let take = input.len().min(window);
            let ended = eof && input.len() == take;
            let mut scanned = 0;
            let found = header_end(
                &input.as_slice()[..take],
                &mut scanned,
                limits.max_header_bytes,
                ended,
            );
            if let Some(found) = found {
                let (headers, start) = self.headers(cx, &input.as_slice()[..take], found)?;
                let head = input.as_slice()[..start].to_vec();
                input.consume(start);
                return Ok(Some((headers, head)));
            }
        }
        let take = input.len().min(window.saturating_sub(self.head.len()));
        self.head.extend_from_slice(&input.as_slice()[..take]);
        input.consume(take);
        let ended = eof && input.is_empty();
        let Some(found) = self.header_end(limits.max_header_bytes, ended) else {
            return Ok(None);
        };
        let head = std::mem::take(&mut self.head);
        let (headers, start) = self.headers(cx, &head, found)?;
        // the bytes read beyond the header block go back before the rest of the input
        let mut rest = head;
        let head = rest.drain(..start).collect();
        if !rest.is_empty() {
            rest.extend_from_slice(input.as_slice());
            input.consume(input.len());
            input.extend(&rest);
        }
        Ok(Some((headers, head)))
    }

    /// The headers of a block found in `raw` (within the limit or not), and where the
    /// body starts: a block beyond the limit or without a content type is no header
    /// block where headers are optional, and an error where they are required.
    fn headers(
        &self,
        cx: &Ctx<'_>,
        raw: &[u8],
        found: Option<(usize, usize)>,
    ) -> Result<(Headers, usize)> {
        let limits = &cx.cfg.limits.mime;
        if matches!(self.origin, Origin::SignedPart(_)) {
            let (end, start) = found
                .ok_or_else(|| Error::limit(Limit::MimeHeaderBytes, limits.max_header_bytes))?;
            let headers = Headers::parse_with_limits(&raw[..end], limits)?;
            return Ok((headers, start));
        }
        let parsed =
            found.and_then(
                |(end, start)| match Headers::parse_with_limits(&raw[..end], limits) {
                    Ok(h) if h.contains("content-type") => Some((h, start)),
                    _ => None,
                },
            );
        Ok(parsed.unwrap_or_default())
    }

    /// Classify, set the hashing up and spawn the stages for the body.
    fn start_body(
        &mut self,
        cx: &mut Ctx<'_>,
        headers: Headers,
        raw_head: &[u8],
    ) -> Result<Vec<Box<dyn Stage>>> {
        let mut kind = classify(&headers);
        if kind != Kind::Payload {
            if cx.layers_left == 0 {
                kind = Kind::Payload;
            } else {
                cx.layers_left -= 1;
            }
        }
        // the MIC of an unsigned message: the innermost decrypted or decompressed entity
        // (the first decrypted one, the last decompressed one), hashed unless it is sure to
        // be replaced by a signature or a further decompression
        let hashed = matches!(kind, Kind::Payload | Kind::Enveloped | Kind::Sniff);
        let claims = match self.origin {
            Origin::Decrypted => cx.unsigned_slot == 0 && !cx.signed,
            Origin::Decompressed => !cx.signed,
            _ => false,
        };
        if claims {
            self.slot = cx.claim_unsigned_source();
            if hashed {
                let mut h = cx.unsigned_hasher();
                if self.origin == Origin::Decrypted && !headers.is_empty() {
                    h.update(&canonicalize_crlf(raw_head));
                } else {
                    h.update(raw_head);
                }
                self.hash = BodyHash::Unsigned(h);
            }
        }
        match &self.origin {
            Origin::Outer if kind == Kind::Payload => {
                let mut h = cx.unsigned_hasher();
                if cx.cfg.unsigned_mic == UnsignedMic::WithHeaders {
                    h.update(&entity_head(&headers));
                }
                self.hash = BodyHash::Plain(h);
            }
            Origin::SignedPart(algs) => {
                self.hash = BodyHash::Signed(SignedHashes::new(algs.clone(), raw_head));
            }
            _ => {}
        }
        let cte = headers.get("content-transfer-encoding");
        let cte_stage = |decoder: Option<CteDecoder>| -> Vec<Box<dyn Stage>> {
            decoder
                .map(|d| Box::new(CteStage::new(d)) as Box<dyn Stage>)
                .into_iter()
                .collect()
        };
        let outer = self.origin == Origin::Outer;
        let stages = match kind {
            Kind::Payload => {
                let decoder = CteDecoder::for_header(cte)?;
                cx.payload_raw.head = raw_head.to_vec();
                cx.payload_raw.identity = decoder.is_none();
                self.payload_raw = cx.keep_raw_body && decoder.is_some();
                cx.payload_headers = Some(headers);
                cx.headers_event_due = true;
                cte_stage(decoder)
            }
            Kind::Signed => {
                if cx.signed {
                    return Err(Error::UnsupportedFormat("nested signatures".into()));
                }
                cx.signed = true;
                let ct = headers.content_type();
                let boundary = ct
                    .param("boundary")
                    .ok_or_else(|| Error::Mime("multipart without boundary".into()))?;
                let algs = signed_algorithms(cx, ct.param("micalg"));
                vec![
                    Box::new(SplitterStage::new(boundary, cx.cfg.limits.mime)) as Box<dyn Stage>,
                    Box::new(Self::new(Origin::SignedPart(algs))),
                ]
            }
            Kind::Enveloped | Kind::Compressed | Kind::Sniff => {
                let expect = match kind {
                    Kind::Enveloped => {
                        if cx.encrypted {
                            return Err(Error::UnsupportedFormat("nested encryption".into()));
                        }
                        cx.encrypted = true;
                        Expect::Enveloped
                    }
                    Kind::Compressed => Expect::Compressed,
                    _ => Expect::Unknown,
                };
                let mut stages = cte_stage(CteDecoder::for_header(cte)?);
                stages.push(Box::new(CmsStage::new(expect, outer, cx.max_buffered)));
                stages
            }
        };
        Ok(stages)
    }

    fn body(&mut self, cx: &mut Ctx<'_>, data: &[u8]) {
        match &mut self.hash {
            BodyHash::None => {}
            BodyHash::Unsigned(h) | BodyHash::Plain(h) => h.update(data),
            BodyHash::Signed(s) => s.body(data),
        }
        if self.payload_raw {
            cx.payload_raw.body.extend_from_slice(data);
        }
    }

    fn close(&mut self, cx: &mut Ctx<'_>) {
        match std::mem::replace(&mut self.hash, BodyHash::None) {
            BodyHash::None => {}
            BodyHash::Unsigned(h) => {
                if cx.unsigned_slot == self.slot {
                    cx.unsigned_digest = Some(h.finish());
                }
            }
            BodyHash::Plain(h) => cx.plain_digest = Some(h.finish()),
            BodyHash::Signed(s) => cx.signed_digests = Some(s.finish()),
        }
    }
}

/// The algorithms a signed entity is hashed with as it passes (the signature comes after
/// it): those its `micalg` announces (every one when it announces none we know), those the
/// MDN request may choose for the MIC, and SHA-256 for a MIC that may not use MD5.
fn signed_algorithms(cx: &Ctx<'_>, micalg: Option<&str>) -> Vec<DigestAlgorithm> {
    let mut algs: Vec<DigestAlgorithm> = micalg
        .map(|m| {
            m.split(',')
                .filter_map(|a| DigestAlgorithm::from_name(a.trim()))
                .collect()
        })
        .unwrap_or_default();
    if algs.is_empty() {
        algs = DigestAlgorithm::ALL.to_vec();
    }
    if let Some(m) = &cx.envelope.mdn {
        algs.extend(m.options.mic_algorithms());
    }
    if algs.contains(&DigestAlgorithm::Md5) {
        algs.push(DigestAlgorithm::Sha256);
    }
    let mut unique = Vec::new();
    for a in algs {
        if !unique.contains(&a) {
            unique.push(a);
        }
    }
    unique
}

impl Stage for EntityStage {
    fn run(
        &mut self,
        cx: &mut Ctx<'_>,
        input: &mut Buf,
        eof: bool,
        out: &mut Buf,
        room: usize,
    ) -> Result<Run> {
        let mut spawn = Vec::new();
        if !self.in_body {
            let (headers, raw_head) = if let Some(h) = self.outer_headers.take() {
                let mut head = h.to_bytes();
                head.extend_from_slice(b"\r\n");
                (h, head)
            } else {
                let Some(read) = self.read_head(cx, input, eof)? else {
                    return Ok(Run::default());
                };
                read
            };
            spawn = self.start_body(cx, headers, &raw_head)?;
            self.in_body = true;
        }
        let n = input.len().min(room);
        if n > 0 {
            if out.is_empty() && n == input.len() && !self.payload_raw {
                // hand the queue over instead of copying it
                self.body(cx, input.as_slice());
                std::mem::swap(input, out);
            } else {
                let data = &input.as_slice()[..n];
                self.body(cx, data);
                out.extend(data);
                input.consume(n);
            }
        }
        if eof && input.is_empty() {
            self.close(cx);
            let mut run = Run::done();
            run.spawn = spawn;
            return Ok(run);
        }
        Ok(Run::spawn(spawn))
    }

    fn held(&self) -> usize {
        self.head.capacity()
    }
}
