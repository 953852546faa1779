//! A `multipart/signed` body split as it passes, with the rules of the whole-buffer
//! splitter (RFC 2046 §5.1.1: a delimiter starts a line, the line break before it belongs
//! to it): the first part is passed on (the signed entity), the second (the signature) and
//! any further one are read whole within the budget, their headers parsed as
//! `Entity::parts` does, and the count checked as `Entity::split_signed` does.

use memchr::memmem::Finder;

use super::buf::Buf;
use super::stage::{Ctx, Run, Stage};
use crate::error::{Error, Limit, Result};
use crate::mime::{Entity, MimeLimits};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before the first delimiter.
    Preamble,
    /// After a delimiter: transport padding, then one line break.
    Padding { cr_seen: bool },
    /// Inside part `index`.
    Part,
    /// After the close delimiter.
    Epilogue,
}

/// The splitter.
pub(crate) struct SplitterStage {
    boundary: String,
    finder: Finder<'static>,
    delim_len: usize,
    state: State,
    /// The last byte consumed (`None` at the start of the body).
    prev: Option<u8>,
    /// Parts completed.
    parts: usize,
    limits: MimeLimits,
    /// The bytes of the part being read whole.
    capture: Vec<u8>,
    /// The signature part.
    signature: Option<Entity>,
}

enum Found {
    /// A valid delimiter at this offset; whether it is the close delimiter.
    Valid(usize, bool),
    /// A delimiter at this offset whose validity the next bytes decide.
    Undecided(usize),
}

impl SplitterStage {
    pub(crate) fn new(boundary: &str, limits: MimeLimits) -> Self {
        let delim: Vec<u8> = [b"--".as_slice(), boundary.as_bytes()].concat();
        Self {
            boundary: boundary.to_owned(),
            delim_len: delim.len(),
            finder: Finder::new(&delim).into_owned(),
            state: State::Preamble,
            prev: None,
            parts: 0,
            limits,
            capture: Vec::new(),
            signature: None,
        }
    }

    fn find(&self, buf: &[u8], eof: bool) -> Option<Found> {
        let mut from = 0;
        while let Some(off) = self.finder.find(&buf[from..]) {
            let at = from + off;
            let line_start = if at == 0 {
                self.prev.is_none_or(|p| p == b'\n')
            } else {
                buf[at - 1] == b'\n'
            };
            let rest = &buf[at + self.delim_len..];
            if line_start && !eof && (rest.is_empty() || rest == b"-") {
                return Some(Found::Undecided(at));
            }
            let is_close = rest.starts_with(b"--");
            let valid_end =
                is_close || rest.is_empty() || matches!(rest[0], b'\r' | b'\n' | b' ' | b'\t');
            if line_start && valid_end {
                return Some(Found::Valid(at, is_close));
            }
            from = at + 1;
        }
        None
    }

    /// Bytes of the current part (or of the preamble or epilogue, dropped).
    fn emit(&mut self, cx: &Ctx<'_>, data: &[u8], out: &mut Buf) -> Result<()> {
        if self.state != State::Part || data.is_empty() {
            return Ok(());
        }
        if self.parts == 0 {
            out.extend(data);
        } else {
            if self.capture.len() + data.len() > cx.max_buffered {
                return Err(Error::limit(Limit::BufferedBytes, cx.max_buffered));
            }
            self.capture.extend_from_slice(data);
        }
        Ok(())
    }

    /// The current part ends; `true` when it was the first (the output closes).
    fn end_part(&mut self) -> Result<bool> {
        if self.parts == self.limits.max_parts {
            return Err(Error::limit(Limit::MultipartParts, self.limits.max_parts));
        }
        self.parts += 1;
        if self.parts == 1 {
            return Ok(true);
        }
        let raw = std::mem::take(&mut self.capture);
        let entity = Entity::parse_vec(raw, &self.limits)?;
        if self.parts == 2 {
            self.signature = Some(entity);
        }
        Ok(false)
    }

    fn consume(&mut self, input: &mut Buf, n: usize) {
        if n > 0 {
            self.prev = Some(input.as_slice()[n - 1]);
            input.consume(n);
        }
    }

