//! The stages that unwrap a layer: the transfer encoding, the CMS ContentInfo, the content
//! decryption and the zlib inflation.

use der::asn1::OctetString;
use der::{Decode as _, Encode as _};
use subtle::Choice;

use super::buf::Buf;
use super::entity::{EntityStage, Origin};
use super::stage::{CHUNK, Ctx, Run, Stage};
use crate::cms::stream_reader::{CmsHead, CmsStep, CmsStreamReader};
use crate::cms::{CekCandidate, cek_candidates};
use crate::crypto::stream_decrypt::StreamDecryptor;
use crate::crypto::{ContentEncryption, oids};
use crate::error::{Error, Limit, Result};
use crate::mime::stream::CteDecoder;

/// A transfer encoding removed.
pub(crate) struct CteStage {
    decoder: CteDecoder,
}

impl CteStage {
    pub(crate) fn new(decoder: CteDecoder) -> Self {
        Self { decoder }
    }
}

impl Stage for CteStage {
    fn run(
        &mut self,
        _cx: &mut Ctx<'_>,
        input: &mut Buf,
        eof: bool,
        out: &mut Buf,
        room: usize,
    ) -> Result<Run> {
        let n = input.len().min(room);
        self.decoder.update(&input.as_slice()[..n], out.tail())?;
        input.consume(n);
        if eof && input.is_empty() {
            self.decoder.finish(out.tail())?;
            return Ok(Run::done());
        }
        Ok(Run::default())
    }

    fn held(&self) -> usize {
        self.decoder.held()
    }
}

/// What the headers announced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expect {
    /// `smime-type=enveloped-data` (or authenveloped-data).
    Enveloped,
    /// `smime-type=compressed-data`.
    Compressed,
    /// No `smime-type`: the content type tells.
    Unknown,
}

/// A CMS ContentInfo: its fields read, its content passed to the decryption or inflation
/// it spawns.
pub(crate) struct CmsStage {
    reader: CmsStreamReader,
    expect: Expect,
    /// The message's outer layer (for the encryption requirement).
    outer: bool,
    compressed: bool,
    ended: bool,
}

impl CmsStage {
    pub(crate) fn new(expect: Expect, outer: bool, max_field: usize) -> Self {
        Self {
            reader: CmsStreamReader::new(max_field),
            expect,
            outer,
            compressed: expect == Expect::Compressed,
            ended: false,
        }
    }

    /// Errors of a CompressedData layer are decompression failures, as
    /// `cms::decompress` reports them.
    fn map(&self, e: Error) -> Error {
        match e {
            Error::Asn1(m) | Error::TransferEncoding(m) if self.compressed => {
                Error::Decompression(m)
            }
            e => e,
        }
    }

