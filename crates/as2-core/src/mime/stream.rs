//! Content-Transfer-Encoding removed piece by piece: base64 across any split (whitespace
//! skipped, the final group decoded as [`super::encoding::decode_base64`] does), and
//! quoted-printable with an escape split between pieces held back.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};

use super::encoding::decode_quoted_printable;
use crate::error::{Error, Result};

/// A transfer-encoding decoder fed in pieces.
#[derive(Debug)]
pub(crate) enum CteDecoder {
    /// base64
    Base64(Base64Decoder),
    /// quoted-printable
    QuotedPrintable {
        /// An escape (`=`, `=X`, `=\r`) cut by the end of the last piece.
        held: Vec<u8>,
    },
}

impl CteDecoder {
    /// The decoder for a `Content-Transfer-Encoding` value: `None` for the identity
    /// encodings (none, 7bit, 8bit, binary).
    ///
    /// # Errors
    /// [`Error::TransferEncoding`] for an unknown encoding.
    pub(crate) fn for_header(cte: Option<&str>) -> Result<Option<Self>> {
        let cte = cte.map(|s| s.trim().to_ascii_lowercase());
        match cte.as_deref() {
            None | Some("" | "7bit" | "8bit" | "binary") => Ok(None),
            Some("base64") => Ok(Some(Self::Base64(Base64Decoder::default()))),
            Some("quoted-printable") => Ok(Some(Self::QuotedPrintable { held: Vec::new() })),
            Some(other) => Err(Error::TransferEncoding(other.to_owned())),
        }
    }

    /// Decode `input`, appending what is final to `out`.
    ///
    /// # Errors
    /// Malformed base64.
    pub(crate) fn update(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<()> {
        match self {
            Self::Base64(b) => b.update(input, out),
            Self::QuotedPrintable { held } => {
                held.extend_from_slice(input);
                // an escape needs two bytes after its `=`
                let cut = match memchr::memrchr(b'=', held) {
                    Some(at) if held.len() - at < 3 => at,
                    _ => held.len(),
                };
                out.extend_from_slice(&decode_quoted_printable(&held[..cut]));
                held.drain(..cut);
                Ok(())
            }
        }
    }

    /// The end of the input.
    ///
    /// # Errors
    /// Malformed base64 at the end.
    pub(crate) fn finish(&mut self, out: &mut Vec<u8>) -> Result<()> {
        match self {
            Self::Base64(b) => b.finish(out),
            Self::QuotedPrintable { held } => {
                out.extend_from_slice(&decode_quoted_printable(held));
                held.clear();
                Ok(())
            }
        }
    }

    /// Bytes held between pieces.
    pub(crate) fn held(&self) -> usize {
        match self {
            Self::Base64(b) => b.clean.capacity(),
            Self::QuotedPrintable { held } => held.capacity(),
        }
    }
}

/// base64 decoded in whole groups of four characters; the group with padding (and anything
/// after it) waits for the end.
#[derive(Debug, Default)]
pub(crate) struct Base64Decoder {
    /// Characters (whitespace removed) not yet decoded.
    clean: Vec<u8>,
    /// A `=` was seen: everything from the group that holds it is decoded at the end.
    padded: bool,
    /// Characters decoded so far (an error names its offset in the whole text).
    done: usize,
}

/// A decoding error, its offset counted from the start of the whole text (whatever the
/// split).
fn invalid(e: base64::DecodeError, done: usize) -> Error {
    let e = match e {
        base64::DecodeError::InvalidByte(at, b) => base64::DecodeError::InvalidByte(at + done, b),
        base64::DecodeError::InvalidLastSymbol(at, b) => {
            base64::DecodeError::InvalidLastSymbol(at + done, b)
        }
        e => e,
    };
    Error::TransferEncoding(format!("base64: {e}"))
}

impl Base64Decoder {
    /// Decode `input`, appending the bytes of every complete group to `out`.
    ///
    /// # Errors
    /// An invalid character.
    pub(crate) fn update(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<()> {
        self.clean
            .extend(input.iter().copied().filter(|b| !b.is_ascii_whitespace()));
        if self.padded {
            return Ok(());
        }
        let mut whole = self.clean.len() / 4 * 4;
        if let Some(eq) = memchr::memchr(b'=', &self.clean[..whole]) {
            self.padded = true;
            whole = eq / 4 * 4;
        }
        if whole == 0 {
            return Ok(());
        }
        let start = out.len();
        out.resize(start + whole / 4 * 3, 0);
        let n = STANDARD
            .decode_slice_unchecked(&self.clean[..whole], &mut out[start..])
            .map_err(|e| invalid(e, self.done))?;
        out.truncate(start + n);
        self.clean.drain(..whole);
        self.done += whole;
        Ok(())
    }

    /// Decode the last group, padded or not.
    ///
    /// # Errors
    /// Invalid base64 at the end.
    pub(crate) fn finish(&mut self, out: &mut Vec<u8>) -> Result<()> {
        let rest = std::mem::take(&mut self.clean);
        if rest.is_empty() {
            return Ok(());
        }
        let decoded = STANDARD
            .decode(&rest)
            .or_else(|_| STANDARD_NO_PAD.decode(rest.trim_ascii_end()))
            .map_err(|e| invalid(e, self.done))?;
        out.extend_from_slice(&decoded);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mime::encoding::{decode, encode_base64_lines};

    fn pieces(cte: &str, data: &[u8], step: usize) -> Result<Vec<u8>> {
        let mut d = CteDecoder::for_header(Some(cte))?.unwrap();
        let mut out = Vec::new();
        for c in data.chunks(step) {
            d.update(c, &mut out)?;
        }
        d.finish(&mut out)?;
        Ok(out)
    }

    #[test]
    fn same_as_the_whole_buffer_decoding() {
        let bytes: Vec<u8> = (0..300u32).map(|i| (i * 13) as u8).collect();
        let mut inputs: Vec<(&str, Vec<u8>)> = Vec::new();
        for len in [0, 1, 2, 3, 4, 5, 100, 299] {
            inputs.push(("base64", encode_base64_lines(&bytes[..len])));
        }
        inputs.push(("base64", b"QUJD\r\nRA".to_vec()));
        inputs.push(("base64", b"QUJDRA=\n=".to_vec()));
        inputs.push(("base64", b"QU!D".to_vec()));
        inputs.push(("base64", b"QQ==QQ==".to_vec()));
        inputs.push(("quoted-printable", b"a=3Db=\r\nc=ZZ=4".to_vec()));
        inputs.push(("quoted-printable", b"x=\ny=41=".to_vec()));
        for (cte, data) in inputs {
            let whole = decode(Some(cte), &data);
            for step in 1..=data.len().max(1) {
                let got = pieces(cte, &data, step);
                match (&whole, &got) {
                    (Ok(a), Ok(b)) => assert_eq!(a, b, "{cte} {data:?} {step}"),
                    (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "{step}"),
                    _ => panic!("{cte} {data:?} {step}: {whole:?} vs {got:?}"),
                }
            }
        }
        assert!(CteDecoder::for_header(Some("x-uuencode")).is_err());
        assert!(CteDecoder::for_header(Some(" Binary ")).unwrap().is_none());
    }
}