    /// The end of the body: the count and the signature, as `split_signed` checks them.
    fn finish(&mut self, cx: &mut Ctx<'_>) -> Result<()> {
        if self.parts == 0 {
            return Err(Error::Mime(format!(
                "boundary {:?} not found",
                self.boundary
            )));
        }
        if self.parts != 2 {
            return Err(Error::Mime(format!(
                "multipart/signed with {} parts",
                self.parts
            )));
        }
        let sig = self
            .signature
            .take()
            .ok_or_else(|| Error::Mime("no signature part".into()))?;
        cx.signature = Some(sig.decoded_body()?);
        Ok(())
    }
}

impl Stage for SplitterStage {
    fn run(
        &mut self,
        cx: &mut Ctx<'_>,
        input: &mut Buf,
        eof: bool,
        out: &mut Buf,
        room: usize,
    ) -> Result<Run> {
        let mut closed = false;
        let mut room = room;
        loop {
            match self.state {
                State::Epilogue => {
                    let n = input.len();
                    self.consume(input, n);
                    break;
                }
                State::Padding { cr_seen } => {
                    let Some(&b) = input.as_slice().first() else {
                        if eof {
                            self.state = State::Part;
                            continue;
                        }
                        break;
                    };
                    match (cr_seen, b) {
                        (false, b' ' | b'\t') => self.consume(input, 1),
                        (false, b'\r') => {
                            self.consume(input, 1);
                            self.state = State::Padding { cr_seen: true };
                        }
                        (_, b'\n') => {
                            self.consume(input, 1);
                            self.state = State::Part;
                        }
                        _ => self.state = State::Part,
                    }
                }
                State::Preamble | State::Part => {
                    let first = self.state == State::Part && self.parts == 0;
                    let buf = input.as_slice();
                    match self.find(buf, eof) {
                        Some(Found::Valid(at, is_close)) => {
                            let mut end = at;
                            if self.state == State::Part && end > 0 && buf[end - 1] == b'\n' {
                                end -= 1;
                                if end > 0 && buf[end - 1] == b'\r' {
                                    end -= 1;
                                }
                            }
                            if first && end > room {
                                // the first part's bytes wait for room
                                let n = room.min(end);
                                self.emit(cx, &buf[..n], out)?;
                                self.consume(input, n);
                                break;
                            }
                            let n = at + self.delim_len;
                            if first && end > 0 && out.is_empty() && end >= buf.len() / 2 {
                                // hand the queue over instead of copying the part, the
                                // bytes after its delimiter copied back
                                let after = buf[n..].to_vec();
                                self.prev = Some(buf[n - 1]);
                                std::mem::swap(input, out);
                                out.truncate(end);
                                input.extend(&after);
                            } else {
                                self.emit(cx, &buf[..end], out)?;
                                self.consume(input, n);
                            }
                            if first {
                                room -= end;
                            }
                            if self.state == State::Part {
                                closed |= self.end_part()?;
                            }
                            if is_close {
                                self.state = State::Epilogue;
                            } else {
                                self.state = State::Padding { cr_seen: false };
                            }
                        }
                        found => {
                            // keep what may be the line break and the start of a delimiter
                            let keep = if eof { 0 } else { self.delim_len + 2 };
                            let limit = match found {
                                Some(Found::Undecided(at)) => at.saturating_sub(2),
                                _ => buf.len().saturating_sub(keep),
                            };
                            let n = if first { limit.min(room) } else { limit };
                            if first && n > 0 && n == limit && out.is_empty() && n >= buf.len() / 2
                            {
                                // hand the queue over instead of copying it, all but the
                                // bytes kept back
                                let kept = buf[n..].to_vec();
                                self.prev = Some(buf[n - 1]);
                                std::mem::swap(input, out);
                                out.truncate(n);
                                input.extend(&kept);
                            } else {
                                self.emit(cx, &buf[..n], out)?;
                                self.consume(input, n);
                            }
                            if eof && input.is_empty() && self.state == State::Part {
                                closed |= self.end_part()?;
                                self.state = State::Epilogue;
                            }
                            break;
                        }
                    }
                }
            }
        }
        if eof && input.is_empty() {
            self.finish(cx)?;
            return Ok(Run::done());
        }
        Ok(Run {
            closed,
            done: false,
            spawn: Vec::new(),
        })
    }

    fn held(&self) -> usize {
        self.capture.capacity()
    }
}