    fn content_type(&mut self, cx: &mut Ctx<'_>, oid: der::asn1::ObjectIdentifier) -> Result<()> {
        let enveloped = oid == oids::ENVELOPED_DATA || oid == oids::AUTH_ENVELOPED_DATA;
        let compressed = oid == oids::COMPRESSED_DATA;
        match self.expect {
            Expect::Enveloped if !enveloped => Err(Error::UnsupportedFormat(format!(
                "CMS content type {oid} is not enveloped data"
            ))),
            Expect::Compressed if !compressed => Err(Error::Decompression(format!(
                "content type {oid} is not compressed-data"
            ))),
            Expect::Unknown if !enveloped && !compressed => Err(Error::UnsupportedFormat(format!(
                "application/pkcs7-mime with content type {oid}"
            ))),
            Expect::Unknown => {
                self.compressed = compressed;
                if compressed && self.outer && cx.cfg.require_encryption {
                    return Err(Error::InsufficientSecurity(
                        "message is not encrypted".into(),
                    ));
                }
                if enveloped {
                    if cx.encrypted {
                        return Err(Error::UnsupportedFormat("nested encryption".into()));
                    }
                    cx.encrypted = true;
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn head(&mut self, cx: &mut Ctx<'_>, head: CmsHead) -> Result<Vec<Box<dyn Stage>>> {
        match head {
            CmsHead::Compressed { algorithm } => {
                if algorithm != oids::ZLIB_COMPRESS {
                    return Err(Error::Decompression(format!(
                        "compression algorithm {algorithm}"
                    )));
                }
                cx.compressed = true;
                Ok(vec![
                    Box::new(InflateStage::new()),
                    Box::new(EntityStage::new(Origin::Decompressed)),
                ])
            }
            CmsHead::Enveloped {
                recipients,
                algorithm,
            } => {
                let alg = ContentEncryption::from_oid(&algorithm.oid)?;
                let params = algorithm
                    .parameters
                    .as_ref()
                    .ok_or(Error::Decryption)?
                    .to_der()?;
                let (iv, tag_len) = if alg.is_aead() {
                    let p = GcmParameters::from_der(&params)
                        .or_else(|_| GcmParameters::from_ber(&params))?;
                    (p.nonce.as_bytes().to_vec(), usize::from(p.icv_len))
                } else {
                    let iv = OctetString::from_der(&params)
                        .or_else(|_| OctetString::from_ber(&params))?;
                    (iv.as_bytes().to_vec(), 0)
                };
                let mut candidates =
                    cek_candidates(cx.cfg.provider, &recipients, cx.cfg.decryption_keys, alg)?;
                cx.encryption = Some(alg);
                let decrypt = if candidates.len() == 1 {
                    let c = candidates.remove(0);
                    DecryptStage::Streaming(Some(Box::new(StreamDecryptor::new(
                        alg, &c.key, &iv, tag_len, c.genuine,
                    )?)))
                } else {
                    DecryptStage::Buffered {
                        alg,
                        iv,
                        tag_len,
                        candidates,
                        data: Vec::new(),
                    }
                };
                Ok(vec![
                    Box::new(decrypt),
                    Box::new(EntityStage::new(Origin::Decrypted)),
                ])
            }
        }
    }

    fn run_inner(
        &mut self,
        cx: &mut Ctx<'_>,
        input: &mut Buf,
        eof: bool,
        out: &mut Buf,
        room: usize,
    ) -> Result<Run> {
        if self.reader.wants(CHUNK) && !input.is_empty() {
            self.reader.feed_buf(input)?;
        }
        if eof && input.is_empty() && !self.ended {
            self.reader.end()?;
            self.ended = true;
        }
        let mut room = room;
        loop {
            let before = out.len();
            let step = self.reader.step(out, room)?;
            room = room.saturating_sub(out.len() - before);
            match step {
                CmsStep::Wait => break,
                CmsStep::Content => {}
                CmsStep::ContentType(oid) => self.content_type(cx, oid)?,
                CmsStep::Head(head) => return Ok(Run::spawn(self.head(cx, head)?)),
                CmsStep::Done => {
                    if let Some(mac) = self.reader.mac.take() {
                        cx.mac = Some(mac);
                    }
                    cx.auth_attrs |= self.reader.auth_attrs;
                    let done = self.ended;
                    return Ok(Run {
                        closed: true,
                        done,
                        spawn: Vec::new(),
                    });
                }
            }
        }
        if self.ended && !self.reader.is_done() {
            return Err(Error::Asn1("truncated CMS ContentInfo".into()));
        }
        Ok(Run::default())
    }
}

/// GCMParameters (RFC 5084).
#[derive(Clone, Debug, der::Sequence)]
struct GcmParameters {
    nonce: OctetString,
    #[asn1(default = "default_icv_len")]
    icv_len: u8,
}

fn default_icv_len() -> u8 {
    12
}

impl Stage for CmsStage {
    fn run(
        &mut self,
        cx: &mut Ctx<'_>,
        input: &mut Buf,
        eof: bool,
        out: &mut Buf,
        room: usize,
    ) -> Result<Run> {
        self.run_inner(cx, input, eof, out, room)
            .map_err(|e| self.map(e))
    }

    fn held(&self) -> usize {
        self.reader.held()
    }
}

/// The content decryption: streamed with the one key that may open it, or, when several
/// of our keys may (no recipient names our certificates), buffered within the budget and
/// decrypted with each as the whole-buffer decryption does.
pub(crate) enum DecryptStage {
    Streaming(Option<Box<StreamDecryptor>>),
    Buffered {
        alg: ContentEncryption,
        iv: Vec<u8>,
        tag_len: usize,
        candidates: Vec<CekCandidate>,
        data: Vec<u8>,
    },
}

impl Stage for DecryptStage {
    fn run(
        &mut self,
        cx: &mut Ctx<'_>,
        input: &mut Buf,
        eof: bool,
        out: &mut Buf,
        room: usize,
    ) -> Result<Run> {
        match self {
            Self::Streaming(decryptor) => {
                let n = input.len().min(room);
                if let Some(d) = decryptor {
                    if out.is_empty() && n == input.len() && d.can_decrypt_in_place() {
                        // decrypt the queue where it is and hand it on
                        std::mem::swap(input, out);
                        let kept = d.update_in_place(out.as_mut_slice());
                        out.truncate(out.len() - kept);
                    } else {
                        d.update(&input.as_slice()[..n], out.tail());
                    }
                }
                input.consume(n);
                if eof && input.is_empty() {
                    if cx.auth_attrs {
                        return Err(Error::UnsupportedFormat(
                            "AuthEnvelopedData with authenticated attributes".into(),
                        ));
                    }
                    if let Some(d) = decryptor.take() {
                        d.finish(cx.mac.as_deref().unwrap_or_default(), out.tail())?;
                    }
                    return Ok(Run::done());
                }
                Ok(Run::default())
            }
            Self::Buffered {
                alg,
                iv,
                tag_len,
                candidates,
                data,
            } => {
                if data.len() + input.len() > cx.max_buffered {
                    return Err(Error::limit(Limit::BufferedBytes, cx.max_buffered));
                }
                data.extend_from_slice(input.as_slice());
                input.consume(input.len());
                if !(eof && input.is_empty()) {
                    return Ok(Run::default());
                }
                if cx.auth_attrs {
                    return Err(Error::UnsupportedFormat(
                        "AuthEnvelopedData with authenticated attributes".into(),
                    ));
                }
                let mac = cx.mac.as_deref().unwrap_or_default();
                if mac.len() != *tag_len {
                    return Err(Error::Decryption);
                }
                data.extend_from_slice(mac);
                for cand in candidates.iter() {
                    let res = alg.decrypt(&cand.key, iv, &[], *tag_len, data);
                    let opened = Choice::from(u8::from(res.is_ok())) & cand.genuine;
                    if let (Ok(content), true) = (res, bool::from(opened)) {
                        out.extend(&content);
                        return Ok(Run::done());
                    }
                }
                Err(Error::Decryption)
            }
        }
    }

    fn held(&self) -> usize {
        match self {
            Self::Streaming(_) => 64,
            Self::Buffered { data, .. } => data.capacity(),
        }
    }
}

/// zlib inflation from the message's one budget, never more than the room at a time.
pub(crate) struct InflateStage {
    z: flate2::Decompress,
    ended: bool,
}

impl InflateStage {
    pub(crate) fn new() -> Self {
        Self {
            z: flate2::Decompress::new(true),
            ended: false,
        }
    }
}

impl Stage for InflateStage {
    fn run(
        &mut self,
        cx: &mut Ctx<'_>,
        input: &mut Buf,
        eof: bool,
        out: &mut Buf,
        room: usize,
    ) -> Result<Run> {
        // a chunk per run even when the window is unbounded: the budget is checked between
        // chunks, so a bomb is refused before it costs more than a chunk beyond it
        let mut room = room.min(CHUNK);
        while !self.ended && room > 0 {
            let (in_before, out_before) = (self.z.total_in(), self.z.total_out());
            let tail = out.tail();
            // written into the spare capacity: no zeroing, at most about `room` bytes
            tail.reserve(room);
            let status = self
                .z
                .decompress_vec(input.as_slice(), tail, flate2::FlushDecompress::None)
                .map_err(|e| Error::Decompression(e.to_string()));
            let produced = usize::try_from(self.z.total_out() - out_before).unwrap_or(0);
            let status = status?;
            input.consume(usize::try_from(self.z.total_in() - in_before).unwrap_or(0));
            cx.inflate_budget.spend(produced as u64)?;
            room = room.saturating_sub(produced);
            if status == flate2::Status::StreamEnd {
                self.ended = true;
            }
            if produced == 0 && self.z.total_in() == in_before {
                break;
            }
        }
        if self.ended {
            // what follows the zlib stream is ignored, as the whole-buffer inflation does
            input.consume(input.len());
        }
        if eof && input.is_empty() && (self.ended || room > 0) {
            return Ok(Run::done());
        }
        Ok(Run::default())
    }

    fn held(&self) -> usize {
        // zlib's window and state
        48 << 10
    }
}
